import * as tf from "@tensorflow/tfjs-core";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";

Deno.test("matMul with every transpose combination, and dense-layer gradients, match cpu on wasm", async () => {
  await assertMatchesCpu(() => {
    const a = randomTensor([5, 7], 80) as tf.Tensor2D, b = randomTensor([7, 3], 81) as tf.Tensor2D;
    const at = tf.transpose(a), bt = tf.transpose(b);
    const a3 = tf.reshape(a, [1, 5, 7]) as tf.Tensor3D, bt3 = tf.reshape(bt, [1, 3, 7]) as tf.Tensor3D;
    const batched = randomTensor([2, 5, 7], 82) as tf.Tensor3D,
      batchedB = randomTensor([2, 3, 7], 83) as tf.Tensor3D;
    const w = randomTensor([7, 4], 84), bias = randomTensor([4], 85);
    const dense = (x: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.matMul({ a: x as tf.Tensor2D, b: ww as tf.Tensor2D, bias: bb, activation: "relu" }),
        ),
      );
    return [
      tf.matMul(a, b),
      tf.matMul(at, b, true, false),
      tf.matMul(a, bt, false, true),
      tf.matMul(at, bt, true, true),
      tf.matMul(a3, bt3, false, true),
      tf.matMul(batched, batchedB, false, true),
      ...tf.grads(dense)([a, w, bias]),
    ];
  }, 1e-5);
});
