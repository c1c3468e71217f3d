import assert from "node:assert/strict";
import {
  chart,
  fig2ReluDistribution,
  NAME,
  paperComparison,
  run,
  summaryRows,
  tableRows,
  write,
} from "./fig2_relu_distribution.ts";

const result = run({ profile: "smoke", seed: 0 });
const byModel = (model: string) => result.networks.find((n) => n.model === model)!;

Deno.test("fig2 counts CNN-7's 7 layers: 2x 32x32x64, 2x 16x16x64, 2x 8x8x64, 8x8x16", () => {
  const cnn7 = byModel("cnn7");
  assert.deepEqual(cnn7.layers.map((l) => l.relus), [65536, 65536, 16384, 16384, 4096, 4096, 1024]);
  assert.equal(cnn7.totalRelus, 173_056);
  assert.equal(cnn7.layers[0].share, 65536 / 173056);
});

Deno.test("fig2 totals: VGG-16 14 layers, ResNet-32 31 layers and Delphi's 303,104 ReLUs", () => {
  // VGG-16 by hand: 5 blocks at 32, 16, 8, 4, 2 pixels wide, then the 512-unit dense layer.
  const vgg = 2 * 32 * 32 * 64 + 2 * 16 * 16 * 128 + 3 * 8 * 8 * 256 + 3 * 4 * 4 * 512 + 3 * 2 * 2 * 512 +
    512;
  assert.equal(byModel("vgg16").totalRelus, vgg);
  assert.equal(byModel("vgg16").layers.length, 14);
  assert.equal(byModel("resnet32").totalRelus, 303_104);
  assert.equal(byModel("resnet32").layers.length, 31);
});

Deno.test("fig2 shares sum to one and layers are numbered from 1", () => {
  for (const net of result.networks) {
    const total = net.layers.reduce((s, l) => s + l.share, 0);
    assert.ok(Math.abs(total - 1) < 1e-12, `${net.model}: shares sum to ${total}`);
    assert.equal(net.layers.reduce((s, l) => s + l.relus, 0), net.totalRelus);
    assert.deepEqual(net.layers.map((l) => l.layer), net.layers.map((_, i) => i + 1));
    for (const l of net.layers) assert.equal(l.relus, l.height * l.width * l.channels);
  }
});

Deno.test("fig2 run honours the model list", () => {
  const only = run({ profile: "smoke", seed: 0, models: ["resnet32"] });
  assert.deepEqual(only.networks.map((n) => n.model), ["resnet32"]);
  assert.throws(() => paperComparison(only), /has no CNN-7/);
});

Deno.test("fig2 tables: one row per layer, summary and comparison with the paper", () => {
  assert.equal(tableRows(result).length, 7 + 14 + 31);
  const summary = summaryRows(result);
  assert.deepEqual(summary[0], {
    network: "CNN-7",
    "activation layers": 7,
    "total ReLUs": 173056,
    "first layer (%)": 37.9,
    "first two layers (%)": 75.7,
  });
  const comparison = paperComparison(result);
  assert.equal(comparison[0]["share (%)"], "> 58");
  assert.equal(comparison[1].relus, 65536);
  assert.equal(comparison[2]["share (%)"], "75.7");
});

Deno.test("fig2 chart: one bar trace per network on its own axes", () => {
  const fig = chart(result);
  assert.deepEqual(fig.data.map((t) => [t.type, t.xaxis, t.yaxis]), [["bar", "x", "y"], ["bar", "x2", "y2"], [
    "bar",
    "x3",
    "y3",
  ]]);
  assert.deepEqual(fig.data[2].y, byModel("resnet32").layers.map((l) => 100 * l.share));
});

Deno.test("fig2 write produces the result JSON, the HTML page and the SVG", async () => {
  const resultsDir = await Deno.makeTempDir();
  const figuresDir = await Deno.makeTempDir();
  try {
    const paths = await fig2ReluDistribution.write(result, { resultsDir, figuresDir });
    assert.deepEqual(paths, [
      `${resultsDir}/${NAME}_smoke.json`,
      `${figuresDir}/${NAME}_smoke.html`,
      `${figuresDir}/${NAME}_smoke.svg`,
    ]);
    const file = JSON.parse(await Deno.readTextFile(paths[0]));
    assert.equal(file.meta.profile, "smoke");
    assert.equal(file.data.networks[0].totalRelus, 173056);
    const svg = await Deno.readTextFile(paths[2]);
    assert.equal(svg.match(/class="point"/g)?.length, 52, "one bar per activation layer");
  } finally {
    await Deno.remove(resultsDir, { recursive: true });
    await Deno.remove(figuresDir, { recursive: true });
  }
  assert.equal(write, fig2ReluDistribution.write);
});
