import assert from "node:assert/strict";
import { btpbtTree } from "../search/btpbt.ts";
import {
  chart,
  curve,
  type Fig4Result,
  reading,
  run,
  tableRows,
  treeFigure,
  treeImage,
} from "./fig4_search_curves.ts";

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
    const result = await run({ profile: "smoke", seed: 1, resultsDir: dir, readOnly: true });
    assert.deepEqual(Object.keys(result.searchers), ["btpbt", "pbt"]);
    assert.equal(result.threshold, 0.85);
    assert.equal(result.budget_images, 1000);
    assert.ok(result.tree);
    const rows = tableRows(result);
    assert.equal(rows[0]["ReLUs replaced (%)"], 30);
    assert.match(String(rows[1].note), /no result at or above the threshold/);
    assert.equal(rows[2].note, "not run");
    assert.match(reading(result), /btpbt 30% replaced at 86\.00%; pbt no pick; drl not run yet/);
    assert.equal(chart(result).data.length, 4);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figure 4a: BTPBT's tree as searched, with its levels' results and the start level", () => {
  // CNN-7's 7 sites: levels of 1, 2, 4 and 8 nodes (the last level's eighth node empty).
  const shape = btpbtTree(7);
  const nodes = shape.nodes.flatMap((row, level) =>
    row.map((sites, position) => ({
      level,
      position,
      sites,
      ...(sites.length ? { alpha: level === 0 ? 0.5 : 0.75, beta: level === 3 ? 3 : 2 } : {}),
    }))
  );
  const levelResult = (level: number, candidate: boolean) => ({
    level,
    candidate,
    result: { replacedShare: 0.1 * (level + 1), validationAccuracy: 0.85 },
  });
  const result = {
    config: { profile: "smoke", seed: 1 },
    threshold: 0.85,
    budget_images: 1000,
    searchers: {},
    tree: {
      levels: 3,
      nodes,
      levelResults: [levelResult(0, true), levelResult(1, true), levelResult(2, false), levelResult(3, true)],
      startLevel: 3,
    },
  } as unknown as Fig4Result;
  const { root, captions } = treeFigure(result)!;
  assert.deepEqual(root.lines, ["layers 1-7", "α 0.50 β 2"]);
  assert.deepEqual(root.children!.map((c) => c.lines[0]), ["layers 1-4", "layers 5-7"]);
  // Layers 5-7 split into 5-6 and 7; layer 7's pair has an empty sibling, so it is a leaf.
  const right = root.children![1];
  assert.deepEqual(right.children!.map((c) => c.lines[0]), ["layers 5-6", "layer 7"]);
  assert.equal(right.children![1].children, undefined);
  assert.equal(right.children![0].children![0].lines[1], "α 0.75 β 3");
  assert.equal(right.children![0].faded, true);
  assert.equal(right.children![0].children![0].emphasis, true);
  assert.equal(captions.length, 4);
  assert.match(captions[2], /level 2: 30\.0% at 85\.00% \(below\)/);
  assert.match(captions[3], /start$/);
  assert.match(treeImage(result)!, /<svg/);
  assert.equal(treeImage({ ...result, tree: null }), null);
});
