/**
 * The project's training kernels for the wasm backend: gradients the stock backend lacks or runs
 * slowly, and stock kernels that waste passes over memory, re-expressed through its fast
 * (XNNPACK) forward kernels. Each falls back to the stock kernel for cases it does not cover.
 *
 * @module
 */
import { conv2dGradOverrides } from "./conv2d_grad.ts";
import { castOverride, identityOverride } from "./identity.ts";
import { type KernelOverride, registerOverride } from "./override.ts";
import { batchMatMulOverride } from "./matmul.ts";
import { avgPoolGradOverride } from "./pooling.ts";
import { meanOverride, sumOverride } from "./reduce.ts";
import { unsortedSegmentSumOverride } from "./segment.ts";
import { tileOverride } from "./tile.ts";
import { fusedBatchNormOverride } from "./batch_norm.ts";

export { conv2dFilterGrad, conv2dInputGrad } from "./conv2d_grad.ts";
export { batchNormTraining, type BatchNormTrainingResult, channelAffine } from "./batch_norm.ts";
export { leadingMean } from "./reduce.ts";
export type { KernelOverride } from "./override.ts";

/** Every kernel this module registers on the wasm backend. */
export const WASM_TRAINING_KERNELS: readonly KernelOverride[] = [
  ...conv2dGradOverrides,
  identityOverride,
  castOverride,
  avgPoolGradOverride,
  sumOverride,
  meanOverride,
  tileOverride,
  fusedBatchNormOverride,
  batchMatMulOverride,
  unsortedSegmentSumOverride,
];

/**
 * Registers {@link WASM_TRAINING_KERNELS} on the wasm backend (replacing stock kernels of the same
 * names) and returns their names. Idempotent.
 */
export function registerTrainingKernels(): string[] {
  for (const k of WASM_TRAINING_KERNELS) registerOverride(k, "wasm");
  return WASM_TRAINING_KERNELS.map((k) => k.kernelName);
}
