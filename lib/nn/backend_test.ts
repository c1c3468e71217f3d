import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { backendInfo, initBackend } from "./backend.ts";

Deno.test("initBackend('wasm') loads the SIMD build, registers the training kernels and is idempotent", async () => {
  const info = await initBackend("wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(info.backend, "wasm");
  assert.equal(info.simd, true);
  assert.equal(info.threads, 1);
  assert.ok(info.customKernels.includes("Conv2DBackpropFilter"));
  assert.equal(await initBackend("wasm"), info);
  assert.equal(backendInfo(), info);
  // Gradients are registered (tfjs-core's Node bundle alone has none).
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(x)))(tf.tensor([1, 2]));
  assert.deepEqual(Array.from(await g.data()), [2, 4]);
});

Deno.test("initBackend switches between cpu and wasm", async () => {
  const cpu = await initBackend("cpu");
  assert.equal(tf.getBackend(), "cpu");
  assert.deepEqual(cpu, { backend: "cpu", simd: false, threads: 1, customKernels: [] });
  await initBackend("wasm");
  assert.equal(tf.getBackend(), "wasm");
  assert.equal(backendInfo()?.backend, "wasm");
});
