import assert from "node:assert/strict";
import { cnn7 } from "../nn/architectures.ts";
import { layerwisePlan, uniformPlan } from "../nn/plan.ts";
import {
  exploreMember,
  pbtDecisions,
  type PbtTrial,
  quantiles,
  randomMembers,
  resolvePbtSettings,
  runPbtStage,
  searchPbt,
} from "./pbt.ts";
import { SearchRecorder } from "./record.ts";
import { SearchRng } from "./rng.ts";
import { rank, searchProblem } from "./score.ts";
import { ALPHA_GRID, groupView, optimiserView, uniformHyperparameter } from "./space.ts";
import { SimulatedRunner } from "./testdata/simulated_runner.ts";

const graph = cnn7();
const problem = searchProblem({ graph, allReluValidationAccuracy: 0.85 });
const settings = resolvePbtSettings("test", { population: 8, interval: 500 });

Deno.test("quantiles: ceil(n x 0.25) at each end, at most n / 2, sorted by objective (ties by index)", () => {
  const sizes = (n: number, q = 0.25) => quantiles(Array.from({ length: n }, (_, i) => i), q).bottom.length;
  assert.deepEqual([1, 2, 3, 4, 5, 8, 9, 50].map((n) => sizes(n)), [0, 1, 1, 1, 2, 2, 3, 13]);
  assert.equal(sizes(3, 0.5), 1, "ceil(1.5) = 2 > 3 / 2, so floor(1.5)");
  assert.equal(sizes(4, 0.5), 2);
  assert.deepEqual(quantiles([5, 1, 3, 1, 9, 7, 2, 8], 0.25), { bottom: [1, 3], top: [7, 4] });
  assert.throws(() => quantiles([1, NaN], 0.25), /not a finite number/);
});

Deno.test("pbtDecisions: the bottom quantile clones a random top trial's config, then explores it; the rest continue", () => {
  const view = groupView([[0, 1, 2, 3], [4, 5, 6]]);
  const rng = new SearchRng(5);
  const members: PbtTrial[] = randomMembers(view, { plan: uniformPlan(graph, 0, 2) }, 8, rng, settings)
    .map((m, i) => ({ ...m, trial: `t${i}` }));
  const objectives = [0.5, 0.9, 0.1, 0.7, 0.2, 0.95, 0.6, 0.8];
  for (let round = 0; round < 50; round++) {
    const decisions = pbtDecisions(view, members, objectives, rng, settings);
    decisions.forEach((d, i) => {
      if (![2, 4].includes(i)) return assert.equal(d.kind, "continue");
      assert.equal(d.kind, "exploit");
      if (d.kind !== "exploit") return;
      assert.ok(["t5", "t1"].includes(d.source), `source ${d.source} is in the top quantile`);
      const source = members.find((m) => m.trial === d.source)!;
      assert.deepEqual(d.config, view.apply(d.values, source.config), "config is the source's, explored");
      assert.equal(d.explored, true);
      d.values.forEach((v, k) =>
        assert.ok(view.params[k].kind === "list" && view.params[k].values.includes(v))
      );
    });
  }
});

Deno.test("exploit inherits what the view does not search (Delphi: the plan), and a constraint bounds explore", () => {
  const view = optimiserView(
    uniformHyperparameter("lr", 0.0001, 1),
    uniformHyperparameter("momentum", 0.5, 1),
  );
  const rng = new SearchRng(6);
  const source = {
    values: [0.01, 0.9],
    config: { plan: layerwisePlan(graph, [2, 5]), lr: 0.01, momentum: 0.9 },
  };
  const explored = exploreMember(view, source, rng, settings);
  assert.deepEqual(explored.config.plan, source.config.plan);
  assert.notDeepEqual(explored.values, source.values);

  // Under a constraint only explored configs meeting it come back; if none can, the clone is unexplored.
  const sites = groupView([[0]]);
  const start = { values: [0.5, 2], config: sites.apply([0.5, 2], { plan: uniformPlan(graph, 0, 2) }) };
  for (let i = 0; i < 200; i++) {
    const m = exploreMember(sites, start, rng, settings, (c) => c.plan.sites[0].alpha > 0.5);
    assert.ok(m.explored && m.values[0] > 0.5);
  }
  const stuck = exploreMember(sites, start, rng, { ...settings, maxConstraintTries: 5 }, () => false);
  assert.deepEqual([stuck.explored, stuck.values, stuck.config], [false, start.values, start.config]);
  assert.throws(
    () => randomMembers(sites, start.config, 1, rng, { maxConstraintTries: 5 }, () => false),
    /no random config met the stage's constraint in 5 draws/,
  );
});

Deno.test("runPbtStage: train, decide, exploit through the runner, cycle after cycle; budget in whole cycles", async () => {
  const runner = new SimulatedRunner({ graph, seed: 1, budget: 3 * 8 * 500 });
  const recorder = new SearchRecorder(runner, problem);
  const view = groupView([[0, 1, 2, 3, 4, 5, 6]]);
  const rng = new SearchRng(2);
  const out = await runPbtStage(recorder, {
    stage: "s",
    view,
    initial: randomMembers(view, { plan: uniformPlan(graph, 0, 2) }, 8, rng, settings),
    cycles: 3,
    objective: (r) => rank(problem, r),
    settings,
  }, rng);
  assert.deepEqual(runner.calls.map((c) => c.kind), [
    "start",
    "train",
    "exploit",
    "exploit",
    "train",
    "exploit",
    "exploit",
    "train",
    "stop",
  ]);
  assert.equal(runner.budgetLeft(), 0);
  const { history } = recorder.outcome("pbt", null);
  assert.equal(history.length, 3);
  // The recorded exploits are the runner's, and an exploited trial trains next with the exploit's config.
  const calls = runner.calls.flatMap((c) => c.kind === "exploit" ? [c] : []);
  const recorded = history.flatMap((c, k) => c.exploits.map((e) => ({ ...e, cycle: k })));
  assert.deepEqual(recorded.map((e) => [e.target, e.source]), calls.map((c) => [c.target, c.source]));
  recorded.forEach((e, i) => {
    const next = history[e.cycle + 1].results.find((r) => r.trial === e.target)!;
    assert.deepEqual(next.config, calls[i].config);
  });
  assert.equal(out.results.length, 8);
  assert.equal(out.best, out.results.reduce((a, r) => rank(problem, r) > rank(problem, a) ? r : a));
});

Deno.test("searchPbt: whole cycles within the budget, every config per-site on the grid, final above the threshold", async () => {
  const runner = new SimulatedRunner({ graph, seed: 3, budget: 100_000 });
  const out = await searchPbt(runner, { problem, population: 8, interval: 1000 }, new SearchRng(3));
  assert.equal(out.history.length, 12);
  assert.equal(out.imagesUsed, 96_000);
  for (const c of out.history) {
    for (const r of c.results) assert.ok(r.config.plan.sites.every((s) => ALPHA_GRID.includes(s.alpha)));
  }
  assert.ok(out.final === null || out.final.aboveThreshold);
  await assert.rejects(
    () =>
      searchPbt(new SimulatedRunner({ graph, seed: 3, budget: 7999 }), {
        problem,
        population: 8,
        interval: 1000,
      }, new SearchRng(3)),
    /pbt: 7999 training images do not fit one cycle of 8 trials x 1000 images/,
  );
  await assert.rejects(
    () => searchPbt(runner, { problem, population: 1, interval: 1000 }, new SearchRng(3)),
    /pbt: population must be an integer >= 2/,
  );
  await assert.rejects(
    () =>
      searchPbt(runner, { problem, population: 4, interval: 10, quantileFraction: 0.75 }, new SearchRng(3)),
    /quantileFraction must be a number in \[0, 0.5\]/,
  );
});
