/**
 * Test helpers shared by the kernel tests: run the same computation on the wasm backend (with the
 * project's kernels) and on the cpu reference backend, and compare the results.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { AssertionError } from "node:assert/strict";
import { type BackendName, initBackend } from "../backend.ts";

/** Deterministic uniform values in [-1, 1) (a linear congruential generator keyed by `seed`). */
export function randomValues(size: number, seed: number): Float32Array {
  const out = new Float32Array(size);
  let s = (seed * 2654435761) >>> 0;
  for (let i = 0; i < size; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A tensor of {@link randomValues}. */
export function randomTensor(shape: number[], seed: number): tf.Tensor {
  return tf.tensor(randomValues(shape.reduce((a, b) => a * b, 1), seed), shape);
}

/**
 * Runs `fn` on `backend` inside tf.tidy and returns its outputs as plain arrays (with shapes),
 * so that results from different backends can be compared.
 */
export async function runOn(
  backend: BackendName,
  fn: () => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; values: Float32Array }[]> {
  await initBackend(backend);
  const outs = tf.tidy(() => {
    const r = fn();
    return Array.isArray(r) ? r : [r];
  });
  const result = [];
  for (const t of outs) {
    result.push({ shape: t.shape, values: Float32Array.from(await t.data()) });
    t.dispose();
  }
  return result;
}

/** Largest |a - b| over largest |b| (0 when b is all zero and a equals it). */
export function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** Runs `fn` on wasm and on cpu and asserts every output agrees within `tolerance` (relative). */
export async function assertMatchesCpu(
  fn: () => tf.Tensor | tf.Tensor[],
  tolerance = 1e-4,
  label = "",
): Promise<void> {
  const want = await runOn("cpu", fn);
  const got = await runOn("wasm", fn);
  if (got.length !== want.length) {
    throw new AssertionError({ message: `${label}: ${got.length} outputs on wasm, ${want.length} on cpu` });
  }
  got.forEach((g, i) => {
    if (g.shape.join() !== want[i].shape.join()) {
      throw new AssertionError({
        message: `${label} output ${i}: shape ${g.shape} on wasm, ${want[i].shape} on cpu`,
      });
    }
    const err = relativeError(g.values, want[i].values);
    if (!(err <= tolerance)) {
      throw new AssertionError({ message: `${label} output ${i}: relative error ${err} > ${tolerance}` });
    }
  });
}
