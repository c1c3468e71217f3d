import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertMatchesCpu, randomTensor, relativeError, runOn } from "./_test_util.ts";
import { passesWithoutNative } from "../native/_test_util.ts";
import { batchNormTraining } from "./batch_norm.ts";
import { batchNormNative } from "../native/batch_norm.ts";

Deno.test("tf.batchNorm (FusedBatchNorm) on wasm matches cpu, with and without scale/offset", async () => {
  await assertMatchesCpu(() => {
    const x = randomTensor([2, 5, 4, 6], 13);
    const mean = randomTensor([6], 14), variance = tf.add(tf.abs(randomTensor([6], 15)), 0.1);
    const offset = randomTensor([6], 16), scale = randomTensor([6], 17);
    const x2 = randomTensor([7, 6], 18);
    const r4 = (t: tf.Tensor) => tf.reshape(t, [1, 1, 1, 6]) as tf.Tensor4D;
    return [
      tf.batchNorm(x, mean, variance, offset, scale, 1e-3),
      tf.batchNorm(x, mean, variance, undefined, undefined, 1e-3),
      tf.batchNorm(x2, mean, variance, offset, scale, 1e-3),
      tf.batchNorm(x, r4(mean), r4(variance), r4(offset), r4(scale), 1e-3),
    ];
  }, 1e-5);
});

/** Reference: batch statistics with tf.moments, then tf.batchNorm (tfjs' own path). */
function reference(x: tf.Tensor, g: tf.Tensor1D, b: tf.Tensor1D, relu: boolean) {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const { mean, variance } = tf.moments(x, axes);
  const y = tf.batchNorm(x, mean, variance, b, g, 1e-3);
  return relu ? tf.relu(y) : y;
}

for (const activation of ["linear", "relu"] as const) {
  Deno.test(`batchNormTraining (${activation}) output, statistics and gradients match tfjs' composite on cpu`, async () => {
    for (const shape of [[4, 6, 5, 8], [10, 8]]) {
      const inputs = () => {
        // Offset inputs: the E[x^2] - E[x]^2 variance must survive a non-zero mean.
        const x = tf.add(tf.mul(randomTensor(shape, 19), 3), 2);
        const c = shape[shape.length - 1];
        return {
          x,
          g: tf.add(randomTensor([c], 20), 1) as tf.Tensor1D,
          b: randomTensor([c], 21) as tf.Tensor1D,
          r: randomTensor(shape, 22),
        };
      };
      const want = await runOn("cpu", () => {
        const { x, g, b, r } = inputs();
        const { mean, variance } = tf.moments(x, shape.slice(0, -1).map((_, i) => i));
        const loss = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
          tf.sum(tf.mul(reference(a, gg as tf.Tensor1D, bb as tf.Tensor1D, activation === "relu"), r));
        return [reference(x, g, b, activation === "relu"), mean, variance, ...tf.grads(loss)([x, g, b])];
      });
      for (const backend of ["wasm", "cpu"] as const) {
        const got = await runOn(backend, () => {
          const { x, g, b, r } = inputs();
          const out = batchNormTraining(x, g, b, 1e-3, activation);
          const loss = (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) =>
            tf.sum(tf.mul(batchNormTraining(a, gg as tf.Tensor1D, bb as tf.Tensor1D, 1e-3, activation).y, r));
          return [out.y, out.mean, out.variance, ...tf.grads(loss)([x, g, b])];
        });
        got.forEach((o, i) => {
          const err = relativeError(o.values, want[i].values);
          assert.ok(err <= 1e-4, `${backend} ${shape} output ${i}: relative error ${err}`);
        });
      }
    }
  });
}

Deno.test("batchNormTraining leaves no tensors behind once its statistics are disposed", async () => {
  await runOn("wasm", () => tf.scalar(0));
  const before = tf.memory().numTensors;
  const x = randomTensor([2, 3, 3, 4], 23), g = tf.ones([4]) as tf.Tensor1D, b = tf.zeros([4]) as tf.Tensor1D;
  const grads = tf.grads((a: tf.Tensor) => {
    const out = batchNormTraining(a, g, b, 1e-3, "relu");
    tf.dispose([out.mean, out.variance]);
    return tf.sum(tf.square(out.y));
  })([x]);
  tf.dispose([x, g, b, ...grads]);
  assert.equal(tf.memory().numTensors, before);
});

Deno.test("batchNormTraining runs the C kernels here, and their fallback (SAFENET_NATIVE=0) passes the same tests", async () => {
  assert.ok(batchNormNative(), "the C kernels must build here (tools/setup.sh installs gcc)");
  await passesWithoutNative(new URL(import.meta.url), "batchNormTraining (", 2);
});
