import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { assign, flatten, SgdMomentum } from "./sgd.ts";

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
