import assert from "node:assert/strict";
import { cnn7 } from "../nn/architectures.ts";
import { uniformPlan } from "../nn/plan.ts";
import { SearchRng } from "./rng.ts";
import {
  ALPHA_GRID,
  exploreHyperparameter,
  exploreValues,
  groupView,
  type ListHyperparameter,
  optimiserView,
  SEARCH_DEGREES,
  siteView,
  uniformHyperparameter,
} from "./space.ts";

const alphaParam: ListHyperparameter = { kind: "list", name: "alpha", values: ALPHA_GRID };

Deno.test("ALPHA_GRID: 21 exact decimals 0, 0.05, ..., 1; degrees 0, 2, 3", () => {
  assert.equal(ALPHA_GRID.length, 21);
  assert.deepEqual(
    ALPHA_GRID.map(String),
    Array.from({ length: 21 }, (_, i) => String(Number((i * 0.05).toFixed(2)))),
  );
  assert.equal(ALPHA_GRID[3], 0.15);
  assert.equal(ALPHA_GRID[7], 0.35);
  assert.deepEqual(SEARCH_DEGREES, [0, 2, 3]);
});

Deno.test("explore, list: one index up or down (equally often) or, with probability 0.25, any element", () => {
  const rng = new SearchRng(1);
  const n = 40_000;
  const counts = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const v = exploreHyperparameter(alphaParam, ALPHA_GRID[10], rng);
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const share = (v: number) => (counts.get(v) ?? 0) / n;
  // P(neighbour) = 0.75 / 2 + 0.25 / 21; P(any other value) = 0.25 / 21.
  for (const neighbour of [ALPHA_GRID[9], ALPHA_GRID[11]]) {
    assert.ok(Math.abs(share(neighbour) - (0.375 + 0.25 / 21)) < 0.01, `neighbour ${share(neighbour)}`);
  }
  const far = ALPHA_GRID.filter((_, i) => Math.abs(i - 10) > 1).reduce((a, v) => a + share(v), 0);
  const resampleRate = far * 21 / 18; // a resample lands far from index 10 with probability 18/21
  assert.ok(Math.abs(resampleRate - 0.25) < 0.01, `resample rate ${resampleRate}`);
});

Deno.test("explore, list: clamped at the ends; a value not in the list is always resampled", () => {
  const rng = new SearchRng(2);
  const n = 20_000;
  let stayed = 0;
  for (let i = 0; i < n; i++) {
    const v = exploreHyperparameter(alphaParam, 0, rng);
    assert.ok(ALPHA_GRID.includes(v));
    if (v === 0) stayed++;
  }
  // From index 0, "down" clamps to 0: P(0) = 0.75 / 2 + 0.25 / 21.
  assert.ok(Math.abs(stayed / n - (0.375 + 0.25 / 21)) < 0.01, `stayed ${stayed / n}`);
  const top = exploreHyperparameter(alphaParam, 1, new SearchRng(5), 0);
  assert.ok(top === 1 || top === 0.95);
  // 0.33 is off the grid: Ray Tune resamples it whatever the probability.
  for (let i = 0; i < 100; i++) {
    assert.ok(ALPHA_GRID.includes(exploreHyperparameter(alphaParam, 0.33, rng, 0)));
  }
});

Deno.test("explore, continuous: x1.2 or x0.8 equally often, resampled with probability 0.25", () => {
  const lr = uniformHyperparameter("lr", 0.0001, 1);
  const rng = new SearchRng(3);
  const n = 40_000;
  let up = 0, down = 0, resampled = 0;
  for (let i = 0; i < n; i++) {
    const v = exploreHyperparameter(lr, 0.01, rng);
    if (v === 0.01 * 1.2) up++;
    else if (v === 0.01 * 0.8) down++;
    else {
      assert.ok(v >= 0.0001 && v < 1);
      resampled++;
    }
  }
  assert.ok(Math.abs(resampled / n - 0.25) < 0.01, `resampled ${resampled / n}`);
  assert.ok(
    Math.abs(up / n - 0.375) < 0.01 && Math.abs(down / n - 0.375) < 0.01,
    `up ${up / n}, down ${down / n}`,
  );
  assert.throws(() => uniformHyperparameter("m", 1, 1), /low < high/);
});

Deno.test("views: group settings applied to their sites, read back; other settings kept", () => {
  const graph = cnn7();
  const base = { plan: uniformPlan(graph, 0.25, 2), lr: 0.1 };
  const view = groupView([[0, 1, 2, 3], [4, 5, 6]]);
  assert.deepEqual(view.params.map((p) => p.name), ["alpha[0]", "beta[0]", "alpha[1]", "beta[1]"]);
  const config = view.apply([0.5, 3, 0.9, 0], base);
  assert.deepEqual(config.plan.sites.map((s) => [s.alpha, s.beta]), [
    [0.5, 3],
    [0.5, 3],
    [0.5, 3],
    [0.5, 3],
    [0.9, 0],
    [0.9, 0],
    [0.9, 0],
  ]);
  assert.equal(config.lr, 0.1);
  assert.equal(base.plan.sites[0].alpha, 0.25, "base unchanged");
  assert.deepEqual(view.read(config), [0.5, 3, 0.9, 0]);
  assert.deepEqual(siteView(7).read(config), [0.5, 3, 0.5, 3, 0.5, 3, 0.5, 3, 0.9, 0, 0.9, 0, 0.9, 0]);
  assert.throws(() => groupView([[0], []]), /at least one site/);
  assert.throws(() => groupView([[9]]).apply([0, 2], base), /site 9 is not one of the plan's 7 sites/);
  assert.throws(() => view.apply([0.5, 3], base), /expected 4 values/);

  const optimiser = optimiserView(
    uniformHyperparameter("lr", 0.0001, 1),
    uniformHyperparameter("momentum", 0.5, 1),
  );
  const tuned = optimiser.apply([0.02, 0.7], config);
  assert.deepEqual([tuned.lr, tuned.momentum, tuned.plan], [0.02, 0.7, config.plan]);
  assert.deepEqual(optimiser.read(tuned), [0.02, 0.7]);
  assert.throws(() => optimiser.read({ plan: config.plan }), /no lr or momentum/);
  const explored = exploreValues(view.params, [0.5, 3, 0.9, 0], new SearchRng(4));
  assert.equal(explored.length, 4);
});
