/**
 * A misbehaving peer for the fault tests of tools/serve.ts and tools/client.ts, as its own OS
 * process. Modes:
 *
 * - `truncated-client <port>`: connects to a server, reads its offer and hello, writes a frame
 *   header announcing 1000 payload bytes, 10 of them, and exits (the connection closes inside
 *   the frame).
 * - `wrong-kind-client <port>`: reads the server's offer and hello, sends a message of a kind
 *   the server does not expect, prints how the server answered, exits.
 * - `bad-type-client <port>`: sends a frame whose type byte is not a defined type.
 * - `truncated-server`: listens on a free port (printed as "fake server: listening on PORT"),
 *   accepts one client, writes a truncated frame and exits.
 *
 * Usage: deno run --allow-net=127.0.0.1 fake_peer.ts <mode> [port]
 *
 * @module
 */

import { connect, FrameType, HELLO_KIND } from "../../lib/mpc/transport.ts";
import { encodeFrameHeader, encodeKind, FrameReader, writeAll } from "../../lib/mpc/transport/frame.ts";
import { OFFER_KIND } from "../../lib/mpc/inference/public.ts";

const [mode, portArg] = Deno.args;
const port = Number(portArg);

async function truncatedFrame(conn: Deno.Conn): Promise<void> {
  await writeAll(conn, encodeFrameHeader(FrameType.Message, encodeKind("hello"), 1000));
  await writeAll(conn, new Uint8Array(10));
  conn.close();
}

if (mode === "truncated-client") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  // Let the server send its offer and hello first, so that it fails reading, not writing.
  const reader = new FrameReader(conn);
  await reader.readFrame(1 << 20);
  await reader.readFrame(1 << 20);
  await truncatedFrame(conn);
} else if (mode === "bad-type-client") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const header = encodeFrameHeader(FrameType.Message, encodeKind("hello"), 2);
  header[5] = 7;
  await writeAll(conn, header);
  await writeAll(conn, new Uint8Array(2));
  // Wait for the server to hang up, so the bytes are read before this process exits.
  await conn.read(new Uint8Array(1 << 16)).catch(() => null);
  conn.close();
} else if (mode === "wrong-kind-client") {
  const channel = await connect("127.0.0.1", port, { name: "fake client", timeoutMs: 20_000 });
  await channel.recv(OFFER_KIND);
  await channel.recv(HELLO_KIND);
  await channel.send("gc.tables", new Uint8Array(8));
  try {
    await channel.recv("anything");
  } catch (error) {
    console.log(`fake client: ${(error as Error).message}`);
  }
  await channel.close();
} else if (mode === "truncated-server") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`fake server: listening on ${(listener.addr as Deno.NetAddr).port}`);
  const conn = await listener.accept();
  await truncatedFrame(conn);
  listener.close();
} else {
  throw new Error(`unknown mode "${mode}"`);
}
