// The tour on a real kernel is tools/tour_test.ts; these are the module's edges, outside one.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import * as lab from "./lab.ts";
import { PROFILE_ENV } from "./report/jupyter.ts";

Deno.test("lab: importing it sets up the backend, so a shipped model loads and runs", async () => {
  assert.equal(tf.getBackend(), "wasm");
  const shipped = lab.shippedModels();
  assert.ok(shipped.includes("cnn7") && shipped.includes("cnn7-plan80"), shipped.join());
  assert.deepEqual(shipped, [...shipped].sort(), "in name order");
  const model = await lab.loadModel("cnn7-plan80");
  assert.deepEqual(model.plan.sites.map((s) => s.alpha), Array(7).fill(0.8));
  const images = await lab.testImages(20);
  const acc = model.accuracy(images);
  assert.equal(acc.count, 20);
  assert.ok(acc.accuracy > 0.5, `accuracy ${acc.accuracy}`);
  await assert.rejects(lab.loadModel("/nonexistent/model"), /shipped models are cnn7, .*cnn7-plan80/);
  await assert.rejects(lab.testImages(0), /count must be an integer in \[1, 10000\]/);
});

Deno.test("lab: the profile comes from the environment a render sets, and is checked", async () => {
  const saved = Deno.env.get(PROFILE_ENV);
  try {
    Deno.env.delete(PROFILE_ENV);
    assert.equal(lab.profile(), "quick");
    const { result, meta, path } = await lab.readExperiment<
      { config: { profile: string }; networks: unknown[] }
    >(
      "fig2_relu_distribution",
    );
    assert.equal(path, "results/fig2_relu_distribution_quick.json");
    assert.equal(result.config.profile, meta.profile);
    assert.equal(result.networks.length, 3);
    Deno.env.set(PROFILE_ENV, "huge");
    assert.throws(() => lab.profile(), /unknown profile 'huge'/);
  } finally {
    if (saved === undefined) Deno.env.delete(PROFILE_ENV);
    else Deno.env.set(PROFILE_ENV, saved);
  }
});

Deno.test("lab: plan and price tables, and the plan chart", async () => {
  const model = await lab.loadModel("cnn7");
  const plan = lab.uniformPlan(model.graph, 0.5, 3);
  const table = lab.planTable(model.graph, plan);
  assert.deepEqual(table["ReLUs"].values.slice(0, 2), [32768, 32768]);
  const price = await lab.price(model.graph, plan);
  assert.equal(price.calibration, "paper");
  const priced = lab.priceTable(price);
  assert.equal(priced["section"].values.at(-1), "total");
  const summary = lab.priceSummaryTable({ plan: price });
  assert.equal(summary["total s"].values[0], price.total_s);
  const chart = lab.planChart(model.graph, plan);
  assert.equal(chart.data.length, 2);
});
