/**
 * BatchMatMul with transposed operands on the fast path. The wasm backend hands only
 * untransposed single-batch products to XNNPACK; a transposed operand (every dense layer's
 * gradient: dy * W^T and x^T * dy) takes a naive triple loop, ~20x slower. Transposing the
 * operand first and running the fast path is exact.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

/** BatchMatMul that transposes single-batch float32 operands explicitly; else the stock kernel. */
export const batchMatMulOverride: KernelOverride = {
  kernelName: "BatchMatMul",
  make: (stock) => (args) => {
    const { a, b } = args.inputs as { a: tf.Tensor; b: tf.Tensor };
    const { transposeA, transposeB } = args.attrs as unknown as { transposeA: boolean; transposeB: boolean };
    // One matrix each: rank 2, or rank 3 with a batch of 1.
    const single = (t: tf.Tensor) => t.rank === 2 || (t.rank === 3 && t.shape[0] === 1);
    const simple = single(a) && single(b) && a.dtype === "float32" && b.dtype === "float32";
    if (!simple || !(transposeA || transposeB)) return stock(args);
    return tf.tidy(() => {
      const flip = (t: tf.Tensor) => tf.transpose(t, t.rank === 2 ? [1, 0] : [0, 2, 1]);
      const a2 = transposeA ? flip(a) : a;
      const b2 = transposeB ? flip(b) : b;
      return stock({
        ...args,
        inputs: { a: a2, b: b2 },
        attrs: { ...args.attrs, transposeA: false, transposeB: false },
      }) as tf.Tensor;
    });
  },
};
