/**
 * What protocol code needs from a connection to the other party.
 *
 * Primitives (oblivious transfer, garbling, HE, triples) are written against this interface
 * only; `transport.ts` provides the framed, counted, TCP and in-memory implementations.
 *
 * @module
 */

/** The phase that bytes are counted under. */
export type Phase = "offline" | "online";

/**
 * An ordered, reliable, typed message stream to the peer. `kind` names the message; receiving a
 * different kind than expected is a protocol error (the implementation throws, naming both).
 */
export interface Channel {
  /** Sends one message. Resolves once it is handed to the connection. */
  send(kind: string, payload: Uint8Array): Promise<void>;
  /** Receives the next message, which must be of `kind`. */
  recv(kind: string): Promise<Uint8Array>;
  /** Sets the phase that subsequent bytes are counted under. */
  setPhase(phase: Phase): void;
}
