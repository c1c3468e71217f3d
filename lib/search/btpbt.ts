/**
 * BTPBT (paper, Algorithm 1): PBT over a binary tree of layer groups, coarse to fine.
 *
 * Tree (lines 1-2): levels = ceil(log2 T) for T activation sites; level 0 is one node holding every
 * site, and each node's sites (a contiguous range) split into two children, the first taking
 * ceil(half), down to level `levels`, whose nodes hold one site each or none. When T is not a power
 * of two the splits are as even as possible and the empty nodes all sit at the last level (every
 * node above it holds at least two sites); a pair with an empty child is skipped, since its other
 * child is its parent again. So the paper's CNN-7 (T = 7) gets 3 levels and 7 PBTs (the root, 1 + 2
 * pairs, 3 pairs at the last level), ResNet-32 (T = 31) 5 levels and 31.
 *
 * Search: a PBT on the root (one alpha, beta shared by all sites; line 3), its population drawn at
 * random from the space as Ray Tune draws an initial population; then, level by level, the sibling
 * pairs one after another (lines 4-8), each a PBT over the pair's two shared settings, starting
 * from the weights and config of the previous PBT's best trial: every member clones it and
 * explores (as after an exploit), under the constraint of lines 6-7 as the paper's text states it
 * (the pseudo-code's inequality reads the other way): the two children together approximate more
 * neurons than their parent did (counted with floored channels; when the parent already
 * approximates every neuron of its group, the children may only equal it). A level's result is its
 * last pair's best trial; levels below the accuracy threshold are dropped (lines 9-10); the best
 * remaining level by score (line 11) starts a global per-site PBT (line 12) whose members all begin
 * as copies of it. (The paper initialises nodes to alpha 0, beta 2 and does not say how a PBT's
 * population is drawn; these choices are ours.)
 *
 * Budget: each root or pair PBT gets `stageWeights.pbt` shares, the global PBT
 * `stageWeights.global` (the paper: 20 and 40 epochs), scaled to the runner's budget; every PBT
 * runs whole cycles of population x interval images, the global one using all that is left.
 *
 * @module
 */
import type { Degree } from "../nn/approximation.ts";
import { allReluPlan } from "../nn/plan.ts";
import { checkDegrees, cyclesWithin } from "./options.ts";
import {
  type Constraint,
  exploredMembers,
  type PbtSettings,
  type PbtStage,
  type PbtStageOutcome,
  randomMembers,
  resolvePbtSettings,
  runPbtStage,
  warmStartMembers,
} from "./pbt.ts";
import { SearchRecorder } from "./record.ts";
import type { SearchRng } from "./rng.ts";
import { approximatedNeurons, bestAboveThreshold, rank, type SearchProblem } from "./score.ts";
import { groupView, SEARCH_DEGREES, siteView } from "./space.ts";
import type {
  LevelRecord,
  SearchOutcome,
  TreeNodeRecord,
  TrialConfig,
  TrialResult,
  TrialRunner,
} from "./types.ts";

/** The tree's shape: `nodes[level][position]` holds that node's sites. */
export interface BtpbtTree {
  readonly levels: number;
  readonly nodes: readonly (readonly (readonly number[])[])[];
}

/** One sibling pair to search: the parent's and the children's positions and sites. */
export interface SiblingPair {
  readonly level: number;
  /** Position of the parent at level - 1; the children are 2 position and 2 position + 1. */
  readonly parent: number;
  readonly parentSites: readonly number[];
  readonly left: readonly number[];
  readonly right: readonly number[];
}

/** The tree over `siteCount` sites (see the module comment). */
export function btpbtTree(siteCount: number): BtpbtTree {
  if (!(Number.isInteger(siteCount) && siteCount >= 1)) {
    throw new Error(`btpbt: a network needs at least one activation site, got ${siteCount}`);
  }
  let levels = 0;
  while (2 ** levels < siteCount) levels++;
  const nodes: number[][][] = [[Array.from({ length: siteCount }, (_, i) => i)]];
  for (let level = 1; level <= levels; level++) {
    nodes.push(nodes[level - 1].flatMap((sites) => {
      const half = Math.ceil(sites.length / 2);
      return [sites.slice(0, half), sites.slice(half)];
    }));
  }
  return { levels, nodes };
}

/** The sibling pairs searched, level by level (pairs with an empty child left out). */
export function siblingPairs(tree: BtpbtTree): SiblingPair[] {
  const pairs: SiblingPair[] = [];
  for (let level = 1; level <= tree.levels; level++) {
    tree.nodes[level - 1].forEach((parentSites, parent) => {
      const left = tree.nodes[level][2 * parent];
      const right = tree.nodes[level][2 * parent + 1];
      if (left.length > 0 && right.length > 0) pairs.push({ level, parent, parentSites, left, right });
    });
  }
  return pairs;
}

/**
 * Algorithm 1's limit on a pair's configs: its children approximate more neurons of the parent's
 * sites than `parent` does (or, when `parent` already approximates all of them, as many).
 */
export function siblingConstraint(
  problem: SearchProblem,
  pair: SiblingPair,
  parent: TrialConfig,
): Constraint {
  const before = approximatedNeurons(problem, parent.plan, pair.parentSites);
  const all = pair.parentSites.reduce((n, s) => n + problem.sites[s].neurons, 0);
  return before === all
    ? (config) => approximatedNeurons(problem, config.plan, pair.parentSites) === all
    : (config) => approximatedNeurons(problem, config.plan, pair.parentSites) > before;
}

/** Budget shares of one root or pair PBT and of the global PBT (the paper's epochs). */
export interface StageWeights {
  readonly pbt: number;
  readonly global: number;
}

/** The paper's split: 20 epochs per root or pair PBT, 40 for the global one. */
export const PAPER_STAGE_WEIGHTS: StageWeights = { pbt: 20, global: 40 };

/** Options of {@link searchBtpbt}. */
export interface BtpbtSearchOptions extends PbtSettings {
  readonly problem: SearchProblem;
  /** beta's choices (default {@link SEARCH_DEGREES}; [2] for the paper's CW-MP). */
  readonly degrees?: readonly Degree[];
  /** Default {@link PAPER_STAGE_WEIGHTS}. */
  readonly stageWeights?: StageWeights;
}

/**
 * BTPBT. The final pick: the best result above the threshold at the global PBT's last cycle, or,
 * if none is, the candidate level it started from (its trial still holds those weights), or null.
 */
export async function searchBtpbt(
  runner: TrialRunner,
  options: BtpbtSearchOptions,
  rng: SearchRng,
): Promise<SearchOutcome> {
  const settings = resolvePbtSettings("btpbt", options);
  const degrees = checkDegrees("btpbt", options.degrees ?? SEARCH_DEGREES);
  const weights = options.stageWeights ?? PAPER_STAGE_WEIGHTS;
  if (!(weights.pbt > 0 && weights.global > 0 && Number.isFinite(weights.pbt + weights.global))) {
    throw new Error(`btpbt: stageWeights must be positive numbers, got ${JSON.stringify(weights)}`);
  }
  const { problem } = options;
  const tree = btpbtTree(problem.sites.length);
  const pairs = siblingPairs(tree);
  const recorder = new SearchRecorder(runner, problem);

  // The budget split, checked before any trial starts.
  const stages = 1 + pairs.length;
  const stageImages = Math.floor(
    recorder.budgetImages * weights.pbt / (weights.pbt * stages + weights.global),
  );
  const cycles = cyclesWithin(
    `btpbt (each of ${stages} tree PBTs)`,
    stageImages,
    settings.population,
    settings.interval,
  );
  const globalCycles = cyclesWithin(
    "btpbt (global PBT)",
    recorder.budgetImages - stages * cycles * settings.population * settings.interval,
    settings.population,
    settings.interval,
  );

  const objective = (r: TrialResult) => rank(problem, r);
  const stage = (s: Omit<PbtStage, "objective" | "settings">): Promise<PbtStageOutcome> =>
    runPbtStage(recorder, { ...s, objective, settings }, rng);

  // Line 3: the root, one setting for all sites, from the all-ReLU network.
  const rootView = groupView([tree.nodes[0][0]], degrees);
  const allRelu: TrialConfig = { plan: allReluPlan(problem.graph) };
  let state = (await stage({
    stage: "btpbt/root",
    view: rootView,
    initial: randomMembers(rootView, allRelu, settings.population, rng, settings),
    cycles,
  })).best;
  const levelResults: LevelRecord[] = [{ level: 0, result: state, candidate: state.aboveThreshold }];

  // Lines 4-10: sibling pairs level by level, each from the previous PBT's best trial.
  for (let level = 1; level <= tree.levels; level++) {
    for (const pair of pairs.filter((p) => p.level === level)) {
      const view = groupView([pair.left, pair.right], degrees);
      const constraint = siblingConstraint(problem, pair, state.config);
      state = (await stage({
        stage: `btpbt/L${level}/pair${pair.parent}`,
        view,
        initial: exploredMembers(view, state.config, settings.population, rng, settings, constraint),
        from: state.trial,
        constraint,
        cycles,
      })).best;
    }
    levelResults.push({ level, result: state, candidate: state.aboveThreshold });
  }

  // Line 11: the best candidate by score; if no level passed, the best level by rank.
  const candidates = levelResults.filter((l) => l.candidate);
  const pool = candidates.length > 0 ? candidates : levelResults;
  const key = (l: LevelRecord) => candidates.length > 0 ? l.result.score : objective(l.result);
  const start = pool.reduce((best, l) => key(l) > key(best) ? l : best);

  // Line 12: a global per-site PBT warm-started from it.
  const globalView = siteView(problem.sites.length, degrees);
  const global = await stage({
    stage: "btpbt/global",
    view: globalView,
    initial: warmStartMembers(globalView, start.result.config, settings.population),
    from: start.result.trial,
    cycles: globalCycles,
  });
  const final = bestAboveThreshold(global.results) ?? (start.candidate ? start.result : null);
  return recorder.outcome("btpbt", final, {
    levels: tree.levels,
    nodes: treeNodes(tree, levelResults),
    levelResults,
    startLevel: start.level,
  });
}

/** Every node with the setting its level's search gave its sites (a skipped leaf keeps its parent's). */
function treeNodes(tree: BtpbtTree, levelResults: readonly LevelRecord[]): TreeNodeRecord[] {
  return tree.nodes.flatMap((row, level) =>
    row.map((sites, position): TreeNodeRecord => {
      if (sites.length === 0) return { level, position, sites };
      const { alpha, beta } = levelResults[level].result.config.plan.sites[sites[0]];
      return { level, position, sites, alpha, beta };
    })
  );
}
