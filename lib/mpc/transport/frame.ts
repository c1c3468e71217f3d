/**
 * The wire format of the two-party protocol: length-prefixed, typed, versioned frames.
 *
 * ```
 * offset  size  field
 * 0       4     magic "SFN1"
 * 4       1     frame format version (FRAME_VERSION)
 * 5       1     frame type: 0 message, 1 abort (payload = UTF-8 reason), 2 orderly close
 * 6       1     kind length k (0..64)
 * 7       k     kind, UTF-8 (the message name that `recv(kind)` checks)
 * 7+k     8     payload length, unsigned big-endian
 * 15+k    n     payload
 * ```
 *
 * A reader checks every header field, and the announced length against a limit, before it
 * reads the payload, and grows the payload buffer only as bytes arrive, so a corrupt or hostile
 * header costs no memory.
 *
 * @module
 */

import { printable } from "./disclosure.ts";

/** The four bytes every frame starts with ("SFN1"). */
export const FRAME_MAGIC: Uint8Array = new TextEncoder().encode("SFN1");
/** The frame format version this build writes and accepts. */
export const FRAME_VERSION = 1;
/** Longest kind, in UTF-8 bytes. */
export const MAX_KIND_BYTES = 64;
/** Default limit on one frame's payload (1 GiB); larger messages must be split or the limit raised. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1 << 30;
/** Header bytes before the kind: magic, version, type, kind length. */
const FIXED_HEADER_BYTES = 7;
/** Bytes of the payload length field. */
const LENGTH_BYTES = 8;

/**
 * What a frame carries: an application message, an abort (the sender gave up; the payload is
 * its reason in UTF-8), or an orderly close.
 */
export const FrameType = { Message: 0, Abort: 1, Close: 2 } as const;
/** One of the FrameType values. */
export type FrameType = typeof FrameType[keyof typeof FrameType];

/** Why a transport operation failed; lets callers and tests branch without parsing messages. */
export type TransportErrorCode =
  | "bad-magic"
  | "bad-version"
  | "bad-frame"
  | "oversized"
  | "truncated"
  | "unexpected-kind"
  | "timeout"
  | "disconnected"
  | "peer-closed"
  | "peer-abort"
  | "closed"
  | "connect"
  | "handshake";

/** A transport failure: `code` says which kind, `message` names the problem and the fix. */
export class TransportError extends Error {
  /** Machine-readable reason. */
  readonly code: TransportErrorCode;

  /** Creates an error with a code and a message (and optionally the low-level cause). */
  constructor(code: TransportErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TransportError";
    this.code = code;
  }
}

/**
 * A bidirectional byte stream, the part of `Deno.Conn` the transport uses. `read` fills some
 * prefix of `into` and resolves to its length, or to null at end of stream.
 */
export interface ByteStream {
  /** Reads up to `into.length` bytes; null means the peer closed its side. */
  read(into: Uint8Array): Promise<number | null>;
  /** Writes a prefix of `data`; resolves to its length. */
  write(data: Uint8Array): Promise<number>;
  /** Closes both directions; pending reads reject. */
  close(): void;
}

/** One decoded frame. */
export interface Frame {
  /** What the frame carries. */
  type: FrameType;
  /** The message kind (empty for control frames). */
  kind: string;
  /** The payload (owned by the caller). */
  payload: Uint8Array;
  /** Bytes on the wire, header included. */
  wireBytes: number;
}

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes a kind as UTF-8 and checks its length; throws a clear error for an invalid kind. */
export function encodeKind(kind: string): Uint8Array {
  const bytes = encoder.encode(kind);
  if (bytes.length > MAX_KIND_BYTES) {
    throw new TransportError(
      "bad-frame",
      `message kind "${kind}" is ${bytes.length} UTF-8 bytes, over the limit of ${MAX_KIND_BYTES}; use a shorter name`,
    );
  }
  return bytes;
}

/** Builds the header of a frame whose payload is `payloadLength` bytes. */
export function encodeFrameHeader(type: FrameType, kind: Uint8Array, payloadLength: number): Uint8Array {
  const header = new Uint8Array(FIXED_HEADER_BYTES + kind.length + LENGTH_BYTES);
  header.set(FRAME_MAGIC, 0);
  header[4] = FRAME_VERSION;
  header[5] = type;
  header[6] = kind.length;
  header.set(kind, FIXED_HEADER_BYTES);
  new DataView(header.buffer).setBigUint64(FIXED_HEADER_BYTES + kind.length, BigInt(payloadLength));
  return header;
}

/** Writes all of `data`, looping over partial writes. */
export async function writeAll(stream: ByteStream, data: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < data.length) offset += await stream.write(data.subarray(offset));
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** A decoded frame header: what follows it and how long it says the payload is. */
export interface FrameHeader {
  /** What the frame carries. */
  type: FrameType;
  /** The message kind (empty for control frames). */
  kind: string;
  /** The payload length the header announces (not yet checked against any limit). */
  announced: bigint;
  /** Bytes of the header on the wire. */
  headerBytes: number;
}

/** First payload buffer; it doubles as bytes arrive, up to the announced length. */
const INITIAL_PAYLOAD_BYTES = 64 * 1024;

/**
 * Reads frames from a byte stream. Small reads go through a fixed buffer (one system call for
 * many small frames). A payload buffer starts small and doubles as bytes arrive, never past
 * the announced length: memory follows the bytes a peer actually sent, not what its header
 * claims, and a frame of n bytes still costs O(n) copying however it is split on the wire.
 */
export class FrameReader {
  #stream: ByteStream;
  #buffer: Uint8Array;
  #start = 0;
  #end = 0;
  #largestAllocation = 0;

  /** Wraps `stream`; `bufferBytes` is the read buffer for headers and small frames. */
  constructor(stream: ByteStream, bufferBytes = 64 * 1024) {
    this.#stream = stream;
    this.#buffer = new Uint8Array(bufferBytes);
  }

  /** The largest payload buffer this reader has allocated, in bytes. */
  get largestAllocation(): number {
    return this.#largestAllocation;
  }

  /** Fills `into` completely unless the stream ends first; resolves to the bytes filled. */
  async readExact(into: Uint8Array): Promise<number> {
    let filled = 0;
    while (filled < into.length) {
      if (this.#start < this.#end) {
        const n = Math.min(this.#end - this.#start, into.length - filled);
        into.set(this.#buffer.subarray(this.#start, this.#start + n), filled);
        this.#start += n;
        filled += n;
        continue;
      }
      const remaining = into.length - filled;
      if (remaining >= this.#buffer.length) {
        // Big remainder: skip the intermediate buffer.
        const n = await this.#stream.read(into.subarray(filled));
        if (n === null) return filled;
        filled += n;
      } else {
        const n = await this.#stream.read(this.#buffer);
        if (n === null) return filled;
        this.#start = 0;
        this.#end = n;
      }
    }
    return filled;
  }

  /**
   * Reads and checks the next frame header. Resolves to null if the stream ends cleanly
   * between frames; throws a TransportError for a malformed or cut-off header.
   */
  async readHeader(): Promise<FrameHeader | null> {
    const fixed = new Uint8Array(FIXED_HEADER_BYTES);
    const got = await this.readExact(fixed);
    if (got === 0) return null;
    if (got < FIXED_HEADER_BYTES) {
      throw new TransportError(
        "truncated",
        `stream ended inside a frame header (${got} of ${FIXED_HEADER_BYTES} fixed header bytes)`,
      );
    }
    if (FRAME_MAGIC.some((b, i) => fixed[i] !== b)) {
      throw new TransportError(
        "bad-magic",
        `received bytes [${hex(fixed.subarray(0, 4))}] where a frame must start with "SFN1" ` +
          `[${hex(FRAME_MAGIC)}]: the peer is not a SAFENet Lab transport, or the stream is out of sync`,
      );
    }
    if (fixed[4] !== FRAME_VERSION) {
      throw new TransportError(
        "bad-version",
        `peer speaks frame format version ${fixed[4]}, this build speaks ${FRAME_VERSION}: ` +
          `run the same SAFENet Lab version on both sides`,
      );
    }
    const type = fixed[5] as FrameType;
    if (type > FrameType.Close) {
      throw new TransportError("bad-frame", `unknown frame type ${type} (expected 0, 1 or 2)`);
    }
    const kindLength = fixed[6];
    if (kindLength > MAX_KIND_BYTES) {
      throw new TransportError(
        "bad-frame",
        `frame kind is ${kindLength} bytes, over the limit of ${MAX_KIND_BYTES}`,
      );
    }
    const rest = new Uint8Array(kindLength + LENGTH_BYTES);
    const gotRest = await this.readExact(rest);
    if (gotRest < rest.length) {
      throw new TransportError(
        "truncated",
        `stream ended inside a frame header (${FIXED_HEADER_BYTES + gotRest} of ` +
          `${FIXED_HEADER_BYTES + rest.length} header bytes)`,
      );
    }
    let kind: string;
    try {
      kind = strictDecoder.decode(rest.subarray(0, kindLength));
    } catch (cause) {
      throw new TransportError(
        "bad-frame",
        `frame kind is not valid UTF-8: [${hex(rest.subarray(0, kindLength))}]`,
        { cause },
      );
    }
    const announced = new DataView(rest.buffer).getBigUint64(kindLength);
    return { type, kind, announced, headerBytes: FIXED_HEADER_BYTES + rest.length };
  }

  /**
   * Reads the payload `header` announces: throws an "oversized" TransportError, before reading
   * any of it, if it is over `maxPayloadBytes`, and a "truncated" one if the stream ends first.
   */
  async readPayload(header: FrameHeader, maxPayloadBytes: number): Promise<Uint8Array> {
    const { announced } = header;
    const what = header.type === FrameType.Message
      ? `frame "${printable(header.kind)}"`
      : header.type === FrameType.Abort
      ? "abort frame"
      : "close frame";
    if (announced > BigInt(maxPayloadBytes)) {
      throw new TransportError(
        "oversized",
        `${what} announces ${announced} payload bytes, over the limit of ` +
          `${maxPayloadBytes} for this message: the peer is not following the protocol, or the ` +
          `limit (maxPayloadBytes, or the session's per-kind limits) is too small for it`,
      );
    }
    const length = Number(announced);
    let payload = this.#allocate(Math.min(length, INITIAL_PAYLOAD_BYTES));
    let filled = 0;
    while (filled < length) {
      if (filled === payload.length) {
        const grown = this.#allocate(Math.min(length, 2 * payload.length));
        grown.set(payload);
        payload = grown;
      }
      const got = await this.readExact(payload.subarray(filled));
      filled += got;
      if (filled < payload.length) {
        throw new TransportError(
          "truncated",
          `stream ended inside the payload of ${what} (${filled} of ${length} bytes)`,
        );
      }
    }
    return payload;
  }

  /**
   * Reads the next frame: `readHeader`, then `readPayload` under `maxPayloadBytes`. Resolves to
   * null if the stream ends cleanly between frames.
   */
  async readFrame(maxPayloadBytes: number): Promise<Frame | null> {
    const header = await this.readHeader();
    if (header === null) return null;
    const payload = await this.readPayload(header, maxPayloadBytes);
    return { type: header.type, kind: header.kind, payload, wireBytes: header.headerBytes + payload.length };
  }

  #allocate(bytes: number): Uint8Array {
    this.#largestAllocation = Math.max(this.#largestAllocation, bytes);
    return new Uint8Array(bytes);
  }
}

/** Bytes on the wire of one message frame of kind `kind` with a payload of `payloadLength` bytes. */
export function frameBytes(kind: string, payloadLength: number): number {
  return FIXED_HEADER_BYTES + encodeKind(kind).length + LENGTH_BYTES + payloadLength;
}
