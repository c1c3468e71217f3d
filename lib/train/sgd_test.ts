import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { passesWithoutNative } from "../nn/native/_test_util.ts";
import { assign, flatten, SgdMomentum } from "./sgd.ts";
import { sgdNative } from "../nn/native/sgd.ts";

await tf.setBackend("cpu");

Deno.test("nesterov steps along g + mu v; plain momentum along v", () => {
  for (const nesterov of [false, true]) {
    const w = tf.variable(tf.tensor1d([1, -2]));
    const sgd = new SgdMomentum([w], [true], { momentum: 0.5, weightDecay: 0.1, nesterov });
    sgd.apply([tf.tensor1d([1, 1])], 0.1);
    const d = [1 + 0.1 * 1, 1 + 0.1 * -2]; // v1 = d
    const dir = nesterov ? d.map((x) => x + 0.5 * x) : d;
    const expected = [1 - 0.1 * dir[0], -2 - 0.1 * dir[1]];
    const got = Array.from(w.dataSync());
    got.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-6, `${nesterov}: ${v} vs ${expected[i]}`));
    assert.deepEqual(Array.from(sgd.state()).map((v) => +v.toFixed(6)), d.map((v) => +v.toFixed(6)));
    sgd.dispose();
  }
});

Deno.test("flatten and assign round-trip several variables and check the length", () => {
  const a = tf.variable(tf.tensor2d([[1, 2], [3, 4]])), b = tf.variable(tf.tensor1d([5]));
  const flat = flatten([a, b]);
  assert.deepEqual(Array.from(flat), [1, 2, 3, 4, 5]);
  assign([a, b], Float32Array.from([9, 8, 7, 6, 5]), "test");
  assert.deepEqual(a.arraySync(), [[9, 8], [7, 6]]);
  assert.throws(
    () => assign([a, b], new Float32Array(4), "weights"),
    /weights: expected 5 values for 2 variables, got 4/,
  );
});

Deno.test("decay flags must match the variables", () => {
  assert.throws(() => new SgdMomentum([tf.variable(tf.zeros([1]))], []), /1 variables but 0 decay flags/);
});

Deno.test("three steps on random variables: clipped, decayed or not, plain and Nesterov, as the formulas say", () => {
  let seed = 3;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31 - 0.5;
  for (const nesterov of [false, true]) {
    const shapes = [[3, 4], [5]], decay = [true, false];
    const w0 = shapes.map((sh) => Array.from({ length: sh.reduce((a, b) => a * b) }, rand));
    const vars = w0.map((w, i) => tf.variable(tf.tensor(w, shapes[i])));
    const sgd = new SgdMomentum(vars, decay, { momentum: 0.9, weightDecay: 0.01, nesterov });
    const w = w0.map((x) => [...x]), v = w0.map((x) => x.map(() => 0));
    for (let step = 0; step < 3; step++) {
      const g = w0.map((x) => x.map(rand)), lr = 0.1 / (step + 1), scale = step === 1 ? 0.5 : 1;
      sgd.apply(g.map((x, i) => tf.tensor(x, shapes[i])), lr, scale);
      w.forEach((wi, i) =>
        wi.forEach((x, j) => {
          const d = scale * g[i][j] + (decay[i] ? 0.01 * x : 0);
          v[i][j] = 0.9 * v[i][j] + d;
          wi[j] = x - lr * (nesterov ? d + 0.9 * v[i][j] : v[i][j]);
        })
      );
    }
    vars.forEach((x, i) =>
      Array.from(x.dataSync()).forEach((got, j) =>
        assert.ok(
          Math.abs(got - w[i][j]) < 1e-6,
          `nesterov ${nesterov}, var ${i}[${j}]: ${got} vs ${w[i][j]}`,
        )
      )
    );
    const state = sgd.state();
    v.flat().forEach((want, j) => assert.ok(Math.abs(state[j] - want) < 1e-6, `momentum ${j}`));
    sgd.dispose();
  }
});

Deno.test("the update runs the C kernel here, and its fallback (SAFENET_NATIVE=0) passes the same tests", async () => {
  assert.ok(sgdNative(), "the C kernel must build here (tools/setup.sh installs gcc)");
  await passesWithoutNative(new URL(import.meta.url), "steps", 2);
});
