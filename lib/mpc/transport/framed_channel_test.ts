import assert from "node:assert/strict";
import { isTransportError, pattern } from "./testdata/assertions.ts";
import { encodeFrameHeader, encodeKind, FrameType, writeAll } from "./frame.ts";
import { FramedChannel } from "./framed_channel.ts";
import { memoryChannelPair, memoryStreamPair } from "./memory.ts";

/** Wire size of a message frame, from the documented layout: 15 header bytes + kind + payload. */
const frameBytes = (kind: string, n: number) => 15 + new TextEncoder().encode(kind).length + n;

/** A channel whose peer is a raw byte stream the test writes to. */
function channelWithRawPeer(options = {}) {
  const [mine, raw] = memoryStreamPair();
  return { channel: new FramedChannel(mine, { name: "client", peer: "server", ...options }), raw };
}

Deno.test("messages of 0 bytes to several MB arrive intact in order, counted exactly", async () => {
  const [client, server] = memoryChannelPair();
  const sizes = [0, 1, 100, 65536, 65537, 1 << 20, 5_000_000];
  let expected = 0;
  const sending = (async () => {
    for (const [i, n] of sizes.entries()) {
      await client.send(`msg${i}`, pattern(n, i));
      expected += frameBytes(`msg${i}`, n);
    }
  })();
  for (const [i, n] of sizes.entries()) assert.deepEqual(await server.recv(`msg${i}`), pattern(n, i));
  await sending;
  await server.send("ack", new Uint8Array(3));
  assert.equal((await client.recv("ack")).length, 3);

  const sent = client.stats().phases.offline;
  const received = server.stats().phases.offline;
  assert.equal(sent.bytesSent, expected);
  assert.equal(received.bytesReceived, expected);
  assert.equal(sent.messagesSent, sizes.length);
  assert.equal(received.messagesReceived, sizes.length);
  assert.equal(sent.bytesReceived, frameBytes("ack", 3));
  assert.equal(sent.roundTrips, 1);
  await client.close();
  await server.close();
});

Deno.test("concurrent sends and receives keep call order", async () => {
  const [client, server] = memoryChannelPair();
  const kinds = Array.from({ length: 20 }, (_, i) => `k${i}`);
  const received = Promise.all(kinds.map((kind) => server.recv(kind)));
  await Promise.all(kinds.map((kind, i) => client.send(kind, pattern(i * 1000, i))));
  assert.deepEqual(await received, kinds.map((_, i) => pattern(i * 1000, i)));
  await client.close();
  await server.close();
});

Deno.test("sections and phases split the byte counts", async () => {
  const [client, server] = memoryChannelPair();
  client.section("conv1");
  await client.send("enc-r", new Uint8Array(1000));
  await server.recv("enc-r");
  client.setPhase("online");
  assert.equal(client.phase, "online");
  await client.send("x-minus-r", new Uint8Array(10));
  client.section("relu1");
  await client.send("labels", new Uint8Array(20));
  const cells = client.stats().sections.filter((s) => s.bytesSent > 0)
    .map((s) => [s.section, s.phase, s.bytesSent]);
  assert.deepEqual(cells, [
    ["conv1", "offline", frameBytes("enc-r", 1000)],
    ["conv1", "online", frameBytes("x-minus-r", 10)],
    ["relu1", "online", frameBytes("labels", 20)],
  ]);
  await client.close();
  await server.close();
});

Deno.test("an unexpected kind fails naming both kinds, and the peer learns why", async () => {
  const [client, server] = memoryChannelPair();
  await client.send("ot-reply", new Uint8Array(5));
  const pending = client.recv("gc-tables");
  await assert.rejects(
    server.recv("ot-query"),
    isTransportError("unexpected-kind", `expected message "ot-query"`, `received "ot-reply"`, "server"),
  );
  await assert.rejects(
    pending,
    isTransportError(
      "peer-abort",
      `client: server (in memory) aborted the session: expected message "ot-query"`,
    ),
  );
  // Failure is final on both sides.
  await assert.rejects(server.send("x", new Uint8Array(0)), isTransportError("unexpected-kind"));
  await assert.rejects(client.send("x", new Uint8Array(0)), isTransportError("peer-abort"));
  await client.close();
  await server.close();
});

Deno.test("a receive times out with a clear error, and the waiting peer is told", async () => {
  const [client, server] = memoryChannelPair();
  const serverWaits = server.recv("enc-result");
  const start = performance.now();
  await assert.rejects(
    client.recv("enc-result", { timeoutMs: 50 }),
    isTransportError("timeout", `no complete "enc-result" message from server`, "50 ms", "timeoutMs"),
  );
  const elapsed = performance.now() - start;
  assert.ok(elapsed >= 45 && elapsed < 2000, `timed out after ${elapsed} ms`);
  await assert.rejects(
    serverWaits,
    isTransportError("peer-abort", "server: client (in memory) aborted the session: no complete", "50 ms"),
  );
  await client.close();
  await server.close();
});

Deno.test("the channel-wide timeout applies when no per-call timeout is given", async () => {
  const [client, server] = memoryChannelPair({ client: { timeoutMs: 30 } });
  await assert.rejects(client.recv("never"), isTransportError("timeout", "30 ms"));
  await client.close();
  await server.close();
});

Deno.test("abort(reason) makes the peer fail with that reason; close() is orderly", async () => {
  const [client, server] = memoryChannelPair();
  const clientWaits = client.recv("weights-ok");
  await server.abort("weights do not match the client's model hash");
  await assert.rejects(
    clientWaits,
    isTransportError("peer-abort", "client: server (in memory) aborted the session: weights do not match"),
  );
  await assert.rejects(server.send("x", new Uint8Array(0)), isTransportError("closed", "aborted"));
  await client.close();

  const [a, b] = memoryChannelPair();
  const sent = a.send("last", pattern(100_000, 3)); // queued before close: still delivered
  await a.close();
  await sent;
  assert.deepEqual(await b.recv("last"), pattern(100_000, 3));
  await assert.rejects(b.recv("more"), isTransportError("peer-closed", `waited for "more"`));
  await assert.rejects(a.recv("x"), isTransportError("closed"));
  await a.close(); // idempotent
  await b.close();
});

Deno.test("a peer that vanishes without a close frame fails the pending receive", async () => {
  const { channel, raw } = channelWithRawPeer();
  const pending = channel.recv("relu-out");
  raw.close();
  await assert.rejects(
    pending,
    isTransportError("disconnected", `server closed the connection without a close frame`, `"relu-out"`),
  );
  await channel.close();
});

Deno.test("a frame cut off mid-payload fails as truncated, naming the pending kind", async () => {
  const { channel, raw } = channelWithRawPeer();
  channel.section("conv3");
  await writeAll(raw, encodeFrameHeader(FrameType.Message, encodeKind("tables"), 1000));
  await writeAll(raw, new Uint8Array(400));
  raw.close();
  await assert.rejects(
    channel.recv("tables"),
    isTransportError("truncated", "400 of 1000", `while receiving "tables" from server`, `section "conv3"`),
  );
  await channel.close();
});

Deno.test("a malformed header fails the channel and the peer is told", async () => {
  const { channel, raw } = channelWithRawPeer();
  await writeAll(raw, new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
  await assert.rejects(channel.recv("hello"), isTransportError("bad-magic", `while receiving "hello"`));
  // The raw peer receives an abort frame carrying the reason.
  const reply = new Uint8Array(4096);
  const n = await raw.read(reply);
  assert.ok(n !== null && n > 15);
  assert.equal(reply[5], FrameType.Abort);
  assert.match(new TextDecoder().decode(reply.subarray(15, n)), /must start with "SFN1"/);
  await channel.close();
  raw.close();
});

Deno.test("invalid send arguments throw but leave the channel usable", async () => {
  const [client, server] = memoryChannelPair({ client: { maxPayloadBytes: 100 } });
  await assert.rejects(client.send("big", new Uint8Array(101)), isTransportError("oversized", "101 bytes"));
  await assert.rejects(client.send("k".repeat(65), new Uint8Array(0)), isTransportError("bad-frame", "65"));
  await client.send("fine", new Uint8Array(100));
  assert.equal((await server.recv("fine")).length, 100);
  await client.close();
  await server.close();
});

Deno.test("the receiver's size limit rejects a too-large frame", async () => {
  const [client, server] = memoryChannelPair({ server: { maxPayloadBytes: 1000 } });
  await client.send("tables", new Uint8Array(1001));
  await assert.rejects(server.recv("tables"), isTransportError("oversized", "1001", "limit of 1000"));
  await assert.rejects(client.recv("x"), isTransportError("peer-abort", "1001"));
  await client.close();
  await server.close();
});

Deno.test("a silent peer fails the receive after the idle timeout, and is told", async () => {
  const { channel, raw } = channelWithRawPeer({ idleTimeoutMs: 60 });
  const start = performance.now();
  await assert.rejects(
    channel.recv("hello"),
    isTransportError("timeout", "no byte from server for 60 ms (idleTimeoutMs)", `while receiving "hello"`),
  );
  assert.ok(performance.now() - start < 2000);
  const reply = new Uint8Array(4096);
  const n = await raw.read(reply);
  assert.equal(reply[5], FrameType.Abort);
  assert.match(new TextDecoder().decode(reply.subarray(15, n!)), /no byte from server/);
  await channel.close();
  raw.close();
});

Deno.test("a frame left truncated on an open stream fails at the idle timeout", async () => {
  const { channel, raw } = channelWithRawPeer({ idleTimeoutMs: 60 });
  await writeAll(raw, encodeFrameHeader(FrameType.Message, encodeKind("tables"), 1000));
  await writeAll(raw, new Uint8Array(10));
  await assert.rejects(channel.recv("tables"), isTransportError("timeout", "no byte from server for 60 ms"));
  await channel.close();
  raw.close();
});

Deno.test("a peer trickling a byte at a time is held to the message timeout and the deadline", async () => {
  for (const bound of ["message", "deadline"] as const) {
    // Each byte resets the idle timer; the per-message bound or the deadline still ends it.
    const { channel, raw } = channelWithRawPeer(
      bound === "message" ? { idleTimeoutMs: 100, timeoutMs: 300 } : { idleTimeoutMs: 100 },
    );
    if (bound === "deadline") channel.setDeadline(300, "session setup");
    const frame = new Uint8Array([
      ...encodeFrameHeader(FrameType.Message, encodeKind("hello"), 200),
      ...pattern(200, 1),
    ]);
    let stop = false;
    const trickle = (async () => {
      for (let i = 0; i < frame.length && !stop; i++) {
        await writeAll(raw, frame.subarray(i, i + 1)).catch(() => stop = true);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const start = performance.now();
    await assert.rejects(
      channel.recv("hello"),
      isTransportError(
        "timeout",
        bound === "message"
          ? `no complete "hello" message from server within 300 ms`
          : "session setup did not finish within 300 ms",
      ),
    );
    const elapsed = performance.now() - start;
    assert.ok(elapsed >= 280 && elapsed < 2000, `${bound}: failed after ${elapsed} ms`);
    stop = true;
    await trickle;
    await channel.close();
    raw.close();
  }
});

Deno.test("a deadline cleared in time does nothing; one that passes fails every operation and tells the peer", async () => {
  const [client, server] = memoryChannelPair();
  client.setDeadline(50, "session setup");
  client.clearDeadline();
  await new Promise((resolve) => setTimeout(resolve, 80));
  await client.send("still-open", new Uint8Array(1));
  await server.recv("still-open");
  server.setDeadline(30, "the online phase");
  const waiting = client.recv("never");
  waiting.catch(() => {}); // checked below, after the deadline passes
  await new Promise((resolve) => setTimeout(resolve, 60));
  await assert.rejects(
    server.send("x", new Uint8Array(0)),
    isTransportError("timeout", "the online phase did not finish within 30 ms"),
  );
  await assert.rejects(waiting, isTransportError("peer-abort", "the online phase did not finish"));
  await client.close();
  await server.close();
});

Deno.test("per-kind payload limits apply before a payload is read; an unexpected kind's payload is never read", async () => {
  const [client, server] = memoryChannelPair();
  server.limitPayloads({ default: 100, kinds: { tables: 1000 } });
  await client.send("tables", new Uint8Array(1000));
  assert.equal((await server.recv("tables")).length, 1000);
  await client.send("small", new Uint8Array(101));
  await assert.rejects(
    server.recv("small"),
    isTransportError("oversized", `frame "small" announces 101`, "limit of 100"),
  );
  await client.close();
  await server.close();

  const { channel, raw } = channelWithRawPeer();
  await writeAll(raw, encodeFrameHeader(FrameType.Message, encodeKind("other"), 1 << 30));
  await writeAll(raw, new Uint8Array(100_000));
  await assert.rejects(
    channel.recv("hello"),
    isTransportError(
      "unexpected-kind",
      `expected message "hello"`,
      `received "other" (announcing 1073741824 bytes`,
    ),
  );
  assert.equal(channel.largestAllocation, 0);
  await channel.close();
  raw.close();
});

Deno.test("a peer's abort reason is printed with control characters escaped and its length capped", async () => {
  const { channel, raw } = channelWithRawPeer();
  const reason = "\x1b[2J\x1b[Hserver: done\r\n\u202efake" + "x".repeat(10_000);
  const bytes = new TextEncoder().encode(reason);
  await writeAll(
    raw,
    new Uint8Array([...encodeFrameHeader(FrameType.Abort, new Uint8Array(0), bytes.length), ...bytes]),
  );
  const error = await channel.recv("hello").then(() => undefined, (e) => e as Error);
  assert.ok(error);
  assert.ok(
    error.message.includes("aborted the session: \\x1b[2J\\x1b[Hserver: done\\x0d\\x0a\\u{202e}fake"),
    error.message,
  );
  assert.ok(!/[\p{Cc}\u202e]/u.test(error.message), "no raw control character survives");
  assert.ok(error.message.length < 1200, `${error.message.length} characters`);
  assert.match(error.message, /\[\d+ more characters\]$/);
  await channel.close();
  raw.close();

  // An abort frame larger than any reason this build sends is refused before it is read.
  const peer = channelWithRawPeer();
  await writeAll(peer.raw, encodeFrameHeader(FrameType.Abort, new Uint8Array(0), 1 << 20));
  await assert.rejects(
    peer.channel.recv("hello"),
    isTransportError("oversized", "abort frame announces 1048576", "limit of 16000"),
  );
  await peer.channel.close();
  peer.raw.close();
});
