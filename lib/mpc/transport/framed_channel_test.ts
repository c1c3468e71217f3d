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
