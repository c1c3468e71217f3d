/**
 * Linear layers (convolution, dense) in plain float64 loops: the one kernel of the float
 * reference (fold.ts) and of the fixed-point reference (lib/mpc/quantize.ts), which runs it on
 * signed integers held in doubles. Unlike the field kernel the server runs online (`plainLinear`
 * in lib/mpc/he/plain.ts, exact mod p), it keeps the true signed sums, so the fixed-point
 * reference can tell when a value would wrap mod p.
 *
 * A dense layer is a 1x1 convolution of a 1x1xIn input, so one kernel serves both. Layout as in
 * fold.ts: kernel [kh, kw, cin, cout] row-major, activations HWC, TensorFlow's padding
 * (`paddingBefore` in graph.ts).
 *
 * Exactness on integers: a double holds integers up to 2^53 exactly, so the sums are exact when
 * max|x| x (largest per-output sum of |w|) + max|b| stays below 2^53 (the caller's check).
 *
 * @module
 */

import { type Op, paddingBefore, type Shape } from "./graph.ts";

/** The geometry of one linear layer (no weights). */
export interface LinearGeometry {
  /** Input shape (HWC); a dense layer's is [1, 1, inputs]. */
  readonly inShape: Shape;
  /** Output shape (HWC); a dense layer's is [1, 1, units]. */
  readonly outShape: Shape;
  /** Square kernel size (1 for dense). */
  readonly kernel: number;
  readonly stride: number;
  readonly padding: "same" | "valid";
}

/** The geometry of a conv or dense op, from the graph's shapes. */
export function linearGeometry(op: Op, shapes: ReadonlyMap<string, Shape>): LinearGeometry {
  const inShape = shapes.get(op.inputs[0])!;
  const outShape = shapes.get(op.id)!;
  if (op.kind === "conv") {
    return { inShape, outShape, kernel: op.kernel, stride: op.stride, padding: op.padding };
  }
  if (op.kind === "dense") {
    return {
      inShape: [1, 1, inShape[0] * inShape[1] * inShape[2]],
      outShape,
      kernel: 1,
      stride: 1,
      padding: "valid",
    };
  }
  throw new Error(`op '${op.id}' (${op.kind}) is not a linear layer`);
}

/**
 * y = x * W, accumulated into `out` (which must hold the bias or zeros). Plain loops; exact for
 * integer operands while every partial sum stays below 2^53 (the caller's check). Zero inputs
 * are skipped (adding 0 changes no sum), which makes the references fast after ReLUs.
 */
export function convAccumulate(
  x: Float64Array,
  weights: Float64Array | Float32Array,
  g: LinearGeometry,
  out: Float64Array,
): void {
  const [h, w, cin] = g.inShape;
  const [oh, ow, cout] = g.outShape;
  const k = g.kernel;
  if (x.length !== h * w * cin) {
    throw new RangeError(`linear: input has ${x.length} values, expected ${h * w * cin}`);
  }
  if (weights.length !== k * k * cin * cout) {
    throw new RangeError(`linear: kernel has ${weights.length} values, expected ${k * k * cin * cout}`);
  }
  if (out.length !== oh * ow * cout) {
    throw new RangeError(`linear: output has ${out.length} values, expected ${oh * ow * cout}`);
  }
  const top = paddingBefore(h, k, g.stride, g.padding);
  const left = paddingBefore(w, k, g.stride, g.padding);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const o = (oy * ow + ox) * cout;
      for (let ky = 0; ky < k; ky++) {
        const iy = oy * g.stride + ky - top;
        if (iy < 0 || iy >= h) continue;
        for (let kx = 0; kx < k; kx++) {
          const ix = ox * g.stride + kx - left;
          if (ix < 0 || ix >= w) continue;
          const xBase = (iy * w + ix) * cin;
          const wBase = (ky * k + kx) * cin * cout;
          for (let ci = 0; ci < cin; ci++) {
            const v = x[xBase + ci];
            if (v === 0) continue;
            const wb = wBase + ci * cout;
            for (let c = 0; c < cout; c++) out[o + c] += v * weights[wb + c];
          }
        }
      }
    }
  }
}

/** Per output channel, the sum of |w| over its filter; the max bounds |y| / max|x|. */
export function maxFilterL1(weights: Float64Array, cout: number): number {
  const sums = new Float64Array(cout);
  for (let i = 0; i < weights.length; i++) sums[i % cout] += Math.abs(weights[i]);
  return sums.reduce((a, b) => Math.max(a, b), 0);
}

/**
 * Sums pooling windows of `size` (average pooling without the division), HWC. With `modulus`,
 * the inputs must lie in [0, modulus) and every partial sum is reduced into it (exact mod p on
 * the protocol's shares); without, the sums are plain (exact for integers below 2^53).
 */
export function sumPool(
  x: ArrayLike<number>,
  inShape: Shape,
  size: readonly [number, number],
  modulus = Infinity,
): Float64Array {
  const [h, w, c] = inShape;
  const [sh, sw] = size;
  const oh = h / sh, ow = w / sw;
  const y = new Float64Array(oh * ow * c);
  for (let oy = 0; oy < oh; oy++) {
    for (let ox = 0; ox < ow; ox++) {
      const o = (oy * ow + ox) * c;
      for (let dy = 0; dy < sh; dy++) {
        for (let dx = 0; dx < sw; dx++) {
          const i = ((oy * sh + dy) * w + ox * sw + dx) * c;
          for (let ch = 0; ch < c; ch++) {
            const s = y[o + ch] + x[i + ch];
            y[o + ch] = s >= modulus ? s - modulus : s;
          }
        }
      }
    }
  }
  return y;
}
