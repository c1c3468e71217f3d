/**
 * The search objective (paper, equation 4): score = accuracy x (1 + removed), where removed =
 * sum_t approximated_t R(beta_t) / sum_t n_t is the fraction of the all-ReLU activation cost a
 * plan removes (DESIGN: the sum normalised by total ReLU cost), approximated_t = floor(alpha_t x
 * channels_t) x H_t x W_t as lib/nn/plan.ts counts it, and R(beta) the reduced-time ratio of a
 * degree-beta polynomial against a ReLU (the paper's unit costs by default). Or a plan's
 * removed cost priced whole by this project's cost model (`protocolPricing`, `search --cost`).
 * Plus the accuracy threshold and the ranking the searchers share.
 *
 * @module
 */
import { LINKS, price, type PriceOptions } from "../cost/model.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import { type ActivationSite, activationSites, type Graph } from "../nn/graph.ts";
import { approximatedChannels, type Degree } from "../nn/approximation.ts";
import { allReluPlan, countPlan, type Plan } from "../nn/plan.ts";
import { PAPER_THRESHOLD_DROP_POINTS, PAPER_UNIT_COSTS_US } from "../paper.ts";
import type { TrialConfig, TrialResult } from "./types.ts";

/** R(beta): the share of a ReLU's cost saved by approximating it with a degree-beta polynomial. */
export interface CostReduction {
  /** Where the numbers come from (recorded with every search outcome). */
  readonly label: string;
  reduction(beta: Degree): number;
}

/**
 * R from the paper's unit costs (Section 3 and 2.1), labelled as the paper's: a ReLU costs
 * 20.1 us and a degree-3 polynomial 0.2 us, so R(3) = 1 - 0.2 / 20.1; a degree-2 polynomial is
 * "192x cheaper" than a ReLU, so R(2) = 1 - (20.1 / 192) / 20.1; pruning (degree 0) costs
 * nothing, R(0) = 1. The paper gives no degree-1 figure.
 */
export const paperReduction: CostReduction = {
  label: "paper unit costs (ReLU 20.1 us, degree-3 0.2 us, degree-2 192x cheaper than ReLU, pruning free)",
  reduction(beta: Degree): number {
    const { relu, degree3, polyVsReluSpeedup } = PAPER_UNIT_COSTS_US;
    switch (beta) {
      case 0:
        return 1;
      case 2:
        return 1 - relu / polyVsReluSpeedup / relu;
      case 3:
        return 1 - degree3 / relu;
      default:
        throw new Error(`paperReduction: the paper gives no cost for degree ${beta}`);
    }
  },
};

/** How a search prices plans: the fraction of the all-ReLU network's activation cost a plan removes. */
export interface ActivationPricing {
  /** Where the numbers come from (recorded with every search outcome). */
  readonly label: string;
  removedCost(graph: Graph, plan: Plan): number;
}

/**
 * Equation 4 as the paper writes it: removed = sum_t approximated_t R(beta_t) / sum_t n_t, each
 * approximated neuron saving R(beta) of a ReLU's cost.
 */
export function perNeuronPricing(reduction: CostReduction): ActivationPricing {
  return {
    label: reduction.label,
    removedCost(graph: Graph, plan: Plan): number {
      const count = countPlan(graph, plan);
      const removed = count.sites.reduce(
        (a, s) => a + s.approximatedNeurons * reduction.reduction(s.beta),
        0,
      );
      return removed / count.neurons;
    },
  };
}

/** The paper's objective (the default). */
export const paperPricing: ActivationPricing = perNeuronPricing(paperReduction);

/**
 * Plans priced whole by this project's cost model (lib/cost): removed = 1 - A(plan) / A(all
 * ReLU), A the activation part of both phases' price: compute, bytes over the link, round trips,
 * and the polynomial protocol's whole HE chunks per site and degree. Unlike a per-neuron R this
 * charges what a site pays once per batch of a degree, so a few polynomial neurons at a site can
 * cost more than the ReLUs they replace; removed may be negative.
 */
export function protocolPricing(options: PriceOptions): ActivationPricing {
  const link = options.link ?? LINKS.loopback;
  const rate = Number.isFinite(link.bandwidth) ? `${Math.round(link.bandwidth * 8 / 1e6)} Mbit/s, ` : "";
  const activationSeconds = (graph: Graph, plan: Plan) => {
    const p = price(planSchedule(graph, plan), options);
    return p.offline.activation_s + p.online.activation_s;
  };
  // Searches score the same plans again and again (every trial, every cycle).
  const cache = new Map<string, number>(), allRelu = new Map<string, number>();
  return {
    label:
      `${options.variant} protocol priced whole by lib/cost, calibration '${options.calibration.name}', ` +
      `link ${link.name} (${rate}round trip ${(link.rtt * 1e3).toPrecision(2)} ms)`,
    removedCost(graph: Graph, plan: Plan): number {
      const key = `${graph.name} ${JSON.stringify(plan.sites)}`;
      let removed = cache.get(key);
      if (removed === undefined) {
        if (!allRelu.has(graph.name)) allRelu.set(graph.name, activationSeconds(graph, allReluPlan(graph)));
        removed = 1 - activationSeconds(graph, plan) / allRelu.get(graph.name)!;
        cache.set(key, removed);
      }
      return removed;
    },
  };
}

/** The all-ReLU accuracy minus this is the threshold (the paper's 85.1% -> 84.5%). */
export const DEFAULT_ACCURACY_DROP = PAPER_THRESHOLD_DROP_POINTS / 100;

/**
 * Default {@link SearchProblem.thresholdPenalty}: a result below the threshold ranks as its reward
 * minus 100 x its shortfall, so 0.1 points of accuracy short cost as much as approximating 10% more
 * of the activation cost earns at the threshold. Without a penalty a search drifts below the
 * threshold, since eq. 4 pays more for removing cost than it charges for accuracy; with a hard
 * cliff (every result above the threshold ahead of every result below) evaluation noise around
 * the threshold throws a population's best configs away.
 */
export const DEFAULT_THRESHOLD_PENALTY = 100;

/** Everything a searcher needs to score and rank a trial: the network, R, the threshold, the penalty. */
export interface SearchProblem {
  readonly graph: Graph;
  readonly sites: readonly ActivationSite[];
  readonly pricing: ActivationPricing;
  /** Validation accuracy a final pick must reach. */
  readonly threshold: number;
  /** What each unit of accuracy below the threshold costs a result's rank (0: eq. 4 alone). */
  readonly thresholdPenalty: number;
}

/** Options of {@link searchProblem}. */
export interface SearchProblemOptions {
  readonly graph: Graph;
  /** This project's all-ReLU network's accuracy on the validation subset, a fraction. */
  readonly allReluValidationAccuracy: number;
  /** Default: {@link paperPricing}. */
  readonly pricing?: ActivationPricing;
  /** Default: {@link DEFAULT_ACCURACY_DROP}. */
  readonly accuracyDrop?: number;
  /** Default: {@link DEFAULT_THRESHOLD_PENALTY}. */
  readonly thresholdPenalty?: number;
}

/** A search problem; throws on an accuracy outside [0, 1], a negative drop or penalty. */
export function searchProblem(options: SearchProblemOptions): SearchProblem {
  const { graph, allReluValidationAccuracy: acc, accuracyDrop = DEFAULT_ACCURACY_DROP } = options;
  if (!(acc >= 0 && acc <= 1)) {
    throw new Error(`allReluValidationAccuracy must be a fraction in [0, 1], got ${acc}`);
  }
  if (!(accuracyDrop >= 0 && accuracyDrop <= acc)) {
    throw new Error(`accuracyDrop must be in [0, ${acc}], got ${accuracyDrop}`);
  }
  const thresholdPenalty = options.thresholdPenalty ?? DEFAULT_THRESHOLD_PENALTY;
  if (!(thresholdPenalty >= 0 && Number.isFinite(thresholdPenalty))) {
    throw new Error(`thresholdPenalty must be a finite number >= 0, got ${thresholdPenalty}`);
  }
  return {
    graph,
    sites: activationSites(graph),
    pricing: options.pricing ?? paperPricing,
    threshold: acc - accuracyDrop,
    thresholdPenalty,
  };
}

/** Share of neurons approximated and fraction of activation cost removed by a plan. */
export function planCost(graph: Graph, plan: Plan, pricing: ActivationPricing): {
  replacedShare: number;
  removedCost: number;
} {
  return {
    replacedShare: countPlan(graph, plan).fractionReplaced,
    removedCost: pricing.removedCost(graph, plan),
  };
}

/** Equation 4. */
export function score(accuracy: number, removedCost: number): number {
  return accuracy * (1 + removedCost);
}

// Accuracies are ratios of counts; a result exactly at the threshold must not fail by rounding.
const THRESHOLD_TOLERANCE = 1e-12;

/** A scored result of a trial's config at a validation accuracy. */
export function scoreTrial(
  problem: SearchProblem,
  fields: { trial: string; stage: string; cycle: number; config: TrialConfig; imagesUsed: number },
  validationAccuracy: number,
): TrialResult {
  if (!(validationAccuracy >= 0 && validationAccuracy <= 1)) {
    throw new Error(
      `trial ${fields.trial}: the runner returned validation accuracy ${validationAccuracy}, not in [0, 1]`,
    );
  }
  const { replacedShare, removedCost } = planCost(problem.graph, fields.config.plan, problem.pricing);
  return {
    ...fields,
    validationAccuracy,
    replacedShare,
    removedCost,
    score: score(validationAccuracy, removedCost),
    aboveThreshold: validationAccuracy >= problem.threshold - THRESHOLD_TOLERANCE,
  };
}

/**
 * The value a searcher maximises for a result: `reward` (default the eq. 4 score) minus the
 * problem's penalty times the accuracy short of the threshold.
 */
export function rank(problem: SearchProblem, result: TrialResult, reward = result.score): number {
  return reward - problem.thresholdPenalty * Math.max(0, problem.threshold - result.validationAccuracy);
}

/** The highest-scoring result at or above the threshold (the first on ties), or null. */
export function bestAboveThreshold(results: readonly TrialResult[]): TrialResult | null {
  let best: TrialResult | null = null;
  for (const r of results) if (r.aboveThreshold && (best === null || r.score > best.score)) best = r;
  return best;
}

/**
 * Approximated neurons of `plan` at the given sites (floor(alpha x channels) x H x W, as
 * countPlan counts). For constraint checks in inner loops: no plan validation, no shape inference.
 */
export function approximatedNeurons(
  problem: SearchProblem,
  plan: Plan,
  siteIndices: readonly number[],
): number {
  let n = 0;
  for (const i of siteIndices) {
    const s = problem.sites[i];
    n += approximatedChannels(plan.sites[i].alpha, s.channels) * s.height * s.width;
  }
  return n;
}
