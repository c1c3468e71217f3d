/**
 * Convolution gradients for the wasm backend, written as forward convolutions so that they run on
 * the backend's fast (XNNPACK) Conv2D instead of its slow or missing backprop kernels.
 *
 * For a forward convolution y = conv(x, w) with stride s and padding (top, left):
 *
 * - input gradient: dx = conv(dilate_s(dy), rot180(w) with in/out channels swapped), stride 1,
 *   padding (K-1-top) before and whatever makes the output exactly the input size after;
 * - filter gradient: dw = conv(x with batch and channel axes swapped, dy as a filter with
 *   dilation s), whose output [Ci, K, K, Co] is transposed back to [K, K, Ci, Co].
 *
 * Both formulations are exact for every padding ("same", "valid", explicit) and stride, including
 * TensorFlow's asymmetric "same" padding with stride 2 (extra pad at bottom/right).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** Attributes shared by the two backprop kernels (the forward convolution's parameters). */
interface BackpropAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
}

/** The forward convolution's geometry; rejects what the formulations below do not cover. */
function forwardInfo(
  xShape: number[],
  filterShape: number[],
  attrs: BackpropAttrs,
  kernel: string,
): Conv2DInfo {
  if (attrs.dataFormat !== "NHWC") {
    throw new Error(`${kernel}: only dataFormat 'NHWC' is supported, got '${attrs.dataFormat}'`);
  }
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

/**
 * Inserts s-1 zeros after every element along H and W: [N, OH, OW, C] -> [N, OH*sh, OW*sw, C].
 * The trailing zeros after the last row/column are kept; callers account for them.
 */
function dilate(dy: tf.Tensor4D, sh: number, sw: number): tf.Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, c]), [
    [0, 0],
    [0, 0],
    [0, sh - 1],
    [0, 0],
    [0, sw - 1],
    [0, 0],
  ]);
  return tf.reshape(spread, [n, oh * sh, ow * sw, c]);
}

/**
 * Crops `t` along H and W so that its padded extents are non-negative: a negative "after" padding
 * means the forward convolution never read those trailing rows/columns.
 */
function cropNegative(t: tf.Tensor4D, padBottom: number, padRight: number): tf.Tensor4D {
  if (padBottom >= 0 && padRight >= 0) return t;
  const [n, h, w, c] = t.shape;
  return tf.slice(t, [0, 0, 0, 0], [n, h + Math.min(padBottom, 0), w + Math.min(padRight, 0), c]);
}

/**
 * [N, H, W, C] -> [C, H, W, N]. Two cheap transposes (a 2-D one, then swapping the two outer axes
 * of [H*W, C, N]) beat the wasm backend's general 4-D transpose by ~2x.
 */
function swapBatchAndChannels(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  const t = tf.transpose(tf.reshape(x, [n, h * w * c])); // [H*W*C, N]
  return tf.reshape(tf.transpose(tf.reshape(t, [h * w, c, n]), [1, 0, 2]), [c, h, w, n]);
}

/** dx of a forward conv with geometry `info`, from dy [N, OH, OW, Co] and filter [K, K, Ci, Co]. */
export function conv2dInputGrad(dy: tf.Tensor4D, filter: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
    const { top, left } = info.padInfo;
    const spread = dilate(dy, sh, sw);
    // Rows of dx reach dilated-dy rows [ih + top - (kh-1), ih + top]; the dilated tensor has
    // OH*sh rows, so the "after" padding is what remains up to H-1+top.
    const padTop = kh - 1 - top;
    const padLeft = kw - 1 - left;
    const padBottom = info.inHeight + top - info.outHeight * sh;
    const padRight = info.inWidth + left - info.outWidth * sw;
    const cropped = cropNegative(spread, padBottom, padRight);
    const rotated = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]);
    return tf.conv2d(cropped, rotated as tf.Tensor4D, 1, [
      [0, 0],
      [padTop, Math.max(padBottom, 0)],
      [padLeft, Math.max(padRight, 0)],
      [0, 0],
    ]);
  });
}

/** dw of a forward conv with geometry `info`, from x [N, H, W, Ci] and dy [N, OH, OW, Co]. */
export function conv2dFilterGrad(x: tf.Tensor4D, dy: tf.Tensor4D, info: Conv2DInfo): tf.Tensor4D {
  return tf.tidy(() => {
    const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
    const { top, left } = info.padInfo;
    // Output row kh' reads x rows kh' + oh*sh - top for oh < OH; the last one read is
    // kh-1 + (OH-1)*sh - top, which fixes the "after" padding (negative: rows never read).
    const padBottom = kh - 1 + (info.outHeight - 1) * sh - top - (info.inHeight - 1);
    const padRight = kw - 1 + (info.outWidth - 1) * sw - left - (info.inWidth - 1);
    const xc = cropNegative(x, padBottom, padRight);
    const xT = swapBatchAndChannels(xc); // [Ci, H, W, N]: channels become the batch
    const dyT = tf.transpose(dy, [1, 2, 0, 3]); // [OH, OW, N, Co]: dy becomes the filter
    const out = tf.conv2d(
      xT,
      dyT as tf.Tensor4D,
      1,
      [[0, 0], [top, Math.max(padBottom, 0)], [left, Math.max(padRight, 0)], [0, 0]],
      "NHWC",
      [sh, sw],
    );
    return tf.transpose(out, [1, 2, 0, 3]); // [K, K, Ci, Co]
  });
}

/** Conv2DBackpropInput kernel: inputs {dy, filter}, attrs include the forward input's shape. */
function backpropInputKernel({ inputs, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { dy, filter } = inputs as { dy: tf.Tensor4D; filter: tf.Tensor4D };
  const a = attrs as unknown as BackpropAttrs & { inputShape: number[] };
  const info = forwardInfo(a.inputShape, filter.shape, a, tf.Conv2DBackpropInput);
  return conv2dInputGrad(dy, filter, info);
}

/** Conv2DBackpropFilter kernel: inputs {x, dy}, attrs include the filter's shape. */
function backpropFilterKernel({ inputs, attrs }: Parameters<tf.KernelFunc>[0]): tf.TensorInfo {
  const { x, dy } = inputs as { x: tf.Tensor4D; dy: tf.Tensor4D };
  const a = attrs as unknown as BackpropAttrs & { filterShape: number[] };
  const info = forwardInfo(x.shape, a.filterShape, a, tf.Conv2DBackpropFilter);
  return conv2dFilterGrad(x, dy, info);
}

/** Conv2DBackpropInput and Conv2DBackpropFilter as forward convolutions (the backend's Conv2D). */
export const conv2dGradOverrides: readonly KernelOverride[] = [
  { kernelName: tf.Conv2DBackpropInput, make: () => backpropInputKernel },
  { kernelName: tf.Conv2DBackpropFilter, make: () => backpropFilterKernel },
];
