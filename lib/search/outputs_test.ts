import assert from "node:assert/strict";
import { join } from "node:path";
import { writeSearchOutputs } from "./outputs.ts";
import { SEARCH_PROFILES } from "./runner_profiles.ts";
import type { SearchSessionResult } from "./runner_session.ts";

/** A finished session whose search made no pick (nothing reached the threshold). */
const noPick = {
  outcome: {
    searcher: "delphi",
    threshold: 0.85,
    reduction: "paper unit costs",
    budgetImages: 576,
    imagesUsed: 576,
    final: null,
    history: [],
  },
  allReluValidationAccuracy: 0.856,
  validationImages: 64,
  evaluationImages: 128,
  finalTestAccuracy: null,
  testImages: 100,
  cycleDetails: [],
  distillation: { weight: 0, temperature: 4 },
  replayedCycles: 0,
} as unknown as SearchSessionResult;

Deno.test("a search without a pick writes its result and removes the plan an earlier run of it left; a published plan stays", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const plans = join(dir, "plans");
    await Deno.mkdir(plans);
    const stale = join(plans, "cnn7_delphi_smoke.json"), published = join(plans, "cnn7_safenet.json");
    await Deno.writeTextFile(stale, "{}");
    await Deno.writeTextFile(published, "{}");
    const options = {
      spec: { searcher: "delphi" as const },
      model: "cnn7" as const,
      profile: SEARCH_PROFILES.smoke,
      seed: 0,
      run: "delphi-cnn7-smoke-s0",
      command: "deno task search --searcher delphi --profile smoke",
      resultsDir: join(dir, "results"),
      plansDir: plans,
      publishAs: "safenet",
      wallSeconds: 1,
    };
    const first = await writeSearchOutputs(noPick, options);
    assert.equal(first.plans, undefined);
    assert.equal(first.removedPlan, stale);
    await assert.rejects(Deno.stat(stale), Deno.errors.NotFound);
    assert.equal(await Deno.readTextFile(published), "{}");
    const result = JSON.parse(await Deno.readTextFile(first.result));
    assert.equal(result.data.final, null);
    // Nothing left to remove the second time.
    assert.equal((await writeSearchOutputs(noPick, options)).removedPlan, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
