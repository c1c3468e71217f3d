/**
 * What a link between the two parties delivers, measured through the protocol's own transport:
 * the round-trip time of small messages and the throughput of bulk transfers each way. The cost
 * model prices a link by exactly these two numbers, so a validation against real runs can use
 * the link as measured (a tbf-shaped 100 Mbit/s link carries less payload than 100 Mbit/s; over
 * loopback, moving bytes between two processes is not free either).
 *
 * The server drives: pings, then a bulk transfer to the client (acknowledged at its end), then
 * one to the server (started by a go message). Each transfer's time excludes one round trip (the
 * first byte's way there and the acknowledgement's way back).
 *
 * @module
 */
import type { Channel } from "../channel.ts";
import { median } from "../../report/stats.ts";

/** A link as measured. */
export interface LinkMeasurement {
  /** Median round trip of a one-byte message and its one-byte answer, seconds. */
  readonly rtt_s: number;
  /** Payload bytes per second, server to client and client to server. */
  readonly to_client_bytes_s: number;
  readonly to_server_bytes_s: number;
  /** Bytes sent each way per transfer, in frames of `frame_bytes`. */
  readonly bulk_bytes: number;
  readonly frame_bytes: number;
  readonly pings: number;
}

/** How much to send; both parties must use the same options. */
export interface ProbeOptions {
  /** Bytes each way (rounded up to whole frames). */
  readonly bulkBytes: number;
  /** Bytes per frame; default 4 MiB (the size of the protocol's larger messages). */
  readonly frameBytes?: number;
  /** Round trips timed; default 21. */
  readonly pings?: number;
}

const PING = "probe.ping", PONG = "probe.pong", BULK = "probe.bulk", ACK = "probe.ack", GO = "probe.go";

function shape(o: ProbeOptions) {
  const frameBytes = o.frameBytes ?? 4 << 20, pings = o.pings ?? 21;
  if (!(frameBytes >= 1 && o.bulkBytes >= 1 && pings >= 1)) {
    throw new RangeError(
      `link probe: bulk, frame and ping counts must be positive, got ${JSON.stringify(o)}`,
    );
  }
  return { frameBytes, frames: Math.ceil(o.bulkBytes / frameBytes), pings };
}

/** The server's side: drives the probe and returns the measurement. */
export async function probeLinkServer(ch: Channel, options: ProbeOptions): Promise<LinkMeasurement> {
  const { frameBytes, frames, pings } = shape(options);
  const one = new Uint8Array(1);
  const rtts: number[] = [];
  for (let i = 0; i < pings; i++) {
    const t0 = performance.now();
    await ch.send(PING, one);
    await ch.recv(PONG);
    rtts.push((performance.now() - t0) / 1000);
  }
  const rtt = median(rtts);
  const frame = new Uint8Array(frameBytes);
  let t0 = performance.now();
  for (let i = 0; i < frames; i++) await ch.send(BULK, frame);
  await ch.recv(ACK);
  const toClient = (performance.now() - t0) / 1000 - rtt;
  t0 = performance.now();
  await ch.send(GO, one);
  for (let i = 0; i < frames; i++) await ch.recv(BULK);
  const toServer = (performance.now() - t0) / 1000 - rtt;
  const bytes = frames * frameBytes;
  // A transfer faster than a round trip's noise cannot be timed this way: say so.
  if (!(toClient > 0 && toServer > 0)) {
    throw new Error(
      `link probe: ${bytes} bytes took less than one round trip (${rtt} s); probe with more bulk bytes`,
    );
  }
  return {
    rtt_s: rtt,
    to_client_bytes_s: bytes / toClient,
    to_server_bytes_s: bytes / toServer,
    bulk_bytes: bytes,
    frame_bytes: frameBytes,
    pings,
  };
}

/** The client's side: answers the pings, receives and returns the bulk. */
export async function probeLinkClient(ch: Channel, options: ProbeOptions): Promise<void> {
  const { frameBytes, frames, pings } = shape(options);
  const one = new Uint8Array(1);
  for (let i = 0; i < pings; i++) {
    await ch.recv(PING);
    await ch.send(PONG, one);
  }
  for (let i = 0; i < frames; i++) await ch.recv(BULK);
  await ch.send(ACK, one);
  await ch.recv(GO);
  const frame = new Uint8Array(frameBytes);
  for (let i = 0; i < frames; i++) await ch.send(BULK, frame);
}
