import assert from "node:assert/strict";
import { baseOtReceive, baseOtSend } from "./base.ts";
import { testChannelPair, transcriptContains } from "./test_channel.ts";
import { Prg } from "../prg.ts";

Deno.test("base OT: the receiver gets exactly the chosen keys; the other keys never travel", async () => {
  const { a, b, transcript } = testChannelPair();
  const choices = new Prg(new Uint8Array(16).fill(1)).bits(40);
  const [{ k0, k1 }, got] = await Promise.all([
    baseOtSend(a, 40, new Prg()),
    baseOtReceive(b, choices, new Prg()),
  ]);
  choices.forEach((c, i) => {
    assert.deepEqual(got[i], c ? k1[i] : k0[i]);
    assert.notDeepEqual(got[i], c ? k0[i] : k1[i]);
  });
  assert.equal(new Set([...k0, ...k1].map((k) => k.join())).size, 80, "keys are distinct");
  assert.ok(!transcriptContains(transcript, [...k0, ...k1]), "no key appears in the messages");
  assert.equal(a.sent.offline + b.sent.offline, 32 + 40 * 32);
});

Deno.test("base OT rejects malformed points and wrong counts", async () => {
  const { a, b } = testChannelPair();
  await a.send("ot.base.a", new Uint8Array(32).fill(255)); // not a ristretto255 encoding
  await assert.rejects(baseOtReceive(b, new Uint8Array(1), new Prg()), /not a valid ristretto255/);
  const pair = testChannelPair();
  const sender = baseOtSend(pair.a, 2, new Prg());
  await pair.b.recv("ot.base.a");
  await pair.b.send("ot.base.b", new Uint8Array(32));
  await assert.rejects(sender, /expected 2 points/);
});
