/**
 * The transport of the two-party protocol: framed, counted channels in memory and over TCP.
 *
 * - `memoryChannelPair()` for tests and single-process runs; `listen()` / `connect()` for two
 *   processes. Both give a `FramedChannel`, which implements `Channel` (channel.ts) and adds
 *   `section(label)`, `stats()`, `close()` and `abort(reason)`.
 * - `handshake()` exchanges hellos and fails clearly on a mismatched session.
 * - Every failure is a `TransportError` with a `code` and a message naming the fix.
 * - Idle, per-message and deadline timeouts, and per-kind payload limits, keep a peer from
 *   holding or flooding this side; `printable` and `abortReason` (transport/disclosure.ts)
 *   keep peer text from the terminal raw and private errors from the peer.
 *
 * The frame layout is documented in transport/frame.ts.
 *
 * @module
 */

export {
  DEFAULT_SECTION,
  type SectionTraffic,
  type TrafficCounts,
  TrafficMeter,
  type TrafficStats,
} from "./transport/accounting.ts";
export type { PayloadLimits } from "./channel.ts";
export {
  abortReason,
  MAX_LINE_CHARS,
  MAX_PRINTED_CHARS,
  printable,
  PublicError,
} from "./transport/disclosure.ts";
export {
  type ByteStream,
  DEFAULT_MAX_PAYLOAD_BYTES,
  FRAME_MAGIC,
  FRAME_VERSION,
  FrameType,
  MAX_KIND_BYTES,
  TransportError,
  type TransportErrorCode,
} from "./transport/frame.ts";
export {
  type ChannelOptions,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  FramedChannel,
  type OperationOptions,
} from "./transport/framed_channel.ts";
export {
  handshake,
  type Hello,
  HELLO_KIND,
  PROTOCOL_VERSION,
  type Role,
  type SessionValue,
} from "./transport/handshake.ts";
export { memoryChannelPair, memoryStreamPair } from "./transport/memory.ts";
export {
  type ChannelListener,
  connect,
  type ConnectOptions,
  listen,
  type ListenOptions,
} from "./transport/tcp.ts";
