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
 * Largest payload of a message, per kind: `kinds[k]` for a listed kind k, `default` for the
 * others. Derived from what the protocol can legitimately send, so a peer cannot make this
 * side hold more.
 */
export interface PayloadLimits {
  readonly default: number;
  readonly kinds?: Readonly<Record<string, number>>;
}

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
  /**
   * Applies payload limits from now on, if the channel enforces any (the transport's channels
   * do; test doubles may not): a larger message fails before its payload is read.
   */
  limitPayloads?(limits: PayloadLimits): void;
}
