/**
 * What a finished search leaves behind: results/search_<label>_<model>_<profile>.json (the
 * outcome, its history per cycle, the accounting) and, when it picked a plan at or above the
 * threshold, data/plans/<model>_<label>_<profile>.json with its provenance (and, when the run
 * names itself the project's plan, the same as data/plans/<model>_<name>.json: the final SAFENet
 * plan is data/plans/cnn7_safenet.json). A search without a pick removes the plan an earlier run
 * of it left under its default name, which its result no longer backs (the tables would otherwise
 * price a plan this search did not pick); a published name is the project's choice and stays. The
 * `search` command and the experiments that run searches (Figures 4 and 5) write through here.
 *
 * @module
 */

import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic.ts";
import { repoRelative } from "../data/locate.ts";
import type { ModelName } from "../nn/architectures.ts";
import { gitCommit } from "../report/meta.ts";
import { writeResult } from "../report/results.ts";
import type { SearchProfile } from "./runner_profiles.ts";
import { searchResultName, type SearchSpec, specLabel } from "./options.ts";
import { runSearch, type SearchSessionOptions, type SearchSessionResult } from "./runner_session.ts";

/** Where and how a search's outputs are written. */
export interface SearchOutputOptions {
  readonly spec: SearchSpec;
  readonly model: ModelName;
  readonly profile: SearchProfile;
  readonly seed: number;
  /** The run's name (its directory under the runs directory). */
  readonly run: string;
  /** The command line that reproduces the search, for the plan's provenance. */
  readonly command: string;
  readonly resultsDir: string;
  readonly plansDir: string;
  /** Also write the plan as `<model>_<publishAs>.json` (e.g. "safenet"). */
  readonly publishAs?: string;
  /** Where the pick's model was saved (`--out`), recorded in the plan's provenance. */
  readonly weightsDir?: string;
  readonly wallSeconds: number;
}

/** Where a search run's outputs go and how it was invoked (the rest comes from its session options). */
export interface SearchRecordOptions {
  readonly run: string;
  readonly command: string;
  readonly resultsDir: string;
  readonly plansDir: string;
  readonly publishAs?: string;
}

/**
 * Runs (or resumes) a search and writes its outputs: what the `search` command and the
 * experiments that need a search (Figures 4 and 5) both do.
 */
export async function runAndWriteSearch(
  options: SearchSessionOptions,
  record: SearchRecordOptions,
): Promise<SearchOutputs> {
  const started = performance.now();
  const session = await runSearch(options);
  return writeSearchOutputs(session, {
    spec: options.spec,
    model: options.model,
    profile: options.profile,
    seed: options.seed,
    ...record,
    ...(options.exportDir ? { weightsDir: options.exportDir } : {}),
    wallSeconds: (performance.now() - started) / 1000,
  });
}

/** The files a search wrote (and removed). */
export interface SearchOutputs {
  readonly result: string;
  /** Absent when no pick reached the threshold; otherwise the plan files (default name first). */
  readonly plans?: readonly string[];
  /** Without a pick: an earlier run's plan under the default name, removed. */
  readonly removedPlan?: string;
}

/** Writes the result file and, with a final pick, the plan file(s); returns their paths. */
export async function writeSearchOutputs(
  session: SearchSessionResult,
  o: SearchOutputOptions,
): Promise<SearchOutputs> {
  const { outcome } = session;
  const { searcher, degrees, cost } = o.spec;
  const label = specLabel(o.spec);
  const result = await writeResult(
    searchResultName(o.spec, o.model),
    {
      searcher,
      variant: label,
      ...(degrees ? { degrees } : {}),
      ...(cost ? { cost } : {}),
      model: o.model,
      profile: o.profile,
      seed: o.seed,
      run: o.run,
      distillation: session.distillation,
      allReluValidationAccuracy: session.allReluValidationAccuracy,
      threshold: outcome.threshold,
      reduction: outcome.reduction,
      budgetImages: outcome.budgetImages,
      imagesUsed: outcome.imagesUsed,
      validationImages: session.validationImages,
      evaluationImages: session.evaluationImages,
      testImages: session.testImages,
      final: outcome.final,
      finalTestAccuracy: session.finalTestAccuracy,
      history: outcome.history,
      cycleDetails: session.cycleDetails,
      ...(outcome.tree ? { tree: outcome.tree } : {}),
      replayedCycles: session.replayedCycles,
      wallSeconds: o.wallSeconds,
    },
    { profile: o.profile.name, seed: o.seed, dataset: "cifar10" },
    { dir: o.resultsDir },
  );
  const { final } = outcome;
  const defaultPlan = join(o.plansDir, `${o.model}_${label}_${o.profile.name}.json`);
  if (!final) {
    try {
      await Deno.remove(defaultPlan);
      return { result, removedPlan: defaultPlan };
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return { result };
      throw e;
    }
  }
  const plans = [defaultPlan, ...(o.publishAs ? [join(o.plansDir, `${o.model}_${o.publishAs}.json`)] : [])];
  const provenance = {
    searcher,
    ...(degrees ? { degrees } : {}),
    ...(cost ? { cost } : {}),
    profile: o.profile.name,
    seed: o.seed,
    run: o.run,
    command: o.command,
    commit: await gitCommit(),
    result: repoRelative(result),
    ...(o.weightsDir ? { weights: repoRelative(o.weightsDir) } : {}),
    validationAccuracy: final.validationAccuracy,
    testAccuracy: session.finalTestAccuracy,
    replacedShare: final.replacedShare,
    score: final.score,
    threshold: outcome.threshold,
    budgetImages: outcome.budgetImages,
    finetuned: false,
    created: new Date().toISOString(),
  };
  const text = JSON.stringify({ ...final.config.plan, provenance }, null, 2) + "\n";
  for (const plan of plans) await writeFileAtomic(plan, text);
  return { result, plans };
}
