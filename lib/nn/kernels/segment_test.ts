import * as tf from "@tensorflow/tfjs-core";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";

Deno.test("unsortedSegmentSum and tf.gather's gradient on wasm match cpu", async () => {
  await assertMatchesCpu(() => {
    const x = randomTensor([6, 3], 90);
    const ids = tf.tensor1d([2, 0, 2, 1, 4, 0], "int32");
    const table = randomTensor([5, 3], 91);
    const gatherGrad = tf.grad((t: tf.Tensor) =>
      tf.sum(tf.square(tf.gather(t, tf.tensor1d([4, 1, 1, 0], "int32"))))
    )(table);
    return [
      tf.unsortedSegmentSum(x, ids, 5),
      tf.cast(
        tf.unsortedSegmentSum(
          tf.tensor2d([[1, 2], [3, 4], [5, 6]], undefined, "int32"),
          tf.tensor1d([1, 1, 0], "int32"),
          2,
        ),
        "float32",
      ),
      gatherGrad,
    ];
  }, 1e-6);
});
