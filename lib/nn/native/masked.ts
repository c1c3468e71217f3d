/**
 * The masked activation's fused kernels in C (masked_activation.c, built by c_kernels.ts), on
 * the tensors in place: about 9x faster per element than the JavaScript loops of
 * masked_activation.ts, which remain the fallback; and ReLU's input gradient in one pass.
 *
 * @module
 */
import { openCKernels } from "./c_kernels.ts";

/** Widest activation site the native gradient takes (MAX_CHANNELS in masked_activation.c). */
export const MAX_NATIVE_CHANNELS = 4096;

const SYMBOLS = {
  safenet_masked_forward: { parameters: ["buffer", "buffer", "i64", "i32", "buffer"], result: "void" },
  safenet_masked_grad: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "i64", "i32", "buffer"],
    result: "i32",
  },
  safenet_relu_grad: { parameters: ["buffer", "buffer", "buffer", "i64"], result: "void" },
} as const;

/** The native kernels (see masked_activation.c for the formulas and table layouts). */
export interface MaskedNative {
  /** y from x; tables: a0, a1, a2, a3, keep / 2 (5 x channels). */
  forward(x: Float32Array, y: Float32Array, channels: number, tables: Float32Array): void;
  /** dx from x and dy, and sums[k][c] += sum dy x^k; tables: a1, a2, a3, keep (4 x channels). */
  grad(
    x: Float32Array,
    dy: Float32Array,
    dx: Float32Array,
    sums: Float64Array,
    channels: number,
    tables: Float32Array,
  ): void;
  /** ReLU's input gradient dx = dy step(x) (step: 1 above 0, NaN at NaN, else 0). */
  reluGrad(x: Float32Array, dy: Float32Array, dx: Float32Array): void;
}

let opened: MaskedNative | null | undefined;

/** The native kernels, built and opened once per thread; null when they cannot be used. */
export function maskedNative(): MaskedNative | null {
  if (opened !== undefined) return opened;
  const symbols = openCKernels("masked_activation.c", SYMBOLS, "masked activation");
  opened = symbols && {
    forward: (x, y, channels, tables) =>
      symbols.safenet_masked_forward(x, y, BigInt(x.length / channels), channels, tables),
    grad: (x, dy, dx, sums, channels, tables) => {
      const status = symbols.safenet_masked_grad(
        x,
        dy,
        dx,
        sums,
        BigInt(x.length / channels),
        channels,
        tables,
      );
      if (status !== 0) {
        throw new RangeError(`native masked activation: ${channels} channels > ${MAX_NATIVE_CHANNELS}`);
      }
    },
    reluGrad: (x, dy, dx) => symbols.safenet_relu_grad(x, dy, dx, BigInt(x.length)),
  };
  return opened;
}
