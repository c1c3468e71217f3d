/**
 * How closely the fixed-point network that secure inference computes follows the float network
 * it came from, on labelled CIFAR test images: same predicted class, top-1 of each, largest
 * logit difference, and the largest polynomial activation (what the polynomial protocol's
 * statistical-distance bound assumes bounded, security.ts). The secure protocol equals the
 * fixed-point reference bit for bit on ReLU channels, and within the polynomial truncation bound
 * otherwise (see the inference tests), so this is the cheap part of the "secure = plaintext"
 * check; tools/bench_protocol.ts also runs images through the protocol itself.
 *
 * @module
 */

import { type ChannelStats, IMAGE_BYTES, loadCifar, normalize } from "../../data/mod.ts";
import { foldedForward } from "../../nn/fold.ts";
import { type QuantizedActivation, referenceForward } from "../quantize.ts";
import { Fp } from "../field.ts";
import { argmax, roundTo } from "../../report/stats.ts";
import type { PreparedNetwork } from "./model.ts";

/** A normalised test image and its label. */
export interface LabelledImage {
  readonly x: Float32Array;
  readonly label: number;
}

/** Fixed point against float on a set of images. */
export interface PlaintextAgreement {
  readonly images: number;
  /** Images on which the two argmaxes are equal. */
  readonly fixed_vs_float_same_class: number;
  readonly float_top1: number | null;
  readonly fixed_top1: number | null;
  /** Largest |float - fixed| over all logits of all images. */
  readonly max_logit_error: number;
  /**
   * Largest |output| of a polynomial neuron (degree >= 1) over the images, in real units; 0
   * without polynomial neurons. security.ts's statistical distance assumes it below its bound.
   */
  readonly max_poly_activation: number;
}

/** The first `count` images of CIFAR-10 test_batch, normalised with `stats`. */
export async function testImages(count: number, stats: ChannelStats): Promise<LabelledImage[]> {
  const test = await loadCifar({ dataset: "cifar10", split: "test" });
  if (count > test.labels.length) {
    throw new RangeError(`testImages: asked for ${count} images, the test split has ${test.labels.length}`);
  }
  return Array.from({ length: count }, (_, i) => ({
    x: normalize(test.images.subarray(i * IMAGE_BYTES, (i + 1) * IMAGE_BYTES), stats),
    label: test.labels[i],
  }));
}

/** One image through the float network and its fixed-point reference. */
export interface PlaintextOutput {
  readonly floatLogits: Float64Array;
  readonly referenceLogits: Float64Array;
  /** Largest |output| of this image's polynomial neurons (degree >= 1), real units. */
  readonly maxPolyActivation: number;
}

/** Runs `x` through the float network of `served` and through its fixed-point reference. */
export function plaintextOutput(served: PreparedNetwork, x: ArrayLike<number>): PlaintextOutput {
  const reference = referenceForward(served.net, served.graph, x);
  return {
    floatLogits: foldedForward(served.folded, served.graph, x),
    referenceLogits: reference.logits,
    maxPolyActivation: maxPolyActivation(served, reference.trace),
  };
}

/**
 * Compares the fixed-point reference of `served` with its float network on `images`; `outputs`
 * (one per image, from {@link plaintextOutput}) when the caller already has them.
 */
export function plaintextAgreement(
  served: PreparedNetwork,
  images: readonly LabelledImage[],
  outputs: readonly PlaintextOutput[] = images.map(({ x }) => plaintextOutput(served, x)),
): PlaintextAgreement {
  if (outputs.length !== images.length) {
    throw new RangeError(`plaintextAgreement: ${outputs.length} outputs for ${images.length} images`);
  }
  let sameClass = 0, floatCorrect = 0, fixedCorrect = 0, maxLogitError = 0, maxActivation = 0;
  images.forEach(({ label }, i) => {
    const { floatLogits: float, referenceLogits: fixed, maxPolyActivation } = outputs[i];
    maxActivation = Math.max(maxActivation, maxPolyActivation);
    sameClass += Number(argmax(float) === argmax(fixed));
    floatCorrect += Number(argmax(float) === label);
    fixedCorrect += Number(argmax(fixed) === label);
    for (let k = 0; k < fixed.length; k++) {
      maxLogitError = Math.max(maxLogitError, Math.abs(float[k] - fixed[k]));
    }
  });
  const n = images.length;
  return {
    images: n,
    fixed_vs_float_same_class: sameClass,
    float_top1: n ? floatCorrect / n : null,
    fixed_top1: n ? fixedCorrect / n : null,
    max_logit_error: roundTo(maxLogitError, 4),
    max_poly_activation: roundTo(maxActivation, 4),
  };
}

/** Largest |output| of the polynomial neurons (degree >= 1) of one inference, real units. */
function maxPolyActivation(served: PreparedNetwork, trace: ReadonlyMap<string, Float64Array>): number {
  let max = 0;
  for (const op of served.graph.ops) {
    if (op.kind !== "activation") continue;
    const { mask } = served.net.ops[op.id] as QuantizedActivation;
    const out = trace.get(op.id)!, scale = served.net.scales.get(op.id)!;
    const unit = 1 / (2 ** scale.bits * scale.multiplier);
    for (let i = 0; i < out.length; i++) {
      const fn = mask[i % mask.length];
      if (fn !== "relu" && fn !== 0) max = Math.max(max, Math.abs(Fp.toSigned(out[i])) * unit);
    }
  }
  return max;
}
