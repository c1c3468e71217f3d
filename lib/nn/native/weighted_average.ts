/**
 * The data-parallel workers' weighted average in C (weighted_average.c, built by c_kernels.ts) on
 * the shared buffer in place; the JavaScript loop of lib/train/shared_average.ts is the fallback
 * and gives bit-identical results.
 *
 * @module
 */
import { openCKernels } from "./c_kernels.ts";

const SYMBOLS = {
  safenet_weighted_average: {
    parameters: ["buffer", "i64", "i32", "buffer", "buffer", "i32", "i64", "i64", "i64"],
    result: "f64",
  },
} as const;

/**
 * Writes out[j] = sum_k weights[k] * slots[k * length + j] for j in [lo, hi), accumulated in double
 * in slot order (slots of weight 0 not read; `out` not written when `writeOut` is false), and
 * returns the sum of the rounded out[j]^2 over j < gradientLength. The C kernel and the JavaScript
 * loop (lib/train/shared_average.ts) share this signature and give bit-identical results.
 */
export type WeightedAverage = (
  slots: Float32Array,
  length: number,
  weights: Float64Array,
  out: Float32Array,
  writeOut: boolean,
  range: [number, number],
  gradientLength: number,
) => number;

let opened: WeightedAverage | null | undefined;

/** The native average, built and opened once per thread; null when it cannot be used. */
export function weightedAverageNative(): WeightedAverage | null {
  if (opened !== undefined) return opened;
  const symbols = openCKernels("weighted_average.c", SYMBOLS, "weighted average");
  opened = symbols && ((slots, length, weights, out, writeOut, [lo, hi], gradientLength) => {
    if (slots.length < weights.length * length || out.length < hi) {
      throw new RangeError("native weighted average: slots or output shorter than the layout");
    }
    return symbols.safenet_weighted_average(
      slots,
      BigInt(length),
      weights.length,
      weights,
      out,
      +writeOut,
      BigInt(lo),
      BigInt(hi),
      BigInt(gradientLength),
    );
  });
  return opened;
}
