/**
 * CNN-7 end to end on real CIFAR-10 test images, in one process over an in-memory channel:
 * all-ReLU bit-exact against the fixed-point reference, and a mixed plan (ReLU, degree 0, 2
 * and 3 channels at every site) within the polynomial truncation bounds at every op.
 *
 * Untrained seeded weights: correctness does not depend on training, and trained weights may
 * not exist where the tests run. The 100-image agreement with plaintext inference (trained
 * weights when present) is measured by `deno task bench:protocol` (see tools/bench_protocol.ts),
 * since one CNN-7 inference takes 10-20 s here.
 */
import assert from "node:assert/strict";
import { CIFAR10_STATS, IMAGE_BYTES, loadCifar, normalize } from "../../data/mod.ts";
import { foldedForward } from "../../nn/fold.ts";
import { cnn7 } from "../../nn/architectures.ts";
import type { Plan } from "../../nn/plan.ts";
import { referenceForward } from "../quantize.ts";
import { prepareNetwork } from "./model.ts";
import { runPair } from "./testdata/networks.ts";
import { checkEveryOp } from "./testdata/check.ts";

const test = await loadCifar({ dataset: "cifar10", split: "test" });
const image = (i: number) =>
  normalize(test.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), CIFAR10_STATS);
const argmax = (v: ArrayLike<number>) =>
  Array.from(v).reduce((best, x, i, all) => (x > all[best] ? i : best), 0);

Deno.test("CNN-7 all-ReLU: secure logits equal the fixed-point reference bit for bit", async () => {
  const served = await prepareNetwork({ model: "cnn7", weights: "random:3" });
  const x = image(0);
  const run = await runPair(served, [x], 3);
  const ref = referenceForward(served.net, served.graph, x);
  assert.deepEqual(Array.from(run.results[0].logits), Array.from(ref.logits));
  // Fixed point tracks the float network closely (untrained logits are too close together to compare classes).
  const float = foldedForward(served.folded, served.graph, x);
  float.forEach((v, i) =>
    assert.ok(Math.abs(v - ref.logits[i]) < 0.1, `logit ${i}: float ${v}, fixed ${ref.logits[i]}`)
  );
  // 173,056 ReLUs: the offline phase carries the garbled tables, the online phase far less.
  const { offline, online } = run.server.stats().phases;
  assert.ok(
    offline.bytesSent > 1e9 && online.bytesSent < 0.15 * offline.bytesSent,
    `${offline.bytesSent} / ${online.bytesSent}`,
  );
});

Deno.test("CNN-7 mixed plan (ReLU, degrees 0, 2, 3): every op within the truncation bound, same class", async () => {
  const plan: Plan = {
    model: "cnn7",
    sites: [2, 3, 2, 3, 0, 2, 3].map((beta) => ({ alpha: 0.75, beta: beta as 0 | 2 | 3 })),
  };
  const served = await prepareNetwork({ model: "cnn7", weights: "random:4", plan, calibrationImages: 32 });
  assert.equal(served.graph.name, cnn7().name);
  const x = image(1);
  const run = await runPair(served, [x], 4);
  checkEveryOp(served, run, x, 0);
  assert.equal(run.results[0].predicted, argmax(referenceForward(served.net, served.graph, x).logits));
});
