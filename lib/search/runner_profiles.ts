/**
 * The search profiles: population, perturbation interval, training budget, validation subset and
 * each searcher's own settings, at four sizes. Budgets are in training images and identical for
 * every searcher of a profile, so their results compare.
 *
 * - smoke: seconds, on a 256-image training subset, threshold 10 points below (tests and CI).
 * - quick: the six searches of Figures 4 and 5 on CNN-7 in about half an hour on 2 cores; 24,576
 *   training images (0.55 epoch of the 45,000) each, so the searches are small. (A population of 8
 *   with half the interval reached the same final pick, 47%, in 40% more time.)
 * - long: hours in the background (resumable): 40 epochs' worth of images (1.8 M) per searcher.
 * - paper: the paper's budgets, for bigger machines: a population of 50 and 200 epochs of
 *   training per trial (BTPBT: 20 per tree PBT, 40 for the global one, scaled to the total).
 *
 * These sizes are CNN-7's. VGG-16 and ResNet-32 have more activation sites, so more BTPBT tree
 * PBTs (14 and 31 against CNN-7's 7), and train 3-4x slower per image here: {@link searchProfile}
 * sizes their smoke, quick and long budgets by their tree instead (the paper profile keeps the
 * paper's budget for every network).
 *
 * @module
 */
import { architecture, type ModelName } from "../nn/architectures.ts";
import { allReluPlan } from "../nn/plan.ts";
import type { DistillationSettings } from "../train/trials.ts";
import { btpbtTree, PAPER_STAGE_WEIGHTS, siblingPairs } from "./btpbt.ts";

/** Everything a profile fixes. Plain data: it is part of a run's identity. */
export interface SearchProfile {
  readonly name: "smoke" | "quick" | "long" | "paper";
  /** Training images each searcher may use. */
  readonly budgetImages: number;
  /** PBT population (BTPBT, PBT, Delphi's planner). */
  readonly population: number;
  /** Training images per trial between two exploit steps (and per uniform trial per cycle). */
  readonly interval: number;
  /** Images of the fixed, class-stratified validation subset every trial is evaluated on. */
  readonly validationImages: number;
  /** Test images the final pick is evaluated on (all 10,000 unless set). */
  readonly testImages?: number;
  /** Train on the first this many images of the training split only. */
  readonly trainSubset?: number;
  /**
   * Accuracy the threshold lies below the all-ReLU network's (a fraction; default the paper's 0.6
   * points). Only smoke widens it, so that its tiny search reaches a pick and the tests exercise
   * everything after one.
   */
  readonly accuracyDrop?: number;
  /** Images of the calibration batch that fits new coefficients. */
  readonly calibrationImages: number;
  readonly batchSize: number;
  /** Constant fine-tuning learning rate and momentum of trials whose config sets none. */
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /**
   * Trials train with batch-norm's moving statistics and clipped gradients: without, polynomial
   * activations diverge within a few dozen steps (lib/train/replica.ts says why).
   */
  readonly freezeBatchNorm: boolean;
  readonly clipGradientNorm: number;
  /** Knowledge distillation from the all-ReLU network (weight 0: off). */
  readonly distillation: DistillationSettings;
  /** Uniform (CW): the alphas of the grid (all of {0, 0.05, ..., 1} unless set). */
  readonly uniformAlphas?: readonly number[];
  /** Delphi's planner: whole layers replaced per trial. */
  readonly delphiLayers: number;
  /** DRL: fine-tuning images per episode, warm-up episodes, hidden width. */
  readonly drlEpisodeImages: number;
  readonly drlWarmupEpisodes: number;
  readonly drlHidden: number;
}

/**
 * Knowledge distillation from the all-ReLU network, on in every profile but smoke (`--distill`
 * overrides it, `--distill 0:4` turns it off): on the quick profile (seed 0) BTPBT's pick replaced
 * 47% of CNN-7's ReLUs at the threshold with it and 32% without.
 */
const DISTILLATION: DistillationSettings = { weight: 0.5, temperature: 4 };
const NO_DISTILLATION: DistillationSettings = { weight: 0, temperature: 4 };

const COMMON = {
  calibrationImages: 256,
  batchSize: 64,
  lr: 0.002,
  momentum: 0.9,
  weightDecay: 5e-4,
  freezeBatchNorm: true,
  clipGradientNorm: 1,
  distillation: DISTILLATION,
  delphiLayers: 3,
} as const;

/** The profiles by name. */
export const SEARCH_PROFILES: Readonly<Record<SearchProfile["name"], SearchProfile>> = {
  smoke: {
    ...COMMON,
    name: "smoke",
    budgetImages: 576,
    population: 2,
    interval: 32,
    validationImages: 64,
    testImages: 100,
    trainSubset: 256,
    accuracyDrop: 0.1,
    distillation: NO_DISTILLATION,
    calibrationImages: 32,
    batchSize: 32,
    uniformAlphas: [0, 0.5, 1],
    drlEpisodeImages: 192,
    drlWarmupEpisodes: 1,
    drlHidden: 16,
  },
  quick: {
    ...COMMON,
    name: "quick",
    budgetImages: 24_576,
    population: 4,
    interval: 256,
    validationImages: 1_000,
    uniformAlphas: [0, 0.2, 0.4, 0.6, 0.8, 1],
    drlEpisodeImages: 1_024,
    drlWarmupEpisodes: 4,
    drlHidden: 64,
  },
  long: {
    ...COMMON,
    name: "long",
    budgetImages: 1_800_000,
    population: 8,
    interval: 2_048,
    validationImages: 2_000,
    drlEpisodeImages: 18_000,
    drlWarmupEpisodes: 20,
    drlHidden: 300,
  },
  paper: {
    ...COMMON,
    name: "paper",
    budgetImages: 200 * 45_000 * 50,
    population: 50,
    interval: 45_000,
    validationImages: 5_000,
    drlEpisodeImages: 45_000,
    drlWarmupEpisodes: 20,
    drlHidden: 300,
  },
};

/**
 * Cycles each BTPBT tree PBT gets on a network other than CNN-7, per profile (the global PBT gets
 * {@link PAPER_STAGE_WEIGHTS}' share more). Long: two, so that each pair's PBT exploits once; at
 * VGG-16's ~85 training images per second here that is ~2.5 h per search, evaluation included.
 */
const DEEPER_CYCLES_PER_TREE_PBT: Readonly<Record<Exclude<SearchProfile["name"], "paper">, number>> = {
  smoke: 1,
  quick: 1,
  long: 2,
};

/**
 * Profile `name` for searches on `model`. CNN-7's are {@link SEARCH_PROFILES} as they stand (its
 * committed searches ran with them). For a deeper network the smoke, quick and long budgets are
 * whole cycles of the profile's population x interval: {@link DEEPER_CYCLES_PER_TREE_PBT} per BTPBT
 * tree PBT and the global PBT's share, so every searcher of the profile gets the budget in which
 * BTPBT runs each of its stages (a CNN-7-sized budget does not fit ResNet-32's 31 tree PBTs).
 */
export function searchProfile(name: SearchProfile["name"], model: ModelName): SearchProfile {
  const base = SEARCH_PROFILES[name];
  if (model === "cnn7" || name === "paper") return base;
  const sites = allReluPlan(architecture(model)).sites.length;
  const treePbts = 1 + siblingPairs(btpbtTree(sites)).length;
  const shares = treePbts + PAPER_STAGE_WEIGHTS.global / PAPER_STAGE_WEIGHTS.pbt;
  const cycles = Math.ceil(DEEPER_CYCLES_PER_TREE_PBT[name] * shares);
  return { ...base, budgetImages: cycles * base.population * base.interval };
}

/** Whether `name` is a profile's name. */
export function isSearchProfileName(name: string): name is SearchProfile["name"] {
  return Object.hasOwn(SEARCH_PROFILES, name);
}
