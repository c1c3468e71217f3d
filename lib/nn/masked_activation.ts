/**
 * SAFENet's channel-wise masked activation (paper eq. 2-3) as a TensorFlow.js layer.
 *
 * At one activation site with C channels, a ratio alpha and a degree beta, the floor(alpha x C)
 * least important channels are *approximated*: they output a polynomial of degree beta
 * (beta = 0 prunes them to a constant). The other channels keep ReLU.
 *
 * Channel importance is the L1 norm of the producing layer's weights for that output channel
 * (conv: the filter; dense: the unit's weight column). Ties are broken by channel index: among
 * equally important channels the lower index counts as less important, so it is approximated
 * first. (Eq. 3 as printed keeps ReLU where `imp_order >= n(1 - alpha)`, which would approximate
 * a (1 - alpha) share; the paper's text, Algorithm 1 and the design brief all say alpha is the
 * approximated share, and that is what is implemented.)
 *
 * Coefficients are per channel. The paper reads as one polynomial per layer, but a per-channel
 * polynomial costs the two-party protocol nothing more (the coefficients are multiplied
 * element-wise either way; the Beaver triples are per neuron), contains the per-layer polynomial
 * as a special case, and lets calibration fit each channel's own input distribution.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import {
  approximatedChannels,
  checkAlpha,
  checkDegree,
  defaultCoefficients,
  type Degree,
  fitReluPerChannel,
  MAX_DEGREE,
} from "./approximation.ts";
import { maskedNative, MAX_NATIVE_CHANNELS } from "./native/masked.ts";
import { registerViewKernels, withViews } from "./kernels/views.ts";

type LayerArgs = NonNullable<ConstructorParameters<typeof tfl.layers.Layer>[0]>;

/** Name of the fused forward kernel (registered for the cpu and wasm backends). */
export const MASKED_ACTIVATION_KERNEL = "SafenetMaskedActivation";
/** Name of its fused gradient kernel: outputs dx and the coefficients' gradient. */
export const MASKED_ACTIVATION_GRAD_KERNEL = "SafenetMaskedActivationGrad";
/** Name of ReLU's one-pass input gradient (for sites without approximated channels). */
export const RELU_GRAD_KERNEL = "SafenetReluGrad";

/**
 * Per-channel coefficient rows a_k = coefficients[k] x mask (zero for ReLU channels, and above the
 * degree) and keep = 1 - mask, so one branch-free loop serves every channel.
 */
function channelTables(coefficients: Float32Array, mask: Float32Array, degree: number) {
  const channels = mask.length;
  const a = Array.from({ length: MAX_DEGREE + 1 }, (_, k) => {
    const row = new Float64Array(channels);
    if (k <= degree) { for (let c = 0; c < channels; c++) row[c] = coefficients[k * channels + c] * mask[c]; }
    return row;
  });
  const keep = Float64Array.from(mask, (m) => 1 - m);
  const halfKeep = keep.map((k) => k / 2);
  return { a, keep, halfKeep, channels };
}

/** The C kernels (native/masked.ts) where they can run this site, else null: the loops below. */
function nativeFor(channels: number) {
  return channels <= MAX_NATIVE_CHANNELS ? maskedNative() : null;
}

/** Float32 rows laid end to end, the table layout of the C kernels. */
function rows(...xs: Float64Array[]): Float32Array {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let at = 0;
  for (const x of xs) {
    out.set(x, at);
    at += x.length;
  }
  return out;
}

/** y = keep x relu(x) + a0 + a1 x + a2 x^2 + a3 x^3 per channel, in one pass. */
const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, coefficients, mask } = inputs as Record<string, tf.TensorInfo>;
  const degree = (attrs as unknown as { degree: number }).degree;
  return withViews(backend, [x, coefficients, mask], [x.shape], ([xs, co, m], [y]) => {
    const { a: [a0, a1, a2, a3], halfKeep, channels } = channelTables(co, m, degree);
    const native = nativeFor(channels);
    if (native) return native.forward(xs, y, channels, rows(a0, a1, a2, a3, halfKeep));
    for (let base = 0; base < xs.length; base += channels) {
      for (let c = 0; c < channels; c++) {
        const v = xs[base + c];
        // relu(v) = (v + |v|) / 2 compiles branch-free; `v > 0 ? v : 0` and Math.max were 4x slower
        // on random signs (mispredicted branches).
        y[base + c] = halfKeep[c] * (v + Math.abs(v)) + (((a3[c] * v + a2[c]) * v + a1[c]) * v + a0[c]);
      }
    }
  })[0];
};

/**
 * dx = dy (keep x [x > 0] + p'(x)) and dcoefficients[k][c] = mask[c] x sum dy x^k (float64 sums),
 * in one pass.
 */
const gradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy, coefficients, mask } = inputs as Record<string, tf.TensorInfo>;
  const degree = (attrs as unknown as { degree: number }).degree;
  return withViews(
    backend,
    [x, dy, coefficients, mask],
    [x.shape, coefficients.shape],
    ([xs, gs, co, m], [dx, dco]) => {
      const { a: [, a1, a2, a3], keep, channels } = channelTables(co, m, degree);
      const sums = new Float64Array((MAX_DEGREE + 1) * channels);
      const native = nativeFor(channels);
      if (native) {
        native.grad(xs, gs, dx, sums, channels, rows(a1, a2, a3, keep));
      } else {
        for (let base = 0; base < xs.length; base += channels) {
          for (let c = 0; c < channels; c++) {
            const v = xs[base + c];
            const g = gs[base + c];
            // +(v > 0) is a branch-free step function (a ternary mispredicts on random signs).
            dx[base + c] = g * (keep[c] * +(v > 0) + ((3 * a3[c] * v + 2 * a2[c]) * v + a1[c]));
            const gv = g * v;
            sums[c] += g;
            sums[channels + c] += gv;
            sums[2 * channels + c] += gv * v;
            sums[3 * channels + c] += gv * v * v;
          }
        }
      }
      for (let k = 0; k <= MAX_DEGREE; k++) {
        for (let c = 0; c < channels; c++) {
          dco[k * channels + c] = k <= degree ? sums[k * channels + c] * m[c] : 0;
        }
      }
    },
  );
};

/** dx = dy step(x) in one C pass ({@link relu} calls it only where the C kernels run). */
const reluGradKernel: tf.KernelFunc = ({ inputs, backend }) => {
  const { x, dy } = inputs as Record<string, tf.TensorInfo>;
  return withViews(backend, [x, dy], [x.shape], ([xs, gs], [dx]) => maskedNative()!.reluGrad(xs, gs, dx))[0];
};

registerViewKernels({
  [MASKED_ACTIVATION_KERNEL]: forwardKernel,
  [MASKED_ACTIVATION_GRAD_KERNEL]: gradKernel,
  [RELU_GRAD_KERNEL]: reluGradKernel,
});

/** tf.relu whose gradient is {@link RELU_GRAD_KERNEL}'s one pass. */
const reluOneGradientPass = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [x, save] = args as [tf.Tensor, tf.GradSaveFunc];
  save([x]);
  return {
    value: tf.relu(x),
    gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
      tf.engine().runKernel(RELU_GRAD_KERNEL, { x: saved, dy }) as tf.Tensor,
  };
});

/**
 * relu(x). Where the C kernels run (cpu and wasm backends, float32), its gradient takes one pass
 * instead of tfjs' two (Step, then Multiply: ~5% of a ResNet-32 training step), with the same
 * values bit for bit.
 */
export function relu(x: tf.Tensor): tf.Tensor {
  const fused = x.dtype === "float32" && maskedNative() !== null &&
    tf.getKernel(RELU_GRAD_KERNEL, tf.getBackend()) !== undefined;
  return fused ? reluOneGradientPass(x) : tf.relu(x);
}

/**
 * The masked activation as tensor maths: relu(x) x (1 - mask) + poly(x) with coefficients
 * ([MAX_DEGREE + 1, C], row k for x^k) masked per channel. It runs as one fused kernel pass each
 * way on the cpu and wasm backends (the tfjs-op version would take ~9 passes forward and ~16
 * back) and falls back to tfjs ops elsewhere, or when `fused` is false (a reference for tests).
 */
export function maskedActivation(
  x: tf.Tensor,
  coefficients: tf.Tensor2D,
  mask: tf.Tensor1D,
  degree: Degree,
  fused = tf.getKernel(MASKED_ACTIVATION_KERNEL, tf.getBackend()) !== undefined && x.dtype === "float32",
): tf.Tensor {
  if (!fused) return maskedActivationOps(x, coefficients, mask, degree);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, co, m, save] = args as [tf.Tensor, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xIn, co, m]);
    const attrs = { degree } as unknown as tf.NamedAttrMap;
    return {
      value: tf.engine().runKernel(
        MASKED_ACTIVATION_KERNEL,
        { x: xIn, coefficients: co, mask: m },
        attrs,
      ) as tf.Tensor,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, cs, ms] = saved;
        const grads = tf.engine().runKernel(
          MASKED_ACTIVATION_GRAD_KERNEL,
          { x: xs, dy, coefficients: cs, mask: ms },
          attrs,
        ) as tf.Tensor[];
        return [grads[0], grads[1], tf.zerosLike(ms)];
      },
    };
  });
  return op(x, coefficients, mask);
}

function maskedActivationOps(
  x: tf.Tensor,
  coefficients: tf.Tensor2D,
  mask: tf.Tensor1D,
  degree: Degree,
): tf.Tensor {
  return tf.tidy(() => {
    const channels = mask.shape[0];
    const rows = Array.from(
      { length: degree + 1 },
      (_, k) => tf.mul(tf.reshape(tf.slice(coefficients, [k, 0], [1, channels]), [channels]), mask),
    );
    let poly: tf.Tensor = rows[degree];
    for (let k = degree - 1; k >= 0; k--) poly = tf.add(tf.mul(poly, x), rows[k]);
    return tf.add(tf.mul(tf.relu(x), tf.sub(1, mask)), poly);
  });
}

/** Configuration of a {@link MaskedActivation} layer (what `getConfig` serialises). */
export interface MaskedActivationArgs extends LayerArgs {
  /** Share of channels approximated, in [0, 1]; default 0 (all ReLU). */
  alpha?: number;
  /** Degree of the approximating polynomial; default 2. */
  degree?: Degree;
}

/**
 * Masked activation layer: ReLU on kept channels, a per-channel polynomial (Horner form) on the
 * approximated ones, channel-last (NHWC or [batch, units]).
 *
 * Weights: `mask` [C] (non-trainable; 1 = approximated) and `coefficients` [MAX_DEGREE + 1, C]
 * (trainable; row k multiplies x^k; rows above the current degree are unused). The forward pass
 * is {@link maskedActivation}, one fused pass each way; sites with alpha 0 run the stock ReLU.
 * Change the plan with {@link MaskedActivation.setPlan}, not by writing the mask.
 */
export class MaskedActivation extends tfl.layers.Layer {
  /** Registered class name, used by saved models. */
  static className = "MaskedActivation";
  private alpha_: number;
  private degree_: Degree;
  private mask: tfl.LayerVariable | null = null;
  private coefficients: tfl.LayerVariable | null = null;
  private calibratePending = false;

  constructor(args: MaskedActivationArgs = {}) {
    const { alpha, degree, ...layerArgs } = args;
    super(layerArgs);
    this.alpha_ = alpha ?? 0;
    this.degree_ = degree ?? 2;
    checkAlpha(this.alpha_);
    checkDegree(this.degree_);
  }

  /** Share of channels approximated. */
  get alpha(): number {
    return this.alpha_;
  }

  /** Degree of the approximating polynomial (beta). */
  get degree(): Degree {
    return this.degree_;
  }

  /** Number of channels (the input's last axis); known once the layer is built. */
  get channels(): number {
    if (!this.mask) {
      throw new Error(`masked activation '${this.name}' is not built yet: apply it to an input first`);
    }
    return this.mask.shape[0]!;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1];
    if (channels == null) throw new Error(`masked activation '${this.name}' needs a known channel count`);
    this.mask = this.addWeight("mask", [channels], "float32", tfl.initializers.zeros(), undefined, false);
    this.coefficients = this.addWeight(
      "coefficients",
      [MAX_DEGREE + 1, channels],
      "float32",
      tfl.initializers.zeros(),
    );
    this.resetCoefficients();
    this.built = true;
  }

  /** Sets every channel's coefficients to {@link defaultCoefficients} of the current degree. */
  private resetCoefficients(): void {
    const c = defaultCoefficients(this.degree_);
    this.writeCoefficients(Array.from({ length: this.channels }, () => c));
  }

  /** Per-channel ascending coefficients (degree + 1 each). */
  getCoefficients(): number[][] {
    const rows = this.coefficients!.read().arraySync() as number[][];
    return Array.from({ length: this.channels }, (_, c) => rows.slice(0, this.degree_ + 1).map((r) => r[c]));
  }

  /** The approximation mask, 1 per approximated channel. */
  getMask(): Float32Array {
    return this.mask!.read().dataSync() as Float32Array;
  }

  /** Overwrites the coefficients of the current degree, one ascending list per channel. */
  writeCoefficients(perChannel: readonly (readonly number[])[]): void {
    const channels = this.channels;
    if (perChannel.length !== channels || perChannel.some((c) => c.length !== this.degree_ + 1)) {
      throw new Error(
        `masked activation '${this.name}': expected ${channels} lists of ${this.degree_ + 1} coefficients`,
      );
    }
    const rows = new Float32Array((MAX_DEGREE + 1) * channels);
    perChannel.forEach((coeffs, c) => coeffs.forEach((v, k) => rows[k * channels + c] = v));
    tf.tidy(() => {
      this.coefficients!.write(tf.tensor2d(rows, [MAX_DEGREE + 1, channels]));
    });
  }

  /**
   * Sets this site's alpha, degree and mask. Coefficients are kept when the degree is unchanged
   * (so trained ones survive a change of alpha) and reset to the defaults when it changes.
   */
  setPlan(alpha: number, degree: Degree, mask: Float32Array): void {
    checkAlpha(alpha);
    checkDegree(degree);
    const channels = this.channels;
    const expected = approximatedChannels(alpha, channels);
    const ones = mask.reduce((s, m) => s + m, 0);
    if (mask.length !== channels || mask.some((m) => m !== 0 && m !== 1) || ones !== expected) {
      throw new Error(
        `masked activation '${this.name}': mask must have ${channels} entries of 0/1 with ` +
          `floor(alpha x C) = ${expected} ones; got ${mask.length} entries with ${ones} ones`,
      );
    }
    this.alpha_ = alpha;
    tf.tidy(() => {
      this.mask!.write(tf.tensor1d(mask));
    });
    if (degree !== this.degree_) {
      this.degree_ = degree;
      this.resetCoefficients();
    }
  }

  /**
   * Makes the next forward pass fit this site's coefficients (per channel, least squares of
   * ReLU on the inputs it sees) before computing its output. Run the whole model once on a
   * batch in inference mode afterwards; sites fit in order, each on inputs shaped by the
   * already-fitted sites before it.
   */
  calibrateOnNextCall(): void {
    this.calibratePending = true;
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (this.calibratePending) {
      this.calibratePending = false;
      this.writeCoefficients(fitReluPerChannel(x.dataSync(), this.channels, this.degree_));
    }
    if (approximatedChannels(this.alpha_, this.channels) === 0) return relu(x);
    return maskedActivation(
      x,
      this.coefficients!.read() as tf.Tensor2D,
      this.mask!.read() as tf.Tensor1D,
      this.degree_,
    );
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), alpha: this.alpha_, degree: this.degree_ };
  }
}

tf.serialization.registerClass(MaskedActivation);
