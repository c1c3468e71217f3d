import assert from "node:assert/strict";
import { DEFAULT_CHUNK, ReluEvaluator, ReluGarbler, reluTraffic } from "./protocol.ts";
import { reluReference } from "./relu.ts";
import { P } from "../field.ts";
import { testChannelPair } from "../ot/test_channel.ts";
import { Prg } from "../prg.ts";

async function session() {
  const pair = testChannelPair(false);
  const [garbler, evaluator] = await Promise.all([ReluGarbler.setup(pair.a), ReluEvaluator.setup(pair.b)]);
  return { ...pair, garbler, evaluator };
}

Deno.test("end to end: the server learns ReLU(y >> shift) - r' for random shares, batch after batch", async () => {
  const { garbler, evaluator, a, b } = await session();
  assert.deepEqual(
    { garbler: a.sent.offline, evaluator: b.sent.offline },
    { garbler: 128 * 32 + 16, evaluator: 32 },
    "setup: 128 base-OT points + start point; one point back",
  );
  const prg = new Prg(new Uint8Array(16).fill(1));
  for (const options of [{ shift: 0 }, { shift: 15, chunk: 700 }, { relu: false, shift: 8, chunk: 1024 }]) {
    const n = 2500;
    const [s, c, r] = [0, 1, 2].map(() => prg.fieldElements(n, P));
    const before = { ...a.sent }, beforeB = { ...b.sent };
    const [gBatch, eBatch] = await Promise.all([
      garbler.offline(n, options),
      evaluator.offline(c, r, options),
    ]);
    const [z] = await Promise.all([garbler.online(gBatch, s), evaluator.online(eBatch)]);
    assert.deepEqual(z, reluReference(s, c, r, options), JSON.stringify(options));

    // Byte accounting: the cost model's per-instance formula, plus per-chunk headers and padding.
    const per = reluTraffic(options);
    const chunks = Math.ceil(n / (options.chunk ?? DEFAULT_CHUNK));
    const offlineG = a.sent.offline - before.offline, offlineE = b.sent.offline - beforeB.offline;
    const headerBytes = offlineG - per.offline.toClient * n;
    assert.ok(headerBytes > 0 && headerBytes < 120, `header ${headerBytes} bytes`);
    assert.equal(per.offline.toServer, 82 * 16, "16 bytes per client input bit");
    // OT columns are padded to whole 32-bit words per chunk: at most 4 bytes per input bit per chunk.
    assert.ok(offlineE >= per.offline.toServer * n && offlineE < per.offline.toServer * n + 82 * 4 * chunks);
    assert.equal(a.sent.online - before.online, per.online.toClient * n, "one label per server input bit");
    assert.ok(
      b.sent.online - beforeB.online <= Math.ceil(per.online.toServer * n) + chunks,
      "colour bits, packed",
    );
  }
});

Deno.test("end to end at the edges: zero, ±1, p/2 boundary, extreme masks", async () => {
  const { garbler, evaluator } = await session();
  const h = (P - 1) / 2;
  const ys = [0, 1, P - 1, h, h + 1, h - 1, P - 256, 256];
  const s: number[] = [], c: number[] = [], r: number[] = [];
  for (const y of ys) {
    for (const sv of [0, P - 1, 12345]) {
      for (const rv of [0, P - 1]) s.push(sv), c.push((y - sv + P) % P), r.push(rv);
    }
  }
  const [fs, fc, fr] = [s, c, r].map((v) => Float64Array.from(v));
  for (const options of [{ shift: 8 }, { relu: false, shift: 8, chunk: 7 }]) {
    const [gb, eb] = await Promise.all([
      garbler.offline(fs.length, options),
      evaluator.offline(fc, fr, options),
    ]);
    const [z] = await Promise.all([garbler.online(gb, fs), evaluator.online(eb)]);
    assert.deepEqual(z, reluReference(fs, fc, fr, options));
  }
});

Deno.test("mismatched options fail clearly; a batch cannot be used twice", async () => {
  const { garbler, evaluator } = await session();
  const c = new Float64Array(10), r = new Float64Array(10);
  void garbler.offline(10, { shift: 8 }); // stays waiting for the evaluator's OT message
  await assert.rejects(evaluator.offline(c, r, { shift: 9 }), /garbler's shift is 8, the evaluator's is 9/);
  const { garbler: g2, evaluator: e2 } = await session();
  const [gb, eb] = await Promise.all([g2.offline(10), e2.offline(c, r)]);
  await assert.rejects(g2.online(gb, new Float64Array(9)), /10 ReLUs, got 9 shares/);
  await Promise.all([g2.online(gb, new Float64Array(10)), e2.online(eb)]);
  await assert.rejects(g2.online(gb, new Float64Array(10)), /already used/);
  await assert.rejects(e2.online(eb), /already used/);
  await assert.rejects(e2.offline(Float64Array.of(P), Float64Array.of(0)), /not a field element/);
});
