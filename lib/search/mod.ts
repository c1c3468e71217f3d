/**
 * Plan search: the score (eq. 4), the search space and Ray Tune's explore, a PBT engine, and the
 * searchers of Figures 4 and 5 (uniform channel-wise, Delphi's planner, PBT, HAQ's DDPG, BTPBT),
 * all driving a {@link TrialRunner} that owns training, checkpoints and the budget; the real
 * runner ({@link SearchRunner}, resumable) and the search profiles. runner_session.ts runs a whole
 * search on real training (it loads tfjs, so it is not re-exported here).
 *
 * @module
 */
export * from "./types.ts";
export * from "./rng.ts";
export * from "./space.ts";
export * from "./score.ts";
export * from "./record.ts";
export {
  MAX_CONSTRAINT_TRIES,
  type PbtSearchOptions,
  type PbtSettings,
  QUANTILE_FRACTION,
  searchPbt,
} from "./pbt.ts";
export {
  type BtpbtSearchOptions,
  btpbtTree,
  PAPER_STAGE_WEIGHTS,
  searchBtpbt,
  type StageWeights,
} from "./btpbt.ts";
export { delphiReward, type DelphiSearchOptions, searchDelphi } from "./delphi.ts";
export { type DrlSearchOptions, layerFeatures, searchDrl } from "./drl.ts";
export { searchUniform, type UniformSearchOptions } from "./uniform.ts";
export * from "./runner.ts";
export * from "./runner_profiles.ts";
