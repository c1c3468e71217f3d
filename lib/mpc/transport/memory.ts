/**
 * In-process byte streams and channels, for tests and single-process runs of the protocol.
 *
 * The streams behave like a TCP connection: ordered bytes, reads return whatever is available,
 * closing one end gives the other end end-of-stream after the bytes already written, and a
 * local close makes a pending local read reject. Frames go through the same code as over TCP,
 * so byte counts are identical.
 *
 * @module
 */

import type { ByteStream } from "./frame.ts";
import { type ChannelOptions, FramedChannel } from "./framed_channel.ts";

const EMPTY = new Uint8Array(0);

/** One direction of a memory connection: a queue of chunks and at most one waiting reader. */
class Pipe {
  chunks: Uint8Array[] = [];
  /** Index of the first unread chunk (an index, not shift(), keeps long queues linear). */
  head = 0;
  /** Bytes of chunks[head] already read. */
  offset = 0;
  writerClosed = false;
  readerClosed = false;
  wake: (() => void) | undefined;

  notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}

/** One end of a memory connection. */
class MemoryStream implements ByteStream {
  #in: Pipe;
  #out: Pipe;

  constructor(incoming: Pipe, outgoing: Pipe) {
    this.#in = incoming;
    this.#out = outgoing;
  }

  async read(into: Uint8Array): Promise<number | null> {
    const pipe = this.#in;
    while (pipe.head === pipe.chunks.length) {
      if (pipe.readerClosed) throw new Deno.errors.Interrupted("memory stream closed locally during read");
      if (pipe.writerClosed) return null;
      await new Promise<void>((resolve) => pipe.wake = resolve);
    }
    if (pipe.readerClosed) throw new Deno.errors.Interrupted("memory stream closed locally during read");
    let filled = 0;
    while (filled < into.length && pipe.head < pipe.chunks.length) {
      const chunk = pipe.chunks[pipe.head];
      const n = Math.min(chunk.length - pipe.offset, into.length - filled);
      into.set(chunk.subarray(pipe.offset, pipe.offset + n), filled);
      filled += n;
      pipe.offset += n;
      if (pipe.offset === chunk.length) {
        pipe.chunks[pipe.head++] = EMPTY; // release the chunk
        pipe.offset = 0;
      }
    }
    if (pipe.head === pipe.chunks.length) {
      pipe.chunks = [];
      pipe.head = 0;
    }
    return filled;
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#out.writerClosed) return Promise.reject(new Deno.errors.BadResource("memory stream is closed"));
    if (this.#out.readerClosed) {
      return Promise.reject(new Deno.errors.BrokenPipe("memory stream peer closed"));
    }
    // Copy: the caller may reuse its buffer once the write resolves, as with a socket.
    if (data.length > 0) this.#out.chunks.push(data.slice());
    this.#out.notify();
    return Promise.resolve(data.length);
  }

  close(): void {
    if (this.#out.writerClosed) throw new Deno.errors.BadResource("memory stream is already closed");
    this.#out.writerClosed = true;
    this.#in.readerClosed = true;
    this.#in.chunks = [];
    this.#in.head = 0;
    this.#out.notify();
    this.#in.notify();
  }
}

/** Two connected in-memory byte streams, like the two ends of a TCP connection. */
export function memoryStreamPair(): [ByteStream, ByteStream] {
  const ab = new Pipe();
  const ba = new Pipe();
  return [new MemoryStream(ba, ab), new MemoryStream(ab, ba)];
}

/**
 * Two connected channels in this process, named "client" and "server" unless the options say
 * otherwise. Close both when done.
 */
export function memoryChannelPair(
  options: { client?: ChannelOptions; server?: ChannelOptions } = {},
): [client: FramedChannel, server: FramedChannel] {
  const [a, b] = memoryStreamPair();
  return [
    new FramedChannel(a, { name: "client", peer: "server (in memory)", ...options.client }),
    new FramedChannel(b, { name: "server", peer: "client (in memory)", ...options.server }),
  ];
}
