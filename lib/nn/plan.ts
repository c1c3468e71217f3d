/**
 * Replacement plans: per activation site, the share alpha of channels approximated and the
 * polynomial degree beta. A plan is plain JSON; it is what search hands to training, the cost
 * model and the protocol. Validating and counting need no TensorFlow.js; applying a plan to a
 * model is apply_plan.ts.
 *
 * @module
 */
import { activationSites, type Graph } from "./graph.ts";
import { approximatedChannels, type Degree, DEGREES } from "./approximation.ts";

/** One site's setting: alpha in [0, 1] of its channels approximated by degree-beta polynomials. */
export interface SitePlan {
  alpha: number;
  beta: Degree;
}

/** A plan for a model: one {@link SitePlan} per activation site, in graph order. */
export interface Plan {
  /** The graph's name (e.g. "cnn7"); a plan for one network cannot be applied to another. */
  model: string;
  sites: SitePlan[];
}

/** Throws a clear error unless `plan` fits `graph`: model name, site count, alpha and beta ranges. */
export function validatePlan(graph: Graph, plan: Plan): void {
  const fail = (why: string): never => {
    throw new Error(`invalid plan for ${graph.name}: ${why}`);
  };
  if (plan === null || typeof plan !== "object" || !Array.isArray(plan.sites)) {
    fail(`expected { model: string, sites: { alpha, beta }[] }, got ${JSON.stringify(plan)}`);
  }
  if (plan.model !== graph.name) fail(`it is for model '${plan.model}'`);
  const count = activationSites(graph).length;
  if (plan.sites.length !== count) {
    fail(`it has ${plan.sites.length} sites, the network has ${count} activation sites`);
  }
  plan.sites.forEach((site, i) => {
    if (!(typeof site?.alpha === "number" && site.alpha >= 0 && site.alpha <= 1)) {
      fail(`site ${i}: alpha must be a number in [0, 1], got ${JSON.stringify(site?.alpha)}`);
    }
    if (!DEGREES.includes(site.beta)) {
      fail(`site ${i}: beta must be one of ${DEGREES.join(", ")}, got ${JSON.stringify(site.beta)}`);
    }
  });
}

/** Every site alpha = alpha, beta = beta (SAFENet's hand-crafted channel-wise setting). */
export function uniformPlan(graph: Graph, alpha: number, beta: Degree): Plan {
  const plan = { model: graph.name, sites: activationSites(graph).map(() => ({ alpha, beta })) };
  validatePlan(graph, plan);
  return plan;
}

/** The plain ReLU network: alpha 0 everywhere (beta 2, the search's starting degree). */
export function allReluPlan(graph: Graph): Plan {
  return uniformPlan(graph, 0, 2);
}

/**
 * Delphi-style layer-wise plan: the given sites (by index or op id) are replaced whole
 * (alpha 1) by degree-`beta` polynomials, the others stay ReLU.
 */
export function layerwisePlan(graph: Graph, replaced: readonly (number | string)[], beta: Degree = 2): Plan {
  const sites = activationSites(graph);
  const chosen = new Set(replaced.map((r) => {
    const site = typeof r === "number" ? sites[r] : sites.find((s) => s.id === r);
    if (!site) {
      throw new Error(
        `layerwisePlan for ${graph.name}: no activation site ${JSON.stringify(r)}; ` +
          `sites are 0..${sites.length - 1} or ids ${sites.map((s) => s.id).join(", ")}`,
      );
    }
    return site.index;
  }));
  const plan = { model: graph.name, sites: sites.map((s) => ({ alpha: chosen.has(s.index) ? 1 : 0, beta })) };
  validatePlan(graph, plan);
  return plan;
}

/** Neuron counts of one site under a plan. */
export interface SiteCount {
  index: number;
  id: string;
  height: number;
  width: number;
  channels: number;
  /** n_t = channels x height x width. */
  neurons: number;
  alpha: number;
  beta: Degree;
  /** floor(alpha x channels). */
  approximatedChannels: number;
  /** ReLUs left: (channels - approximated channels) x height x width. */
  relus: number;
  /** Neurons computed by the degree-beta polynomial: approximated channels x height x width. */
  approximatedNeurons: number;
}

/** Counts of a whole plan. */
export interface PlanCount {
  sites: SiteCount[];
  /** All activation neurons (the all-ReLU network's ReLU count). */
  neurons: number;
  /** ReLUs left. */
  relus: number;
  /** Approximated neurons by degree. */
  approximatedByDegree: Record<Degree, number>;
  /** Approximated neurons, all degrees. */
  approximatedNeurons: number;
  /** approximatedNeurons / neurons. */
  fractionReplaced: number;
}

/** Per-site and total neuron counts of a plan (alpha applies to channels, then times H x W). */
export function countPlan(graph: Graph, plan: Plan): PlanCount {
  validatePlan(graph, plan);
  const byDegree: Record<Degree, number> = { 0: 0, 1: 0, 2: 0, 3: 0 };
  const sites = activationSites(graph).map((s, i): SiteCount => {
    const { alpha, beta } = plan.sites[i];
    const approx = approximatedChannels(alpha, s.channels);
    const approximatedNeurons = approx * s.height * s.width;
    byDegree[beta] += approximatedNeurons;
    return {
      index: s.index,
      id: s.id,
      height: s.height,
      width: s.width,
      channels: s.channels,
      neurons: s.neurons,
      alpha,
      beta,
      approximatedChannels: approx,
      relus: s.neurons - approximatedNeurons,
      approximatedNeurons,
    };
  });
  const neurons = sites.reduce((a, s) => a + s.neurons, 0);
  const approximatedNeurons = sites.reduce((a, s) => a + s.approximatedNeurons, 0);
  return {
    sites,
    neurons,
    relus: neurons - approximatedNeurons,
    approximatedByDegree: byDegree,
    approximatedNeurons,
    fractionReplaced: approximatedNeurons / neurons,
  };
}
