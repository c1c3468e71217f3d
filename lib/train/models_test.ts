import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { architecture } from "../nn/architectures.ts";
import { saveModel } from "../nn/io.ts";
import { activationLayers } from "../nn/model.ts";
import { uniformPlan } from "../nn/plan.ts";
import { recipeFactory, recipeModel } from "./models.ts";

await tf.setBackend("cpu");

const flat = (m: { getWeights(): tf.Tensor[] }) => m.getWeights().map((t) => Array.from(t.dataSync()));

Deno.test("recipeModel is deterministic in its seed", async () => {
  const a = await recipeModel({ model: "cnn7", numClasses: 10, seed: 3 });
  const b = await recipeModel({ model: "cnn7", numClasses: 10, seed: 3 });
  const c = await recipeModel({ model: "cnn7", numClasses: 10, seed: 4 });
  assert.deepEqual(flat(a), flat(b));
  assert.notDeepEqual(flat(a), flat(c));
});

Deno.test("init copies a saved model's weights; another architecture is refused by name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const saved = await recipeModel({ model: "cnn7", numClasses: 10, seed: 7 });
    await saveModel(saved, dir);
    const loaded = await recipeModel({ model: "cnn7", numClasses: 10, seed: 1, init: dir });
    assert.deepEqual(flat(loaded), flat(saved));
    await assert.rejects(
      recipeModel({ model: "cnn7", numClasses: 100, seed: 1, init: dir }),
      /weight 'dense1\/kernel' \[1024,100\] is \[1024,10\] there/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plan is applied (half the channels masked) and calibrated on the given inputs", async () => {
  const plan = uniformPlan(architecture("cnn7"), 0.5, 2);
  const x = Float32Array.from({ length: 4 * 3072 }, (_, i) => Math.sin(i));
  const plain = await recipeModel({ model: "cnn7", numClasses: 10, seed: 2, plan });
  const calibrated = await recipeModel({
    model: "cnn7",
    numClasses: 10,
    seed: 2,
    plan,
    calibration: { x, count: 4 },
  });
  const layers = activationLayers(plain, architecture("cnn7"));
  for (const layer of layers) {
    const mask = layer.getMask();
    assert.equal(mask.reduce((s, v) => s + v, 0), Math.floor(mask.length / 2));
  }
  const coeffs = (m: typeof plain) =>
    activationLayers(m, architecture("cnn7")).map((l) => l.getCoefficients());
  assert.notDeepEqual(coeffs(calibrated), coeffs(plain), "calibration fits the coefficients");
});

Deno.test("recipeFactory names this module's recipeModel", () => {
  const f = recipeFactory({ model: "cnn7", numClasses: 10, seed: 0 });
  assert.equal(f.exportName, "recipeModel");
  assert.ok(f.module.endsWith("/lib/train/models.ts"));
});
