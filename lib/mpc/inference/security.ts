/**
 * What the polynomial protocol's statistical security amounts to over one inference.
 *
 * Per polynomial neuron the server's view is within |X| / L + sum_i q_i / 2^128 of a view
 * independent of the client's data (lib/mpc/poly/protocol.ts: X the neuron's value at
 * T = f + 40 fractional bits, L ~ 2^122.9 the re-masking's range); the neurons' masks are
 * independent, so over an inference the distances add. The bound needs a bound A on the
 * activations (|X| <= A 2^T): no data-independent one exists (the protocol is correct for any
 * |X| < 2^40 p, where the sum would reach 2^-26 for CNN-7). With A = 2^10 (the shipped CNN-7's
 * polynomial activations stay below 10 on test images, lib/mpc/inference/agreement.ts) and
 * f = 9 the sum is 2^-46.8 for CNN-7, 2^-46.1 for VGG-16 and 2^-46.0 for ResNet-32 with 80% of
 * every layer's channels replaced by degree-2 polynomials (137,856, 220,789 and 231,808
 * polynomial neurons); 2^-40 holds for A up to 2^16.
 * Everything else in the polynomial protocol is perfect or computational (the lift, the
 * openings, the OT extension).
 *
 * The HE answers (linear layers and the polynomial correlations) are flooded so that what the
 * client decrypts is within 2^-52 per answer ciphertext of independent of the server's weights
 * (lib/mpc/he/answer.ts); `heStatisticalDistance` sums that over an inference's answers.
 *
 * @module
 */

import type { Graph } from "../../nn/graph.ts";
import { countPlan, type Plan } from "../../nn/plan.ts";
import { affineChunks } from "../he/affine.ts";
import { FLOOD_STATISTICAL_BITS } from "../he/answer.ts";
import { elementStatisticalDistance } from "../poly/protocol.ts";
import { RING } from "../poly/ring.ts";
import { type Schedule, SCHEDULE_HE_DEGREE } from "./schedule.ts";
import { polyLayout } from "./steps.ts";

/** Default bound A on |polynomial activation| (real units) assumed by the statistical distance. */
export const DEFAULT_ACTIVATION_BOUND = 2 ** 10;

/** The polynomial protocol's statistical distance over one inference. */
export interface InferenceStatisticalDistance {
  /** Polynomial neurons of degree >= 1 (degree 0 sends nothing the server could learn from). */
  readonly polyNeurons: number;
  /** The activation bound A assumed. */
  readonly activationBound: number;
  /** Bound on the statistical distance of the server's whole view, and its log2. */
  readonly total: number;
  readonly log2: number;
}

/**
 * Bound on the statistical distance between the server's view of the polynomial protocol over
 * one inference of `graph` under `plan` at `fracBits` fractional bits and a view independent of
 * the client's input, for polynomial activations of magnitude at most `activationBound`.
 */
export function inferenceStatisticalDistance(
  graph: Graph,
  plan: Plan,
  fracBits: number,
  activationBound = DEFAULT_ACTIVATION_BOUND,
): InferenceStatisticalDistance {
  const { approximatedByDegree } = countPlan(graph, plan);
  let polyNeurons = 0, total = 0;
  for (const degree of [1, 2, 3] as const) {
    polyNeurons += approximatedByDegree[degree];
    total += approximatedByDegree[degree] *
      elementStatisticalDistance(polyLayout(degree, fracBits), activationBound);
  }
  return { polyNeurons, activationBound, total, log2: Math.log2(total) };
}

/** The HE answers' flooding over one inference. */
export interface HeStatisticalDistance {
  /** Answer ciphertexts the client decrypts: linear layers plus polynomial correlations. */
  readonly answers: number;
  /** log2 of the bound on the statistical distance of what the client decrypts. */
  readonly log2: number;
}

/**
 * Bound on the statistical distance between what the client decrypts over one inference of
 * `schedule` and a view independent of the server's weights and coefficients: per answer
 * ciphertext N coefficients, each within 2^-(FLOOD_STATISTICAL_BITS + 1).
 */
export function heStatisticalDistance(schedule: Schedule): HeStatisticalDistance {
  let answers = 0;
  for (const step of schedule.steps) {
    if (step.kind === "he-linear") answers += step.packing.outputPolys;
    if (step.kind === "activation") {
      // Per polynomial batch and prime of the ring: degree d answers (H_0..H_{d-1}) per chunk.
      for (const { degree, indices } of step.poly) {
        answers += RING.length * degree * affineChunks(SCHEDULE_HE_DEGREE, indices.length);
      }
    }
  }
  return { answers, log2: Math.log2(answers * SCHEDULE_HE_DEGREE) - (FLOOD_STATISTICAL_BITS + 1) };
}
