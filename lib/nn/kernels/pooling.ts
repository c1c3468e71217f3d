/**
 * AvgPoolGrad for non-overlapping windows (window = stride, "valid", sizes divisible): the input
 * gradient is dy spread evenly over each window, one broadcast multiply. The stock wasm kernel
 * takes ~10x longer; other geometries keep it.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: "valid" | "same" | number;
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** AvgPoolGrad with a fast path for tiling windows. */
export const avgPoolGradOverride: KernelOverride = {
  kernelName: "AvgPoolGrad",
  make: (stock) => (args) => {
    const { dy, input } = args.inputs as { dy: tf.Tensor4D; input: tf.Tensor4D };
    const a = args.attrs as unknown as PoolAttrs;
    const info = tf.backend_util.computePool2DInfo(
      input.shape,
      a.filterSize,
      a.strides,
      1,
      a.pad,
      a.dimRoundingMode,
    );
    const { top, bottom, left, right } = info.padInfo;
    const fh = info.filterHeight, fw = info.filterWidth;
    const tiles = fh === info.strideHeight && fw === info.strideWidth &&
      top + bottom + left + right === 0 &&
      info.outHeight * fh === info.inHeight && info.outWidth * fw === info.inWidth;
    if (!tiles || dy.dtype !== "float32") return stock(args);
    return tf.tidy(() => {
      const [n, oh, ow, c] = dy.shape;
      const spread = tf.mul(
        tf.reshape(dy, [n, oh, 1, ow, 1, c]),
        tf.fill([1, 1, fh, 1, fw, 1], 1 / (fh * fw)),
      );
      return tf.reshape(spread, input.shape);
    });
  },
};
