/**
 * How closely the fixed-point network that secure inference computes follows the float network
 * it came from, on labelled CIFAR test images: same predicted class, top-1 of each, largest
 * logit difference, and the largest polynomial activation (what the polynomial protocol's
 * statistical-distance bound assumes bounded, security.ts). The secure protocol equals the
 * fixed-point reference bit for bit on ReLU channels, and within the polynomial truncation bound
 * otherwise (see the inference tests), so this is the cheap part of the "secure = plaintext"
 * check; `secureAgreement` runs images through the protocol itself.
 *
 * @module
 */

import { type ChannelStats, IMAGE_BYTES, loadCifar, normalize } from "../../data/mod.ts";
import { foldedForward } from "../../nn/fold.ts";
import { type QuantizedActivation, referenceForward } from "../quantize.ts";
import { Fp } from "../field.ts";
import { argmax, roundTo } from "../../report/stats.ts";
import { memoryChannelPair } from "../transport.ts";
import { InferenceClient } from "./client.ts";
import type { PreparedNetwork } from "./model.ts";
import { InferenceServer } from "./server.ts";

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

/** Secure inference against the fixed-point reference and the float network. */
export interface SecureAgreement {
  readonly secure_images: number;
  readonly secure_same_class_as_reference: number;
  readonly secure_bit_exact: number;
  readonly secure_same_class_as_float: number;
  /** Largest |secure - reference| logit over the images. */
  readonly secure_max_logit_diff_vs_reference: number;
  /** Every image whose secure class differs from the reference's or the float network's. */
  readonly secure_disagreements: readonly Record<string, number>[];
}

/**
 * Runs the first `count` of `images` through the real two-party protocol (both parties in this
 * process over an in-memory channel, one session) and compares each result with its
 * `outputs` (from {@link plaintextOutput}). `progress` is told after each image.
 */
export async function secureAgreement(
  served: PreparedNetwork,
  images: readonly LabelledImage[],
  outputs: readonly PlaintextOutput[],
  count: number,
  progress: (done: number) => void = () => {},
): Promise<SecureAgreement> {
  if (count > images.length || count > outputs.length) {
    throw new RangeError(
      `secureAgreement: ${count} images asked, ${Math.min(images.length, outputs.length)} given`,
    );
  }
  const [clientChannel, serverChannel] = memoryChannelPair();
  const [, results] = await Promise.all([
    (async () => {
      const server = await InferenceServer.open(serverChannel, served);
      for (let i = 0; i < count; i++) await server.serve();
      server.close();
    })(),
    (async () => {
      const client = await InferenceClient.open(clientChannel);
      const out = [];
      for (const { x } of images.slice(0, count)) {
        out.push(await client.infer(x));
        progress(out.length);
      }
      client.close();
      return out;
    })(),
  ]);
  await Promise.all([clientChannel.close(), serverChannel.close()]);
  let sameAsReference = 0, bitExact = 0, sameAsFloat = 0, maxError = 0;
  const disagreements: Record<string, number>[] = [];
  results.forEach((r, i) => {
    const reference = outputs[i].referenceLogits;
    const referenceClass = argmax(reference), float = argmax(outputs[i].floatLogits);
    const error = Math.max(...r.logits.map((v, k) => Math.abs(v - reference[k])));
    maxError = Math.max(maxError, error);
    sameAsReference += Number(r.predicted === referenceClass);
    bitExact += Number(error === 0);
    sameAsFloat += Number(r.predicted === float);
    if (r.predicted !== referenceClass || r.predicted !== float) {
      disagreements.push({
        image: i,
        label: images[i].label,
        secure: r.predicted,
        reference: referenceClass,
        float,
        max_logit_diff_vs_reference: roundTo(error, 4),
      });
    }
  });
  return {
    secure_images: count,
    secure_same_class_as_reference: sameAsReference,
    secure_bit_exact: bitExact,
    secure_same_class_as_float: sameAsFloat,
    secure_max_logit_diff_vs_reference: roundTo(maxError, 4),
    secure_disagreements: disagreements,
  };
}
