/**
 * The searches that Figures 4 and 5 read: each is `deno task search --searcher S [--degrees D]
 * --model M --profile P --seed N`, whose result file is results/search_<label>_<M>_<P>.json.
 * At the smoke and quick profiles an experiment runs each search in-process and writes that file
 * (a run finished earlier replays from its journal in ~/.cache/safenet/search in seconds, one
 * interrupted resumes from its checkpoint). At the long and paper profiles, hours to days per
 * search, it reads the committed file and runs only a search whose file is missing.
 *
 * @module
 */

import { homedir } from "node:os";
import { join } from "node:path";
import { existsSync } from "node:fs";
import { REPO_ROOT } from "../data/locate.ts";
import type { ModelName } from "../nn/architectures.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { profileStem, readJsonIfPresent } from "../report/results.ts";
import { searchCommand, searchResultName, searchRunName, type SearchSpec } from "../search/options.ts";
import type { ExperimentConfig } from "./experiment.ts";

// deno-lint-ignore no-explicit-any
export type SearchFileData = any;

/** Where result files live; `readOnly`: never run a search, read what exists (tests). */
export interface SearchExperimentConfig extends ExperimentConfig {
  readonly resultsDir?: string;
  readonly readOnly?: boolean;
}

/** Profiles whose searches an experiment reruns rather than reads (see the module comment). */
const RERUN_PROFILES: readonly string[] = ["smoke", "quick"];

/** Where a search on `model` starts from: the shipped all-ReLU network. */
export function pretrainedDir(model: ModelName): string {
  return join(REPO_ROOT, "data", "pretrained", model);
}

/** Whether `model`'s pretrained all-ReLU network exists (searches on it can run). */
export function hasPretrained(model: ModelName): boolean {
  return existsSync(join(pretrainedDir(model), "model.json"));
}

/** A search's result-file data, running the search first where the module comment says. */
export async function searchData(
  spec: SearchSpec,
  model: ModelName,
  config: SearchExperimentConfig,
): Promise<SearchFileData | undefined> {
  const dir = config.resultsDir ?? RESULTS_DIR;
  const path = join(dir, `${profileStem(searchResultName(spec, model), config.profile)}.json`);
  const existing = await readJsonIfPresent(path) as SearchFileData;
  const rerun = RERUN_PROFILES.includes(config.profile);
  if (config.readOnly || (existing && !rerun)) return existing?.data;
  // Imported here: the search loads TensorFlow.js and the training workers.
  const { runAndWriteSearch } = await import("../search/outputs.ts");
  const { searchProfile } = await import("../search/runner_profiles.ts");
  const profile = searchProfile(config.profile, model);
  const run = searchRunName(spec, model, profile.name, config.seed);
  await runAndWriteSearch({
    spec,
    model,
    dataset: "cifar10",
    profile,
    seed: config.seed,
    runDir: join(homedir(), ".cache", "safenet", "search", run),
    pretrained: pretrainedDir(model),
    workers: 2,
  }, {
    run,
    command: searchCommand(spec, model, profile.name, config.seed),
    resultsDir: dir,
    plansDir: join(REPO_ROOT, "data", "plans"),
  });
  return ((await readJsonIfPresent(path)) as SearchFileData).data;
}
