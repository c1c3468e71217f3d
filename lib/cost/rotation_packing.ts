/**
 * A model of Gazelle's rotation-based (slot) packing of linear layers, which Gazelle runs online
 * and Delphi offline: how many ciphertexts, plaintext-ciphertext multiplies and rotations one
 * layer costs. It is a separate model from this project's coefficient packing (no rotations):
 * the paper's Gazelle and Delphi rows are priced with it.
 *
 * Convolution (Gazelle's multi-input multi-output packing with input rotations, Juvekar et al.
 * 2018, Section 5): a ciphertext of n slots holds c_n = floor(n / (h w)) whole channels (a
 * channel larger than n slots spans ceil(h w / n) ciphertexts, c_n = 1). For I = ceil(c_i / c_n)
 * input ciphertexts and O = ceil(c_o / c_n) output ciphertexts:
 * - rotations I (c_n f^2 - 1): each input ciphertext in its c_n channel alignments, each shifted
 *   to the f^2 kernel offsets;
 * - multiplies I O c_n f^2: one weight plaintext per alignment, offset and output ciphertext;
 * - ciphertexts I in, O out.
 * Strided convolutions are priced as their stride-1 counterpart (Gazelle subsamples), an upper
 * bound. Dense layers use the hybrid diagonal method: ceil(n_i n_o / n) multiplies, as many
 * rotations plus log2 of the folding, one ciphertext in per n inputs, one out per n outputs.
 *
 * @module
 */

import type { LinearCounts } from "./counts.ts";

/** Slots per ciphertext in the rotation model: N = 8192 batched, one row of N / 2. */
export const ROTATION_SLOTS = 4096;

/** One linear layer's HE operations under rotation-based packing. */
export interface RotationCounts {
  readonly inputCiphertexts: number;
  readonly outputCiphertexts: number;
  readonly multiplies: number;
  readonly rotations: number;
}

/** Rotation-packing counts of a linear layer with `slots` slots per ciphertext. */
export function rotationCounts(linear: LinearCounts, slots: number = ROTATION_SLOTS): RotationCounts {
  const { inChannels: ci, outChannels: co, height: h, width: w, kernel: f } = linear.shape;
  if (h === 1 && w === 1 && f === 1) {
    const multiplies = Math.ceil((ci * co) / slots);
    const fold = Math.max(0, Math.ceil(Math.log2(slots / Math.min(slots, co))));
    return {
      inputCiphertexts: Math.ceil(ci / slots),
      outputCiphertexts: Math.ceil(co / slots),
      multiplies,
      rotations: multiplies + fold,
    };
  }
  const split = Math.ceil((h * w) / slots);
  const cn = split > 1 ? 1 : Math.max(1, Math.floor(slots / (h * w)));
  const inputs = Math.ceil(ci / cn) * split, outputs = Math.ceil(co / cn) * split;
  return {
    inputCiphertexts: inputs,
    outputCiphertexts: outputs,
    multiplies: inputs * Math.ceil(co / cn) * cn * f * f,
    rotations: inputs * (cn * f * f - 1),
  };
}
