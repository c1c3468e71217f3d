/**
 * Batch normalisation for the wasm backend: a faster FusedBatchNorm kernel and a training-mode op
 * with a closed-form gradient.
 *
 * Applying y = x * s + b per channel is a 1x1 depthwise convolution with bias, which XNNPACK runs
 * in one pass (optionally with the ReLU fused); the stock wasm FusedBatchNorm is ~4x slower.
 * Differentiating tf.moments + tf.batchNorm through tfjs' tape costs a dozen full-size tensors
 * per layer (tiles, broadcasts); the closed form needs two per-channel reductions and three
 * elementwise passes, and on the cpu and wasm backends runs as two C kernels of two passes each
 * (native/batch_norm.ts) where they can be built.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";
import { registerViewKernels, withViews } from "./views.ts";
import { batchNormNative, MAX_NATIVE_BN_CHANNELS } from "../native/batch_norm.ts";

/**
 * y = x * scale + shift per channel (last axis), with an optional fused ReLU. Meant for use
 * inside kernels and custom gradients: differentiating it directly on wasm would need the
 * depthwise-convolution backprop kernels, which the wasm backend lacks.
 */
export function channelAffine(
  x: tf.Tensor,
  scale: tf.Tensor1D,
  shift: tf.Tensor1D,
  activation: "linear" | "relu" = "linear",
): tf.Tensor {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const x4 = (x.rank === 4 ? x : tf.reshape(x, [1, 1, x.size / c, c])) as tf.Tensor4D;
    const y = tf.fused.depthwiseConv2d({
      x: x4,
      filter: tf.reshape(scale, [1, 1, c, 1]) as tf.Tensor4D,
      strides: 1,
      pad: "valid",
      bias: shift,
      activation,
    });
    return x.rank === 4 ? y : tf.reshape(y, x.shape);
  });
}

/** True when `t` holds one value per channel of an input with `c` channels (shape [C] or [1..,C]). */
function perChannel(t: tf.TensorInfo | undefined, c: number): boolean {
  if (t == null) return true;
  return t.shape[t.shape.length - 1] === c && t.shape.every((d, i) => d === 1 || i === t.shape.length - 1);
}

/** FusedBatchNorm via {@link channelAffine} when statistics are per channel; else the stock kernel. */
export const fusedBatchNormOverride: KernelOverride = {
  kernelName: "FusedBatchNorm",
  make: (stock) => (args) => {
    const { x, mean, variance, offset, scale } = args.inputs as Record<string, tf.Tensor | undefined>;
    const { varianceEpsilon } = args.attrs as unknown as { varianceEpsilon: number };
    const c = x!.shape[x!.rank - 1];
    const ok = x!.dtype === "float32" && x!.rank >= 1 &&
      [mean, variance, offset, scale].every((t) => perChannel(t, c));
    if (!ok) return stock(args);
    return tf.tidy(() => {
      const flat = (t: tf.Tensor) => tf.reshape(t, [c]) as tf.Tensor1D;
      const rstd = tf.rsqrt(tf.add(flat(variance!), tf.scalar(varianceEpsilon)));
      const s = scale == null ? rstd : tf.mul(flat(scale), rstd);
      const shift = tf.sub(offset == null ? tf.zeros([c]) : flat(offset), tf.mul(flat(mean!), s));
      return channelAffine(x!, s as tf.Tensor1D, shift as tf.Tensor1D);
    });
  },
};

/** Result of {@link batchNormTraining}. */
export interface BatchNormTrainingResult<T extends tf.Tensor> {
  /** act(gamma * (x - mean) / sqrt(variance + epsilon) + beta); differentiable in x, gamma, beta. */
  y: T;
  /**
   * Per-channel batch mean and biased variance, for the moving averages. They are outside the
   * gradient tape and outside any enclosing tf.tidy: the caller must dispose them.
   */
  mean: tf.Tensor1D;
  variance: tf.Tensor1D;
}

/**
 * Batch normalisation with batch statistics over all axes but the last (channels last, rank >= 2),
 * scaled by `gamma` and shifted by `beta` ([C] each), optionally followed by a fused ReLU.
 *
 * Variance is E[x^2] - E[x]^2 (clamped at 0), accumulated in float32: accurate while |mean| is
 * within a few hundred standard deviations, which holds for convolution outputs.
 */
export function batchNormTraining<T extends tf.Tensor>(
  x: T,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  activation: "linear" | "relu" = "linear",
): BatchNormTrainingResult<T> {
  const c = x.shape[x.rank - 1];
  const native = x.dtype === "float32" && c <= MAX_NATIVE_BN_CHANNELS &&
    tf.getKernel(BN_TRAINING_KERNEL, tf.getBackend()) !== undefined && batchNormNative() !== null;
  const args: BatchNormArgs = [x, gamma, beta, epsilon, activation];
  return (native
    ? batchNormTrainingNative(...args)
    : batchNormTrainingOps(...args)) as BatchNormTrainingResult<T>;
}

/** batchNormTraining's arguments, as either implementation takes them. */
type BatchNormArgs = [
  x: tf.Tensor,
  gamma: tf.Tensor1D,
  beta: tf.Tensor1D,
  epsilon: number,
  activation: "linear" | "relu",
];

/** Name of the native forward kernel (cpu and wasm backends): outputs y and the statistics [4, C]. */
const BN_TRAINING_KERNEL = "SafenetBatchNormTraining";
/** Name of its gradient kernel: outputs dx, dgamma, dbeta. */
const BN_TRAINING_GRAD_KERNEL = "SafenetBatchNormTrainingGrad";

type BnAttrs = { epsilon: number; relu: boolean };

const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { epsilon, relu } = attrs as unknown as BnAttrs;
  return withViews(backend, [x, gamma, beta], [x.shape, [4, gamma.shape[0]]], ([xs, g, b], [y, stats]) => {
    batchNormNative()!.forward(xs, y, stats, g, b, epsilon, relu);
  });
};

const gradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, y, dy, stats } = inputs as Record<string, tf.TensorInfo>;
  const { relu } = attrs as unknown as BnAttrs;
  const c = x.shape[x.shape.length - 1];
  return withViews(
    backend,
    [x, y, dy, stats],
    [x.shape, [c], [c]],
    ([xs, ys, g, st], [dx, dGamma, dBeta]) => {
      batchNormNative()!.backward(xs, ys, g, st, dx, dGamma, dBeta, relu);
    },
  );
};

registerViewKernels({ [BN_TRAINING_KERNEL]: forwardKernel, [BN_TRAINING_GRAD_KERNEL]: gradKernel });

function batchNormTrainingNative(
  ...[x, gamma, beta, epsilon, activation]: BatchNormArgs
): BatchNormTrainingResult<tf.Tensor> {
  const c = x.shape[x.rank - 1];
  const attrs = { epsilon, relu: activation === "relu" } as unknown as tf.NamedAttrMap;
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const [y, st] = tf.engine().runKernel(
      BN_TRAINING_KERNEL,
      { x: xIn, gamma: g, beta: b },
      attrs,
    ) as tf.Tensor[];
    stats = [0, 1].map((row) => tf.keep(tf.reshape(tf.slice(st, [row, 0], [1, c]), [c]))) as [
      tf.Tensor1D,
      tf.Tensor1D,
    ];
    save([xIn, y, st]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys, s] = saved;
        return tf.engine().runKernel(
          BN_TRAINING_GRAD_KERNEL,
          { x: xs, y: ys, dy, stats: s },
          attrs,
        ) as tf.Tensor[];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: stats![0], variance: stats![1] };
}

/** The same in tfjs ops: the closed-form gradient as a dozen kernel calls. */
function batchNormTrainingOps(
  ...[x, gamma, beta, epsilon, activation]: BatchNormArgs
): BatchNormTrainingResult<tf.Tensor> {
  const axes = x.shape.slice(0, -1).map((_, i) => i);
  const m = x.size / x.shape[x.rank - 1];
  let stats: [tf.Tensor1D, tf.Tensor1D] | undefined;
  // customGrad passes the inputs then the save function, typed as one rest parameter.
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xIn, g, b, save] = args as [tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(xIn, axes) as tf.Tensor1D;
    const variance = tf.relu(tf.sub(tf.mean(tf.square(xIn), axes), tf.square(mean))) as tf.Tensor1D;
    stats = [tf.keep(mean), tf.keep(variance)];
    const rstd = tf.rsqrt(tf.add(variance, tf.scalar(epsilon))) as tf.Tensor1D;
    const scale = tf.mul(g, rstd) as tf.Tensor1D;
    const y = channelAffine(xIn, scale, tf.sub(b, tf.mul(mean, scale)) as tf.Tensor1D, activation);
    // Saving shares buffers (see identity.ts), so keeping x and y costs no copy.
    save([xIn, y, mean, rstd, scale]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ys, mu, rs, a] = saved as [tf.Tensor, tf.Tensor, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D];
        const gy = activation === "relu" ? tf.mul(dy, tf.step(ys)) : dy;
        const dBeta = tf.sum(gy, axes) as tf.Tensor1D;
        // sum(gy * xhat) = rstd * (sum(gy * x) - mean * sum(gy))
        const dGamma = tf.mul(rs, tf.sub(tf.sum(tf.mul(gy, xs), axes), tf.mul(mu, dBeta))) as tf.Tensor1D;
        // dx = a*gy + bx*x + c per channel: batch-norm's input gradient in closed form.
        const bx = tf.div(tf.mul(tf.mul(a, rs), dGamma), tf.scalar(-m)) as tf.Tensor1D;
        const c = tf.neg(tf.add(tf.div(tf.mul(a, dBeta), tf.scalar(m)), tf.mul(bx, mu))) as tf.Tensor1D;
        const dx = tf.add(tf.mul(gy, a), channelAffine(xs, bx, c));
        return [dx, dGamma, dBeta];
      },
    };
  });
  const y = op(x, gamma, beta);
  return { y, mean: stats![0], variance: stats![1] };
}
