import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { LocalEngine } from "./engine.ts";
import { type ModelFactory, WorkerEngine } from "./parallel.ts";
import { tinyData, tinyModel } from "./testdata/tiny.ts";

await tf.setBackend("cpu");

const tiny = (seed: number, batchNorm = true): ModelFactory => ({
  module: new URL("./testdata/tiny.ts", import.meta.url).href,
  exportName: "tinyModel",
  args: [seed, batchNorm],
});
const replica = { momentum: 0.9, weightDecay: 1e-3, labelSmoothing: 0.1 };

async function run(engine: { step: LocalEngine["step"] }, steps: number): Promise<number[]> {
  const losses = [];
  for (let i = 0; i < steps; i++) {
    const d = tinyData(10, 100 + i);
    losses.push((await engine.step(d, 0.05)).lossSum);
  }
  return losses;
}

Deno.test("one worker reproduces the local engine bit for bit", async () => {
  const local = new LocalEngine(tinyModel(21), replica);
  const pool = await WorkerEngine.create({ workers: 1, backend: "cpu", factory: tiny(21), replica });
  try {
    assert.deepEqual(await pool.weights(), await local.weights());
    assert.deepEqual(await run(pool, 4), await run(local, 4));
    assert.deepEqual(await pool.weights(), await local.weights());
    assert.deepEqual(await pool.optimizerState(), await local.optimizerState());
    const d = tinyData(9, 5);
    assert.deepEqual(await pool.evaluate(d), await local.evaluate(d));
  } finally {
    await pool.close();
  }
});

Deno.test("two workers stay identical and, without batch-norm, match one replica closely", async () => {
  const local = new LocalEngine(tinyModel(31, false), replica);
  // Different seeds: worker 0's weights must be broadcast to worker 1 at start.
  const pool = await WorkerEngine.create({ workers: 2, backend: "cpu", factory: tiny(31, false), replica });
  try {
    const a = await run(pool, 4), b = await run(local, 4);
    a.forEach((l, i) => assert.ok(Math.abs(l - b[i]) < 1e-4, `step ${i}: ${l} vs ${b[i]}`));
    const [w0, w1] = await pool.allWeights();
    assert.deepEqual(w0, w1);
    const wl = await local.weights();
    assert.ok(w0.every((v, i) => Math.abs(v - wl[i]) < 1e-5), "weights drifted from the single-replica run");
  } finally {
    await pool.close();
  }
});

Deno.test("with batch-norm, two workers average the slices' moving statistics and stay identical", async () => {
  const pool = await WorkerEngine.create({ workers: 2, backend: "cpu", factory: tiny(41), replica });
  try {
    const d = tinyData(7, 9);
    await pool.step(d, 0.05);
    // Expected: each slice's statistics after one training-mode pass, weighted 4:3.
    const stats = [[0, 4], [4, 7]].map(([a, b]) => {
      const r = new LocalEngine(tinyModel(41), replica).replica;
      r.gradients(d.x.subarray(a * 108, b * 108), d.y.subarray(a, b), b - a);
      return r.stats();
    });
    const expected = stats[0].map((v, i) => (4 * v + 3 * stats[1][i]) / 7);
    const [w0, w1] = await pool.allWeights();
    assert.deepEqual(w0, w1);
    const names = pool.weightInfo.map((w) => w.name);
    const at = names.indexOf("conv1_bn/moving_mean");
    // moving_mean (4) then moving_variance (4) are the last weights, as in stats().
    assert.equal(at, names.length - 2);
    const got = w0.subarray(w0.length - 8);
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `stat ${i}: ${v} vs ${expected[i]}`));
    assert.ok(got.slice(0, 4).some((v) => Math.abs(v) > 1e-4), "moving mean did not move");
  } finally {
    await pool.close();
  }
});

Deno.test("a batch with fewer rows than workers: the idle worker still takes part, and all match one replica", async () => {
  const local = new LocalEngine(tinyModel(51, false), replica);
  const pool = await WorkerEngine.create({ workers: 3, backend: "cpu", factory: tiny(51, false), replica });
  try {
    const d = tinyData(2, 13);
    const [a, b] = [await pool.step(d, 0.05), await local.step(d, 0.05)];
    assert.equal(a.count, 2);
    assert.ok(Math.abs(a.lossSum - b.lossSum) < 1e-5);
    const [w0, w1, w2] = await pool.allWeights();
    assert.deepEqual(w0, w1);
    assert.deepEqual(w0, w2);
    const wl = await local.weights();
    assert.ok(w0.every((v, i) => Math.abs(v - wl[i]) < 1e-6), "weights differ from the single-replica step");
  } finally {
    await pool.close();
  }
});

Deno.test("a factory that does not exist fails with its name", async () => {
  const factory = { ...tiny(1), exportName: "noSuchModel" };
  await assert.rejects(
    WorkerEngine.create({ workers: 1, backend: "cpu", factory }),
    /no exported function 'noSuchModel'/,
  );
});

Deno.test("native kernels get the cores divided among the workers", async () => {
  const cores = navigator.hardwareConcurrency;
  for (const workers of [1, 2]) {
    const pool = await WorkerEngine.create({ workers, backend: "wasm", factory: tiny(3), replica });
    try {
      assert.equal(pool.native?.threads, Math.max(1, Math.floor(cores / workers)), `${workers} worker(s)`);
    } finally {
      await pool.close();
    }
  }
});
