import assert from "node:assert/strict";
import { REPO_ROOT } from "../data/locate.ts";
import { delphiPlanFile, lastLayersPlan, reading, run, tableRows } from "./fig1_delphi_layers.ts";

Deno.test("figure 1: eight points of Delphi's layer-wise plans, the committed plan files match them", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const result = await run({ profile: "smoke", seed: 0, resultsDir: dir });
    assert.deepEqual(result.points.map((p) => p.k), [0, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(result.points[0].replacedShare, 0);
    assert.equal(result.points[7].replacedShare, 1);
    // More layers replaced: less activation latency in the model.
    const act = result.points.map((p) => p.paperModel.offlineActivation + p.paperModel.onlineActivation);
    act.slice(1).forEach((a, i) => assert.ok(a <= act[i], `k=${i + 1}`));
    assert.equal(result.points[0].measuredModel, null, "no benchmark files in the results dir");
    assert.equal(tableRows(result).length, 8);
    assert.match(reading(result), /activations are \d+\.\d% of the paper-calibrated latency/);
    for (let k = 1; k <= 7; k++) {
      const stored = JSON.parse(await Deno.readTextFile(`${REPO_ROOT}/${delphiPlanFile(k)}`));
      assert.deepEqual(stored, lastLayersPlan(k));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
