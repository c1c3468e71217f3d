/**
 * The contract between the plan searchers and the trial runner, and what a search records.
 *
 * Searchers decide; the runner owns trials (weights, optimiser state, masks), checkpoints,
 * workers and the training budget. A searcher is a deterministic function of its seed and of the
 * sequence of values the runner returns, so a runner can resume an interrupted search by replaying
 * the recorded answers to the same sequence of calls.
 *
 * @module
 */
import type { Plan } from "../nn/plan.ts";

/** A trial's handle, chosen by the runner (unique within one search). */
export type TrialId = string;

/** What a trial trains with: its replacement plan and, for Delphi's planner, its optimiser settings. */
export interface TrialConfig {
  /** Per-site {alpha, beta}; the runner applies it (masks derived from the plan, never copied). */
  readonly plan: Plan;
  /** SGD learning rate; absent: the runner's own fine-tuning schedule. */
  readonly lr?: number;
  /** SGD momentum; absent: the runner's default. */
  readonly momentum?: number;
}

/**
 * The runner, as the searchers use it. Every call is awaited before the next one is made, in an
 * order that depends only on the seed and on earlier answers.
 */
export interface TrialRunner {
  /**
   * Creates one trial per config, in order, from the latest checkpoint of trial `from` (which may
   * have been stopped) or, without `from`, from the pretrained all-ReLU network; each trial's plan
   * is applied to its copy. `stage` names the searcher's step (e.g. "btpbt/L2/pair1",
   * "delphi"), for the runner's records and progress lines.
   */
  start(stage: string, configs: readonly TrialConfig[], from?: TrialId): Promise<TrialId[]>;
  /**
   * Trains each trial on `images` more training images (trials.length x images in all, never more
   * than {@link budgetLeft}), then evaluates it on the validation subset. Resolves to the
   * validation accuracies (fractions in [0, 1]) in the order of `trials`.
   */
  train(trials: readonly TrialId[], images: number): Promise<number[]>;
  /**
   * PBT's exploit: `target` takes a copy of `source`'s latest checkpoint (weights and optimiser
   * state), then `config` (masks re-derived from its plan, lr and momentum set).
   */
  exploit(target: TrialId, source: TrialId, config: TrialConfig): Promise<void>;
  /** The trials train no more; their latest checkpoints stay available as `from` of a later start. */
  stop(trials: readonly TrialId[]): Promise<void>;
  /** Training images this search may still use (evaluation images are accounted by the runner, apart). */
  budgetLeft(): number;
}

/** One trial's evaluation after a training cycle, scored (equation 4). */
export interface TrialResult {
  readonly trial: TrialId;
  readonly stage: string;
  /** The search's cycle counter (one per `train` call, across stages). */
  readonly cycle: number;
  readonly config: TrialConfig;
  readonly validationAccuracy: number;
  /** Approximated neurons / all activation neurons (channels floored per site). */
  readonly replacedShare: number;
  /** Fraction of the all-ReLU activation cost removed: sum_t approximated_t R(beta_t) / sum_t n_t. */
  readonly removedCost: number;
  /** Equation 4: validationAccuracy x (1 + removedCost). */
  readonly score: number;
  /** validationAccuracy >= the search's threshold; a result below it is never a final pick. */
  readonly aboveThreshold: boolean;
  /** Training images the search had used when this result came back. */
  readonly imagesUsed: number;
}

/** A scheduler's decision for one trial after a cycle. */
export type Decision =
  | { readonly kind: "continue" }
  | {
    readonly kind: "exploit";
    /** The trial whose checkpoint and config are cloned. */
    readonly source: TrialId;
    /** The explored config the target continues with. */
    readonly config: TrialConfig;
    /** The searched values behind `config` (see `SearchView`). */
    readonly values: readonly number[];
    /** False when no explored config met the stage's constraint: the clone keeps the source's values. */
    readonly explored: boolean;
  };

/** One exploit performed after a cycle. */
export interface ExploitRecord {
  readonly target: TrialId;
  readonly source: TrialId;
  readonly explored: boolean;
}

/** One training cycle of a search: every trial's scored result, and the exploits that followed. */
export interface CycleRecord {
  readonly stage: string;
  readonly cycle: number;
  readonly imagesUsed: number;
  readonly results: readonly TrialResult[];
  readonly exploits: ExploitRecord[];
}

/** The searchers. */
export type SearcherName = "uniform" | "delphi" | "pbt" | "drl" | "btpbt";

/** One node of BTPBT's binary tree, as searched (Figure 4a). */
export interface TreeNodeRecord {
  readonly level: number;
  /** Position within its level (0 .. 2^level - 1). */
  readonly position: number;
  /** Activation sites of the group (empty: a padding leaf when T is not a power of two). */
  readonly sites: readonly number[];
  /** The group's setting after its PBT (absent for an empty leaf). */
  readonly alpha?: number;
  readonly beta?: number;
}

/** One level of BTPBT: the configuration after its last PBT, and whether it is a candidate. */
export interface LevelRecord {
  readonly level: number;
  readonly result: TrialResult;
  /** Above the threshold, hence kept as a candidate (Algorithm 1, lines 9-10). */
  readonly candidate: boolean;
}

/** BTPBT's tree and levels, for Figure 4a. */
export interface TreeRecord {
  readonly levels: number;
  readonly nodes: readonly TreeNodeRecord[];
  readonly levelResults: readonly LevelRecord[];
  /** The level the global PBT started from (the best candidate, or the best level if none passed). */
  readonly startLevel: number;
}

/** What a search returns (and what results/fig4_*.json records per searcher). */
export interface SearchOutcome {
  readonly searcher: SearcherName;
  readonly model: string;
  readonly threshold: number;
  /** How the score priced the activation cost removed (the paper's unit costs, or lib/cost's model). */
  readonly reduction: string;
  /** Training images available at the start. */
  readonly budgetImages: number;
  readonly imagesUsed: number;
  readonly history: readonly CycleRecord[];
  /** The best result above the threshold whose trial holds its weights; null if none reached it. */
  readonly final: TrialResult | null;
  /** BTPBT only. */
  readonly tree?: TreeRecord;
}
