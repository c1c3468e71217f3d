/**
 * The search space and Ray Tune's explore step.
 *
 * A site's setting is {alpha, beta}: alpha on a 0.05 grid in [0, 1] (21 values), beta a degree in
 * {0, 2, 3} (paper, Section 3). Hyperparameters are list-valued (the grid, the degrees) or
 * continuous (Delphi's learning rate and momentum). Explore follows Ray Tune's PBT
 * (`ray/tune/schedulers/pbt.py`, `explore`), draw for draw: for a list value, with probability
 * `resampleProbability` (or if the current value is not in the list) a uniformly random element,
 * otherwise one index down or up with equal probability, clamped at the ends; for a continuous
 * value, with probability `resampleProbability` a fresh sample of its distribution, otherwise the
 * value times 1.2 or 0.8 with equal probability.
 *
 * A {@link SearchView} maps a small vector of searched values onto a full trial config, so one
 * PBT engine searches one shared setting for all sites, two sibling groups, every site, or
 * Delphi's optimiser settings.
 *
 * @module
 */
import type { Degree } from "../nn/approximation.ts";
import type { SitePlan } from "../nn/plan.ts";
import type { SearchRng } from "./rng.ts";
import type { TrialConfig } from "./types.ts";

/** alpha in {0, 0.05, ..., 1}; i / 20 is the double nearest each decimal, so 0.15 === ALPHA_GRID[3]. */
export const ALPHA_GRID: readonly number[] = Array.from({ length: 21 }, (_, i) => i / 20);

/** The paper's degrees: 0 (prune), 2 and 3. */
export const SEARCH_DEGREES: readonly Degree[] = [0, 2, 3];

/** Ray Tune's PBT defaults, as the paper used them. */
export const RESAMPLE_PROBABILITY = 0.25;
/** Ray Tune's perturbation factors for continuous values. */
export const PERTURBATION_FACTORS: readonly [up: number, down: number] = [1.2, 0.8];

/** A hyperparameter taking one of a list of values (Ray Tune: a list in `hyperparam_mutations`). */
export interface ListHyperparameter {
  readonly kind: "list";
  readonly name: string;
  readonly values: readonly number[];
}

/** A continuous hyperparameter (Ray Tune: a function or distribution in `hyperparam_mutations`). */
export interface ContinuousHyperparameter {
  readonly kind: "continuous";
  readonly name: string;
  /** Draws a fresh value (the resample step). */
  readonly sample: (rng: SearchRng) => number;
}

/** A searched hyperparameter. */
export type Hyperparameter = ListHyperparameter | ContinuousHyperparameter;

/** A fresh value: a uniformly random list element, or a sample of the distribution. */
export function sampleHyperparameter(h: Hyperparameter, rng: SearchRng): number {
  return h.kind === "list" ? rng.choice(h.values) : h.sample(rng);
}

/** Ray Tune's explore of one value (see the module comment). */
export function exploreHyperparameter(
  h: Hyperparameter,
  current: number,
  rng: SearchRng,
  resampleProbability = RESAMPLE_PROBABILITY,
): number {
  if (h.kind === "list") {
    const i = h.values.indexOf(current);
    if (rng.float() < resampleProbability || i < 0) return rng.choice(h.values);
    return rng.float() > 0.5 ? h.values[Math.max(0, i - 1)] : h.values[Math.min(h.values.length - 1, i + 1)];
  }
  if (rng.float() < resampleProbability) return h.sample(rng);
  return current * (rng.float() > 0.5 ? PERTURBATION_FACTORS[0] : PERTURBATION_FACTORS[1]);
}

/** Explores every value of a vector, in parameter order (Ray Tune walks its mutations in order). */
export function exploreValues(
  params: readonly Hyperparameter[],
  values: readonly number[],
  rng: SearchRng,
  resampleProbability = RESAMPLE_PROBABILITY,
): number[] {
  checkLength(params, values);
  return params.map((h, i) => exploreHyperparameter(h, values[i], rng, resampleProbability));
}

/** Fresh values for every parameter (Ray Tune's initial sampling from the mutation space). */
export function sampleValues(params: readonly Hyperparameter[], rng: SearchRng): number[] {
  return params.map((h) => sampleHyperparameter(h, rng));
}

function checkLength(params: readonly Hyperparameter[], values: readonly number[]): void {
  if (values.length !== params.length) {
    throw new Error(
      `expected ${params.length} values (${params.map((p) => p.name).join(", ")}), got ${values.length}`,
    );
  }
}

/** A subspace of trial configs searched as a vector of values. */
export interface SearchView {
  readonly params: readonly Hyperparameter[];
  /** The config with the searched `values`, everything else as in `base`. */
  apply(values: readonly number[], base: TrialConfig): TrialConfig;
  /** The view's values in `config` (to warm-start from a config). */
  read(config: TrialConfig): number[];
}

/**
 * One shared {alpha, beta} per group of sites: parameters alpha[g], beta[g] for each group g, in
 * group order. One group of all sites is BTPBT's root; two groups a sibling pair; one group per
 * site the per-site (global) search. `degrees` are beta's choices (only [2]: no degree search).
 */
export function groupView(
  groups: readonly (readonly number[])[],
  degrees: readonly Degree[] = SEARCH_DEGREES,
): SearchView {
  if (groups.length === 0 || groups.some((g) => g.length === 0)) {
    throw new Error(`groupView: every group needs at least one site, got ${JSON.stringify(groups)}`);
  }
  if (degrees.length === 0) throw new Error("groupView: no degrees to search");
  const params = groups.flatMap((_, g): Hyperparameter[] => [
    { kind: "list", name: `alpha[${g}]`, values: ALPHA_GRID },
    { kind: "list", name: `beta[${g}]`, values: degrees },
  ]);
  const checkSites = (config: TrialConfig) => {
    const count = config.plan.sites.length;
    const bad = groups.flat().find((s) => !(Number.isInteger(s) && s >= 0 && s < count));
    if (bad !== undefined) throw new Error(`groupView: site ${bad} is not one of the plan's ${count} sites`);
  };
  return {
    params,
    apply(values, base) {
      checkLength(params, values);
      checkSites(base);
      const sites: SitePlan[] = base.plan.sites.map((s) => ({ ...s }));
      groups.forEach((group, g) => {
        for (const s of group) sites[s] = { alpha: values[2 * g], beta: values[2 * g + 1] as Degree };
      });
      return { ...base, plan: { ...base.plan, sites } };
    },
    read(config) {
      checkSites(config);
      // A group's setting is its first site's (groups are set as one in this view).
      return groups.flatMap((group) => [config.plan.sites[group[0]].alpha, config.plan.sites[group[0]].beta]);
    },
  };
}

/** One {alpha, beta} per site: groups [0], [1], ..., [siteCount - 1]. */
export function siteView(siteCount: number, degrees: readonly Degree[] = SEARCH_DEGREES): SearchView {
  return groupView(Array.from({ length: siteCount }, (_, i) => [i]), degrees);
}

/** The optimiser settings Delphi's planner searches: lr and momentum, each continuous. */
export function optimiserView(lr: ContinuousHyperparameter, momentum: ContinuousHyperparameter): SearchView {
  const params = [lr, momentum];
  return {
    params,
    apply(values, base) {
      checkLength(params, values);
      return { ...base, lr: values[0], momentum: values[1] };
    },
    read(config) {
      if (config.lr === undefined || config.momentum === undefined) {
        throw new Error("optimiserView: the config has no lr or momentum to read");
      }
      return [config.lr, config.momentum];
    },
  };
}

/** A continuous hyperparameter drawn uniformly from [low, high) (Python's random.uniform). */
export function uniformHyperparameter(name: string, low: number, high: number): ContinuousHyperparameter {
  if (!(low < high)) throw new Error(`${name}: need low < high, got [${low}, ${high}]`);
  return { kind: "continuous", name, sample: (rng) => low + (high - low) * rng.float() };
}
