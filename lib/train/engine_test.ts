import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { LocalEngine, splitRows } from "./engine.ts";
import { Replica } from "./replica.ts";
import { tinyData, tinyModel } from "./testdata/tiny.ts";

await tf.setBackend("cpu");

Deno.test("splitRows covers the rows in near-equal contiguous parts", () => {
  assert.deepEqual(splitRows(7, 2), [[0, 4], [4, 7]]);
  assert.deepEqual(splitRows(1, 2), [[0, 1], [1, 1]]);
  assert.deepEqual(splitRows(64, 1), [[0, 64]]);
});

Deno.test("a local engine step is the replica's gradients then update", async () => {
  const options = { momentum: 0.9, weightDecay: 1e-3 };
  const engine = new LocalEngine(tinyModel(4), options);
  const replica = new Replica(tinyModel(4), options);
  const d = tinyData(10, 3);
  const r = await engine.step(d, 0.05);
  const { grads, ...expected } = replica.gradients(d.x, d.y, d.count);
  replica.applyGradients(grads, 0.05);
  assert.deepEqual(r, expected);
  assert.deepEqual(await engine.weights(), replica.weights());
  assert.deepEqual(await engine.optimizerState(), replica.optimizerState());
  assert.equal(engine.weightInfo.length, tinyModel(4).weights.length);
  await engine.close();
});
