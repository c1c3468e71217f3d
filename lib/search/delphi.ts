/**
 * Delphi's own planner (mc2-project/delphi, python/minionn/minionn_cifar10.py), on this
 * project's runner: Ray Tune PBT over the learning rate and momentum only. Each trial replaces a
 * fixed number k of whole activation layers by quadratics (alpha 1, beta 2), the layers a uniformly
 * random k-subset drawn once per trial; the subset belongs to the trial's config, so an exploit
 * inherits it and explore never changes it. Delphi's reward, which PBT ranks by (minus the
 * problem's threshold penalty): val_acc x (1 + approximated neurons / all neurons).
 *
 * As in Delphi's script: initial lr uniform on {0.1, 0.01, 0.001, 0.0001}, momentum 0.9; the
 * resample distributions lr ~ U(0.0001, 1), momentum ~ U(0.5, 1); continuous explore multiplies by
 * 1.2 or 0.8 without clamping, as Ray Tune does. Delphi's fixed quadratic (0.1992 + 0.5002x +
 * 0.1997x^2, blended in from ReLU) is the runner's to apply: its trials have stage "delphi" and
 * carry lr and momentum.
 *
 * @module
 */
import { layerwisePlan } from "../nn/plan.ts";
import { checkInteger, checkRange, cyclesWithin } from "./options.ts";
import { type PbtMember, type PbtSettings, resolvePbtSettings, runPbtStage } from "./pbt.ts";
import { SearchRecorder } from "./record.ts";
import type { SearchRng } from "./rng.ts";
import { bestAboveThreshold, rank, type SearchProblem } from "./score.ts";
import { optimiserView, uniformHyperparameter } from "./space.ts";
import type { SearchOutcome, TrialResult, TrialRunner } from "./types.ts";

/** Delphi script's initial learning rates. */
export const DELPHI_INITIAL_LR: readonly number[] = [0.1, 0.01, 0.001, 0.0001];
/** Delphi script's initial momentum. */
export const DELPHI_INITIAL_MOMENTUM = 0.9;
/** Delphi script's resample ranges. */
export const DELPHI_LR_RANGE: readonly [number, number] = [0.0001, 1];
export const DELPHI_MOMENTUM_RANGE: readonly [number, number] = [0.5, 1];

/** Options of {@link searchDelphi}. */
export interface DelphiSearchOptions extends PbtSettings {
  readonly problem: SearchProblem;
  /** Whole layers replaced in every trial (Delphi's `--approx`), 1 .. sites. */
  readonly approximatedLayers: number;
}

/** Delphi's reward: val_acc x (1 + approximated / all neurons). */
export function delphiReward(result: TrialResult): number {
  return result.validationAccuracy * (1 + result.replacedShare);
}

/**
 * Delphi's planner: one PBT over (lr, momentum) spending the whole budget; the final pick is the
 * best eq. 4 score above the threshold at the last cycle.
 */
export async function searchDelphi(
  runner: TrialRunner,
  options: DelphiSearchOptions,
  rng: SearchRng,
): Promise<SearchOutcome> {
  const settings = resolvePbtSettings("delphi", options);
  const { problem } = options;
  const sites = problem.sites.length;
  const k = checkInteger("delphi", "approximatedLayers", options.approximatedLayers);
  checkRange("delphi", "approximatedLayers", k, 1, sites);
  const recorder = new SearchRecorder(runner, problem);
  const cycles = cyclesWithin("delphi", recorder.budgetImages, settings.population, settings.interval);
  const view = optimiserView(
    uniformHyperparameter("lr", ...DELPHI_LR_RANGE),
    uniformHyperparameter("momentum", ...DELPHI_MOMENTUM_RANGE),
  );
  const initial = Array.from({ length: settings.population }, (): PbtMember => {
    const lr = rng.choice(DELPHI_INITIAL_LR);
    const plan = layerwisePlan(problem.graph, rng.sampleIndices(sites, k), 2);
    return { values: [lr, DELPHI_INITIAL_MOMENTUM], config: { plan, lr, momentum: DELPHI_INITIAL_MOMENTUM } };
  });
  const { results } = await runPbtStage(recorder, {
    stage: "delphi",
    view,
    initial,
    cycles,
    objective: (r) => rank(problem, r, delphiReward(r)),
    settings,
  }, rng);
  return recorder.outcome("delphi", bestAboveThreshold(results));
}
