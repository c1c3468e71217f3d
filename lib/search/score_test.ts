import assert from "node:assert/strict";
import { cnn7, resnet32 } from "../nn/architectures.ts";
import { countPlan, type Plan, uniformPlan } from "../nn/plan.ts";
import { LINKS } from "../cost/model.ts";
import { toyCalibration, unit } from "../cost/testdata/toy.ts";
import { SearchRng } from "./rng.ts";
import {
  approximatedNeurons,
  bestAboveThreshold,
  paperPricing,
  paperReduction,
  perNeuronPricing,
  planCost,
  protocolPricing,
  rank,
  score,
  scoreTrial,
  searchProblem,
} from "./score.ts";
import { ALPHA_GRID, SEARCH_DEGREES } from "./space.ts";
import type { TrialConfig } from "./types.ts";

const close = (a: number, b: number, what: string) =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

Deno.test("paperReduction: R(3) = 1 - 0.2/20.1, R(2) = 1 - 1/192, R(0) = 1, labelled as the paper's", () => {
  close(paperReduction.reduction(3), 1 - 0.2 / 20.1, "R(3)");
  close(paperReduction.reduction(2), 1 - 1 / 192, "R(2)");
  assert.equal(paperReduction.reduction(0), 1);
  assert.throws(() => paperReduction.reduction(1), /no cost for degree 1/);
  assert.match(paperReduction.label, /paper/);
});

Deno.test("protocolPricing: a plan priced whole by lib/cost; a site's batch costs count, so removed may be negative", () => {
  const graph = cnn7();
  const calibration = toyCalibration({
    "gc.relu.offline": unit(16e-6, 0, 8000),
    "gc.relu.online": unit(4e-6),
    "poly2.offline": unit(5e-6),
    "poly2.offline.chunk": unit(0),
    "poly2.online": unit(0),
    // Linear layers are priced too, but do not enter the activation cost.
    ...Object.fromEntries(
      ["share.element", "plain.mac", "lab.query", "lab.kernel", "lab.product", "lab.answer"].map((op) => [op, unit(1)]),
    ),
  });
  const loop = protocolPricing({ variant: "lab", calibration });
  assert.equal(loop.removedCost(graph, uniformPlan(graph, 0, 2)), 0);
  assert.equal(loop.removedCost(graph, uniformPlan(graph, 1, 0)), 1, "pruning everything removes all");
  // Without per-batch costs the whole price is eq. 4's sum with R(2) = 1 - 5/20.
  const half = uniformPlan(graph, 0.5, 2);
  close(
    loop.removedCost(graph, half),
    perNeuronPricing({ label: "", reduction: (b) => b === 2 ? 0.75 : NaN }).removedCost(graph, half),
    "no batch costs: per-neuron",
  );
  assert.match(loop.label, /^lab protocol priced whole by lib\/cost, calibration 'toy', link loopback/);
  // A whole HE chunk per site and degree: a few degree-2 neurons cost more than their ReLUs.
  const chunked = protocolPricing({
    variant: "lab",
    calibration: toyCalibration({ ...calibration.units, "poly2.offline.chunk": unit(1) }),
  });
  const few = { ...half, sites: half.sites.map((_, i) => ({ alpha: i === 0 ? 0.1 : 0, beta: 2 as const })) };
  assert.ok(chunked.removedCost(graph, few) < 0, String(chunked.removedCost(graph, few)));
  // Over a link the ReLU's bytes count: removing them saves more.
  const lan = protocolPricing({ variant: "lab", calibration, link: { ...LINKS.lan, rtt: 0 } });
  assert.ok(lan.removedCost(graph, half) > loop.removedCost(graph, half));
});

Deno.test("score (eq. 4) of hand-computed CNN-7 plans (173,056 neurons)", () => {
  const graph = cnn7();
  // alpha 0.5, degree 2 everywhere: half of every site's channels, exactly half of the neurons.
  const half = planCost(graph, uniformPlan(graph, 0.5, 2), paperPricing);
  assert.equal(half.replacedShare, 0.5);
  close(half.removedCost, 0.5 * (1 - 1 / 192), "removed, uniform 0.5");
  close(score(0.845, half.removedCost), 0.845 * (1 + 0.5 * (1 - 1 / 192)), "score, uniform 0.5");

  // Site 0 (32x32x64): alpha 0.29 -> floor(18.56) = 18 channels, degree 3; site 6 (8x8x16): alpha
  // 0.3 -> floor(4.8) = 4 channels, pruned; the rest ReLU.
  const sites = Array.from({ length: 7 }, () => ({ alpha: 0, beta: 2 as const }));
  const mixed: Plan = {
    model: "cnn7",
    sites: [{ alpha: 0.29, beta: 3 }, ...sites.slice(1, 6), { alpha: 0.3, beta: 0 }],
  };
  const cost = planCost(graph, mixed, paperPricing);
  close(cost.replacedShare, (18 * 1024 + 4 * 64) / 173_056, "replaced");
  close(cost.removedCost, (18 * 1024 * (1 - 0.2 / 20.1) + 4 * 64) / 173_056, "removed, mixed");
});

Deno.test("threshold: all-ReLU validation accuracy - 0.006; below it a result is marked and never picked", () => {
  const graph = cnn7();
  const problem = searchProblem({ graph, allReluValidationAccuracy: 0.8487 });
  close(problem.threshold, 0.8427, "threshold");
  const fields = (trial: string, alpha: number) => ({
    trial,
    stage: "s",
    cycle: 0,
    config: { plan: uniformPlan(graph, alpha, 2) },
    imagesUsed: 0,
  });
  const at = scoreTrial(problem, fields("a", 0.3), 4213.5 / 5000);
  const below = scoreTrial(problem, fields("b", 0.9), 0.8426);
  const above = scoreTrial(problem, fields("c", 0.2), 0.85);
  assert.equal(at.aboveThreshold, true, "exactly at the threshold passes");
  assert.equal(below.aboveThreshold, false);
  assert.ok(below.score > at.score, "the result below scores higher...");
  assert.equal(bestAboveThreshold([below, at, above]), at, "...and is still not picked");
  assert.equal(bestAboveThreshold([below]), null);
  // Rank: the score, minus 100 x the shortfall below the threshold.
  assert.equal(rank(problem, at), at.score);
  close(rank(problem, below), below.score - 100 * (0.8427 - 0.8426), "rank below");
  assert.equal(
    rank(searchProblem({ graph, allReluValidationAccuracy: 0.8487, thresholdPenalty: 0 }), below),
    below.score,
  );
  assert.throws(() => scoreTrial(problem, fields("d", 0), 1.5), /validation accuracy 1.5/);
  assert.throws(() => searchProblem({ graph, allReluValidationAccuracy: 85 }), /fraction in \[0, 1\]/);
  assert.throws(
    () => searchProblem({ graph, allReluValidationAccuracy: 0.85, thresholdPenalty: -1 }),
    /thresholdPenalty must be/,
  );
});

Deno.test("approximatedNeurons agrees with countPlan on random plans (ResNet-32, floored channels)", () => {
  const graph = resnet32();
  const problem = searchProblem({ graph, allReluValidationAccuracy: 0.7 });
  const rng = new SearchRng(9);
  const all = problem.sites.map((s) => s.index);
  for (let i = 0; i < 20; i++) {
    const config: TrialConfig = {
      plan: {
        model: "resnet32",
        sites: all.map(() => ({ alpha: rng.choice(ALPHA_GRID), beta: rng.choice(SEARCH_DEGREES) })),
      },
    };
    const count = countPlan(graph, config.plan);
    assert.equal(approximatedNeurons(problem, config.plan, all), count.approximatedNeurons);
    assert.equal(
      approximatedNeurons(problem, config.plan, [3, 30]),
      count.sites[3].approximatedNeurons + count.sites[30].approximatedNeurons,
    );
  }
});
