/**
 * The five searchers on the SIMULATED runner (testdata/simulated_runner.ts): their budgets and
 * records, determinism and replay, and a comparison on the simulated landscape. The comparison
 * tests this implementation on a made-up landscape; it is not evidence about real networks.
 */
import assert from "node:assert/strict";
import { cnn7 } from "../nn/architectures.ts";
import { searchBtpbt } from "./btpbt.ts";
import { searchDelphi } from "./delphi.ts";
import { searchDrl } from "./drl.ts";
import { searchPbt } from "./pbt.ts";
import { SearchRng } from "./rng.ts";
import { searchProblem } from "./score.ts";
import { ALPHA_GRID } from "./space.ts";
import { ReplayRunner } from "./testdata/replay_runner.ts";
import { SimulatedRunner } from "./testdata/simulated_runner.ts";
import type { SearchOutcome, TrialRunner } from "./types.ts";
import { searchUniform } from "./uniform.ts";

const graph = cnn7();
const problem = searchProblem({ graph, allReluValidationAccuracy: 0.85 });

/** Each searcher at small settings, as (runner, seed) => outcome. */
const searchers: Record<string, (runner: TrialRunner, seed: number) => Promise<SearchOutcome>> = {
  uniform: (runner) => searchUniform(runner, { problem, interval: 500 }),
  delphi: (runner, seed) =>
    searchDelphi(
      runner,
      { problem, population: 6, interval: 500, approximatedLayers: 3 },
      new SearchRng(seed),
    ),
  pbt: (runner, seed) => searchPbt(runner, { problem, population: 6, interval: 500 }, new SearchRng(seed)),
  drl: (runner, seed) =>
    searchDrl(runner, { problem, episodeImages: 2000, warmupEpisodes: 5, hidden: 16 }, new SearchRng(seed)),
  btpbt: (runner, seed) =>
    searchBtpbt(runner, { problem, population: 6, interval: 500 }, new SearchRng(seed)),
};
const BUDGET = 60_000;

Deno.test("searchUniform: one trial per alpha (degree 2 on every site), all trained every cycle, best above the threshold", async () => {
  const runner = new SimulatedRunner({ graph, seed: 1, budget: BUDGET });
  const out = await searchers.uniform(runner, 1);
  assert.equal(out.history.length, Math.floor(BUDGET / (21 * 500)));
  for (const c of out.history) {
    assert.deepEqual(c.results.map((r) => r.config.plan.sites[0].alpha), [...ALPHA_GRID]);
    assert.ok(
      c.results.every((r) =>
        r.config.plan.sites.every((s) => s.beta === 2 && s.alpha === r.config.plan.sites[0].alpha)
      ),
    );
  }
  const last = out.history.at(-1)!.results.filter((r) => r.aboveThreshold);
  assert.equal(out.final, last.reduce((a, r) => r.score > a.score ? r : a));
  await assert.rejects(
    () => searchUniform(runner, { problem, interval: 500, alphas: [0.5, 1.5] }),
    /alphas must be distinct numbers in \[0, 1\]/,
  );
});

Deno.test("searchDelphi: k whole layers per trial, fixed for the trial and inherited on exploit; PBT over lr and momentum", async () => {
  const runner = new SimulatedRunner({ graph, seed: 2, budget: BUDGET });
  const out = await searchers.delphi(runner, 2);
  const planOf = new Map<string, string>();
  for (const c of out.history) {
    for (const r of c.results) {
      assert.ok(r.config.lr !== undefined && r.config.momentum !== undefined);
      const replaced = r.config.plan.sites.flatMap((s, i) => s.alpha === 1 && s.beta === 2 ? [i] : []);
      assert.equal(replaced.length, 3);
      assert.ok(r.config.plan.sites.every((s) => s.alpha === 0 || s.alpha === 1));
      planOf.set(`${c.cycle}:${r.trial}`, JSON.stringify(r.config.plan));
    }
  }
  // An exploited trial trains the next cycle with its source's plan.
  const exploits = out.history.flatMap((c) => c.exploits.map((e) => ({ ...e, cycle: c.cycle })));
  assert.ok(exploits.length > 0);
  for (const e of exploits) {
    assert.equal(planOf.get(`${e.cycle + 1}:${e.target}`), planOf.get(`${e.cycle}:${e.source}`));
  }
  await assert.rejects(
    () =>
      searchDelphi(
        runner,
        { problem, population: 6, interval: 500, approximatedLayers: 8 },
        new SearchRng(2),
      ),
    /approximatedLayers must be a number in \[1, 7\]/,
  );
});

Deno.test("every searcher: same seed, same calls and outcome; a replay of the runner's answers gives the same outcome", async () => {
  for (const [name, search] of Object.entries(searchers)) {
    const first = new SimulatedRunner({ graph, seed: 3, budget: BUDGET });
    const second = new SimulatedRunner({ graph, seed: 3, budget: BUDGET });
    const a = await search(first, 3);
    const b = await search(second, 3);
    assert.deepEqual(b, a, `${name}: outcome`);
    assert.deepEqual(second.calls, first.calls, `${name}: runner calls`);
    assert.ok(a.imagesUsed <= BUDGET && a.history.length > 0, name);

    const replay = new ReplayRunner(first.calls, BUDGET);
    assert.deepEqual(await search(replay, 3), a, `${name}: replayed`);
    assert.ok(replay.done, `${name}: every call replayed`);

    if (name !== "uniform") {
      const other = await search(new SimulatedRunner({ graph, seed: 3, budget: BUDGET }), 4);
      assert.notDeepEqual(other.history, a.history, `${name}: another seed searches differently`);
    }
  }
});

Deno.test("SIMULATION: at equal budget BTPBT's final score beats PBT's and DRL's on the simulated landscape (seeds 1-3)", async () => {
  // A test of the implementation on testdata's made-up landscape, not a result about real training.
  // DRL runs HAQ's settings except a hidden width of 64 (300 takes ~20x longer, same algorithm).
  const budget = 400_000;
  for (const seed of [1, 2, 3]) {
    const run = async (search: (r: TrialRunner) => Promise<SearchOutcome>) => {
      const out = await search(new SimulatedRunner({ graph, seed, budget }));
      assert.ok(out.imagesUsed <= budget);
      return out.final?.score ?? 0;
    };
    const rng = () => new SearchRng(seed);
    const btpbt = await run((r) => searchBtpbt(r, { problem, population: 8, interval: 1000 }, rng()));
    const pbt = await run((r) => searchPbt(r, { problem, population: 8, interval: 1000 }, rng()));
    const drl = await run((r) => searchDrl(r, { problem, episodeImages: 4000, hidden: 64 }, rng()));
    assert.ok(btpbt > pbt && btpbt > drl, `seed ${seed}: btpbt ${btpbt}, pbt ${pbt}, drl ${drl}`);
  }
});
