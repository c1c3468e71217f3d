import assert from "node:assert/strict";
import { cnn7 } from "../nn/architectures.ts";
import { layerFeatures, searchDrl } from "./drl.ts";
import { SearchRng } from "./rng.ts";
import { searchProblem } from "./score.ts";
import { ALPHA_GRID } from "./space.ts";
import { SimulatedRunner } from "./testdata/simulated_runner.ts";

const graph = cnn7();
const problem = searchProblem({ graph, allReluValidationAccuracy: 0.85 });

Deno.test("layerFeatures (CNN-7): HAQ's per-layer state, min-max normalised per column, constant columns kept", () => {
  const f = layerFeatures(problem);
  const column = (j: number) => f.map((row) => row[j]);
  const near = (a: number[], b: number[]) =>
    a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) < 1e-12, `${a} vs ${b}`));
  near(column(0), [0, 1, 2, 3, 4, 5, 6].map((i) => i / 6)); // index
  assert.deepEqual(column(1), [0, 1, 1, 1, 1, 1, 1]); // c_in: 3, then 64
  assert.deepEqual(column(2), [1, 1, 1, 1, 1, 1, 0]); // c_out: 64, ..., 16
  assert.deepEqual(column(3), [1, 1, 1, 1, 1, 1, 1]); // stride: all 1, left unnormalised
  assert.deepEqual(column(4), [1, 1, 1, 1, 1, 0, 0]); // kernel: 3 x5, then 1x1 convs
  const weights = [1728, 36864, 36864, 36864, 36864, 4096, 1024];
  near(column(5), weights.map((w) => (w - 1024) / (36864 - 1024)));
  near(column(6), [1024, 1024, 256, 256, 64, 64, 64].map((hw) => (hw - 64) / 960)); // input h x w
});

Deno.test("searchDrl: one fine-tuned plan per episode from the pretrained network, episodes = budget / episodeImages", async () => {
  const runner = new SimulatedRunner({ graph, seed: 1, budget: 10 * 3000 + 2999 });
  const out = await searchDrl(
    runner,
    { problem, episodeImages: 3000, warmupEpisodes: 4, hidden: 16 },
    new SearchRng(1),
  );
  assert.equal(out.history.length, 10);
  assert.equal(out.imagesUsed, 30_000);
  const starts = runner.calls.flatMap((c) => c.kind === "start" ? [c] : []);
  assert.ok(starts.every((s) => s.from === undefined && s.configs.length === 1 && s.stage === "drl"));
  assert.equal(runner.calls.filter((c) => c.kind === "stop").length, 10);
  for (const c of out.history) {
    assert.equal(c.results.length, 1);
    assert.ok(
      c.results[0].config.plan.sites.every((s) => ALPHA_GRID.includes(s.alpha) && [0, 2, 3].includes(s.beta)),
    );
  }
  const best =
    out.history.map((c) => c.results[0]).filter((r) => r.aboveThreshold).sort((a, b) => b.score - a.score)[0];
  assert.equal(out.final, best ?? null);

  // One degree: the agent picks alpha only.
  const alphaOnly = await searchDrl(new SimulatedRunner({ graph, seed: 1, budget: 9000 }), {
    problem,
    episodeImages: 3000,
    degrees: [2],
    warmupEpisodes: 1,
    hidden: 16,
  }, new SearchRng(1));
  assert.ok(alphaOnly.history.every((c) => c.results[0].config.plan.sites.every((s) => s.beta === 2)));
  await assert.rejects(
    () =>
      searchDrl(
        new SimulatedRunner({ graph, seed: 1, budget: 100 }),
        { problem, episodeImages: 3000 },
        new SearchRng(1),
      ),
    /drl: 100 training images do not fit one episode of 3000/,
  );
  await assert.rejects(
    () => searchDrl(runner, { problem, episodeImages: 3000, sigma: 2 }, new SearchRng(1)),
    /sigma must be a number in/,
  );
});

Deno.test("searchDrl with HAQ's settings (actor and critic 300-300): warm-up, then policy episodes with updates", async () => {
  const runner = new SimulatedRunner({ graph, seed: 2, budget: 5 * 2000 });
  const out = await searchDrl(runner, { problem, episodeImages: 2000, warmupEpisodes: 3 }, new SearchRng(2));
  assert.equal(out.history.length, 5);
});
