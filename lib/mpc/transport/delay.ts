/**
 * An emulated link delay: a byte stream whose incoming bytes become readable `delayMs` after they
 * arrived, as if they had crossed a longer wire. Each party delays what it receives by half the
 * round-trip time, so a message and its answer take one round trip more than on the real link.
 *
 * This kernel has no netem, so a wide-area round trip cannot be put on the wire itself; bandwidth
 * can (a tbf qdisc in a network namespace) and the delay is added here instead. Results measured
 * with it say the delay was emulated. What it models: propagation delay, in order, without loss;
 * bytes in flight are not limited (the sender's writes complete as the kernel takes them, as on a
 * real link with large buffers), so a bandwidth limit underneath still shapes the transfer time.
 *
 * A background pump reads the wrapped stream as fast as it delivers, so everything in flight sits
 * in this side's memory until its time comes: at most one round trip's worth of the peer's sending.
 *
 * @module
 */
import type { ByteStream } from "./frame.ts";

/** Size of one read of the wrapped stream. */
const CHUNK_BYTES = 256 * 1024;

/** Bytes that arrived at `at` (ms, performance.now()); `null` marks the peer's end of stream. */
interface Arrival {
  bytes: Uint8Array | null;
  readonly at: number;
}

/** Wraps `stream` so reads see its bytes `delayMs` later; writes go through unchanged. */
export class DelayedStream implements ByteStream {
  readonly #stream: ByteStream;
  readonly #delayMs: number;
  readonly #arrivals: Arrival[] = [];
  #failure: unknown;
  #failed = false;
  #closed = false;
  /** Wakes a read waiting for the next arrival. */
  #wake: (() => void) | undefined;

  constructor(stream: ByteStream, delayMs: number) {
    if (!(Number.isFinite(delayMs) && delayMs >= 0)) {
      throw new Error(`DelayedStream: delayMs must be a number >= 0, got ${delayMs}`);
    }
    this.#stream = stream;
    this.#delayMs = delayMs;
    this.#pump();
  }

  async #pump(): Promise<void> {
    try {
      // One read buffer; each arrival keeps a copy of just its bytes.
      const buffer = new Uint8Array(CHUNK_BYTES);
      while (!this.#closed) {
        const n = await this.#stream.read(buffer);
        this.#arrivals.push({ bytes: n === null ? null : buffer.slice(0, n), at: performance.now() });
        this.#wake?.();
        if (n === null) return;
      }
    } catch (e) {
      this.#failure = e;
      this.#failed = true;
      this.#wake?.();
    }
  }

  async read(into: Uint8Array): Promise<number | null> {
    for (;;) {
      const head = this.#arrivals[0];
      if (head) {
        const wait = head.at + this.#delayMs - performance.now();
        if (wait > 0) {
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        if (head.bytes === null) return null;
        const n = Math.min(into.length, head.bytes.length);
        into.set(head.bytes.subarray(0, n));
        if (n === head.bytes.length) this.#arrivals.shift();
        else head.bytes = head.bytes.subarray(n);
        return n;
      }
      // Bytes that arrived before a failure are still delivered; then the failure.
      if (this.#failed) throw this.#failure;
      if (this.#closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
      this.#wake = undefined;
    }
  }

  write(data: Uint8Array): Promise<number> {
    return this.#stream.write(data);
  }

  close(): void {
    this.#closed = true;
    this.#stream.close();
    this.#wake?.();
  }
}
