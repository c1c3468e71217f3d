import assert from "node:assert/strict";
import { testChannelPair, transcriptContains } from "./test_channel.ts";

Deno.test("test channel: ordered, typed, counted per phase, recorded", async () => {
  const { a, b, transcript } = testChannelPair();
  const pending = b.recv("x");
  await a.send("x", Uint8Array.of(1, 2, 3));
  assert.deepEqual(await pending, Uint8Array.of(1, 2, 3));
  a.setPhase("online");
  const buf = Uint8Array.of(9);
  await a.send("y", buf);
  buf[0] = 0; // the channel kept a copy
  assert.deepEqual(await b.recv("y"), Uint8Array.of(9));
  assert.deepEqual(a.sent, { offline: 3, online: 1 });
  assert.equal(transcript.length, 2);
  await b.send("z", new Uint8Array(0));
  await assert.rejects(a.recv("w"), /expected message "w", got "z"/);
});

Deno.test("transcriptContains finds a secret at any byte offset, and only then", async () => {
  const { a, transcript } = testChannelPair();
  const secret = Uint8Array.from({ length: 16 }, (_, i) => 100 + i);
  const msg = new Uint8Array(40);
  msg.set(secret, 7);
  await a.send("m", msg);
  assert.ok(transcriptContains(transcript, [secret]));
  const other = secret.slice();
  other[15] ^= 1;
  assert.ok(!transcriptContains(transcript, [other]));
});
