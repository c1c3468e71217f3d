import assert from "node:assert/strict";
import { cnn7, resnet32 } from "../nn/architectures.ts";
import { uniformPlan } from "../nn/plan.ts";
import { btpbtTree, searchBtpbt, siblingConstraint, siblingPairs } from "./btpbt.ts";
import { SearchRng } from "./rng.ts";
import { approximatedNeurons, searchProblem } from "./score.ts";
import { groupView } from "./space.ts";
import { CNN7_BTPBT_STAGES } from "./testdata/btpbt_stages.ts";
import { SimulatedRunner } from "./testdata/simulated_runner.ts";
import type { TrialConfig } from "./types.ts";

const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

Deno.test("btpbtTree: CNN-7 (T = 7): 3 levels, groups split evenly, one empty leaf, 6 pairs", () => {
  const tree = btpbtTree(7);
  assert.equal(tree.levels, 3);
  assert.deepEqual(tree.nodes, [
    [range(0, 7)],
    [range(0, 4), range(4, 7)],
    [[0, 1], [2, 3], [4, 5], [6]],
    [[0], [1], [2], [3], [4], [5], [6], []],
  ]);
  const pairs = siblingPairs(tree);
  assert.deepEqual(pairs.map((p) => [p.level, p.parent]), [[1, 0], [2, 0], [2, 1], [3, 0], [3, 1], [3, 2]]);
  assert.deepEqual(pairs[2], { level: 2, parent: 1, parentSites: [4, 5, 6], left: [4, 5], right: [6] });
});

Deno.test("btpbtTree: ResNet-32 (T = 31) and powers of two: every level partitions the sites, sizes differ by <= 1", () => {
  for (const [t, levels, pairs] of [[31, 5, 30], [1, 0, 0], [2, 1, 1], [8, 3, 7], [14, 4, 13], [5, 3, 4]]) {
    const tree = btpbtTree(t);
    assert.equal(tree.levels, levels, `levels for T = ${t}`);
    assert.equal(siblingPairs(tree).length, pairs, `pairs for T = ${t}`);
    tree.nodes.forEach((row, level) => {
      assert.equal(row.length, 2 ** level);
      assert.deepEqual(row.flat(), range(0, t), `level ${level} of T = ${t} holds every site once, in order`);
      const sizes = row.map((n) => n.length);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
      if (level < tree.levels) assert.ok(Math.min(...sizes) >= 1, "empty nodes only at the last level");
    });
  }
  assert.equal(btpbtTree(31).nodes[5].filter((n) => n.length === 0).length, 1);
  assert.throws(() => btpbtTree(0), /at least one activation site/);
});

Deno.test("siblingConstraint: children must approximate more of the parent's neurons (equal only when it has them all)", () => {
  const graph = cnn7();
  const problem = searchProblem({ graph, allReluValidationAccuracy: 0.85 });
  const [pair] = siblingPairs(btpbtTree(7)); // sites 0-3 | 4-6
  const view = groupView([pair.left, pair.right]);
  const parent: TrialConfig = { plan: uniformPlan(graph, 0.5, 2) };
  const allowed = siblingConstraint(problem, pair, parent);
  const at = (a: number, b: number) => view.apply([a, 2, b, 3], parent);
  assert.equal(allowed(at(0.5, 0.5)), false, "as many as the parent");
  assert.equal(allowed(at(0.55, 0.5)), true);
  assert.equal(allowed(at(0.5, 0.55)), true);
  // Neurons decide, not alphas: sites 0-3 hold 163,840 of the 173,056 neurons, so 0.55 there and 0.1
  // on sites 4-6 (89,600 + 832) beats the parent's 86,528, and 0.45 and 1 (71,680 + 9,216) does not.
  assert.equal(allowed(at(0.55, 0.1)), true);
  assert.equal(allowed(at(0.45, 1)), false);
  const full = siblingConstraint(problem, pair, { plan: uniformPlan(graph, 1, 2) });
  assert.equal(full(at(1, 1)), true);
  assert.equal(full(at(0.95, 1)), false);
  assert.equal(approximatedNeurons(problem, at(0.55, 0.1).plan, pair.parentSites), 89_600 + 832);
});

Deno.test("searchBtpbt (simulated runner): stages in Algorithm 1's order, constraint held, budget split 20:40, levels filtered", async () => {
  const graph = cnn7();
  const problem = searchProblem({ graph, allReluValidationAccuracy: 0.85 });
  const budget = 400_000;
  const runner = new SimulatedRunner({ graph, seed: 4, budget });
  const out = await searchBtpbt(runner, { problem, population: 8, interval: 1000 }, new SearchRng(4));
  const starts = runner.calls.flatMap((c) => c.kind === "start" ? [c] : []);
  assert.deepEqual(starts.map((s) => s.stage), CNN7_BTPBT_STAGES);
  // 7 tree PBTs x 20 + 40 shares: floor(400,000 x 20 / 180 / 8,000) = 5 cycles each, the rest (15) global.
  const cycles = (stage: string) => out.history.filter((c) => c.stage === stage).length;
  for (const s of starts.slice(0, 7)) assert.equal(cycles(s.stage), 5);
  assert.equal(cycles("btpbt/global"), 15);
  assert.equal(out.imagesUsed, budget);

  // Each pair stage starts from the previous stage's best trial; all its configs beat that parent.
  const pairs = siblingPairs(btpbtTree(7));
  const lastConfig = new Map(out.history.flatMap((c) => c.results.map((r) => [r.trial, r.config] as const)));
  starts.slice(1, 7).forEach((start, i) => {
    const parent = lastConfig.get(start.from!)!;
    const allowed = siblingConstraint(problem, pairs[i], parent);
    const results = out.history.filter((c) => c.stage === start.stage).flatMap((c) => c.results);
    assert.ok(results.every((r) => allowed(r.config)), `${start.stage} keeps the constraint`);
    // Sites outside the pair keep the parent's settings.
    const outside = range(0, 7).filter((s) => !pairs[i].parentSites.includes(s));
    for (const r of results) {
      for (const s of outside) assert.deepEqual(r.config.plan.sites[s], parent.plan.sites[s]);
    }
  });

  const tree = out.tree!;
  assert.equal(tree.levels, 3);
  assert.deepEqual(
    tree.levelResults.map((l) => l.candidate),
    tree.levelResults.map((l) => l.result.aboveThreshold),
  );
  const candidates = tree.levelResults.filter((l) => l.candidate);
  assert.ok(candidates.length > 0);
  assert.equal(tree.startLevel, candidates.reduce((a, l) => l.result.score > a.result.score ? l : a).level);
  assert.equal(starts[7].from, tree.levelResults[tree.startLevel].result.trial);
  assert.deepEqual(starts[7].configs, Array(8).fill(tree.levelResults[tree.startLevel].result.config));
  assert.equal(tree.nodes.length, 1 + 2 + 4 + 8);
  assert.ok(out.final && out.final.aboveThreshold && out.final.stage === "btpbt/global");
});

Deno.test("searchBtpbt on ResNet-32 (simulated runner): 31 tree PBTs and a global one; too small a budget fails first", async () => {
  const graph = resnet32();
  const problem = searchProblem({ graph, allReluValidationAccuracy: 0.68 });
  const runner = new SimulatedRunner({ graph, seed: 5, budget: 40_000, baseAccuracy: 0.68 });
  const out = await searchBtpbt(runner, { problem, population: 4, interval: 100 }, new SearchRng(5));
  const stages = new Set(out.history.map((c) => c.stage));
  assert.equal(stages.size, 32);
  assert.equal(out.tree!.levelResults.length, 6);

  const small = new SimulatedRunner({ graph, seed: 5, budget: 10_000 });
  await assert.rejects(
    () => searchBtpbt(small, { problem, population: 4, interval: 100 }, new SearchRng(5)),
    /btpbt \(each of 31 tree PBTs\): 303 training images do not fit one cycle of 4 trials x 100 images/,
  );
  assert.equal(small.calls.length, 0, "no trial started");
  await assert.rejects(
    () =>
      searchBtpbt(
        small,
        { problem, population: 4, interval: 100, stageWeights: { pbt: 0, global: 1 } },
        new SearchRng(5),
      ),
    /stageWeights must be positive/,
  );
});
