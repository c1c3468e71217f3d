/**
 * The schedule of a plan on an architecture, for pricing without weights: which channels a site
 * approximates depends on the weights (their L1 norms), but how many does not, and the price
 * depends only on how many. Here the first floor(alpha C) channels of each site are taken.
 *
 * @module
 */

import { approximatedChannels } from "../nn/approximation.ts";
import type { ChannelFunction } from "../nn/fold.ts";
import { activationSites, type Graph } from "../nn/graph.ts";
import { type Plan, validatePlan } from "../nn/plan.ts";
import { DEFAULT_FRAC_BITS } from "../mpc/fixed.ts";
import { buildSchedule, type Schedule } from "../mpc/inference/schedule.ts";

/** The schedule of `plan` on `graph` (see the module doc). */
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
