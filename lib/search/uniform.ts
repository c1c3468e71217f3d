/**
 * The hand-crafted channel-wise baseline (the paper's CW): one alpha and one beta for every site,
 * a grid over alpha. Every grid point is a trial fine-tuned from the all-ReLU network; each cycle
 * trains all of them `interval` images, as many cycles as the budget holds, so the history shows
 * each setting's accuracy as fine-tuning goes on.
 *
 * @module
 */
import type { Degree } from "../nn/approximation.ts";
import { uniformPlan } from "../nn/plan.ts";
import { checkDegrees, checkInteger, cyclesWithin } from "./options.ts";
import { SearchRecorder } from "./record.ts";
import { bestAboveThreshold, type SearchProblem } from "./score.ts";
import { ALPHA_GRID } from "./space.ts";
import type { SearchOutcome, TrialConfig, TrialResult, TrialRunner } from "./types.ts";

/** Options of {@link searchUniform}. */
export interface UniformSearchOptions {
  readonly problem: SearchProblem;
  /** Training images per trial per cycle. */
  readonly interval: number;
  /** The alphas tried (default the whole {@link ALPHA_GRID}). */
  readonly alphas?: readonly number[];
  /** The degree of every site (default 2, the paper's CW). */
  readonly beta?: Degree;
}

/**
 * Grid search over one shared alpha (the paper's CW). Needs no randomness, so it takes no
 * generator. The final pick: the best result above the threshold at the last cycle.
 */
export async function searchUniform(
  runner: TrialRunner,
  options: UniformSearchOptions,
): Promise<SearchOutcome> {
  const { problem } = options;
  const interval = checkInteger("uniform", "interval", options.interval);
  const [beta] = checkDegrees("uniform", [options.beta ?? 2]);
  const alphas = options.alphas ?? ALPHA_GRID;
  if (
    alphas.length === 0 || new Set(alphas).size !== alphas.length || alphas.some((a) => !(a >= 0 && a <= 1))
  ) {
    throw new Error(`uniform: alphas must be distinct numbers in [0, 1], got ${JSON.stringify(alphas)}`);
  }
  const recorder = new SearchRecorder(runner, problem);
  const cycles = cyclesWithin("uniform", recorder.budgetImages, alphas.length, interval);
  const configs: TrialConfig[] = alphas.map((alpha) => ({ plan: uniformPlan(problem.graph, alpha, beta) }));
  const trials = await runner.start("uniform", configs);
  let results: TrialResult[] = [];
  for (let c = 0; c < cycles; c++) results = await recorder.trainCycle("uniform", trials, configs, interval);
  await runner.stop(trials);
  return recorder.outcome("uniform", bestAboveThreshold(results));
}
