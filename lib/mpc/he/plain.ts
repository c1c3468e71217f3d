/**
 * Linear layers over F_p in the clear: what the server computes online on x - r, and the
 * reference the HE tests compare against.
 *
 * Exactness without BigInt: weights are read as signed integers. When every |w| < 2^20 (always
 * true for fixed-point weights) the input element x < 2^41 is split into a 20-bit high and a
 * 21-bit low half and two double accumulators collect xl * w and xh * w, each term below 2^41,
 * so up to 2^32 / max|w| terms add exactly before a reduction mod p. Larger weights are split
 * into 20-bit halves and the layer runs twice (w = wh * 2^20 + wl).
 *
 * @module
 */

import { paddingBefore } from "../../nn/graph.ts";
import { sumPool } from "../../nn/linear.ts";
import { Fp, type PrimeField } from "../field.ts";
import { checkWeights, type LinearLayer, type LinearWeights, outputShape, shapeSize } from "./layer.ts";

const TWO20 = 2 ** 20;
const TWO21 = 2 ** 21;

/** Input geometry of one convolution (dense layers are 1x1 convolutions over a 1x1 image). */
interface ConvSpec {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly k: number;
  readonly stride: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly oh: number;
  readonly ow: number;
  readonly m: number;
}

/**
 * The layer applied to HWC input `x` (field elements), plus the bias: x * W + b over F_p.
 * Pooling layers sum their windows (see layer.ts) and take no weights.
 */
export function plainLinear(
  layer: LinearLayer,
  weights: LinearWeights | undefined,
  x: Float64Array,
  F: PrimeField = Fp,
): Float64Array {
  const { op, inputShape } = layer;
  if (x.length !== shapeSize(inputShape)) {
    throw new RangeError(`layer ${op.id}: input has ${x.length} elements, expected ${inputShape.join("x")}`);
  }
  checkWeights(layer, weights, F);
  const [oh, ow, m] = outputShape(layer);
  const [h, w, c] = inputShape;
  switch (op.kind) {
    case "avgpool":
      return sumPool(x, inputShape, [op.size, op.size], F.p);
    case "globalavgpool":
      return sumPool(x, inputShape, [h, w], F.p);
    case "dense":
      return convolve(
        { h: 1, w: 1, c: x.length, k: 1, stride: 1, padTop: 0, padLeft: 0, oh, ow, m },
        x,
        weights!,
        F,
      );
    case "conv": {
      const padTop = paddingBefore(h, op.kernel, op.stride, op.padding);
      const padLeft = paddingBefore(w, op.kernel, op.stride, op.padding);
      return convolve(
        { h, w, c, k: op.kernel, stride: op.stride, padTop, padLeft, oh, ow, m },
        x,
        weights!,
        F,
      );
    }
  }
}

function convolve(spec: ConvSpec, x: Float64Array, weights: LinearWeights, F: PrimeField): Float64Array {
  if (F.p >= 2 ** 41) throw new RangeError(`plainLinear: needs p < 2^41 (21-bit halves), got ${F.p}`);
  const signed = F.toSignedVec(weights.kernel);
  let maxAbs = 0;
  for (const v of signed) maxAbs = Math.max(maxAbs, Math.abs(v));
  let out: Float64Array;
  if (maxAbs < TWO20) {
    out = convolveSmall(spec, x, signed, maxAbs, F);
  } else {
    const lo = new Float64Array(signed.length), hi = new Float64Array(signed.length);
    for (let i = 0; i < signed.length; i++) {
      lo[i] = ((signed[i] % TWO20) + TWO20) % TWO20;
      hi[i] = (signed[i] - lo[i]) / TWO20;
    }
    const a = convolveSmall(spec, x, lo, TWO20, F), b = convolveSmall(spec, x, hi, TWO20, F);
    out = F.addVec(a, F.scaleVec(b, TWO20 % F.p));
  }
  if (weights.bias) {
    const m = spec.m;
    for (let i = 0; i < out.length; i++) out[i] = F.add(out[i], weights.bias[i % m]);
  }
  return out;
}

/** The convolution for signed weights with |w| <= maxAbs <= 2^20, exact (see module comment). */
function convolveSmall(spec: ConvSpec, x: Float64Array, w: Float64Array, maxAbs: number, F: PrimeField) {
  const { h, w: width, c, k, stride, padTop, padLeft, oh, ow, m } = spec;
  // Terms each below 2^21 * maxAbs; a chunk adds below 2^52 to a reduced (< 2^41) accumulator.
  const chunk = Math.max(1, Math.floor(2 ** 31 / Math.max(1, maxAbs)));
  const accL = new Float64Array(m), accH = new Float64Array(m);
  const out = new Float64Array(oh * ow * m);
  const two21 = TWO21 % F.p;
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      accL.fill(0);
      accH.fill(0);
      let terms = 0;
      for (let ky = 0; ky < k; ky++) {
        const iy = oy * stride + ky - padTop;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < k; kx++) {
          const ix = ox * stride + kx - padLeft;
          if (ix < 0 || ix >= width) continue;
          const xBase = (iy * width + ix) * c, wBase = (ky * k + kx) * c * m;
          for (let ci = 0; ci < c; ci++) {
            const xv = x[xBase + ci];
            const xh = Math.floor(xv / TWO21), xl = xv - xh * TWO21;
            const wo = wBase + ci * m;
            for (let o = 0; o < m; o++) {
              const wv = w[wo + o];
              accL[o] += xl * wv;
              accH[o] += xh * wv;
            }
            if (++terms === chunk) {
              for (let o = 0; o < m; o++) {
                accL[o] = F.reduce(accL[o]);
                accH[o] = F.reduce(accH[o]);
              }
              terms = 0;
            }
          }
        }
      }
      const base = (oy * ow + ox) * m;
      for (let o = 0; o < m; o++) out[base + o] = F.add(F.mul(F.reduce(accH[o]), two21), F.reduce(accL[o]));
    }
  }
  return out;
}
