/**
 * The real {@link TrialRunner}: trials train on a {@link TrialExecutor} (lib/train's TrialPool:
 * persistent workers, one trial per worker at a time), their states live in a run directory,
 * and the search resumes after an interruption.
 *
 * Budget: training images, counted alike for every searcher (trials x images per `train`);
 * evaluation images (each trained trial is evaluated on the fixed validation subset) are counted
 * apart and recorded. Optimiser settings: a config's lr and momentum, else the runner's defaults
 * (a constant fine-tuning rate). Coefficients of newly approximated channels are fitted on the
 * calibration batch, except in Delphi's planner (stage "delphi"), whose replaced layers start
 * from Delphi's quadratic. Each train job's batches are seeded by (search seed, trial, the
 * state's train-call count).
 *
 * Run directory: `states/<file>.ckpt`, one file per trial version (lib/train's checkpoint format:
 * weights, momentum, plan and position; an exploit or start points its trial at the source's
 * file), and `journal.json`, rewritten atomically after every `train` (state files first): the
 * run's identity, every runner call with its answers (the journal), and a manifest of the trials
 * (stage, config, state file, stopped). Stopped trials keep their files (BTPBT starts stages from
 * them); files no trial points at are deleted.
 *
 * Resume: a searcher is a deterministic function of its seed and of the runner's answers, so a
 * reopened runner answers the searcher's calls from the journal (checking each call equals the
 * recorded one) without training, then installs the manifest and trains on from the last
 * checkpoint; the outcome equals an uninterrupted run's, since training is deterministic too.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic.ts";
import { mixSeeds } from "../data/random.ts";
import type { Graph } from "../nn/graph.ts";
import { validatePlan } from "../nn/plan.ts";
import { checkWeightInfo, loadCheckpoint, saveCheckpoint } from "../train/checkpoint.ts";
import { canonicalJson } from "../train/loop.ts";
import type { WeightInfo } from "../train/replica.ts";
import type {
  CoefficientPolicy,
  DistillationSettings,
  TrialJob,
  TrialOutcome,
  TrialState,
} from "../train/trials.ts";
import type { TrialConfig, TrialId, TrialRunner } from "./types.ts";

/** What runs trial jobs (lib/train's TrialPool, or a stand-in in tests). */
export interface TrialExecutor {
  readonly weightInfo: readonly WeightInfo[];
  run(jobs: readonly TrialJob[]): Promise<TrialOutcome[]>;
}

/** Per trial of a `train` call: figures besides its accuracy, recorded in the journal. */
export interface TrainDetail {
  readonly trainLoss: number;
  readonly evalLoss: number;
  readonly evalImages: number;
  /** Training steps skipped for a gradient that was not finite. */
  readonly skippedSteps: number;
  /** Worker seconds of the job. */
  readonly seconds: number;
}

/** One runner call with its answer (what the journal holds). */
export type JournalEntry =
  | { kind: "start"; stage: string; configs: TrialConfig[]; from?: TrialId; trials: TrialId[] }
  | { kind: "train"; trials: TrialId[]; images: number; accuracies: number[]; details: TrainDetail[] }
  | { kind: "exploit"; target: TrialId; source: TrialId; config: TrialConfig }
  | { kind: "stop"; trials: TrialId[] };

/** A trial in the manifest. */
export interface TrialRecord {
  readonly id: TrialId;
  /** Its number (part of its data seed). */
  readonly index: number;
  readonly stage: string;
  config: TrialConfig;
  /** State file (in `states/`) of its latest state. */
  file: string;
  stopped: boolean;
}

/** What `journal.json` holds. */
interface Journal {
  readonly identity: unknown;
  readonly calls: JournalEntry[];
  readonly trials: TrialRecord[];
  readonly budgetLeft: number;
  readonly evaluationImages: number;
}

/** A finished `train` call, for progress lines. */
export interface CycleReport {
  /** 0-based count of `train` calls. */
  readonly cycle: number;
  readonly stage: string;
  readonly trials: readonly TrialId[];
  readonly configs: readonly TrialConfig[];
  readonly accuracies: readonly number[];
  /** Training images used so far and the budget. */
  readonly imagesUsed: number;
  readonly budget: number;
  /** Answered from the journal of an earlier invocation, not trained now. */
  readonly replayed: boolean;
}

/** Options of {@link SearchRunner.open}. */
export interface SearchRunnerOptions {
  /** Run directory (created if missing). */
  readonly dir: string;
  /** Anything that defines the run (searcher, seed, profile...); a reopened run must match it. */
  readonly identity: unknown;
  readonly graph: Graph;
  readonly executor: TrialExecutor;
  /** The state every trial started without `from` copies (the pretrained network). */
  readonly initial: TrialState;
  /** Training images the search may use. */
  readonly budget: number;
  /** Seed of the trials' data streams. */
  readonly seed: number;
  /** Learning rate and momentum of trials whose config has none. */
  readonly lr: number;
  readonly momentum: number;
  /** Distillation of every trial (absent or weight 0: off). */
  readonly distillation?: DistillationSettings;
  /** Called after every cycle, trained or replayed. */
  readonly onCycle?: (report: CycleReport) => void;
}

/** The fields of a journal entry that are the runner's answers, not the searcher's question. */
const ANSWERS: Record<JournalEntry["kind"], readonly string[]> = {
  start: ["trials"],
  train: ["accuracies", "details"],
  exploit: [],
  stop: [],
};

const JOURNAL = "journal.json";
const STATES = "states";
const INITIAL = "initial";

/** The real trial runner (see the module comment). */
export class SearchRunner implements TrialRunner {
  readonly #options: SearchRunnerOptions;
  /** The calls so far (replayed and live). */
  readonly #calls: JournalEntry[] = [];
  /** The recorded calls to replay; empty on a fresh run. */
  readonly #replay: readonly JournalEntry[];
  /** The manifest to install once the replay is done. */
  #snapshot: Journal | undefined;
  #trials = new Map<TrialId, TrialRecord>();
  /** States held in memory, by file (those of running trials). */
  readonly #cache = new Map<string, TrialState>();
  #budgetLeft: number;
  #evaluationImages = 0;
  #cycles = 0;

  private constructor(options: SearchRunnerOptions, journal: Journal | undefined) {
    this.#options = options;
    this.#budgetLeft = options.budget;
    this.#replay = journal?.calls ?? [];
    this.#snapshot = journal;
    this.#cache.set(INITIAL, options.initial);
  }

  /**
   * Opens a run directory: a fresh one stores the initial state; an existing one (same identity)
   * will replay its journal. Throws if the directory holds another run.
   */
  static async open(options: SearchRunnerOptions): Promise<SearchRunner> {
    if (!(Number.isSafeInteger(options.budget) && options.budget >= 0)) {
      throw new Error(`SearchRunner: budget must be a non-negative integer, got ${options.budget}`);
    }
    let journal: Journal | undefined;
    try {
      journal = JSON.parse(await Deno.readTextFile(join(options.dir, JOURNAL)));
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw new Error(`${join(options.dir, JOURNAL)}: ${e}`);
    }
    if (journal && canonicalJson(journal.identity) !== canonicalJson(options.identity)) {
      throw new Error(
        `run directory ${options.dir} holds another search (${canonicalJson(journal.identity)}); ` +
          `use another run name, or delete that directory to start over`,
      );
    }
    const runner = new SearchRunner(options, journal);
    if (!journal) await runner.#saveState(INITIAL, options.initial);
    return runner;
  }

  /** Recorded calls not yet replayed. */
  get replaying(): boolean {
    return this.#calls.length < this.#replay.length;
  }

  /** Calls answered from the journal so far. */
  get replayed(): number {
    return Math.min(this.#calls.length, this.#replay.length);
  }

  /** Evaluation images used so far (validation subset x evaluated trials). */
  get evaluationImages(): number {
    return this.#evaluationImages;
  }

  budgetLeft(): number {
    return this.#budgetLeft;
  }

  /**
   * During a replay, the recorded entry of this call (after checking that the live call, `asked`,
   * equals it but for the answers); undefined once live.
   */
  #recorded(asked: Record<string, unknown>): JournalEntry | undefined {
    if (!this.replaying) {
      this.#install();
      return undefined;
    }
    const entry = this.#replay[this.#calls.length];
    const recorded: Record<string, unknown> = { ...entry };
    for (const field of ANSWERS[entry.kind]) delete recorded[field];
    // Through JSON, as the journal stores them (an absent `from` and an undefined one compare equal).
    if (canonicalJson(recorded) !== canonicalJson(asked)) {
      throw new Error(
        `resuming ${this.#options.dir}: call ${this.#calls.length} of the search is ${
          canonicalJson(asked)
        }, ` +
          `the journal recorded ${canonicalJson(recorded)}; the searcher or its options changed: ` +
          `use another run name, or delete that directory to start over`,
      );
    }
    this.#calls.push(entry);
    return entry;
  }

  /** After the last replayed call: the manifest of the last checkpoint becomes the runner's state. */
  #install(): void {
    const snapshot = this.#snapshot;
    if (!snapshot) return;
    this.#snapshot = undefined;
    if (snapshot.budgetLeft !== this.#budgetLeft) {
      throw new Error(`resuming ${this.#options.dir}: the journal's budget disagrees with its calls`);
    }
    this.#trials = new Map(snapshot.trials.map((t) => [t.id, { ...t }]));
    this.#evaluationImages = snapshot.evaluationImages;
  }

  #trial(id: TrialId): TrialRecord {
    const t = this.#trials.get(id);
    if (!t) throw new Error(`runner: no trial ${id}`);
    return t;
  }

  start(stage: string, configs: readonly TrialConfig[], from?: TrialId): Promise<TrialId[]> {
    for (const c of configs) validatePlan(this.#options.graph, c.plan);
    const call = {
      kind: "start" as const,
      stage,
      configs: [...configs],
      ...(from === undefined ? {} : { from }),
    };
    const recorded = this.#recorded(call);
    // Replayed calls keep the trials' configs too, for the replayed cycles' reports; the last
    // checkpoint's manifest then replaces this bookkeeping (#install).
    const file = from === undefined ? INITIAL : this.#trial(from).file;
    const trials = configs.map((config) => {
      const index = this.#trials.size;
      const id = `t${index}`;
      this.#trials.set(id, { id, index, stage, config, file, stopped: false });
      return id;
    });
    if (recorded?.kind === "start" && canonicalJson(recorded.trials) !== canonicalJson(trials)) {
      throw new Error(
        `resuming ${this.#options.dir}: the journal's start call made trials ${recorded.trials}, not ${trials}`,
      );
    }
    if (!recorded) this.#calls.push({ ...call, trials });
    return Promise.resolve(trials);
  }

  async train(trials: readonly TrialId[], images: number): Promise<number[]> {
    if (!(Number.isSafeInteger(images) && images >= 1)) {
      throw new Error(`runner: images must be a positive integer, got ${images}`);
    }
    if (trials.length * images > this.#budgetLeft) {
      throw new Error(`runner: ${trials.length} trials x ${images} images asked, ${this.#budgetLeft} left`);
    }
    const recorded = this.#recorded({ kind: "train", trials: [...trials], images });
    this.#budgetLeft -= trials.length * images;
    this.#cycles++;
    const records = trials.map((id) => this.#trial(id));
    if (recorded?.kind === "train") {
      this.#report(records, recorded.accuracies, true);
      return recorded.accuracies;
    }

    const stopped = records.find((t) => t.stopped);
    if (stopped) throw new Error(`runner: trial ${stopped.id} is stopped`);
    const { seed, lr, momentum, distillation } = this.#options;
    const jobs = await Promise.all(records.map(async (t): Promise<TrialJob> => {
      const state = await this.#state(t.file);
      return {
        state,
        plan: t.config.plan,
        lr: t.config.lr ?? lr,
        momentum: t.config.momentum ?? momentum,
        images,
        seed: mixSeeds(seed, t.index, state.trainCalls),
        coefficients: coefficientPolicy(t.stage),
        ...(distillation ? { distillation } : {}),
      };
    }));
    const outcomes = await this.#options.executor.run(jobs);
    const cycle = this.#cycles - 1;
    for (const [i, t] of records.entries()) {
      t.file = `${t.id}-c${cycle}`;
      await this.#saveState(t.file, outcomes[i].state);
    }
    this.#evaluationImages += outcomes.reduce((n, o) => n + o.evalCount, 0);
    const accuracies = outcomes.map((o) => o.evalAccuracy);
    this.#calls.push({
      kind: "train",
      trials: [...trials],
      images,
      accuracies,
      details: outcomes.map((o) => ({
        trainLoss: o.trainLoss,
        evalLoss: o.evalLoss,
        evalImages: o.evalCount,
        skippedSteps: o.skippedSteps,
        seconds: o.seconds,
      })),
    });
    await this.checkpoint();
    this.#report(records, accuracies, false);
    return accuracies;
  }

  #report(records: readonly TrialRecord[], accuracies: readonly number[], replayed: boolean): void {
    this.#options.onCycle?.({
      cycle: this.#cycles - 1,
      stage: records[0]?.stage ?? "",
      trials: records.map((t) => t.id),
      configs: records.map((t) => t.config),
      accuracies,
      imagesUsed: this.#options.budget - this.#budgetLeft,
      budget: this.#options.budget,
      replayed,
    });
  }

  exploit(target: TrialId, source: TrialId, config: TrialConfig): Promise<void> {
    validatePlan(this.#options.graph, config.plan);
    const call = { kind: "exploit" as const, target, source, config };
    const recorded = this.#recorded(call);
    const t = this.#trial(target);
    t.file = this.#trial(source).file;
    t.config = config;
    if (!recorded) this.#calls.push(call);
    return Promise.resolve();
  }

  stop(trials: readonly TrialId[]): Promise<void> {
    const call = { kind: "stop" as const, trials: [...trials] };
    const recorded = this.#recorded(call);
    for (const id of trials) this.#trial(id).stopped = true;
    if (!recorded) this.#calls.push(call);
    return Promise.resolve();
  }

  /** A trial's config and latest state (e.g. the final pick's, to test or export it). */
  async trialState(id: TrialId): Promise<{ config: TrialConfig; state: TrialState }> {
    if (this.replaying) throw new Error("runner: trial states are available once the replay is done");
    this.#install();
    const t = this.#trial(id);
    return { config: t.config, state: await this.#state(t.file) };
  }

  /** Per-cycle details of every `train` call (replayed and live), in order. */
  trainDetails(): TrainDetail[][] {
    return this.#calls.flatMap((c) => c.kind === "train" ? [c.details] : []);
  }

  /**
   * Writes the journal and manifest (after every `train`, and once the search returns, so a
   * finished run replays to its end); then deletes state files no trial points at.
   */
  async checkpoint(): Promise<void> {
    if (this.replaying) return;
    this.#install();
    const journal: Journal = {
      identity: this.#options.identity,
      calls: this.#calls,
      trials: [...this.#trials.values()],
      budgetLeft: this.#budgetLeft,
      evaluationImages: this.#evaluationImages,
    };
    await writeFileAtomic(join(this.#options.dir, JOURNAL), JSON.stringify(journal) + "\n");
    const used = new Set([INITIAL, ...[...this.#trials.values()].map((t) => t.file)]);
    const running = new Set([
      INITIAL,
      ...[...this.#trials.values()].filter((t) => !t.stopped).map((t) => t.file),
    ]);
    for (const file of this.#cache.keys()) if (!running.has(file)) this.#cache.delete(file);
    for await (const entry of Deno.readDir(join(this.#options.dir, STATES))) {
      const name = entry.name.replace(/\.ckpt$/, "");
      if (entry.isFile && entry.name.endsWith(".ckpt") && !used.has(name)) {
        await Deno.remove(join(this.#options.dir, STATES, entry.name));
      }
    }
  }

  async #saveState(file: string, state: TrialState): Promise<void> {
    this.#cache.set(file, state);
    const { weights, optimizer, ...position } = state;
    await saveCheckpoint(join(this.#options.dir, STATES, `${file}.ckpt`), {
      header: {
        config: null,
        progress: position,
        weightInfo: [...this.#options.executor.weightInfo],
        savedAt: "",
      },
      weights,
      optimizer,
    });
  }

  async #state(file: string): Promise<TrialState> {
    const cached = this.#cache.get(file);
    if (cached) return cached;
    const path = join(this.#options.dir, STATES, `${file}.ckpt`);
    const ckpt = await loadCheckpoint(path);
    if (!ckpt) {
      throw new Error(`runner: the state file ${path} is missing; delete the run directory to start over`);
    }
    checkWeightInfo(ckpt, this.#options.executor.weightInfo, path);
    const position = ckpt.header.progress as Omit<TrialState, "weights" | "optimizer">;
    const loaded: TrialState = { ...position, weights: ckpt.weights, optimizer: ckpt.optimizer };
    this.#cache.set(file, loaded);
    return loaded;
  }
}

/** How a stage's trials set the coefficients of newly approximated channels (module comment). */
export function coefficientPolicy(stage: string): CoefficientPolicy {
  return stage === "delphi" ? "delphi" : "fit";
}
