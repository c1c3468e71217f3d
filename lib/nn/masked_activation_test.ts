import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import assert from "node:assert/strict";
import { assertClose } from "./testdata/assert_close.ts";
import { defaultCoefficients, type Degree, fitReluPerChannel } from "./approximation.ts";
import { MaskedActivation, maskedActivation, relu, RELU_GRAD_KERNEL } from "./masked_activation.ts";
import { initBackend } from "./backend.ts";

await tf.setBackend("cpu");

/** A one-layer model on [1, 2, 3] (H=1, W=2, C=3) inputs. */
function tinySite(): { layer: MaskedActivation; model: tfl.LayersModel } {
  const input = tfl.input({ shape: [1, 2, 3] });
  const layer = new MaskedActivation({ name: "site" });
  const model = tfl.model({ inputs: input, outputs: layer.apply(input) as tfl.SymbolicTensor });
  return { layer, model };
}

const X = [-1.5, 0.5, 2, /* pixel 2 */ 1, -0.25, -3];

Deno.test("MaskedActivation: ReLU on kept channels, polynomial of each degree on approximated ones", () => {
  const { layer, model } = tinySite();
  const x = tf.tensor4d(X, [1, 1, 2, 3]);
  const run = () => Array.from((model.predict(x) as tf.Tensor).dataSync());
  const relu = X.map((v) => Math.max(v, 0));
  assert.deepEqual(run(), relu, "alpha 0 is ReLU");
  const coeffs: Record<Degree, number[][]> = {
    0: [[0.7], [9], [-0.2]],
    1: [[0.1, 2], [9, 9], [0.3, -1]],
    2: [[0.2, 0.5, 0.25], [9, 9, 9], [-1, 0, 2]],
    3: [[1, -1, 0.5, 0.1], [9, 9, 9, 9], [0, 1, 0, -0.5]],
  };
  for (const degree of [0, 1, 2, 3] as Degree[]) {
    layer.setPlan(2 / 3, degree, new Float32Array([1, 0, 1]));
    layer.writeCoefficients(coeffs[degree]);
    const expected = X.map((v, i) => {
      const c = i % 3;
      return c === 1 ? Math.max(v, 0) : coeffs[degree][c].reduce((s, a, k) => s + a * v ** k, 0);
    });
    assertClose(run(), expected, 1e-5, `degree ${degree}`);
    assert.deepEqual(layer.getCoefficients(), coeffs[degree].map((c) => c.map(Math.fround)));
  }
  layer.setPlan(1, 2, new Float32Array([1, 1, 1]));
  layer.writeCoefficients(coeffs[2]);
  assertClose(
    run(),
    X.map((v, i) => coeffs[2][i % 3].reduce((s, a, k) => s + a * v ** k, 0)),
    1e-5,
    "alpha 1",
  );
  layer.setPlan(1, 0, new Float32Array([1, 1, 1]));
  layer.writeCoefficients(coeffs[0]);
  assertClose(run(), X.map((_, i) => coeffs[0][i % 3][0]), 1e-6, "alpha 1 degree 0");
});

Deno.test("MaskedActivation.setPlan checks the mask and resets coefficients only on a degree change", () => {
  const { layer } = tinySite();
  assert.throws(() => layer.setPlan(2 / 3, 2, new Float32Array([1, 0, 0])), /floor\(alpha x C\) = 2 ones/);
  assert.throws(() => layer.setPlan(0.5, 2, new Float32Array([1, 0])), /3 entries/);
  assert.throws(() => layer.setPlan(0.5, 4 as Degree, new Float32Array([1, 0, 0])), /beta\) must be one of/);
  layer.setPlan(1 / 3, 2, new Float32Array([0, 0, 1]));
  layer.writeCoefficients([[1, 2, 3], [1, 2, 3], [1, 2, 3]]);
  layer.setPlan(2 / 3, 2, new Float32Array([1, 0, 1]));
  assert.deepEqual(layer.getCoefficients()[0], [1, 2, 3], "same degree keeps trained coefficients");
  layer.setPlan(2 / 3, 3, new Float32Array([1, 0, 1]));
  assertClose(layer.getCoefficients()[0], defaultCoefficients(3), 1e-7, "new degree gets defaults");
});

Deno.test("MaskedActivation gradients reach approximated channels' coefficients only", () => {
  const { layer } = tinySite();
  layer.setPlan(1 / 3, 2, new Float32Array([0, 0, 1]));
  const x = tf.tensor4d(X, [1, 1, 2, 3]);
  const coefficients = layer.trainableWeights[0].read() as tf.Variable;
  const { grads } = tf.variableGrads(() => tf.sum(layer.apply(x) as tf.Tensor) as tf.Scalar, [coefficients]);
  const g = grads[coefficients.name];
  // d/dc_k of sum over channel 2's inputs (2, -3) of c0 + c1 x + c2 x^2: [2, -1, 13]; zero elsewhere.
  assertClose(g.dataSync(), [0, 0, 2, 0, 0, -1, 0, 0, 13, 0, 0, 0], 1e-6, "gradient");
  assert.equal(layer.nonTrainableWeights.length, 1, "the mask is not trainable");
});

Deno.test("MaskedActivation calibration fits each channel on the inputs of the next call", () => {
  const { layer, model } = tinySite();
  layer.setPlan(1, 3, new Float32Array([1, 1, 1]));
  const data = Array.from({ length: 8 * 6 }, (_, i) => Math.sin(i * 1.7) * 3 + (i % 3));
  layer.calibrateOnNextCall();
  model.apply(tf.tensor4d(data, [8, 1, 2, 3]));
  const fitted = fitReluPerChannel(new Float32Array(data), 3, 3);
  layer.getCoefficients().forEach((c, i) => assertClose(c, fitted[i], 1e-5, `channel ${i}`));
});

Deno.test("the fused kernel matches the tfjs-op reference in value and gradients", () => {
  for (const shape of [[2, 3, 4, 5], [6, 5]]) {
    const c = shape[shape.length - 1];
    const x = tf.randomNormal(shape, 0, 2, "float32", 1);
    const dy = tf.randomNormal(shape, 0, 1, "float32", 2);
    const coefficients = tf.randomNormal([4, c], 0, 1, "float32", 3) as tf.Tensor2D;
    for (const degree of [0, 1, 2, 3] as Degree[]) {
      for (const ones of [1, 3, c]) {
        const mask = tf.tensor1d(Array.from({ length: c }, (_, i) => (i < ones ? 1 : 0)));
        const run = (fused: boolean) => {
          const f = (xx: tf.Tensor, co: tf.Tensor) =>
            tf.sum(tf.mul(maskedActivation(xx, co as tf.Tensor2D, mask, degree, fused), dy));
          const [gx, gc] = tf.grads(f)([x, coefficients]);
          return [maskedActivation(x, coefficients, mask, degree, fused), gx, gc].map((t) => t.dataSync());
        };
        const [fused, ops] = [run(true), run(false)];
        ["value", "dx", "dcoefficients"].forEach((what, i) =>
          assertClose(
            fused[i],
            ops[i],
            1e-4 * Math.max(1, ...Array.from(ops[i], Math.abs)),
            `${shape} degree ${degree} ${ones} ones ${what}`,
          )
        );
      }
    }
  }
});

Deno.test("relu's one-pass gradient equals tfjs' (dy times Step) bit for bit, NaN, zeros and infinities included, on cpu and wasm", async () => {
  const x = [-2, -0, 0, 1e-30, 3, NaN, -1, 5, Infinity, -Infinity];
  const dy = [1, 2, -3, 4, -5, 6, Infinity, NaN, -7, 8];
  for (const backend of ["cpu", "wasm"] as const) {
    await initBackend(backend);
    const grad = (f: (t: tf.Tensor) => tf.Tensor) =>
      tf.grad(f)(tf.tensor1d(x), tf.tensor1d(dy)).dataSync() as Float32Array;
    const ours = grad(relu), theirs = grad((t) => tf.relu(t));
    // deepStrictEqual compares numbers with Object.is: -0 differs from 0, NaN equals NaN.
    assert.deepEqual(Array.from(ours), Array.from(theirs), backend);
    assert.deepEqual(
      Array.from(relu(tf.tensor1d(x)).dataSync()),
      Array.from(tf.relu(tf.tensor1d(x)).dataSync()),
    );
    const { kernels } = await tf.profile(() => grad(relu));
    assert.ok(kernels.some((k) => k.name === RELU_GRAD_KERNEL), `${backend}: the one-pass kernel ran`);
  }
});
