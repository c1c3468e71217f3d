/**
 * One search on real training, end to end: data (the seeded split, a stratified validation
 * subset), a {@link TrialPool} started from the pretrained all-ReLU network (also the
 * distillation teacher), the threshold from that network's accuracy on the validation subset, a
 * resumable {@link SearchRunner}, the searcher, a progress line per cycle, and the final pick
 * evaluated once on the test set. Writing results and plans is the caller's (tools/search.ts).
 *
 * @module
 */
import { basename } from "node:path";
import { acquireRunLock } from "../data/run_lock.ts";
import type { DatasetName } from "../data/dataset.ts";
import type { Degree } from "../nn/approximation.ts";
import { architecture, type ModelName } from "../nn/architectures.ts";
import { allReluPlan, type Plan } from "../nn/plan.ts";
import { calibrationBatch, loadTrainingData, stratifiedSubset, VALIDATION_SIZE } from "../train/data.ts";
import { exportModel } from "../train/export.ts";
import { recipeFactory } from "../train/models.ts";
import { formatDuration } from "../train/progress.ts";
import { TrialPool } from "../train/trials.ts";
import type { DistillationSettings, TrialOutcome } from "../train/trials.ts";
import { searchBtpbt } from "./btpbt.ts";
import { searchDelphi } from "./delphi.ts";
import { searchDrl } from "./drl.ts";
import { costPricing, DEFAULT_COST_SOURCE } from "./cost_source.ts";
import { type SearchSpec, specLabel } from "./options.ts";
import { searchPbt } from "./pbt.ts";
import { SearchRng } from "./rng.ts";
import { type CycleReport, SearchRunner, type TrainDetail } from "./runner.ts";
import type { SearchProfile } from "./runner_profiles.ts";
import { rank, scoreTrial, type SearchProblem, searchProblem } from "./score.ts";
import type { SearcherName, SearchOutcome, TrialResult, TrialRunner } from "./types.ts";
import { searchUniform } from "./uniform.ts";

/** The searchers `runSearch` runs. */
export const SEARCHER_NAMES: readonly SearcherName[] = ["btpbt", "pbt", "drl", "delphi", "uniform"];

/** Seed of the validation subset drawn from the held-out split (fixed: every search sees the same). */
const VALIDATION_SUBSET_SEED = 1;

/** Options of {@link runSearch}. */
export interface SearchSessionOptions {
  /** The searcher, its degrees and its R(beta). */
  readonly spec: SearchSpec;
  readonly model: ModelName;
  readonly dataset: DatasetName;
  readonly profile: SearchProfile;
  readonly seed: number;
  /** Run directory (journal and trial states). */
  readonly runDir: string;
  /** The pretrained all-ReLU network every trial starts from (a `saveModel` directory). */
  readonly pretrained: string;
  readonly workers: number;
  /** oneDNN threads per worker (default: the cores divided among the workers). */
  readonly nativeThreads?: number;
  /** Overrides the profile's distillation. */
  readonly distillation?: DistillationSettings;
  /** Export the final pick's model (masks and trained coefficients) here. */
  readonly exportDir?: string;
  /** Progress lines (default: standard error). */
  readonly say?: (line: string) => void;
}

/** What a search session returns. */
export interface SearchSessionResult {
  readonly outcome: SearchOutcome;
  readonly allReluValidationAccuracy: number;
  readonly validationImages: number;
  /** Evaluation images the search used (validation subset x evaluated trials), apart from the budget. */
  readonly evaluationImages: number;
  /** The final pick's accuracy on the test set (or the profile's part of it), null without a pick. */
  readonly finalTestAccuracy: number | null;
  readonly testImages: number;
  /** Per cycle, per trial: training loss, validation loss, evaluation images, worker seconds. */
  readonly cycleDetails: TrainDetail[][];
  readonly distillation: DistillationSettings;
  /** Cycles answered from the journal of an earlier, interrupted invocation. */
  readonly replayedCycles: number;
}

/** Runs one searcher with the runner's answers; the seed drives all its randomness. */
export function runSearcher(
  name: SearcherName,
  runner: TrialRunner,
  problem: SearchProblem,
  profile: SearchProfile,
  seed: number,
  degrees?: readonly Degree[],
): Promise<SearchOutcome> {
  const { population, interval } = profile;
  const rng = new SearchRng(seed);
  const choice = degrees ? { degrees } : {};
  switch (name) {
    case "uniform":
      return searchUniform(runner, {
        problem,
        interval,
        ...(profile.uniformAlphas ? { alphas: profile.uniformAlphas } : {}),
        ...(degrees ? { beta: degrees[0] } : {}),
      });
    case "delphi":
      return searchDelphi(
        runner,
        { problem, population, interval, approximatedLayers: profile.delphiLayers },
        rng,
      );
    case "pbt":
      return searchPbt(runner, { problem, population, interval, ...choice }, rng);
    case "drl":
      return searchDrl(runner, {
        problem,
        episodeImages: profile.drlEpisodeImages,
        warmupEpisodes: profile.drlWarmupEpisodes,
        hidden: profile.drlHidden,
        ...choice,
      }, rng);
    case "btpbt":
      return searchBtpbt(runner, { problem, population, interval, ...choice }, rng);
  }
}

/** Runs (or resumes, or replays to its end) a search; see the module comment. */
export async function runSearch(options: SearchSessionOptions): Promise<SearchSessionResult> {
  const lock = await acquireRunLock(options.runDir, `search ${basename(options.runDir)}`);
  try {
    return await runSearchLocked(options);
  } finally {
    await lock.release();
  }
}

async function runSearchLocked(options: SearchSessionOptions): Promise<SearchSessionResult> {
  const { profile, spec, model, seed } = options;
  const cost = spec.cost ?? DEFAULT_COST_SOURCE;
  // Before any worker starts: a lab cost source without its benchmark files is a one-line error.
  const pricing = await costPricing(cost);
  const say = options.say ?? ((line: string) => console.error(line));
  const distillation = options.distillation ?? profile.distillation;
  const data = await loadTrainingData({
    dataset: options.dataset,
    validationSize: VALIDATION_SIZE,
    ...(profile.trainSubset ? { subset: profile.trainSubset } : {}),
  });
  const validation = stratifiedSubset(data.validation, profile.validationImages, VALIDATION_SUBSET_SEED);
  const test = profile.testImages
    ? stratifiedSubset(data.test, profile.testImages, VALIDATION_SUBSET_SEED)
    : data.test;
  const graph = architecture(model, { numClasses: data.numClasses });
  const pool = await TrialPool.create({
    workers: options.workers,
    nativeThreads: options.nativeThreads,
    factory: recipeFactory({ model, numClasses: data.numClasses, seed: 0, init: options.pretrained }),
    replica: {
      weightDecay: profile.weightDecay,
      freezeBatchNorm: profile.freezeBatchNorm,
      clipGradientNorm: profile.clipGradientNorm,
    },
    setup: {
      model,
      numClasses: data.numClasses,
      batchNorm: true,
      train: data.train,
      validation,
      calibration: calibrationBatch(data.train, data.normalize, profile.calibrationImages),
      normalize: data.normalize,
      batchSize: profile.batchSize,
      augment: true,
      ...(distillation.weight > 0 ? { teacher: options.pretrained } : {}),
    },
  });
  try {
    const relu = allReluPlan(graph);
    const initial = await pool.initialState(relu);
    const evaluate = async (state: typeof initial, plan: Plan, on = validation): Promise<TrialOutcome> =>
      (await pool.run([{
        state,
        plan,
        lr: 0,
        momentum: 0,
        images: 0,
        seed: 0,
        coefficients: "fit",
        evaluateOn: on,
      }]))[0];
    const allRelu = (await evaluate(initial, relu)).evalAccuracy;
    const problem = searchProblem({
      graph,
      allReluValidationAccuracy: allRelu,
      pricing,
      ...(profile.accuracyDrop !== undefined ? { accuracyDrop: profile.accuracyDrop } : {}),
    });
    say(
      `search ${
        specLabel(spec)
      } on ${model}, profile ${profile.name}, seed ${seed}: budget ${profile.budgetImages} training images, ` +
        `${data.train.count} train / ${validation.count} validation images; all-ReLU validation accuracy ` +
        `${pct(allRelu)}, threshold ${pct(problem.threshold)}; distillation ` +
        (distillation.weight > 0 ? `w ${distillation.weight}, T ${distillation.temperature}` : "off"),
    );
    const progress = new ProgressLine(problem, say);
    const runner = await SearchRunner.open({
      dir: options.runDir,
      // Not the worker count: trials train whole on one worker each, so results do not depend on it.
      identity: {
        searcher: spec.searcher,
        model,
        dataset: options.dataset,
        seed,
        profile,
        distillation,
        allReluValidationAccuracy: allRelu,
        // Only when set: runs from before the option existed keep their identity.
        ...(spec.degrees ? { degrees: spec.degrees } : {}),
        ...(cost !== DEFAULT_COST_SOURCE ? { cost } : {}),
      },
      graph,
      executor: pool,
      initial,
      budget: profile.budgetImages,
      seed,
      lr: profile.lr,
      momentum: profile.momentum,
      distillation,
      onCycle: (report) => progress.cycle(report, runner.replayed),
    });
    const outcome = await runSearcher(spec.searcher, runner, problem, profile, seed, spec.degrees);
    await runner.checkpoint();
    const replayedCycles = runner.trainDetails().length - progress.liveCycles;
    let finalTestAccuracy: number | null = null;
    if (outcome.final) {
      const { config, state } = await runner.trialState(outcome.final.trial);
      finalTestAccuracy = (await evaluate(state, config.plan, test)).evalAccuracy;
      if (options.exportDir) {
        await exportModel(
          { model, numClasses: data.numClasses, seed: 0, plan: config.plan },
          state.weights,
          pool.weightInfo,
          options.exportDir,
        );
      }
    }
    say(describeFinal(outcome.final, finalTestAccuracy, test.count));
    return {
      outcome,
      allReluValidationAccuracy: allRelu,
      validationImages: validation.count,
      evaluationImages: runner.evaluationImages,
      finalTestAccuracy,
      testImages: test.count,
      cycleDetails: runner.trainDetails(),
      distillation,
      replayedCycles,
    };
  } finally {
    await pool.close();
  }
}

function pct(x: number): string {
  return `${(100 * x).toFixed(2)}%`;
}

function describeFinal(final: TrialResult | null, test: number | null, testImages: number): string {
  // A searcher picks among its final candidates (a PBT's: its last cycle's trials, whose weights
  // exist), so an earlier cycle's result above the threshold (the progress line's best so far) is
  // not enough.
  if (!final) return "final: no pick: none of the searcher's final candidates reached the threshold";
  // Only a pricing from this protocol's cost model (--cost) can make a plan dearer than all ReLUs.
  const dearer = final.removedCost < 0
    ? `; as priced it costs ${
      pct(-final.removedCost)
    } more activation time than all ReLUs, which stay the better plan`
    : "";
  return `final: score ${final.score.toFixed(4)}, ${pct(final.replacedShare)} of ReLUs replaced, ` +
    `validation ${pct(final.validationAccuracy)}, test ${
      pct(test!)
    } (${testImages} images), trial ${final.trial}${dearer}`;
}

/** The progress line per trained cycle: best score so far, its share replaced and accuracy, ETA. */
class ProgressLine {
  #best: TrialResult | undefined;
  #started: number | undefined;
  #startImages = 0;
  /** Cycles trained (not replayed) in this invocation. */
  liveCycles = 0;

  constructor(readonly problem: SearchProblem, readonly say: (line: string) => void) {}

  cycle(report: CycleReport, replayed: number): void {
    const results = report.trials.map((trial, i) =>
      scoreTrial(this.problem, {
        trial,
        stage: report.stage,
        cycle: report.cycle,
        config: report.configs[i],
        imagesUsed: report.imagesUsed,
      }, report.accuracies[i])
    );
    // Replayed cycles print nothing but count for the best so far, so a resumed search's line
    // shows the whole run's best.
    for (const r of results) {
      if (r.aboveThreshold && (!this.#best || r.score > this.#best.score)) this.#best = r;
    }
    if (report.replayed) return;
    const now = performance.now();
    if (this.#started === undefined) {
      // The first trained cycle: timing starts after it (it includes the workers' warm-up).
      this.#started = now;
      this.#startImages = report.imagesUsed;
      if (replayed > 0) this.say(`resumed: ${replayed} runner calls replayed from the journal`);
    }
    this.liveCycles++;
    const top = results.reduce((a, r) => rank(this.problem, r) > rank(this.problem, a) ? r : a);
    const rate = (report.imagesUsed - this.#startImages) / Math.max(1e-9, (now - this.#started) / 1000);
    const eta = rate > 0 ? formatDuration((report.budget - report.imagesUsed) / rate) : "?";
    const best = this.#best
      ? `best score so far ${this.#best.score.toFixed(4)}: ${pct(this.#best.replacedShare)} replaced at val ${
        pct(this.#best.validationAccuracy)
      }`
      : `no result above the threshold ${pct(this.problem.threshold)} yet`;
    this.say(
      `[${report.stage}] cycle ${
        report.cycle + 1
      } | images ${report.imagesUsed}/${report.budget} | ${best} | ` +
        `this cycle's top: ${pct(top.replacedShare)} replaced, val ${
          pct(top.validationAccuracy)
        } | ETA ${eta}`,
    );
  }
}
