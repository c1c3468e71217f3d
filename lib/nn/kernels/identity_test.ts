import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { initBackend } from "../backend.ts";

interface RefCounts {
  refCount(dataId: tf.DataId): number;
}

Deno.test("Identity on wasm shares the buffer and keeps it alive until the last holder is disposed", async () => {
  await initBackend("wasm");
  const backend = tf.backend() as unknown as RefCounts;
  const x = tf.tensor([1, 2, 3]);
  const y = tf.clone(x);
  assert.equal(y.dataId, x.dataId);
  assert.equal(backend.refCount(x.dataId), 2);
  x.dispose();
  assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
  y.dispose();
  assert.equal(backend.refCount(y.dataId), 0);
});

Deno.test("Cast on wasm shares same-dtype buffers and converts other dtypes", async () => {
  await initBackend("wasm");
  const x = tf.tensor([1.5, -2.5, 3]);
  const same = tf.cast(x, "float32");
  assert.equal(same.dataId, x.dataId);
  const asInt = tf.cast(x, "int32");
  assert.equal(asInt.dtype, "int32");
  assert.deepEqual(Array.from(await asInt.data()), [1, -2, 3]);
  const asBool = tf.cast(tf.tensor([0, 2]), "bool");
  assert.deepEqual(Array.from(await asBool.data()), [0, 1]);
  tf.dispose([x, same, asInt, asBool]);
});

Deno.test("tensors saved for backprop stay valid after their producers are disposed", async () => {
  await initBackend("wasm");
  const before = tf.memory().numTensors;
  const x = tf.tensor([[1, -2], [3, 4]]);
  const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.relu(a), a)))(x);
  assert.deepEqual(Array.from(await g.data()), [2, 0, 6, 8]);
  tf.dispose([x, g]);
  assert.equal(tf.memory().numTensors, before);
});
