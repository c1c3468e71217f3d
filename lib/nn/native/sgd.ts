/**
 * The momentum-SGD update in C (sgd.c, built by c_kernels.ts): one pass per variable where the
 * tfjs-op version of lib/train/sgd.ts (the fallback) makes six.
 *
 * @module
 */
import { openCKernels } from "./c_kernels.ts";

const SYMBOLS = {
  safenet_sgd_momentum: {
    parameters: ["buffer", "buffer", "buffer", "buffer", "buffer", "i64", "f32", "f32", "f32", "f32", "i32"],
    result: "void",
  },
} as const;

/** Hyper-parameters of one update (formula in sgd.c). */
export interface SgdStep {
  readonly lr: number;
  readonly momentum: number;
  /** L2 coefficient for this variable (0: none). */
  readonly weightDecay: number;
  /** Factor on the gradient (clipping). */
  readonly scale: number;
  readonly nesterov: boolean;
}

/** w', v' from w, v and the gradient g. */
export type SgdNative = (
  w: Float32Array,
  v: Float32Array,
  g: Float32Array,
  wOut: Float32Array,
  vOut: Float32Array,
  step: SgdStep,
) => void;

let opened: SgdNative | null | undefined;

/** The native update, built and opened once per thread; null when it cannot be used. */
export function sgdNative(): SgdNative | null {
  if (opened !== undefined) return opened;
  const symbols = openCKernels("sgd.c", SYMBOLS, "SGD update");
  opened = symbols && ((w, v, g, wOut, vOut, s) =>
    symbols.safenet_sgd_momentum(
      w,
      v,
      g,
      wOut,
      vOut,
      BigInt(w.length),
      s.lr,
      s.momentum,
      s.weightDecay,
      s.scale,
      +s.nesterov,
    ));
  return opened;
}
