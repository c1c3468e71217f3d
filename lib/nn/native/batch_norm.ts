/**
 * Batch normalisation with batch statistics in C (batch_norm.c, built by c_kernels.ts), on the
 * tensors in place: two passes each way where the tfjs-op version of kernels/batch_norm.ts (the
 * fallback) makes a dozen kernel calls.
 *
 * @module
 */
import { openCKernels } from "./c_kernels.ts";

/** Widest layer the native kernels take (MAX_CHANNELS in batch_norm.c). */
export const MAX_NATIVE_BN_CHANNELS = 4096;

const SYMBOLS = {
  safenet_bn_forward: {
    parameters: ["buffer", "buffer", "buffer", "i64", "i32", "buffer", "buffer", "f32", "i32"],
    result: "i32",
  },
  safenet_bn_backward: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "i64", "i32", "buffer", "i32"],
    result: "i32",
  },
} as const;

/** The native kernels (formulas in batch_norm.c). */
export interface BatchNormNative {
  /** y = act(batch-normalised x); stats (4 x channels): mean, biased variance, 1/std, gamma/std. */
  forward(
    x: Float32Array,
    y: Float32Array,
    stats: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    epsilon: number,
    relu: boolean,
  ): void;
  /** dx, dgamma, dbeta from x, the forward's y and stats, and dy. */
  backward(
    x: Float32Array,
    y: Float32Array,
    dy: Float32Array,
    stats: Float32Array,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    relu: boolean,
  ): void;
}

let opened: BatchNormNative | null | undefined;

function check(status: number, channels: number): void {
  if (status !== 0) {
    throw new RangeError(`native batch norm: ${channels} channels > ${MAX_NATIVE_BN_CHANNELS}`);
  }
}

/** The native kernels, built and opened once per thread; null when they cannot be used. */
export function batchNormNative(): BatchNormNative | null {
  if (opened !== undefined) return opened;
  const symbols = openCKernels("batch_norm.c", SYMBOLS, "batch norm");
  opened = symbols && {
    forward: (x, y, stats, gamma, beta, epsilon, relu) => {
      const c = gamma.length;
      check(symbols.safenet_bn_forward(x, y, stats, BigInt(x.length / c), c, gamma, beta, epsilon, +relu), c);
    },
    backward: (x, y, dy, stats, dx, dgamma, dbeta, relu) => {
      const c = dgamma.length;
      check(
        symbols.safenet_bn_backward(x, y, dy, dx, dgamma, dbeta, BigInt(x.length / c), c, stats, +relu),
        c,
      );
    },
  };
  return opened;
}
