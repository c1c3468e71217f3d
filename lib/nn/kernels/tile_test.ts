import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";
import { tileShapes } from "./tile.ts";

Deno.test("tileShapes drops unit axes and merges neighbours", () => {
  assert.deepEqual(tileShapes([1, 1, 1, 64], [8, 4, 4, 1]), { xShape: [1, 64], zShape: [128, 1] });
  assert.deepEqual(tileShapes([2, 3], [1, 1]), { xShape: [6], zShape: [1] });
  assert.deepEqual(tileShapes([2, 3], [4, 5]), { xShape: [1, 2, 1, 3], zShape: [4, 1, 5, 1] });
});

Deno.test("Tile on wasm matches cpu (batch-norm shapes, general, int32, broadcastTo)", async () => {
  await assertMatchesCpu(() => {
    const s = randomTensor([1, 1, 1, 6], 11);
    const m = randomTensor([2, 3], 12);
    const i = tf.cast(tf.mul(m, 100), "int32");
    return [
      tf.tile(s, [2, 3, 4, 1]),
      tf.tile(m, [2, 2]),
      tf.tile(m, [1, 1]),
      tf.cast(tf.tile(i, [3, 1]), "float32"),
      tf.broadcastTo(tf.reshape(m, [2, 1, 3]), [2, 4, 3]),
      tf.tile(tf.tensor1d([2]), [5]),
    ];
  }, 0);
});
