import assert from "node:assert/strict";
import { IknpReceiver, IknpSender } from "./iknp.ts";
import { testChannelPair, transcriptContains } from "./test_channel.ts";
import { Prg } from "../prg.ts";

async function session() {
  const pair = testChannelPair();
  const [sender, receiver] = await Promise.all([
    IknpSender.setup(pair.a, new Prg()),
    IknpReceiver.setup(pair.b, new Prg()),
  ]);
  return { ...pair, sender, receiver };
}

const blocks = (words: Int32Array) => {
  const out: Uint8Array[] = [];
  for (let j = 0; j < words.length; j += 4) out.push(new Uint8Array(words.slice(j, j + 4).buffer));
  return out;
};

Deno.test("correlated OT: t_j = q_j ^ r_j Δ for thousands of OTs, over several extensions", async () => {
  const { sender, receiver, transcript, b } = await session();
  assert.equal(sender.delta[0] & 1, 1, "Δ has colour bit 1");
  for (const m of [10000, 77, 4096]) {
    const before = b.sent.offline;
    const choices = new Prg().bits(m);
    const [q, t] = await Promise.all([sender.correlated(m), receiver.correlated(choices)]);
    assert.equal(q.length, 4 * m);
    for (let j = 0; j < m; j++) {
      for (let w = 0; w < 4; w++) {
        if (t[4 * j + w] !== (q[4 * j + w] ^ (choices[j] ? sender.delta[w] : 0))) {
          assert.fail(`OT ${j} wrong`);
        }
      }
    }
    assert.equal(
      b.sent.offline - before,
      16 * 32 * Math.ceil(m / 32),
      "16 bytes per OT (rounded up to 32 OTs)",
    );
    // The receiver's other labels and Δ never appear in what it sees.
    const other = q.slice();
    for (let j = 0; j < m; j++) {
      for (let w = 0; w < 4; w++) {
        other[4 * j + w] ^= choices[j] ? 0 : sender.delta[w];
      }
    }
    assert.ok(
      !transcriptContains(transcript, [
        ...blocks(other).slice(0, 500),
        new Uint8Array(sender.delta.slice().buffer),
      ]),
    );
  }
  // Fresh randomness per OT: zero-labels do not repeat.
  const q = await Promise.all([sender.correlated(1000), receiver.correlated(new Uint8Array(1000))]).then((
    r,
  ) => r[0]);
  assert.equal(new Set(blocks(q).map((x) => x.join())).size, 1000);
});

Deno.test("chosen-message OT: the receiver gets exactly its messages; the others never travel", async () => {
  const { sender, receiver, transcript } = await session();
  const m = 3000;
  const prg = new Prg();
  const m0 = prg.int32s(4 * m), m1 = prg.int32s(4 * m), choices = prg.bits(m);
  const [, got] = await Promise.all([sender.send(m0, m1), receiver.receive(choices)]);
  for (let j = 0; j < m; j++) {
    const want = choices[j] ? m1 : m0;
    for (let w = 0; w < 4; w++) if (got[4 * j + w] !== want[4 * j + w]) assert.fail(`OT ${j} wrong`);
  }
  const unchosen = blocks(m0).filter((_, j) => choices[j]).concat(blocks(m1).filter((_, j) => !choices[j]));
  assert.ok(!transcriptContains(transcript, unchosen.slice(0, 1000)), "no unchosen message appears");
  // A second round uses fresh hash tweaks and still works.
  const [, again] = await Promise.all([
    sender.send(m1.subarray(0, 40), m0.subarray(0, 40)),
    receiver.receive(choices.subarray(0, 10)),
  ]);
  for (let j = 0; j < 10; j++) assert.equal(again[4 * j], (choices[j] ? m0 : m1)[4 * j]);
});

Deno.test("IKNP checks its inputs", async () => {
  const { sender, receiver } = await session();
  await assert.rejects(receiver.correlated(Uint8Array.of(0, 2)), /choice 1 is 2/);
  await assert.rejects(sender.send(new Int32Array(4), new Int32Array(8)), /equal-length/);
  const pending = sender.correlated(64);
  await receiver.correlated(new Uint8Array(32));
  await assert.rejects(pending, /expected 1024 bytes of U for 64 OTs, got 512/);
});

Deno.test("random OT: the receiver's pads are the sender's pads of its choices; the others never travel", async () => {
  const { sender, receiver, transcript, b } = await session();
  const m = 700, width = 3;
  const choices = new Prg().bits(m);
  const before = b.sent.offline;
  const [[pads0, pads1], got] = await Promise.all([
    sender.randomPads(m, width),
    receiver.randomPads(choices, width),
  ]);
  assert.equal(b.sent.offline - before, 16 * 32 * Math.ceil(m / 32), "only the extension's 16 bytes per OT");
  for (let c = 0; c < width; c++) {
    for (let j = 0; j < m; j++) {
      const at = 4 * (c * m + j), want = choices[j] ? pads1 : pads0;
      for (let w = 0; w < 4; w++) if (got[at + w] !== want[at + w]) assert.fail(`OT ${j} block ${c} wrong`);
    }
  }
  const other = blocks(pads0).filter((_, i) => choices[i % m]).concat(
    blocks(pads1).filter((_, i) => !choices[i % m]),
  );
  assert.ok(!transcriptContains(transcript, other.slice(0, 1000)), "no unchosen pad appears");
  // Fresh tweaks: no block repeats across OTs, blocks or later calls.
  const [[again]] = await Promise.all([sender.randomPads(m, 1), receiver.randomPads(choices, 1)]);
  const all = [...blocks(pads0), ...blocks(pads1), ...blocks(again)].map((x) => x.join());
  assert.equal(new Set(all).size, all.length);
});
