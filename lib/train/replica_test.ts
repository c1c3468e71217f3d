import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { decays, Replica } from "./replica.ts";
import { namedWeight, tinyData, tinyModel } from "./testdata/tiny.ts";

await tf.setBackend("cpu");

Deno.test("decay applies to conv and dense kernels only", () => {
  assert.ok(decays("conv1/kernel"));
  assert.ok(decays("dense1/kernel"));
  assert.ok(!decays("conv1_bn/gamma"));
  assert.ok(!decays("dense1/bias"));
  assert.ok(!decays("act1/coefficients"));
});

Deno.test("training-mode gradients update BN moving statistics; evaluation does not", () => {
  const r = new Replica(tinyModel(1), {});
  const d = tinyData(16, 2);
  const info = r.weightInfo();
  const before = namedWeight(info, r.weights(), "conv1_bn/moving_mean");
  assert.deepEqual([...before], [0, 0, 0, 0]);
  r.evaluate(d.x, d.y, d.count);
  assert.deepEqual([...namedWeight(info, r.weights(), "conv1_bn/moving_mean")], [0, 0, 0, 0]);
  r.gradients(d.x, d.y, d.count);
  const after = namedWeight(info, r.weights(), "conv1_bn/moving_mean");
  assert.ok(after.some((v) => Math.abs(v) > 1e-4), `moving mean unchanged: ${after}`);
  assert.deepEqual([...r.stats().slice(0, 4)], [...after]);
});

Deno.test("gradients match central finite differences of the batch-mean loss", () => {
  const r = new Replica(tinyModel(3, false), {});
  const d = tinyData(8, 4);
  const { grads, lossSum } = r.gradients(d.x, d.y, d.count);
  const base = r.weights();
  const loss = (w: Float32Array) => {
    r.setWeights(w);
    return r.evaluate(d.x, d.y, d.count).lossSum / d.count;
  };
  assert.ok(Math.abs(loss(base) - lossSum / d.count) < 1e-5);
  // Without BN, trainable weights are all weights, in the same order.
  for (const i of [0, 17, 100, 200, base.length - 1]) {
    const h = 1e-3; // small: a ReLU kink within h spoils the difference
    const plus = base.slice(), minus = base.slice();
    plus[i] += h;
    minus[i] -= h;
    const numeric = (loss(plus) - loss(minus)) / (2 * h);
    assert.ok(
      Math.abs(numeric - grads[i]) < 2e-3 + 0.02 * Math.abs(numeric),
      `weight ${i}: ${numeric} vs ${grads[i]}`,
    );
  }
});

Deno.test("label smoothing: loss = (1-eps) CE + eps * mean over classes of -log p", () => {
  const eps = 0.2;
  const plain = new Replica(tinyModel(5, false), {});
  const smooth = new Replica(tinyModel(5, false), { labelSmoothing: eps });
  smooth.setWeights(plain.weights());
  const d = tinyData(6, 6);
  const logits = plain.model.predict(tf.tensor(d.x, [6, 6, 6, 3])) as tf.Tensor;
  const logp = tf.logSoftmax(logits).arraySync() as number[][];
  let expected = 0;
  logp.forEach((row, i) => {
    expected += -(1 - eps) * row[d.y[i]] - eps * row.reduce((a, b) => a + b, 0) / 3;
  });
  const got = smooth.gradients(d.x, d.y, d.count).lossSum;
  assert.ok(Math.abs(got - expected) < 1e-4, `${got} vs ${expected}`);
});

Deno.test("SGD update: momentum, and weight decay on kernels only", () => {
  const lr = 0.1, mu = 0.9, wd = 0.01;
  const r = new Replica(tinyModel(7), { momentum: mu, weightDecay: wd });
  const info = r.weightInfo();
  const trainable = r.model.trainableWeights.map((w) => w.originalName);
  const g = new Float32Array(r.trainableSize).fill(1);
  const w0 = r.weights();
  r.applyGradients(g, lr);
  r.applyGradients(g, lr);
  const w2 = r.weights();
  for (const name of trainable) {
    const a = namedWeight(info, w0, name), b = namedWeight(info, w2, name);
    for (let i = 0; i < a.length; i++) {
      // Two steps by hand: v1 = d1, w1 = w0 - lr v1; v2 = mu v1 + d2, w2 = w1 - lr v2.
      const dec = decays(name) ? wd : 0;
      const v1 = 1 + dec * a[i];
      const w1 = a[i] - lr * v1;
      const v2 = mu * v1 + 1 + dec * w1;
      assert.ok(Math.abs(b[i] - (w1 - lr * v2)) < 1e-6, `${name}[${i}]`);
    }
  }
  // Moving statistics are not trained.
  assert.deepEqual(
    namedWeight(info, w2, "conv1_bn/moving_variance"),
    namedWeight(info, w0, "conv1_bn/moving_variance"),
  );
});

Deno.test("frozen batch-norm: training sees the inference-mode function and keeps the statistics", () => {
  const r = new Replica(tinyModel(1), { freezeBatchNorm: true });
  // Non-trivial moving statistics, so that batch and moving statistics differ.
  const warm = new Replica(tinyModel(1), {});
  const d = tinyData(16, 2);
  warm.gradients(d.x, d.y, d.count);
  r.setWeights(warm.weights());
  const before = r.weights();
  const { lossSum, grads } = r.gradients(d.x, d.y, d.count);
  assert.deepEqual(r.weights(), before, "moving statistics changed");
  assert.ok(Math.abs(lossSum - r.evaluate(d.x, d.y, d.count).lossSum) < 1e-4);
  // Scale and shift still get gradients.
  const gamma = namedWeight(
    r.model.trainableWeights.map((w) => ({ name: w.originalName, shape: w.shape as number[] })),
    grads,
    "conv1_bn/gamma",
  );
  assert.ok(gamma.some((g) => Math.abs(g) > 1e-6));
});

Deno.test("gradient clipping scales a step to the global norm; a non-finite gradient is skipped and counted", () => {
  const lr = 0.1, clip = 0.5;
  const r = new Replica(tinyModel(7), { momentum: 0, clipGradientNorm: clip });
  const n = r.trainableSize;
  const w0 = r.weights();
  // Norm 2 * sqrt(n): scaled down to 0.5, so every trainable weight moves by lr * 0.5 / sqrt(n).
  assert.equal(r.applyGradients(new Float32Array(n).fill(2), lr), true);
  const moved = r.weights().map((w, i) => w0[i] - w).filter((d) => d !== 0);
  assert.equal(moved.length, n);
  for (const d of moved) assert.ok(Math.abs(d - lr * clip / Math.sqrt(n)) < 1e-6, `${d}`);
  // A small gradient is not scaled up.
  const w1 = r.weights();
  r.applyGradients(new Float32Array(n).fill(1e-4), lr);
  const small = r.weights().map((w, i) => w1[i] - w).filter((d) => d !== 0);
  for (const d of small) assert.ok(Math.abs(d - lr * 1e-4) < 1e-7, `${d}`);
  const w2 = r.weights();
  const bad = new Float32Array(n).fill(1);
  bad[3] = NaN;
  assert.equal(r.applyGradients(bad, lr), false);
  bad[3] = Infinity;
  assert.equal(r.applyGradients(bad, lr), false);
  assert.deepEqual(r.weights(), w2);
  assert.equal(r.skippedSteps, 2);
  assert.throws(
    () => new Replica(tinyModel(7), { clipGradientNorm: 0 }),
    /clipGradientNorm must be positive/,
  );
});

Deno.test("restoring weights and momentum reproduces the continuation exactly", () => {
  const d = tinyData(12, 8);
  const a = new Replica(tinyModel(9), { weightDecay: 5e-4 });
  const step = (r: Replica) => r.applyGradients(r.gradients(d.x, d.y, d.count).grads, 0.05);
  step(a);
  step(a);
  const b = new Replica(tinyModel(10), { weightDecay: 5e-4 });
  b.setWeights(a.weights());
  b.setOptimizerState(a.optimizerState());
  step(a);
  step(b);
  assert.deepEqual(b.weights(), a.weights());
  assert.throws(() => b.setOptimizerState(new Float32Array(3)), /momentum state: expected/);
});

Deno.test("twenty steps learn the synthetic task", () => {
  const d = tinyData(32, 11);
  const r = new Replica(tinyModel(12), { weightDecay: 5e-4 });
  const start = r.evaluate(d.x, d.y, d.count);
  for (let i = 0; i < 20; i++) r.applyGradients(r.gradients(d.x, d.y, d.count).grads, 0.1);
  const end = r.evaluate(d.x, d.y, d.count);
  assert.ok(end.lossSum < start.lossSum / 2, `${start.lossSum} -> ${end.lossSum}`);
  assert.ok(end.correct >= 29, `accuracy ${end.correct}/32`);
});

Deno.test("steps, evaluation and state round trips leave no tensors behind", () => {
  const r = new Replica(tinyModel(13), { weightDecay: 5e-4 });
  const d = tinyData(8, 14);
  const step = () => {
    r.applyGradients(r.gradients(d.x, d.y, d.count).grads, 0.05);
    r.setStats(r.stats());
    r.evaluate(d.x, d.y, d.count);
    r.setWeights(r.weights());
    r.setOptimizerState(r.optimizerState());
  };
  step();
  const before = tf.memory().numTensors;
  step();
  step();
  assert.equal(tf.memory().numTensors, before);
});
