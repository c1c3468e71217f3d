import * as tf from "@tensorflow/tfjs-core";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";

function poolGrad(shape: number[], size: number, stride: number, pad: "same" | "valid") {
  const x = randomTensor(shape, 9) as tf.Tensor4D;
  const y = tf.avgPool(x, size, stride, pad);
  const r = randomTensor(y.shape, 10);
  return [
    y,
    tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.avgPool(a as tf.Tensor4D, size, stride, pad), r)))(x),
  ];
}

Deno.test("avgPool gradient on wasm matches cpu on the fast path (2x2 windows tiling the input)", async () => {
  await assertMatchesCpu(() => poolGrad([2, 8, 6, 5], 2, 2, "valid"), 1e-5);
  await assertMatchesCpu(() => poolGrad([2, 32, 32, 64], 2, 2, "valid"), 1e-5);
});

Deno.test("avgPool gradient on wasm matches cpu where the stock kernel is kept", async () => {
  await assertMatchesCpu(() => poolGrad([2, 7, 7, 3], 2, 2, "valid"), 1e-5, "odd size");
  await assertMatchesCpu(() => poolGrad([2, 6, 6, 3], 3, 1, "same"), 1e-5, "overlapping");
  await assertMatchesCpu(() => poolGrad([2, 7, 5, 3], 2, 2, "same"), 1e-5, "same padding");
});
