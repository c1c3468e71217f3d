/**
 * A second OS process for the TCP tests: connects to 127.0.0.1:<port> and plays one role.
 *
 * - `echo <n>`: answers n "ping" messages with "pong" carrying the same payload, then closes.
 * - `wait`: sends "ready", then waits for a message that never comes (the test kills it).
 * - `stall`: writes a frame header announcing 1 MiB and 1000 payload bytes, prints "stalled",
 *   then hangs (the test kills it mid-frame).
 *
 * Usage: deno run --allow-net=127.0.0.1 peer.ts <port> <mode> [n]
 *
 * @module
 */

import { encodeFrameHeader, encodeKind, FrameType, writeAll } from "../frame.ts";
import { connect } from "../tcp.ts";

const [portArg, mode, countArg] = Deno.args;
const port = Number(portArg);

if (mode === "echo") {
  const channel = await connect("127.0.0.1", port, { name: "peer process" });
  for (let i = 0; i < Number(countArg); i++) await channel.send("pong", await channel.recv("ping"));
  await channel.close();
} else if (mode === "wait") {
  const channel = await connect("127.0.0.1", port, { name: "peer process" });
  await channel.send("ready", new Uint8Array(0));
  await channel.recv("never");
} else if (mode === "stall") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, encodeFrameHeader(FrameType.Message, encodeKind("tables"), 1 << 20));
  await writeAll(conn, new Uint8Array(1000));
  console.log("stalled");
  await conn.read(new Uint8Array(1)); // blocks: the test never writes
} else {
  throw new Error(`unknown mode "${mode}"; use echo, wait or stall`);
}
