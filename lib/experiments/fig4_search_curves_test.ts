import assert from "node:assert/strict";
import { chart, curve, reading, run, tableRows } from "./fig4_search_curves.ts";

/** A search result file's data with two cycles: one result above the threshold in the second. */
function searchFile(final: boolean) {
  const result = (replacedShare: number, score: number, aboveThreshold: boolean) => ({
    trial: "t0",
    stage: "s",
    cycle: 0,
    config: { plan: { model: "cnn7", sites: [] } },
    imagesUsed: 0,
    validationAccuracy: 0.86,
    replacedShare,
    removedCost: replacedShare,
    score,
    aboveThreshold,
  });
  const above = result(0.3, 1.1, true);
  return {
    threshold: 0.85,
    budgetImages: 1000,
    finalTestAccuracy: final ? 0.84 : null,
    final: final ? above : null,
    history: [
      { cycle: 0, stage: "root", imagesUsed: 500, results: [result(0.5, 1.3, false)], exploits: [] },
      { cycle: 1, stage: "root", imagesUsed: 1000, results: [above], exploits: [] },
    ],
    tree: { levels: 3, nodes: [], levelResults: [], startLevel: 1 },
  };
}

Deno.test("figure 4: curves count only results at the threshold; searches not run are named", async () => {
  const c = curve(searchFile(true));
  assert.deepEqual(c.history.map((h) => [h.images, h.best_score, h.best_replaced_share]), [[500, 0, 0], [
    1000,
    1.1,
    0.3,
  ]]);
  assert.equal(c.final?.test_accuracy, 0.84);
  const dir = await Deno.makeTempDir();
  try {
    const write = (s: string, final: boolean) =>
      Deno.writeTextFile(
        `${dir}/search_${s}_cnn7_smoke.json`,
        JSON.stringify({ meta: {}, data: searchFile(final) }),
      );
    await write("btpbt", true);
    await write("pbt", false);
    const result = await run({ profile: "smoke", seed: 1, resultsDir: dir, runMissing: false });
    assert.deepEqual(Object.keys(result.searchers), ["btpbt", "pbt"]);
    assert.equal(result.threshold, 0.85);
    assert.equal(result.budget_images, 1000);
    assert.ok(result.tree);
    const rows = tableRows(result);
    assert.equal(rows[0]["ReLUs replaced (%)"], 30);
    assert.match(String(rows[1].note), /no result at or above the threshold/);
    assert.equal(rows[2].note, "not run");
    assert.match(reading(result), /btpbt 30% replaced at 86\.00%; pbt no pick; drl no pick/);
    assert.equal(chart(result).data.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
