import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";
import { leadingMean } from "./reduce.ts";
import { initBackend } from "../backend.ts";

Deno.test("Sum and Mean over leading axes on wasm match cpu (one- and two-stage pooling)", async () => {
  // 2*5*3 rows: one stage; 64*32*32 rows: two stages of 1024 and 64; 1031 rows (prime): one window.
  for (const shape of [[2, 5, 3, 4], [64, 32, 32, 2], [1031, 3]]) {
    const lead = shape.length - 1;
    const axes = shape.slice(0, lead).map((_, i) => i);
    await assertMatchesCpu(
      () => {
        const x = tf.add(randomTensor(shape, 7), 0.5);
        return [tf.sum(x, axes), tf.mean(x, axes), tf.sum(x, axes, true), tf.mean(x, 0)];
      },
      1e-5,
      `shape ${shape}`,
    );
  }
});

Deno.test("reductions the override does not cover (inner axes, all axes, int32) still match cpu", async () => {
  await assertMatchesCpu(() => {
    const x = randomTensor([3, 4, 5], 8);
    return [
      tf.sum(x, 2),
      tf.mean(x, [1, 2]),
      tf.sum(x),
      tf.mean(x, [0, 2]),
      tf.cast(tf.sum(tf.cast(tf.mul(x, 10), "int32"), 0), "float32"),
    ];
  }, 1e-5);
});

Deno.test("leadingMean gives the per-channel mean of an NHWC tensor", async () => {
  await initBackend("wasm");
  const x = tf.tensor4d([1, 10, 2, 20, 3, 30, 4, 40], [2, 2, 1, 2]);
  const m = leadingMean(x, 3);
  assert.deepEqual(m.shape, [2]);
  assert.deepEqual(Array.from(await m.data()), [2.5, 25]);
  tf.dispose([x, m]);
});
