/**
 * A `Channel` over any byte stream: frames (see frame.ts), accounting (see accounting.ts),
 * timeouts, payload limits, orderly close and abort.
 *
 * Three time limits hold a peer to account, so that one that stalls, dribbles or hangs cannot
 * hold this side for long: the idle timeout (no byte moves for `idleTimeoutMs` while a send or
 * receive is pending), the per-message timeout (one send or receive takes over `timeoutMs`,
 * however steadily bytes arrive), and a deadline the caller sets for a stretch of the session,
 * such as its start (`setDeadline`). Payload limits (`limitPayloads`, per message kind) are
 * checked against a frame's header before its payload is read, and the payload buffer grows
 * only as bytes arrive.
 *
 * Failure is final: the first error (timeout, lost connection, malformed or unexpected frame,
 * peer abort) is stored, the stream is closed, and every pending and later operation rejects
 * with that same TransportError, whose message names this side, the peer, the pending message
 * kind, the phase and section, and what to do. When this side detects that the peer broke the
 * protocol (wrong kind, bad header) or gives up waiting, it first sends an abort frame so the
 * peer fails with the same reason instead of waiting for its own timeout.
 *
 * @module
 */

import type { Channel, PayloadLimits, Phase } from "../channel.ts";
import { TrafficMeter, type TrafficStats } from "./accounting.ts";
import {
  type ByteStream,
  DEFAULT_MAX_PAYLOAD_BYTES,
  encodeFrameHeader,
  encodeKind,
  type FrameHeader,
  FrameReader,
  FrameType,
  TransportError,
  writeAll,
} from "./frame.ts";
import { DelayedStream } from "./delay.ts";
import { printable } from "./disclosure.ts";

/**
 * Default limit on one send or receive, from its call to its last byte. Waiting for the peer's
 * computation is bounded by the idle timeout; this bounds a message that trickles in.
 */
export const DEFAULT_TIMEOUT_MS = 2 * 60 * 1000;
/**
 * Default idle timeout: no byte may take longer to arrive (or leave) while an operation is
 * pending. Above the longest computation one party makes the other wait for (an HE layer of
 * CNN-7 or VGG-16 takes seconds), well under a minute.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 30 * 1000;
/** How long an abort frame may wait behind a send in progress before the stream is closed anyway. */
const ABORT_GRACE_MS = 2_000;
/** Longest abort reason sent to the peer, in characters. */
const MAX_ABORT_REASON = 4_000;
/** Largest abort frame accepted: MAX_ABORT_REASON characters of UTF-8. */
const MAX_ABORT_BYTES = 4 * MAX_ABORT_REASON;
/**
 * A timer that fires this much after its time means this process was busy computing: I/O that
 * completed meanwhile gets LATE_GRACE_MS to be seen before the timeout counts.
 */
const LATE_TIMER_MS = 250;
const LATE_GRACE_MS = 50;
/** Payloads up to this size go out in one write together with their header. */
const COALESCE_BYTES = 64 * 1024;

/** Settings of a framed channel. */
export interface ChannelOptions {
  /** This side's name in error messages, e.g. "client". */
  name?: string;
  /** The other side's description in error messages, e.g. "server 127.0.0.1:7441". */
  peer?: string;
  /** Milliseconds one send or receive may take before the channel fails (default 2 minutes). */
  timeoutMs?: number;
  /** Milliseconds a pending send or receive may go without a byte moving (default 30 s). */
  idleTimeoutMs?: number;
  /** Largest payload accepted or sent in one frame until `limitPayloads` says otherwise (default 1 GiB). */
  maxPayloadBytes?: number;
  /** The phase bytes are counted under at the start (default "offline"). */
  phase?: Phase;
  /**
   * Emulated one-way link delay: incoming bytes become readable this many milliseconds after they
   * arrive (see delay.ts; default 0, none). Both sides set half the round trip to emulate.
   */
  receiveDelayMs?: number;
}

/** A frame as `recv` reads it: the payload of a message of an unexpected kind is left unread (empty). */
interface ReceivedFrame {
  header: FrameHeader;
  payload: Uint8Array;
}

/** Per-call settings of send and recv. */
export interface OperationOptions {
  /** Overrides the channel's timeout for this one operation. */
  timeoutMs?: number;
}

/** Races `op` against a timer; clears the timer either way. */
function withTimeout<T>(op: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  // After a timeout the stream is closed and `op` rejects; that rejection is expected.
  op.catch(() => {});
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    const due = performance.now() + ms;
    let graced = false;
    const check = () => {
      if (!graced && performance.now() - due > LATE_TIMER_MS) {
        graced = true;
        timer = setTimeout(check, LATE_GRACE_MS);
      } else {
        reject(onTimeout());
      }
    };
    timer = setTimeout(check, ms);
  });
  return Promise.race([op, expired]).finally(() => clearTimeout(timer));
}

/** A byte stream whose every read and write must move a byte within `ms`, else fails with `onIdle`'s error. */
class IdleGuard implements ByteStream {
  #stream: ByteStream;
  #ms: number;
  #onIdle: (operation: "read" | "write") => Error;

  constructor(stream: ByteStream, ms: number, onIdle: (operation: "read" | "write") => Error) {
    this.#stream = stream;
    this.#ms = ms;
    this.#onIdle = onIdle;
  }

  read(into: Uint8Array): Promise<number | null> {
    return withTimeout(this.#stream.read(into), this.#ms, () => this.#onIdle("read"));
  }

  write(data: Uint8Array): Promise<number> {
    return withTimeout(this.#stream.write(data), this.#ms, () => this.#onIdle("write"));
  }

  close(): void {
    this.#stream.close();
  }
}

/** The transport's Channel: framed, counted, with timeouts, close and abort. */
export class FramedChannel implements Channel {
  /** This side's name in error messages. */
  readonly name: string;
  /** The peer's description in error messages. */
  readonly peer: string;
  #stream: ByteStream;
  #reader: FrameReader;
  #meter: TrafficMeter;
  #timeoutMs: number;
  #limits: PayloadLimits;
  #deadline: ReturnType<typeof setTimeout> | undefined;
  #failure: TransportError | undefined;
  #closing = false;
  #streamClosed = false;
  #abortSent: Promise<void> = Promise.resolve();
  // Sends and receives each run one at a time, in call order; the tails never reject.
  #sendTail: Promise<unknown> = Promise.resolve();
  #recvTail: Promise<unknown> = Promise.resolve();

  /** Wraps a connected byte stream; the channel owns it from now on. */
  constructor(stream: ByteStream, options: ChannelOptions = {}) {
    this.name = options.name ?? "this side";
    this.peer = options.peer ?? "the peer";
    const idleMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    const delayMs = options.receiveDelayMs ?? 0;
    const link = delayMs > 0 ? new DelayedStream(stream, delayMs) : stream;
    this.#stream = new IdleGuard(link, idleMs, (operation) =>
      new TransportError(
        "timeout",
        operation === "read"
          ? `no byte from ${this.peer} for ${idleMs} ms (idleTimeoutMs)`
          : `${this.peer} took no byte for ${idleMs} ms (idleTimeoutMs); it is not reading`,
      ));
    this.#reader = new FrameReader(this.#stream);
    this.#meter = new TrafficMeter(options.phase ?? "offline");
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#limits = { default: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES };
  }

  /** The largest payload buffer this channel's reader has allocated, in bytes. */
  get largestAllocation(): number {
    return this.#reader.largestAllocation;
  }

  /** The phase that traffic is counted under now. */
  get phase(): Phase {
    return this.#meter.phase;
  }

  /** Sets the phase that subsequent bytes and time are counted under. */
  setPhase(phase: Phase): void {
    this.#meter.setPhase(phase);
  }

  /** Sets the section (e.g. a layer id) that subsequent bytes and time are counted under. */
  section(label: string): void {
    this.#meter.setSection(label);
  }

  /** A snapshot of bytes, messages, round trips and time per section and phase. */
  stats(): TrafficStats {
    return this.#meter.snapshot();
  }

  /**
   * From now on, a message of kind k may carry at most `limits.kinds[k]` bytes, or
   * `limits.default` for kinds not listed, in either direction: a larger frame from the peer
   * fails the channel before its payload is read; a larger send throws.
   */
  limitPayloads(limits: PayloadLimits): void {
    this.#limits = limits;
  }

  /**
   * Fails the channel (telling the peer) unless `clearDeadline` or `setDeadline` is called, or
   * the channel closes, within `ms`; `what` names the stretch of the session it bounds, such as
   * its setup, for the message.
   */
  setDeadline(ms: number, what: string): void {
    this.clearDeadline();
    this.#deadline = setTimeout(() => {
      const problem = `${what} did not finish within ${ms} ms (${this.#where()}); the peer is too slow ` +
        `or not following the protocol`;
      this.#fail(new TransportError("timeout", `${this.name}: ${problem}`), problem);
    }, ms);
  }

  /** Removes the deadline `setDeadline` set, if any. */
  clearDeadline(): void {
    clearTimeout(this.#deadline);
    this.#deadline = undefined;
  }

  /** Sends one message; resolves once it is written to the connection. */
  async send(kind: string, payload: Uint8Array, options: OperationOptions = {}): Promise<void> {
    this.#checkOpen();
    // Argument errors are the caller's bug and leave the channel usable: nothing was written.
    const kindBytes = encodeKind(kind);
    const limit = this.#limitFor(kind);
    if (payload.length > limit) {
      throw new TransportError(
        "oversized",
        `${this.name}: message "${kind}" has ${payload.length} bytes, over its limit of ${limit} ` +
          `(maxPayloadBytes, or the session's per-kind limits): split it, or raise the limit on both sides`,
      );
    }
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const run = this.#sendTail.then(async () => {
      if (this.#failure) throw this.#failure;
      const header = encodeFrameHeader(FrameType.Message, kindBytes, payload.length);
      try {
        await withTimeout(this.#writeFrame(header, payload), timeoutMs, () =>
          this.#fail(
            new TransportError(
              "timeout",
              `${this.name}: sending "${kind}" (${payload.length} bytes) to ${this.peer} took over ` +
                `${timeoutMs} ms (${this.#where()}); the peer is not reading — it may be stuck, or ` +
                `slow enough to need a larger timeoutMs`,
            ),
          ));
      } catch (error) {
        throw this.#lost(error, `sending "${kind}" (${payload.length} bytes)`);
      }
      this.#meter.recordSent(header.length + payload.length);
    });
    this.#sendTail = run.catch(() => {});
    await run;
  }

  /** Receives the next message, which must be of `kind`; anything else fails the channel. */
  async recv(kind: string, options: OperationOptions = {}): Promise<Uint8Array> {
    this.#checkOpen();
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const run = this.#recvTail.then(async () => {
      if (this.#failure) throw this.#failure;
      let frame: ReceivedFrame | null;
      try {
        frame = await withTimeout(this.#readFrame(kind), timeoutMs, () => {
          const problem = `no complete "${kind}" message from ${this.peer} within ${timeoutMs} ms ` +
            `(${this.#where()}); the peer may be stuck, or slow enough to need a larger timeoutMs`;
          return this.#fail(new TransportError("timeout", `${this.name}: ${problem}`), problem);
        });
      } catch (error) {
        if (error instanceof TransportError && !this.#failure) {
          // A malformed or oversized frame, or an idle peer: the stream can no longer be trusted.
          const problem = `${error.message} (while receiving "${kind}" from ${this.peer}, ${this.#where()})`;
          throw this.#fail(
            new TransportError(error.code, `${this.name}: ${problem}`, { cause: error }),
            error.code === "truncated" ? undefined : problem,
          );
        }
        throw this.#lost(error, `waiting for "${kind}"`);
      }
      if (frame === null) {
        throw this.#fail(
          new TransportError(
            "disconnected",
            `${this.name}: ${this.peer} closed the connection without a close frame while ` +
              `${this.name} waited for "${kind}" (${this.#where()}); the peer process probably ` +
              `crashed or was killed — check its output`,
          ),
        );
      }
      const { header, payload } = frame;
      this.#meter.recordReceived(header.headerBytes + payload.length);
      if (header.type === FrameType.Abort) {
        const reason = printable(new TextDecoder().decode(payload));
        throw this.#fail(
          new TransportError("peer-abort", `${this.name}: ${this.peer} aborted the session: ${reason}`),
        );
      }
      if (header.type === FrameType.Close) {
        throw this.#fail(
          new TransportError(
            "peer-closed",
            `${this.name}: ${this.peer} closed the channel while ${this.name} waited for "${kind}" ` +
              `(${this.#where()}); the two sides disagree on the protocol's messages — check that ` +
              `both run the same version, model and plan`,
          ),
        );
      }
      if (header.kind !== kind) {
        const problem = `expected message "${kind}" from ${this.peer} but received ` +
          `"${printable(header.kind)}" (announcing ${header.announced} bytes, ${this.#where()}); the ` +
          `two sides are at different protocol steps — check that both run the same version, model and plan`;
        throw this.#fail(new TransportError("unexpected-kind", `${this.name}: ${problem}`), problem);
      }
      return payload;
    });
    this.#recvTail = run.catch(() => {});
    return await run;
  }

  /**
   * Closes the channel in an orderly way: sends already started finish, a close frame tells
   * the peer, then the connection closes. Resolves once no operation is pending. Idempotent.
   */
  async close(): Promise<void> {
    if (!this.#failure && !this.#closing) {
      this.#closing = true;
      await this.#sendControl(FrameType.Close, new Uint8Array(0), this.#timeoutMs);
      this.#fail(new TransportError("closed", `${this.name}: the channel to ${this.peer} is closed`));
    }
    await this.#abortSent;
    this.#closeStream();
    await Promise.all([this.#sendTail, this.#recvTail]);
  }

  /**
   * Gives up: the peer's pending or next receive fails with `reason`, and so does every
   * operation on this side. Then closes like `close`.
   */
  async abort(reason: string): Promise<void> {
    if (!this.#failure && !this.#closing) {
      this.#fail(
        new TransportError("closed", `${this.name}: aborted the session with ${this.peer}: ${reason}`),
        reason,
      );
    }
    await this.close();
  }

  /**
   * Reads one frame for a pending `recv(kind)`. The payload of a message of another kind is not
   * read (the channel fails on it anyway); others are read under their limit.
   */
  async #readFrame(kind: string): Promise<ReceivedFrame | null> {
    const header = await this.#reader.readHeader();
    if (header === null) return null;
    if (header.type === FrameType.Message && header.kind !== kind) {
      return { header, payload: new Uint8Array(0) };
    }
    const limit = header.type === FrameType.Message
      ? this.#limitFor(kind)
      : header.type === FrameType.Abort
      ? MAX_ABORT_BYTES
      : 0;
    return { header, payload: await this.#reader.readPayload(header, limit) };
  }

  #limitFor(kind: string): number {
    return this.#limits.kinds?.[kind] ?? this.#limits.default;
  }

  #where(): string {
    return `${this.#meter.phase} phase, section "${this.#meter.section}"`;
  }

  #checkOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closing) {
      throw new TransportError("closed", `${this.name}: the channel to ${this.peer} is closing`);
    }
  }

  /**
   * Records the first failure and shuts the stream, after sending `peerReason` in an abort
   * frame if given (the peer prefixes it with its own name and ours). Returns the failure
   * that stands: an earlier one wins.
   */
  #fail(error: TransportError, peerReason?: string): TransportError {
    if (this.#failure) return this.#failure;
    this.#failure = error;
    this.clearDeadline();
    if (peerReason === undefined) {
      this.#closeStream();
    } else {
      const reason = new TextEncoder().encode(peerReason.slice(0, MAX_ABORT_REASON));
      this.#abortSent = this.#sendControl(FrameType.Abort, reason, ABORT_GRACE_MS).finally(() =>
        this.#closeStream()
      );
    }
    return error;
  }

  /** Maps a low-level I/O error to the stored failure or a new "disconnected" failure. */
  #lost(error: unknown, operation: string): TransportError {
    if (this.#failure) return this.#failure;
    if (error instanceof TransportError) {
      // From the idle guard: the peer stopped reading or writing, so no abort frame would reach it.
      return this.#fail(
        new TransportError(
          error.code,
          `${this.name}: ${error.message} while ${operation} (${this.#where()})`,
          {
            cause: error,
          },
        ),
      );
    }
    const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return this.#fail(
      new TransportError(
        "disconnected",
        `${this.name}: lost the connection to ${this.peer} while ${operation} (${this.#where()}): ` +
          `${detail}; the peer process may have crashed or the network dropped`,
        { cause: error },
      ),
    );
  }

  async #writeFrame(header: Uint8Array, payload: Uint8Array): Promise<void> {
    if (payload.length <= COALESCE_BYTES) {
      const frame = new Uint8Array(header.length + payload.length);
      frame.set(header);
      frame.set(payload, header.length);
      await writeAll(this.#stream, frame);
    } else {
      await writeAll(this.#stream, header);
      await writeAll(this.#stream, payload);
    }
  }

  /** Queues a control frame behind pending sends; best effort, never rejects. */
  #sendControl(type: FrameType, payload: Uint8Array, timeoutMs: number): Promise<void> {
    const header = encodeFrameHeader(type, new Uint8Array(0), payload.length);
    const run = this.#sendTail.then(async () => {
      if (this.#streamClosed) return;
      await this.#writeFrame(header, payload);
      this.#meter.recordSent(header.length + payload.length);
    });
    this.#sendTail = run.catch(() => {});
    return withTimeout(run, timeoutMs, () => new Error("control frame not sent in time")).catch(() => {});
  }

  #closeStream(): void {
    if (this.#streamClosed) return;
    this.#streamClosed = true;
    try {
      this.#stream.close();
    } catch {
      // Already closed by the runtime (e.g. after a reset); nothing left to release.
    }
  }
}
