/**
 * CNN-7 end to end on real CIFAR-10 test images, in one process over an in-memory channel:
 * the shipped all-ReLU network bit-exact against the fixed-point reference, and a mixed plan
 * (ReLU, degree 0, 2 and 3 channels at every site) within the polynomial truncation bounds at
 * every op. On 100 test images, the fixed-point networks of the shipped all-ReLU and 80%-plan
 * weights predict the float networks' classes, and the 80%-plan network's polynomial
 * activations stay far below the bound its statistical security assumes. The protocol equals
 * the reference bit for bit with ReLU channels and within the truncation bound otherwise (the
 * tests here and in inference_test.ts), so this is the
 * plaintext half of the secure = plaintext agreement. Running all 100 through the protocol takes
 * 10-15 min per network on one core, so `deno task bench:protocol --agreement-only` does that
 * (results/agreement_cnn7_*.json).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { CIFAR10_STATS } from "../../data/mod.ts";
import { REPO_ROOT } from "../../data/locate.ts";
import { foldedForward } from "../../nn/fold.ts";
import { cnn7 } from "../../nn/architectures.ts";
import type { Plan } from "../../nn/plan.ts";
import { argmax } from "../../report/stats.ts";
import { referenceForward } from "../quantize.ts";
import { prepareNetwork, readPlan } from "./model.ts";
import { plaintextAgreement, testImages } from "./agreement.ts";
import { DEFAULT_ACTIVATION_BOUND, inferenceStatisticalDistance } from "./security.ts";
import { runPair } from "./testdata/networks.ts";
import { checkEveryOp } from "./testdata/check.ts";

const SHIPPED_ALL_RELU = join(REPO_ROOT, "data/pretrained/cnn7");
const SHIPPED_PLAN80 = join(REPO_ROOT, "data/pretrained/cnn7-plan80");
const PLAN80 = join(REPO_ROOT, "data/plans/cnn7_uniform80_deg2.json");

Deno.test("shipped CNN-7 all-ReLU: secure logits equal the fixed-point reference bit for bit", async () => {
  const served = await prepareNetwork({ model: "cnn7", weights: SHIPPED_ALL_RELU });
  const [{ x }] = await testImages(1, served.normalize);
  const run = await runPair(served, [x], 3);
  const ref = referenceForward(served.net, served.graph, x);
  assert.deepEqual(Array.from(run.results[0].logits), Array.from(ref.logits));
  assert.equal(run.results[0].predicted, argmax(foldedForward(served.folded, served.graph, x)));
  // 173,056 ReLUs: the offline phase carries the garbled tables, the online phase far less.
  const { offline, online } = run.server.stats().phases;
  assert.ok(
    offline.bytesSent > 1e9 && online.bytesSent < 0.15 * offline.bytesSent,
    `${offline.bytesSent} / ${online.bytesSent}`,
  );
});

for (
  const [what, weights, plan] of [
    ["all-ReLU", SHIPPED_ALL_RELU, undefined],
    ["80% plan", SHIPPED_PLAN80, PLAN80],
  ] as const
) {
  Deno.test(`shipped CNN-7 ${what}: fixed point predicts the float class on >= 99 of 100 test images`, async () => {
    // No plan given: the one in the weights' training.json is served.
    const served = await prepareNetwork({ model: "cnn7", weights });
    if (plan !== undefined) assert.deepEqual(served.plan, await readPlan(plan));
    assert.deepEqual(served.warnings, [], "the weights carry the plan they are served with");
    const agreement = plaintextAgreement(served, await testImages(100, served.normalize));
    assert.ok(agreement.fixed_vs_float_same_class >= 99, JSON.stringify(agreement));
    // Trained networks, not chance: the paper's all-ReLU CNN-7 reaches 85.1%.
    assert.ok(agreement.float_top1! >= 0.7, JSON.stringify(agreement));
    // The statistical-distance bound's assumption (security.ts) holds with a wide margin, and
    // for the 80% plan the bound is <= 2^-40 per inference.
    if (plan === undefined) assert.equal(agreement.max_poly_activation, 0);
    else {
      assert.ok(agreement.max_poly_activation < DEFAULT_ACTIVATION_BOUND / 16, JSON.stringify(agreement));
      const sd = inferenceStatisticalDistance(served.graph, served.plan, served.net.fracBits);
      assert.ok(sd.log2 <= -40, `statistical distance 2^${sd.log2}`);
    }
  });
}

Deno.test("CNN-7 mixed plan (ReLU, degrees 0, 2, 3): every op within the truncation bound, same class", async () => {
  const plan: Plan = {
    model: "cnn7",
    sites: [2, 3, 2, 3, 0, 2, 3].map((beta) => ({ alpha: 0.75, beta: beta as 0 | 2 | 3 })),
  };
  const served = await prepareNetwork({ model: "cnn7", weights: "random:4", plan, calibrationImages: 32 });
  assert.equal(served.graph.name, cnn7().name);
  const [, { x }] = await testImages(2, CIFAR10_STATS);
  const run = await runPair(served, [x], 4);
  checkEveryOp(served, run, x, 0);
  assert.equal(run.results[0].predicted, argmax(referenceForward(served.net, served.graph, x).logits));
});
