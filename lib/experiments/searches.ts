/**
 * The searches that Figures 4 and 5 read: each is `deno task search --searcher S [--degrees D]
 * --model cnn7 --profile P --seed N`, whose result file is results/search_<variant>_cnn7_<P>.json.
 * At the smoke and quick profiles an experiment runs each search in-process and writes that file
 * (a run finished earlier replays from its journal in ~/.cache/safenet/search in seconds, one
 * interrupted resumes from its checkpoint). At the long and paper profiles, hours to days per
 * search, it reads the committed file and runs only a search whose file is missing.
 *
 * @module
 */

import { homedir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../data/locate.ts";
import type { Degree } from "../nn/approximation.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { profileStem, readJsonIfPresent } from "../report/results.ts";
import { searchResultName, searchRunName } from "../search/options.ts";
import type { SearcherName } from "../search/types.ts";
import type { ExperimentConfig } from "./experiment.ts";

// deno-lint-ignore no-explicit-any
export type SearchFileData = any;

/** One search an experiment needs: a searcher, maybe restricted to some degrees. */
export interface SearchSpec {
  readonly searcher: SearcherName;
  readonly degrees?: readonly Degree[];
}

/** Where result files live; `readOnly`: never run a search, read what exists (tests). */
export interface SearchExperimentConfig extends ExperimentConfig {
  readonly resultsDir?: string;
  readonly readOnly?: boolean;
}

/** Profiles whose searches an experiment reruns rather than reads (see the module comment). */
const RERUN_PROFILES: readonly string[] = ["smoke", "quick"];

/** The command that produces a spec's result file at a profile and seed. */
export function searchCommand(spec: SearchSpec, profile: string, seed: number): string {
  const degrees = spec.degrees ? ` --degrees ${spec.degrees.join(",")}` : "";
  return `deno task search --searcher ${spec.searcher}${degrees} --model cnn7 --profile ${profile} --seed ${seed}`;
}

/** A search's result-file data, running the search first where the module comment says. */
export async function searchData(
  spec: SearchSpec,
  config: SearchExperimentConfig,
): Promise<SearchFileData | undefined> {
  const dir = config.resultsDir ?? RESULTS_DIR;
  const path = join(
    dir,
    `${profileStem(searchResultName(spec.searcher, "cnn7", spec.degrees), config.profile)}.json`,
  );
  const existing = await readJsonIfPresent(path) as SearchFileData;
  const rerun = RERUN_PROFILES.includes(config.profile);
  if (config.readOnly || (existing && !rerun)) return existing?.data;
  // Imported here: the search loads TensorFlow.js and the training workers.
  const { runAndWriteSearch } = await import("../search/outputs.ts");
  const { SEARCH_PROFILES } = await import("../search/runner_profiles.ts");
  const profile = SEARCH_PROFILES[config.profile];
  const run = searchRunName(spec.searcher, "cnn7", profile.name, config.seed, spec.degrees);
  await runAndWriteSearch({
    searcher: spec.searcher,
    ...(spec.degrees ? { degrees: spec.degrees } : {}),
    model: "cnn7",
    dataset: "cifar10",
    profile,
    seed: config.seed,
    runDir: join(homedir(), ".cache", "safenet", "search", run),
    pretrained: join(REPO_ROOT, "data", "pretrained", "cnn7"),
    workers: 2,
  }, {
    run,
    command: searchCommand(spec, profile.name, config.seed),
    resultsDir: dir,
    plansDir: join(REPO_ROOT, "data", "plans"),
  });
  return ((await readJsonIfPresent(path)) as SearchFileData).data;
}
