import assert from "node:assert/strict";
import { UNIT_SCALE } from "../data/augment.ts";
import type { LabeledImages } from "../data/cifar.ts";
import { IMAGE_BYTES } from "../data/dataset.ts";
import { Rng } from "../data/random.ts";
import { l1Importance, selectApproximated } from "../nn/approximation.ts";
import { activationSites } from "../nn/graph.ts";
import { cnn7 } from "../nn/architectures.ts";
import { allReluPlan, type Plan } from "../nn/plan.ts";
import { calibrationBatch } from "./data.ts";
import { recipeFactory } from "./models.ts";
import type { WeightInfo } from "./replica.ts";
import { type TrialJob, TrialPool, type TrialState } from "./trials.ts";
import { namedWeight } from "./testdata/tiny.ts";

const graph = cnn7();
const sites = activationSites(graph);

/** Seeded random CIFAR-shaped images (learnability does not matter here). */
function randomImages(count: number, seed: number): LabeledImages {
  const rng = new Rng(seed);
  const images = Uint8Array.from({ length: count * IMAGE_BYTES }, () => rng.int(256));
  const labels = Uint8Array.from({ length: count }, () => rng.int(10));
  return { images, labels, count, numClasses: 10 };
}

/** Site i's approximated channels under `plan` chosen from `weights` (eq. 3, L1 norms). */
function expectedMask(info: readonly WeightInfo[], weights: Float32Array, plan: Plan, i: number): number[] {
  const kernel = namedWeight(info, weights, `${sites[i].producer}/kernel`);
  return [...selectApproximated(l1Importance(kernel, sites[i].channels), plan.sites[i].alpha)];
}

const plan = (settings: [number, 0 | 2 | 3][]): Plan => ({
  model: "cnn7",
  sites: settings.map(([alpha, beta]) => ({ alpha, beta })),
});

Deno.test({
  name:
    "trial worker: a trial exploited from a source with another plan gets masks from its own plan (re-derived from the source's weights where a site's setting changed), trained coefficients kept only where the degree is unchanged, whatever the worker ran before",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const train = randomImages(96, 1);
    const setup = {
      model: "cnn7" as const,
      numClasses: 10,
      batchNorm: true,
      train,
      validation: randomImages(40, 2),
      calibration: calibrationBatch(train, UNIT_SCALE, 32),
      normalize: UNIT_SCALE,
      batchSize: 32,
      augment: true,
    };
    const pool = await TrialPool.create({
      workers: 1,
      factory: recipeFactory({ model: "cnn7", numClasses: 10, seed: 3 }),
      replica: { weightDecay: 5e-4 },
      setup,
    });
    try {
      const info = pool.weightInfo;
      const initial = await pool.initialState(allReluPlan(graph));
      const job = (state: TrialState, p: Plan, images: number, seed: number): TrialJob => ({
        state,
        plan: p,
        lr: 0.05,
        momentum: 0.9,
        images,
        seed,
        coefficients: "fit",
      });
      // The source trains under its plan (site 0: half its channels at degree 3).
      const sourcePlan = plan([[0.5, 3], [0.5, 2], [0.25, 2], [0, 2], [0, 2], [0, 2], [0.5, 2]]);
      const [source] = await pool.run([job(initial, sourcePlan, 64, 1)]);
      assert.equal(source.state.imagesTrained, 64);
      // The exploiting trial: another alpha at site 0, another degree at site 1, same at site 6.
      const targetPlan = plan([[0.25, 3], [0.5, 3], [0.75, 2], [0.5, 0], [0, 2], [0, 2], [0.5, 2]]);
      const [target] = await pool.run([job(source.state, targetPlan, 0, 2)]);
      const siteMask = (s: TrialState, i: number) => [...namedWeight(info, s.weights, `${sites[i].id}/mask`)];
      for (let i = 0; i < sites.length; i++) {
        const same = JSON.stringify(targetPlan.sites[i]) === JSON.stringify(sourcePlan.sites[i]);
        // A site with the source's setting keeps the source's plan state; any other gets its own mask.
        const expected = same
          ? siteMask(source.state, i)
          : expectedMask(info, source.state.weights, targetPlan, i);
        assert.deepEqual(siteMask(target.state, i), expected, `site ${i} mask`);
      }
      assert.notDeepEqual(
        siteMask(target.state, 0),
        siteMask(source.state, 0),
        "site 0: the source's mask was kept",
      );
      // Coefficients (rows = powers, columns = channels): channels trained at the same degree keep theirs.
      const coefficients = (s: TrialState, i: number) =>
        namedWeight(info, s.weights, `${sites[i].id}/coefficients`);
      const channels = sites[6].channels;
      const sourceMask6 = siteMask(source.state, 6), targetMask6 = siteMask(target.state, 6);
      for (let c = 0; c < channels; c++) {
        const column = (s: TrialState) => [0, 1, 2].map((k) => coefficients(s, 6)[k * channels + c]);
        if (sourceMask6[c] === 1 && targetMask6[c] === 1) {
          assert.deepEqual(column(target.state), column(source.state));
        }
      }
      const c1 = sites[1].channels, m1 = siteMask(target.state, 1);
      const changed = m1.findIndex((m) => m === 1);
      assert.notEqual(
        coefficients(target.state, 1)[3 * c1 + changed],
        coefficients(source.state, 1)[3 * c1 + changed],
        "site 1 changed degree 2 -> 3: its cubic coefficient is fitted afresh",
      );

      // The same job after the worker ran an unrelated trial gives the very same state.
      await pool.run([job(initial, plan([[1, 0], [1, 3], [0, 2], [1, 2], [0, 2], [0.5, 3], [0, 2]]), 32, 3)]);
      const [again] = await pool.run([job(source.state, targetPlan, 0, 2)]);
      assert.deepEqual(again.state.weights, target.state.weights);
      assert.equal(again.evalCorrect, target.evalCorrect);
    } finally {
      await pool.close();
    }
  },
});
