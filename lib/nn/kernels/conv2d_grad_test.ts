import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";
import { assertMatchesCpu, randomTensor } from "./_test_util.ts";

type Pad = "same" | "valid";

/** Forward output and gradients (x, filter) of sum(conv(x, w) * r) for a random r. */
function convGrads(h: number, w: number, ci: number, co: number, k: number, s: number, pad: Pad) {
  const x = randomTensor([2, h, w, ci], 1) as tf.Tensor4D;
  const f = randomTensor([k, k, ci, co], 2) as tf.Tensor4D;
  const y = tf.conv2d(x, f, s, pad);
  const r = randomTensor(y.shape, 3);
  const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
    tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, s, pad), r))
  )([x, f]);
  return [y, dx, df];
}

// Every geometry the project's networks use (kernels 1 and 3, stride 1 and 2, "same" and
// "valid"), on even and odd sizes so TensorFlow's asymmetric "same" padding is exercised.
const cases: [number, number, Pad][] = [];
for (const k of [1, 3]) {
  for (const s of [1, 2]) for (const pad of ["same", "valid"] as Pad[]) cases.push([k, s, pad]);
}

Deno.test("conv2d gradients on wasm match cpu for kernels 1/3, strides 1/2, same/valid, even/odd sizes", async () => {
  for (const [k, s, pad] of cases) {
    for (const [h, w] of [[8, 8], [7, 9]]) {
      await assertMatchesCpu(() => convGrads(h, w, 3, 5, k, s, pad), 1e-4, `k${k} s${s} ${pad} ${h}x${w}`);
    }
  }
});

Deno.test("conv2d gradients on wasm match cpu with the channel counts of CIFAR networks", async () => {
  await assertMatchesCpu(() => convGrads(16, 16, 16, 32, 3, 2, "same"), 1e-4, "resnet stage entry");
  await assertMatchesCpu(() => convGrads(8, 8, 64, 16, 1, 1, "same"), 1e-4, "cnn7 1x1");
});

Deno.test("fused conv2d (bias + relu) gradients on wasm match cpu", async () => {
  await assertMatchesCpu(() => {
    const x = randomTensor([2, 9, 9, 4], 4) as tf.Tensor4D;
    const f = randomTensor([3, 3, 4, 6], 5) as tf.Tensor4D;
    const b = randomTensor([6], 6) as tf.Tensor1D;
    const loss = (a: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(
        tf.square(
          tf.fused.conv2d({
            x: a as tf.Tensor4D,
            filter: w as tf.Tensor4D,
            strides: 2,
            pad: "same",
            bias,
            activation: "relu",
          }),
        ),
      );
    return tf.grads(loss)([x, f, b]);
  });
});

Deno.test("the wasm backend runs the project's conv backprop kernels", async () => {
  const info = await initBackend("wasm");
  assert.ok(info.customKernels.includes("Conv2DBackpropFilter"));
  assert.ok(info.customKernels.includes("Conv2DBackpropInput"));
  assert.notEqual(tf.getKernel("Conv2DBackpropFilter", "wasm"), undefined);
});
