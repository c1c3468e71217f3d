import assert from "node:assert/strict";
import { connect, listen } from "../transport.ts";
import { ReluEvaluator, ReluGarbler } from "../gc/protocol.ts";
import { reluReference } from "../gc/relu.ts";
import { Fp } from "../field.ts";
import { Prg } from "../prg.ts";
import { evaluatorOffline, evaluatorOnline, garbleRelus, garblerOnline, RELU_BATCH } from "./relu.ts";

Deno.test("ReLU layers of several garbling batches run over TCP without stalling and match the reference", async () => {
  // Over 2 batches: one GC offline call for all of them stalls once its tables outgrow the socket buffers.
  const n = 3 * RELU_BATCH + 100, shift = 8;
  const prg = new Prg(new Uint8Array(16).fill(9));
  const s = Fp.random(n, prg), c = Fp.random(n, prg), rNext = Fp.random(n, prg);
  const listener = listen(0, "127.0.0.1", { timeoutMs: 60_000 });
  const [z] = await Promise.all([
    (async () => {
      const ch = await listener.accept();
      const garbler = await ReluGarbler.setup(ch, { seed: new Uint8Array(16).fill(1) });
      const batches = await garbleRelus(garbler, n, shift);
      assert.equal(batches.length, 4);
      const z = await garblerOnline(garbler, batches, s);
      await ch.close();
      return z;
    })(),
    (async () => {
      const ch = await connect("127.0.0.1", listener.port, { timeoutMs: 60_000 });
      const evaluator = await ReluEvaluator.setup(ch, { seed: new Uint8Array(16).fill(2) });
      await evaluatorOnline(evaluator, await evaluatorOffline(evaluator, c, rNext, shift));
      await ch.close();
    })(),
  ]);
  listener.close();
  assert.deepEqual(Array.from(z), Array.from(reluReference(s, c, rNext, { shift })));
});
