/**
 * Population Based Training with Ray Tune's semantics (`ray/tune/schedulers/pbt.py`), synchronous
 * (Ray's `synch=True`): every trial of the population trains `interval` images, is evaluated and
 * scored; trials are sorted by the stage's objective (for SAFENet's searchers the eq. 4 score minus
 * the threshold penalty, score.ts `rank`); the bottom ceil(n x quantileFraction) of them (at most
 * n / 2) each clone the checkpoint and config of a uniformly chosen trial of the top quantile of
 * the same size, then explore the config (space.ts); the others continue. Sources are never
 * targets (the quantiles are disjoint), so cloning "the latest checkpoint" is well defined.
 *
 * The engine searches any {@link SearchView}, optionally under a constraint on configs: an explored
 * config that violates it is redrawn, up to `maxConstraintTries` times, after which the target
 * clones the source's config unexplored (recorded as `explored: false`), which satisfies the
 * constraint because every member does. The plain per-site PBT searcher is at the end.
 *
 * @module
 */
import type { Degree } from "../nn/approximation.ts";
import { allReluPlan } from "../nn/plan.ts";
import { checkDegrees, checkInteger, checkRange, cyclesWithin } from "./options.ts";
import { SearchRecorder } from "./record.ts";
import type { SearchRng } from "./rng.ts";
import { bestAboveThreshold, rank, type SearchProblem } from "./score.ts";
import {
  exploreValues,
  RESAMPLE_PROBABILITY,
  sampleValues,
  SEARCH_DEGREES,
  type SearchView,
  siteView,
} from "./space.ts";
import type { Decision, SearchOutcome, TrialConfig, TrialId, TrialResult, TrialRunner } from "./types.ts";

/** Ray Tune's default quantile fraction. */
export const QUANTILE_FRACTION = 0.25;
/** Redraws of an explored or sampled config that violates a stage's constraint. */
export const MAX_CONSTRAINT_TRIES = 10_000;

/** The PBT settings every PBT-based searcher takes. */
export interface PbtSettings {
  /** Trials trained side by side. */
  readonly population: number;
  /** Perturbation interval: training images per trial between two exploit/explore steps. */
  readonly interval: number;
  /** Default {@link QUANTILE_FRACTION}. */
  readonly quantileFraction?: number;
  /** Default {@link RESAMPLE_PROBABILITY}. */
  readonly resampleProbability?: number;
  /** Default {@link MAX_CONSTRAINT_TRIES}. */
  readonly maxConstraintTries?: number;
}

/** {@link PbtSettings} checked, defaults filled in. */
export type ResolvedPbtSettings = Required<PbtSettings>;

/** Checks PBT settings (throwing a one-line error naming the searcher) and fills in defaults. */
export function resolvePbtSettings(where: string, s: PbtSettings): ResolvedPbtSettings {
  const population = checkInteger(where, "population", s.population, 2);
  return {
    population,
    interval: checkInteger(where, "interval", s.interval),
    quantileFraction: checkRange(where, "quantileFraction", s.quantileFraction ?? QUANTILE_FRACTION, 0, 0.5),
    resampleProbability: checkRange(
      where,
      "resampleProbability",
      s.resampleProbability ?? RESAMPLE_PROBABILITY,
      0,
      1,
    ),
    maxConstraintTries: checkInteger(
      where,
      "maxConstraintTries",
      s.maxConstraintTries ?? MAX_CONSTRAINT_TRIES,
    ),
  };
}

/** A population member before it has a trial: its searched values and full config. */
export interface PbtMember {
  readonly values: readonly number[];
  readonly config: TrialConfig;
}

/** A member with its trial. */
export interface PbtTrial extends PbtMember {
  readonly trial: TrialId;
}

/** A predicate every config of a stage must satisfy (BTPBT: children approximate more than the parent). */
export type Constraint = (config: TrialConfig) => boolean;

/**
 * Ray Tune's quantiles: indices sorted by ascending objective (ties by index), the bottom and the
 * top ceil(n q) of them, at most floor(n / 2) each; none when n <= 1.
 */
export function quantiles(
  objectives: readonly number[],
  fraction: number,
): { bottom: number[]; top: number[] } {
  const bad = objectives.findIndex((o) => !Number.isFinite(o));
  if (bad >= 0) throw new Error(`PBT: objective of trial ${bad} is ${objectives[bad]}, not a finite number`);
  const n = objectives.length;
  if (n <= 1) return { bottom: [], top: [] };
  const order = objectives.map((_, i) => i).sort((a, b) => objectives[a] - objectives[b] || a - b);
  let k = Math.ceil(n * fraction);
  if (k > n / 2) k = Math.floor(n / 2);
  return { bottom: order.slice(0, k), top: order.slice(n - k) };
}

/**
 * Explores `source`'s values until the config meets `constraint` (at most `maxTries` draws); if
 * none does, the source's values unexplored.
 */
export function exploreMember(
  view: SearchView,
  source: PbtMember,
  rng: SearchRng,
  settings: Pick<ResolvedPbtSettings, "resampleProbability" | "maxConstraintTries">,
  constraint?: Constraint,
): PbtMember & { explored: boolean } {
  const tries = constraint ? settings.maxConstraintTries : 1;
  for (let i = 0; i < tries; i++) {
    const values = exploreValues(view.params, source.values, rng, settings.resampleProbability);
    const config = view.apply(values, source.config);
    if (!constraint || constraint(config)) return { values, config, explored: true };
  }
  return { values: source.values, config: source.config, explored: false };
}

/**
 * The decisions after a cycle: "exploit" (clone a random top-quantile trial, then explore) for
 * the bottom quantile, "continue" for the rest. Draws from `rng` in ascending order of objective.
 */
export function pbtDecisions(
  view: SearchView,
  members: readonly PbtTrial[],
  objectives: readonly number[],
  rng: SearchRng,
  settings: ResolvedPbtSettings,
  constraint?: Constraint,
): Decision[] {
  if (objectives.length !== members.length) {
    throw new Error(`PBT: ${objectives.length} objectives for ${members.length} trials`);
  }
  const { bottom, top } = quantiles(objectives, settings.quantileFraction);
  const decisions: Decision[] = members.map(() => ({ kind: "continue" }));
  for (const i of bottom) {
    const source = members[rng.choice(top)];
    const { values, config, explored } = exploreMember(view, source, rng, settings, constraint);
    decisions[i] = { kind: "exploit", source: source.trial, config, values, explored };
  }
  return decisions;
}

/** Ray Tune's initial population: every value sampled from its mutation space, redrawn until the constraint holds. */
export function randomMembers(
  view: SearchView,
  base: TrialConfig,
  count: number,
  rng: SearchRng,
  settings: Pick<ResolvedPbtSettings, "maxConstraintTries">,
  constraint?: Constraint,
): PbtMember[] {
  return Array.from({ length: count }, () => {
    const tries = constraint ? settings.maxConstraintTries : 1;
    for (let i = 0; i < tries; i++) {
      const values = sampleValues(view.params, rng);
      const config = view.apply(values, base);
      if (!constraint || constraint(config)) return { values, config };
    }
    throw new Error(`PBT: no random config met the stage's constraint in ${tries} draws`);
  });
}

/**
 * A population warm-started from `base`: every member starts with it, as Ray Tune starts every
 * trial from a given config; members part ways at PBT's first exploit.
 */
export function warmStartMembers(view: SearchView, base: TrialConfig, count: number): PbtMember[] {
  const start: PbtMember = { values: view.read(base), config: base };
  return Array.from({ length: count }, () => start);
}

/**
 * A population of clones of `base`, each explored (as after an exploit) until it meets the
 * constraint; throws if a member cannot be made to meet it.
 */
export function exploredMembers(
  view: SearchView,
  base: TrialConfig,
  count: number,
  rng: SearchRng,
  settings: Pick<ResolvedPbtSettings, "resampleProbability" | "maxConstraintTries">,
  constraint?: Constraint,
): PbtMember[] {
  const start: PbtMember = { values: view.read(base), config: base };
  return Array.from({ length: count }, () => {
    const { values, config } = exploreMember(view, start, rng, settings, constraint);
    if (constraint && !constraint(config)) {
      throw new Error(
        `PBT: no explored config met the stage's constraint in ${settings.maxConstraintTries} draws`,
      );
    }
    return { values, config };
  });
}

/** One PBT run over a view (a whole search, or one of BTPBT's stages). */
export interface PbtStage {
  /** Name passed to the runner and recorded with every result. */
  readonly stage: string;
  readonly view: SearchView;
  /** The starting population (its length is the population size). */
  readonly initial: readonly PbtMember[];
  /** Trial whose checkpoint every member starts from (default: the pretrained network). */
  readonly from?: TrialId;
  readonly cycles: number;
  /** What PBT maximises; results are sorted by it. */
  readonly objective: (result: TrialResult) => number;
  readonly constraint?: Constraint;
  readonly settings: ResolvedPbtSettings;
}

/** The population's results at the last cycle (member order) and the best of them by objective. */
export interface PbtStageOutcome {
  readonly results: readonly TrialResult[];
  readonly best: TrialResult;
}

/**
 * Runs a PBT stage: starts the population, then `cycles` times trains every member for
 * `settings.interval` images and (except after the last cycle) applies the decisions. Stops the
 * trials at the end; their checkpoints remain for later stages.
 */
export async function runPbtStage(
  recorder: SearchRecorder,
  stage: PbtStage,
  rng: SearchRng,
): Promise<PbtStageOutcome> {
  const { runner } = recorder;
  checkInteger(stage.stage, "cycles", stage.cycles);
  const trials = await runner.start(stage.stage, stage.initial.map((m) => m.config), stage.from);
  if (trials.length !== stage.initial.length) {
    throw new Error(`runner.start returned ${trials.length} trials for ${stage.initial.length} configs`);
  }
  let members: PbtTrial[] = stage.initial.map((m, i) => ({ ...m, trial: trials[i] }));
  let results: TrialResult[] = [];
  for (let cycle = 0; cycle < stage.cycles; cycle++) {
    results = await recorder.trainCycle(
      stage.stage,
      trials,
      members.map((m) => m.config),
      stage.settings.interval,
    );
    // Nothing trains after the last cycle, so exploiting then would only move weights around.
    if (cycle === stage.cycles - 1) break;
    const decisions = pbtDecisions(
      stage.view,
      members,
      results.map(stage.objective),
      rng,
      stage.settings,
      stage.constraint,
    );
    const exploits = [];
    const next = [...members];
    for (const [i, d] of decisions.entries()) {
      if (d.kind === "continue") continue;
      await runner.exploit(members[i].trial, d.source, d.config);
      next[i] = { trial: members[i].trial, values: d.values, config: d.config };
      exploits.push({ target: members[i].trial, source: d.source, explored: d.explored });
    }
    members = next;
    recorder.recordExploits(exploits);
  }
  await runner.stop(trials);
  const objectives = results.map(stage.objective);
  const best = results[objectives.indexOf(Math.max(...objectives))];
  return { results, best };
}

/** Options of {@link searchPbt}. */
export interface PbtSearchOptions extends PbtSettings {
  readonly problem: SearchProblem;
  /** beta's choices (default {@link SEARCH_DEGREES}). */
  readonly degrees?: readonly Degree[];
}

/**
 * PBT directly over every site's (alpha_t, beta_t) (Figure 4's PBT baseline): a random initial
 * population from the all-ReLU weights, as many cycles of `population` x `interval` images as the
 * runner's budget holds; the final pick is the best result above the threshold at the last cycle.
 */
export async function searchPbt(
  runner: TrialRunner,
  options: PbtSearchOptions,
  rng: SearchRng,
): Promise<SearchOutcome> {
  const settings = resolvePbtSettings("pbt", options);
  const degrees = checkDegrees("pbt", options.degrees ?? SEARCH_DEGREES);
  const { problem } = options;
  const recorder = new SearchRecorder(runner, problem);
  const cycles = cyclesWithin("pbt", recorder.budgetImages, settings.population, settings.interval);
  const view = siteView(problem.sites.length, degrees);
  const base: TrialConfig = { plan: allReluPlan(problem.graph) };
  const { results } = await runPbtStage(recorder, {
    stage: "pbt",
    view,
    initial: randomMembers(view, base, settings.population, rng, settings),
    cycles,
    objective: (r) => rank(problem, r),
    settings,
  }, rng);
  return recorder.outcome("pbt", bestAboveThreshold(results));
}
