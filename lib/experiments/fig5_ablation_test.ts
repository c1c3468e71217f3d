import assert from "node:assert/strict";
import { chart, reading, run, siteRows, tableRows } from "./fig5_ablation.ts";

/** A search result file whose final pick uses `sites` (or none) on `model`. */
function searchFile(sites: { alpha: number; beta: number }[] | null, model = "cnn7") {
  const final = sites && {
    trial: "t0",
    stage: "s",
    cycle: 3,
    config: { plan: { model, sites } },
    imagesUsed: 1000,
    validationAccuracy: 0.851,
    replacedShare: 0.5,
    removedCost: 0.5,
    score: 1.2,
    aboveThreshold: true,
  };
  return { threshold: 0.85, budgetImages: 1000, final, finalTestAccuracy: final ? 0.845 : null, history: [] };
}

Deno.test("figure 5: per-layer shares from each variant's pick; missing and failed searches are named", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = (variant: string, data: unknown) =>
      Deno.writeTextFile(`${dir}/search_${variant}_cnn7_smoke.json`, JSON.stringify({ meta: {}, data }));
    // Delphi: the last two layers whole; CW-MP-MD: layer 1 pruned at 0.5, layer 7 degree 3.
    const relu = { alpha: 0, beta: 2 };
    await write(
      "delphi",
      searchFile([relu, relu, relu, relu, relu, { alpha: 1, beta: 2 }, { alpha: 1, beta: 2 }]),
    );
    await write("uniform", searchFile(null));
    await write(
      "btpbt",
      searchFile([{ alpha: 0.5, beta: 0 }, relu, relu, relu, relu, relu, { alpha: 1, beta: 3 }]),
    );
    const result = await run({ profile: "smoke", seed: 1, resultsDir: dir, readOnly: true });
    const { cnn7, vgg16 } = result.networks;
    assert.equal(cnn7.threshold, 0.85);
    // VGG-16's searches run at the long profile only; at smoke none exists, and the result says how to make them.
    assert.equal(vgg16.variants, null);
    assert.match(
      vgg16.missing!,
      /its four searches run at the long profile only .*--profile long --only fig5_ablation/,
    );
    assert.match(reading(result), /VGG-16: its four searches run at the long profile only/);
    const v = cnn7.variants!;
    assert.deepEqual(v.delphi.sites!.map((s) => s.replaced_share), [0, 0, 0, 0, 0, 1, 1]);
    // CNN-7's first layer has 64 channels: alpha 0.5 replaces 32 of them, half its neurons.
    assert.equal(v.cw_mp_md.sites![0].replaced_share, 0.5);
    assert.equal(v.cw_mp_md.sites![6].beta, 3);
    assert.equal(v.cw.ran, true);
    assert.equal(v.cw.sites, null);
    assert.equal(v.cw_mp.ran, false);
    assert.match(v.cw_mp.command, /--searcher btpbt --degrees 2 --model cnn7 --profile smoke/);
    const rows = tableRows(result);
    assert.deepEqual(rows.map((r) => r.variant), ["Delphi", "CW", "CW-MP", "CW-MP-MD"]);
    assert.deepEqual(new Set(rows.map((r) => r.network)), new Set(["CNN-7"]));
    assert.equal(rows[0]["ReLUs replaced (%)"], 50);
    assert.match(String(rows[1].note), /no pick/);
    assert.match(String(rows[2].note), /not run: deno task search/);
    assert.equal(siteRows(result).length, 14);
    assert.match(reading(result), /Delphi 50%, CW no pick, CW-MP not run, CW-MP-MD 50% of ReLUs replaced/);
    // Two traces (bars and degree marks) per variant with a pick.
    const fig = chart(result);
    assert.equal(fig.data.length, 4);
    assert.deepEqual((fig.data[3] as { marker: { symbol: string[] } }).marker.symbol, [
      "x",
      "circle-open",
      "circle-open",
      "circle-open",
      "circle-open",
      "circle-open",
      "square",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figure 5b: VGG-16's result files, where they exist, are read at any profile and drawn as a second panel", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const write = (variant: string, model: string, data: unknown) =>
      Deno.writeTextFile(`${dir}/search_${variant}_${model}_smoke.json`, JSON.stringify({ meta: {}, data }));
    const relu = { alpha: 0, beta: 2 };
    await write("delphi", "cnn7", searchFile([relu, relu, relu, relu, relu, relu, { alpha: 1, beta: 2 }]));
    // VGG-16 has 14 activation sites: Delphi the last (a dense layer of 512), BTPBT the first half pruned.
    const vggDelphi = Array.from({ length: 14 }, (_, i) => i === 13 ? { alpha: 1, beta: 2 } : relu);
    const vggBtpbt = Array.from({ length: 14 }, (_, i) => i === 0 ? { alpha: 0.5, beta: 0 } : relu);
    await write("delphi", "vgg16", searchFile(vggDelphi, "vgg16"));
    await write("btpbt", "vgg16", searchFile(vggBtpbt, "vgg16"));
    const result = await run({ profile: "smoke", seed: 1, resultsDir: dir, readOnly: true });
    const { vgg16 } = result.networks;
    assert.equal(vgg16.missing, undefined);
    assert.equal(vgg16.variants!.cw.ran, false);
    assert.match(vgg16.variants!.cw.command, /--searcher uniform --model vgg16 --profile smoke/);
    assert.equal(vgg16.variants!.cw_mp_md.sites!.length, 14);
    assert.equal(vgg16.variants!.cw_mp_md.sites![0].replaced_share, 0.5);
    assert.equal(vgg16.variants!.delphi.sites![13].replaced_share, 1);
    const rows = tableRows(result);
    assert.deepEqual(rows.map((r) => r.network), [...Array(4).fill("CNN-7"), ...Array(4).fill("VGG-16")]);
    assert.equal(siteRows(result).filter((r) => r.network === "VGG-16").length, 28);
    assert.match(reading(result), /on VGG-16 SAFENet replaces 28% more than Delphi/);
    assert.match(
      reading(result),
      /VGG-16 at the threshold 85.00% \(smoke profile, 1,000 training images per search\): Delphi/,
    );
    // Two panels: CNN-7's Delphi on the first axes, VGG-16's two picks on the second; one legend entry per variant.
    const fig = chart(result);
    const traces = fig.data as { xaxis: string; type: string; showlegend: boolean; legendgroup: string }[];
    assert.deepEqual(traces.map((t) => t.xaxis), ["x", "x", "x2", "x2", "x2", "x2"]);
    assert.deepEqual(traces.filter((t) => t.type === "bar" && t.showlegend).map((t) => t.legendgroup), [
      "delphi",
      "cw_mp_md",
    ]);
    assert.deepEqual((fig.layout as { grid: unknown }).grid, { rows: 2, columns: 1, pattern: "independent" });
    // Without any CNN-7 pick, VGG-16 alone is drawn, on the first axes.
    await Deno.remove(`${dir}/search_delphi_cnn7_smoke.json`);
    const alone = chart(await run({ profile: "smoke", seed: 1, resultsDir: dir, readOnly: true }));
    assert.deepEqual((alone.data as { xaxis: string }[]).map((t) => t.xaxis), ["x", "x", "x", "x"]);
    assert.equal((alone.layout as { grid?: unknown }).grid, undefined);
    assert.match(JSON.stringify(alone.layout), /Figure 5b \(VGG-16\)/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
