/**
 * What a schedule (lib/mpc/inference/schedule.ts) asks of each protocol, counted per section:
 * for linear layers the multiply-accumulates, input and output sizes and this project's HE
 * packing (ciphertexts each way, plaintext products); for activation sites the ReLUs, the
 * polynomial neurons by degree and the pruned ones. Local steps (batch-norm, flatten, pooling,
 * residual adds) cost no messages and are counted with the section before them.
 *
 * @module
 */

import { inferShapes } from "../nn/graph.ts";
import { outputShape, shapeSize } from "../mpc/he/layer.ts";
import { type Schedule, SCHEDULE_HE_DEGREE } from "../mpc/inference/schedule.ts";
import { affineChunks } from "../mpc/he/affine.ts";

/** A linear layer's sizes. */
export interface LinearCounts {
  /** Input and output elements. */
  readonly inputs: number;
  readonly outputs: number;
  /** Multiply-accumulates of the plaintext product (the server's online work). */
  readonly macs: number;
  /** Convolution shape (dense: a 1x1 convolution over a 1x1 image). */
  readonly shape: {
    readonly inChannels: number;
    readonly outChannels: number;
    readonly height: number;
    readonly width: number;
    readonly kernel: number;
    readonly stride: number;
  };
  /** This project's coefficient packing (packing.ts): ciphertexts each way and products. */
  readonly packing: {
    readonly queryCiphertexts: number;
    readonly answerCiphertexts: number;
    readonly products: number;
    /** Kernel plaintexts encoded (channel groups x output groups). */
    readonly kernelPlaintexts: number;
    /** Products summed into one answer (its noise, hence its flooding, grows with them). */
    readonly productsPerAnswer: number;
  };
}

/** An activation site's neurons by function. */
export interface ActivationCounts {
  readonly neurons: number;
  readonly relus: number;
  /** Polynomial neurons by degree 1..3. */
  readonly poly: Readonly<Record<1 | 2 | 3, number>>;
  /**
   * HE ciphertext chunks of each degree's batch in this project's polynomial protocol (its
   * offline correlations, he/affine.ts): a batch of 1,000 neurons costs a whole chunk of N - 1.
   */
  readonly polyChunks: Readonly<Record<1 | 2 | 3, number>>;
  /** Degree-0 (pruned) neurons. */
  readonly constants: number;
}

/** One section of a schedule. */
export interface SectionCounts {
  readonly section: string;
  readonly kind: "input" | "linear" | "activation";
  /** Elements of the section's input message (input) or output (others). */
  readonly elements: number;
  readonly linear?: LinearCounts;
  readonly activation?: ActivationCounts;
  /** Elements handled by local steps counted here (pooling, adds). */
  readonly localElements: number;
}

/** Per-section counts of a schedule, in order. */
export function countSchedule(schedule: Schedule): SectionCounts[] {
  const out: SectionCounts[] = [];
  const local = new Map<string, number>();
  const shapes = inferShapes(schedule.network.graph);
  for (const step of schedule.steps) {
    switch (step.kind) {
      case "input":
        out.push({ section: step.section, kind: "input", elements: step.size, localElements: 0 });
        break;
      case "he-linear": {
        const { layer, packing: pk, op } = step;
        const [oh, ow, oc] = outputShape(layer);
        const [ih, iw, ic] = layer.inputShape;
        const kernel = op.kind === "conv" ? op.kernel : 1;
        const macs = op.kind === "conv" ? oh * ow * oc * kernel * kernel * ic : oc * ih * iw * ic;
        out.push({
          section: step.section,
          kind: "linear",
          elements: oh * ow * oc,
          localElements: 0,
          linear: {
            inputs: shapeSize(layer.inputShape),
            outputs: oh * ow * oc,
            macs,
            shape: {
              inChannels: op.kind === "conv" ? ic : ih * iw * ic,
              outChannels: oc,
              height: op.kind === "conv" ? ih : 1,
              width: op.kind === "conv" ? iw : 1,
              kernel,
              stride: op.kind === "conv" ? op.stride : 1,
            },
            packing: {
              queryCiphertexts: pk.inputPolys,
              answerCiphertexts: pk.outputPolys,
              products: pk.products,
              kernelPlaintexts: pk.channelGroups * pk.outputGroups,
              productsPerAnswer: pk.channelGroups,
            },
          },
        });
        break;
      }
      case "activation": {
        const { layout } = step;
        const poly = { 1: 0, 2: 0, 3: 0 }, polyChunks = { 1: 0, 2: 0, 3: 0 };
        for (const { degree, indices } of step.poly) {
          poly[degree] = indices.length;
          polyChunks[degree] = affineChunks(SCHEDULE_HE_DEGREE, indices.length);
        }
        out.push({
          section: step.section,
          kind: "activation",
          elements: layout.size,
          localElements: 0,
          activation: {
            neurons: layout.size,
            relus: layout.relu.length,
            poly,
            polyChunks,
            constants: layout.constant.length,
          },
        });
        break;
      }
      case "pool":
      case "add": {
        const size = shapeSize(shapes.get(step.op.id)!);
        local.set(step.section, (local.get(step.section) ?? 0) + size);
        break;
      }
      case "identity":
        break;
    }
  }
  return out.map((s) => ({ ...s, localElements: local.get(s.section) ?? 0 }));
}
