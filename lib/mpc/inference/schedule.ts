/**
 * The schedule of a public network: for every op, which sub-protocol runs it, on what sizes,
 * and under which section its time and bytes are counted. Both parties walk it (so they cannot
 * disagree on which protocol an op uses), and the cost model (lib/cost) prices it.
 *
 * Sub-protocols (Delphi's split of every layer into linear or non-linear, as a type):
 * - `input`: the client's masked image (online, one message);
 * - `he-linear`: convolution or dense layer, HE offline (packing.ts), plaintext online;
 * - `pool`: average pooling, public weights, each party on its own share (no messages);
 * - `identity`: batch-norm (folded into the conv before it) or flatten, nothing to do;
 * - `add`: residual add on shares (local);
 * - `activation`: one site's neurons split into a garbled-ReLU batch, polynomial batches by
 *   degree (Beaver-style correlations) and degree-0 (pruned) neurons that output a constant.
 *
 * @module
 */

import { approximatedChannels, type Degree } from "../../nn/approximation.ts";
import type { ChannelFunction } from "../../nn/fold.ts";
import {
  type ActivationOp,
  activationSites,
  type AddOp,
  type ConvOp,
  type DenseOp,
  type Graph,
  inferShapes,
  type Op,
} from "../../nn/graph.ts";
import { type Plan, validatePlan } from "../../nn/plan.ts";
import { DEFAULT_FRAC_BITS } from "../fixed.ts";
import type { LinearLayer, LinearOp } from "../he/layer.ts";
import type { Packing } from "../he/packing.ts";
import { layerPacking } from "../he/linear.ts";
import { type PublicNetwork, type SiteLayout, siteLayout } from "./public.ts";

/** The ring dimension the schedule's HE packings are for (the protocol's BFV N). */
export const SCHEDULE_HE_DEGREE = 8192;

/** One polynomial batch of an activation site: the neurons of one degree. */
export interface PolyBatchStep {
  readonly degree: Exclude<Degree, 0>;
  /** Neuron indices (HWC) at the site. */
  readonly indices: Uint32Array;
}

/** One op's step. `section` names where its time and bytes are counted. */
export type ScheduleStep =
  | { readonly kind: "input"; readonly op: Op; readonly section: string; readonly size: number }
  | {
    readonly kind: "he-linear";
    readonly op: ConvOp | DenseOp;
    readonly section: string;
    readonly layer: LinearLayer;
    readonly packing: Packing;
  }
  | { readonly kind: "pool"; readonly op: Op; readonly section: string; readonly layer: LinearLayer }
  | { readonly kind: "identity"; readonly op: Op; readonly section: string }
  | { readonly kind: "add"; readonly op: AddOp; readonly section: string }
  | {
    readonly kind: "activation";
    readonly op: ActivationOp;
    readonly section: string;
    readonly layout: SiteLayout;
    readonly poly: readonly PolyBatchStep[];
  };

/** The whole schedule, in graph order. */
export interface Schedule {
  readonly network: PublicNetwork;
  readonly steps: readonly ScheduleStep[];
  /** The op whose shares are the logits. */
  readonly output: string;
}

/**
 * The schedule of `network`. Input, linear and activation ops open their own section; local
 * steps (batch-norm, flatten, pooling, adds) count towards the section before them.
 */
export function buildSchedule(network: PublicNetwork): Schedule {
  const shapes = inferShapes(network.graph);
  let section = "";
  const steps = network.graph.ops.map((op): ScheduleStep => {
    const inputShape = op.inputs.length ? shapes.get(op.inputs[0])! : undefined;
    switch (op.kind) {
      case "input":
        section = op.id;
        return { kind: "input", op, section, size: op.shape[0] * op.shape[1] * op.shape[2] };
      case "conv":
      case "dense": {
        section = op.id;
        const layer = { op, inputShape: inputShape! };
        return { kind: "he-linear", op, section, layer, packing: layerPacking(layer, SCHEDULE_HE_DEGREE) };
      }
      case "avgpool":
      case "globalavgpool":
        return { kind: "pool", op, section, layer: { op: op as LinearOp, inputShape: inputShape! } };
      case "batchnorm":
      case "flatten":
        return { kind: "identity", op, section };
      case "add":
        return { kind: "add", op, section };
      case "activation": {
        section = op.id;
        const layout = siteLayout(network, op.id);
        const poly = [...layout.poly].map(([degree, indices]) => ({ degree, indices }));
        return { kind: "activation", op, section, layout, poly };
      }
    }
  });
  return { network, steps, output: network.graph.ops[network.graph.ops.length - 1].id };
}

/**
 * The schedule of `plan` on `graph` without weights, for pricing and counting: which channels
 * a site approximates depends on the weights (their L1 norms), but how many does not, and sizes
 * depend only on how many; here the first floor(alpha C) channels of each site are taken.
 */
export function planSchedule(graph: Graph, plan: Plan, fracBits: number = DEFAULT_FRAC_BITS): Schedule {
  validatePlan(graph, plan);
  const masks: Record<string, ChannelFunction[]> = {};
  activationSites(graph).forEach((site, i) => {
    const { alpha, beta } = plan.sites[i];
    const approximated = approximatedChannels(alpha, site.channels);
    masks[site.id] = Array.from({ length: site.channels }, (_, c) => (c < approximated ? beta : "relu"));
  });
  return buildSchedule({ graph, fracBits, masks });
}
