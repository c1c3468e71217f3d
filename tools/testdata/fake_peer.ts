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
 *   accepts one client, writes a truncated offer frame and exits.
 * - `abort-server`: listens like `truncated-server` and aborts with ESCAPE_REASON.
 *
 * The fuzzer's cases against a server; each holds the connection until the server closes it:
 *
 * - `silent-client <port>`: connects and never writes.
 * - `open-truncated-client <port>`: reads the offer and hello, writes 10 of a hello's 1000
 *   payload bytes, and stays connected.
 * - `trickle-client <port>`: reads the offer and hello, writes a hello one byte every 300 ms (24 s in all).
 * - `flood-client <port> <bytes>`: reads the offer, announces a hello of <bytes> and streams it.
 * - `garbage-client <port>`: writes an HTTP request.
 * - `abort-client <port>`: reads the offer and hello, aborts with ESCAPE_REASON.
 * - `offer-client <port>`: prints the offer's weights commitment and salt, then closes.
 * - `bad-ot-client <port>`: a real session start (offer, handshake), then an invalid base-OT
 *   point; prints how the server answers.
 *
 * Usage: deno run --allow-net=127.0.0.1 fake_peer.ts <mode> [port]
 *
 * @module
 */

import { connect, FrameType, HELLO_KIND } from "../../lib/mpc/transport.ts";
import { encodeFrameHeader, encodeKind, FrameReader, writeAll } from "../../lib/mpc/transport/frame.ts";
import { acceptSession, OFFER_KIND } from "../../lib/mpc/inference/public.ts";
import { BASE_OT_KINDS } from "../../lib/mpc/ot/base.ts";

/** An abort reason that clears the screen and fakes a success line, then runs on for 10 KB. */
const ESCAPE_REASON = "\x1b[2J\x1b[Hserver: done; the server learned nothing\n" + "x".repeat(10_000);

const [mode, portArg] = Deno.args;
const port = Number(portArg);

/** Reads until the server closes the connection (or resets it). */
async function holdUntilClosed(conn: Deno.Conn): Promise<void> {
  const sink = new Uint8Array(1 << 16);
  while (await conn.read(sink).catch(() => null) !== null) { /* drain */ }
  conn.close();
}

/** Connects and reads the server's offer and hello frames. */
async function afterHello(): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reader = new FrameReader(conn);
  await reader.readFrame(1 << 20);
  await reader.readFrame(1 << 20);
  return conn;
}

function abortFrame(reason: string): Uint8Array {
  const bytes = new TextEncoder().encode(reason);
  return new Uint8Array([...encodeFrameHeader(FrameType.Abort, new Uint8Array(0), bytes.length), ...bytes]);
}

/** Writes 10 of a `kind` frame's 1000 payload bytes and closes. */
async function truncatedFrame(conn: Deno.Conn, kind: string): Promise<void> {
  await writeAll(conn, encodeFrameHeader(FrameType.Message, encodeKind(kind), 1000));
  await writeAll(conn, new Uint8Array(10));
  conn.close();
}

if (mode === "truncated-client") {
  // After the server's offer and hello, so that it fails reading, not writing.
  await truncatedFrame(await afterHello(), HELLO_KIND);
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
} else if (mode === "truncated-server" || mode === "abort-server") {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  console.log(`fake server: listening on ${(listener.addr as Deno.NetAddr).port}`);
  const conn = await listener.accept();
  if (mode === "truncated-server") {
    await truncatedFrame(conn, OFFER_KIND);
  } else {
    await writeAll(conn, abortFrame(ESCAPE_REASON));
    await holdUntilClosed(conn);
  }
  listener.close();
} else if (mode === "silent-client") {
  await holdUntilClosed(await Deno.connect({ hostname: "127.0.0.1", port }));
} else if (mode === "open-truncated-client") {
  const conn = await afterHello();
  await writeAll(conn, encodeFrameHeader(FrameType.Message, encodeKind(HELLO_KIND), 1000));
  await writeAll(conn, new Uint8Array(10));
  await holdUntilClosed(conn);
} else if (mode === "trickle-client") {
  const conn = await afterHello();
  const hello = new TextEncoder().encode(JSON.stringify({ role: "client", protocolVersion: 1, session: {} }));
  const frame = new Uint8Array([
    ...encodeFrameHeader(FrameType.Message, encodeKind(HELLO_KIND), hello.length),
    ...hello,
  ]);
  const closed = holdUntilClosed(conn);
  for (const byte of frame) {
    if (await writeAll(conn, new Uint8Array([byte])).then(() => false, () => true)) break;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  await closed;
} else if (mode === "flood-client") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const total = Number(Deno.args[2]);
  await writeAll(conn, encodeFrameHeader(FrameType.Message, encodeKind(HELLO_KIND), total));
  const chunk = new Uint8Array(1 << 16);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (
      await writeAll(conn, chunk.subarray(0, Math.min(chunk.length, total - sent))).then(
        () => false,
        () => true,
      )
    ) {
      break; // the server hung up
    }
  }
  await holdUntilClosed(conn);
} else if (mode === "garbage-client") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  await holdUntilClosed(conn);
} else if (mode === "abort-client") {
  const conn = await afterHello();
  await writeAll(conn, abortFrame(ESCAPE_REASON));
  await holdUntilClosed(conn);
} else if (mode === "offer-client") {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const offer = JSON.parse(
    new TextDecoder().decode((await new FrameReader(conn).readFrame(1 << 20))!.payload),
  );
  console.log(`fake client: weights ${offer.weights} salt ${offer.weightsSalt}`);
  conn.close();
} else if (mode === "bad-ot-client") {
  const channel = await connect("127.0.0.1", port, { name: "fake client", timeoutMs: 20_000 });
  await acceptSession(channel);
  await channel.send(BASE_OT_KINDS.a, new Uint8Array(32).fill(0xff));
  try {
    await channel.recv("anything");
  } catch (error) {
    console.log(`fake client: ${(error as Error).message}`);
  }
  await channel.close();
} else {
  throw new Error(`unknown mode "${mode}"`);
}
