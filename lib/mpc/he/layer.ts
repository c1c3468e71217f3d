/**
 * Linear layers as the protocol sees them: an op from lib/nn/graph.ts with its input shape,
 * the server's weights as field vectors, and the reduction of every convolution and dense layer
 * to one "stride-1 valid convolution" that the HE packing implements.
 *
 * Layouts: tensors are HWC (NHWC without the batch, as in TensorFlow.js); a conv kernel is
 * [kh][kw][cin][cout] and a dense kernel [in][units] (TensorFlow's layouts); a dense layer reads
 * its input flattened in HWC order. Weights are fixed-point field elements (fixed.ts), bias at
 * the output's scale (weight bits + input bits). Batch-norm must already be folded into the conv.
 *
 * Padding "same" follows TensorFlow: total padding max((out - 1) * stride + k - in, 0), of which
 * floor(total / 2) goes before (`outputSize` and `paddingBefore` in graph.ts).
 *
 * Pooling is public (its weights are not secret), so it needs no HE: each party applies it to its
 * own share. It is computed as a *sum* over the window, which is exact in the field; the
 * quantizer (lib/mpc/quantize.ts) folds 1/window into the next layer's weights, so no division
 * or extra truncation is needed.
 *
 * @module
 */

import {
  type AvgPoolOp,
  type ConvOp,
  type DenseOp,
  type GlobalAvgPoolOp,
  outputSize,
  paddingBefore,
  type Shape,
} from "../../nn/graph.ts";
import type { PrimeField } from "../field.ts";

/** The linear ops the protocol runs. */
export type LinearOp = ConvOp | DenseOp | AvgPoolOp | GlobalAvgPoolOp;

/** One linear layer: its op and the shape of its input (H, W, C). */
export interface LinearLayer {
  readonly op: LinearOp;
  readonly inputShape: Shape;
}

/** The server's secret parameters of a conv or dense layer, as field elements. */
export interface LinearWeights {
  /** conv: [kh][kw][cin][cout]; dense: [in][units]. */
  readonly kernel: Float64Array;
  /** One per output channel, at the output's fixed-point scale; omitted means zero. */
  readonly bias?: Float64Array;
}

/** Elements of a tensor of shape `s`. */
export function shapeSize(s: Shape): number {
  return s[0] * s[1] * s[2];
}

/** Output shape of a layer; throws naming the problem for shapes the op cannot take. */
export function outputShape(layer: LinearLayer): Shape {
  const { op, inputShape: [h, w, c] } = layer;
  switch (op.kind) {
    case "conv": {
      const oh = outputSize(h, op.kernel, op.stride, op.padding);
      const ow = outputSize(w, op.kernel, op.stride, op.padding);
      if (oh < 1 || ow < 1) {
        throw new RangeError(`layer ${op.id}: kernel ${op.kernel} does not fit ${h}x${w}`);
      }
      return [oh, ow, op.filters];
    }
    case "dense":
      return [1, 1, op.units];
    case "avgpool":
      if (h % op.size || w % op.size) {
        throw new RangeError(`layer ${op.id}: pool ${op.size} does not divide ${h}x${w}`);
      }
      return [h / op.size, w / op.size, c];
    case "globalavgpool":
      return [1, 1, c];
  }
}

/** Whether the layer has secret weights (conv, dense) and so needs HE offline. */
export function hasWeights(layer: LinearLayer): boolean {
  return layer.op.kind === "conv" || layer.op.kind === "dense";
}

/** Number of kernel entries the layer's weights must have (0 for pooling). */
export function kernelLength(layer: LinearLayer): number {
  const { op, inputShape } = layer;
  if (op.kind === "conv") return op.kernel * op.kernel * inputShape[2] * op.filters;
  if (op.kind === "dense") return shapeSize(inputShape) * op.units;
  return 0;
}

/** Checks that `weights` fit `layer` (lengths, field elements); throws naming the problem. */
export function checkWeights(layer: LinearLayer, weights: LinearWeights | undefined, F: PrimeField): void {
  if (!hasWeights(layer)) return;
  const id = layer.op.id;
  if (!weights) throw new Error(`layer ${id}: ${layer.op.kind} needs weights`);
  const want = kernelLength(layer);
  if (weights.kernel.length !== want) {
    throw new RangeError(`layer ${id}: kernel has ${weights.kernel.length} entries, expected ${want}`);
  }
  F.checkVec(weights.kernel, `layer ${id} kernel`);
  if (weights.bias) {
    const channels = outputShape(layer)[2];
    if (weights.bias.length !== channels) {
      throw new RangeError(`layer ${id}: bias has ${weights.bias.length} entries, expected ${channels}`);
    }
    F.checkVec(weights.bias, `layer ${id} bias`);
  }
}

/**
 * A stride-1 "valid" convolution: input Z of shape [channels][height][width] (channel-major),
 * kernel [outChannels][channels][kernel][kernel], output [outChannels][outHeight][outWidth]
 * (only the first outHeight x outWidth valid positions are kept).
 */
export interface ConvGeometry {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly kernel: number;
  readonly outChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
}

/** How a conv layer maps onto its stride-1 geometry: padding and the space-to-depth stride. */
interface ConvMapping {
  readonly stride: number;
  readonly kernel: number;
  readonly padTop: number;
  readonly padLeft: number;
}

function convMapping(op: ConvOp, inputShape: Shape): ConvMapping {
  return {
    stride: op.stride,
    kernel: op.kernel,
    padTop: paddingBefore(inputShape[0], op.kernel, op.stride, op.padding),
    padLeft: paddingBefore(inputShape[1], op.kernel, op.stride, op.padding),
  };
}

/**
 * The stride-1 valid convolution equivalent to a conv or dense layer. A stride-s conv becomes a
 * stride-1 conv over s^2 x cin "phase" channels (space-to-depth of the padded input) with a
 * ceil(k/s) kernel; a dense layer is a 1x1 conv over a 1x1 image with `in` channels.
 */
export function convGeometry(layer: LinearLayer): ConvGeometry {
  const { op, inputShape } = layer;
  const [oh, ow, m] = outputShape(layer);
  if (op.kind === "dense") {
    return {
      channels: shapeSize(inputShape),
      height: 1,
      width: 1,
      kernel: 1,
      outChannels: m,
      outHeight: 1,
      outWidth: 1,
    };
  }
  if (op.kind !== "conv") throw new Error(`layer ${op.id}: ${op.kind} is public and needs no HE geometry`);
  const s = op.stride, k = Math.ceil(op.kernel / s);
  return {
    channels: inputShape[2] * s * s,
    height: oh + k - 1,
    width: ow + k - 1,
    kernel: k,
    outChannels: m,
    outHeight: oh,
    outWidth: ow,
  };
}

/** The layer's HWC input rearranged as the geometry's [channels][height][width] input Z. */
export function geometryInput(layer: LinearLayer, g: ConvGeometry, x: Float64Array): Float64Array {
  const { op, inputShape: [h, w, c] } = layer;
  if (op.kind === "dense") return x.slice();
  if (op.kind !== "conv") throw new Error(`layer ${op.id}: no geometry input for ${op.kind}`);
  const { stride: s, padTop, padLeft } = convMapping(op, layer.inputShape);
  const z = new Float64Array(g.channels * g.height * g.width);
  for (let ci = 0; ci < c; ci++) {
    for (let a = 0; a < s; a++) {
      for (let b = 0; b < s; b++) {
        const zc = (ci * s + a) * s + b;
        for (let u = 0; u < g.height; u++) {
          const y = s * u + a - padTop;
          if (y < 0 || y >= h) continue;
          for (let v = 0; v < g.width; v++) {
            const xx = s * v + b - padLeft;
            if (xx < 0 || xx >= w) continue;
            z[(zc * g.height + u) * g.width + v] = x[(y * w + xx) * c + ci];
          }
        }
      }
    }
  }
  return z;
}

/** The layer's kernel rearranged as the geometry's [outChannels][channels][k][k] kernel. */
export function geometryKernel(layer: LinearLayer, g: ConvGeometry, kernel: Float64Array): Float64Array {
  const { op, inputShape } = layer;
  const m = g.outChannels;
  const out = new Float64Array(m * g.channels * g.kernel * g.kernel);
  if (op.kind === "dense") {
    for (let i = 0; i < g.channels; i++) {
      for (let o = 0; o < m; o++) out[o * g.channels + i] = kernel[i * m + o];
    }
    return out;
  }
  if (op.kind !== "conv") throw new Error(`layer ${op.id}: no geometry kernel for ${op.kind}`);
  const s = op.stride, kk = op.kernel, c = inputShape[2], k = g.kernel;
  for (let o = 0; o < m; o++) {
    for (let ci = 0; ci < c; ci++) {
      for (let a = 0; a < s; a++) {
        for (let b = 0; b < s; b++) {
          const zc = (ci * s + a) * s + b;
          for (let i = 0; i < k; i++) {
            const ky = s * i + a;
            if (ky >= kk) continue;
            for (let j = 0; j < k; j++) {
              const kx = s * j + b;
              if (kx >= kk) continue;
              out[((o * g.channels + zc) * k + i) * k + j] = kernel[((ky * kk + kx) * c + ci) * m + o];
            }
          }
        }
      }
    }
  }
  return out;
}
