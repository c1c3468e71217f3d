/**
 * Sum and Mean over leading axes (e.g. per-channel statistics of NHWC activations) for the wasm
 * backend, computed with average pooling.
 *
 * The stock wasm reductions only reduce innermost axes, so reducing [N, H, W] of an NHWC tensor
 * first transposes the whole tensor (tens of ms for a CIFAR activation). XNNPACK's average pooling
 * reduces along H of an NHWC view [1, A, 1, R] in one streaming pass. Two stages of at most
 * {@link MAX_WINDOW} rows keep float32 accumulation error near that of a pairwise sum.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

/** Largest pooling window of one stage. */
export const MAX_WINDOW = 1024;

/** Largest divisor of `n` that is at most `limit` (n itself if only 1 qualifies). */
function window(n: number, limit: number): number {
  for (let w = Math.min(n, limit); w > 1; w--) if (n % w === 0) return w;
  return n;
}

/** Mean over the first `lead` axes of float32 `x`: shape x.shape.slice(lead). */
export function leadingMean(x: tf.Tensor, lead: number): tf.Tensor {
  return tf.tidy(() => {
    const rest = x.shape.slice(lead);
    const r = rest.reduce((a, b) => a * b, 1);
    let rows = x.size / r;
    let t = tf.reshape(x, [1, rows, 1, r]) as tf.Tensor4D;
    while (rows > 1) {
      const w = window(rows, MAX_WINDOW);
      t = tf.avgPool(t, [w, 1], [w, 1], "valid");
      rows /= w;
    }
    return tf.reshape(t, rest);
  });
}

/** Number of leading axes reduced, or 0 when `axes` are not a strict leading prefix. */
function leadingPrefix(axis: number | number[], shape: number[]): number {
  const axes = tf.util.parseAxisParam(axis, shape).sort((a, b) => a - b);
  const isPrefix = axes.every((a, i) => a === i);
  return isPrefix && axes.length < shape.length ? axes.length : 0;
}

function reduceOverride(kernelName: "Sum" | "Mean"): KernelOverride {
  return {
    kernelName,
    make: (stock) => (args) => {
      const x = args.inputs.x as tf.Tensor;
      const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
      const lead = x.dtype === "float32" && x.size > 0 ? leadingPrefix(axis, x.shape) : 0;
      if (lead === 0) return stock(args);
      return tf.tidy(() => {
        const mean = leadingMean(x, lead);
        const count = x.size / mean.size;
        const out = kernelName === "Sum" ? tf.mul(mean, tf.scalar(count)) : mean;
        return keepDims ? tf.reshape(out, [...x.shape.slice(0, lead).map(() => 1), ...out.shape]) : out;
      });
    },
  };
}

/** Sum over leading axes via average pooling; other reductions keep the stock kernel. */
export const sumOverride: KernelOverride = reduceOverride("Sum");
/** Mean over leading axes via average pooling; other reductions keep the stock kernel. */
export const meanOverride: KernelOverride = reduceOverride("Mean");
