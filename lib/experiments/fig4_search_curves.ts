/**
 * Figure 4 (CNN-7): BTPBT against PBT and DRL at equal budget and threshold: the best score and
 * the share of ReLUs replaced (at or above the threshold) against training images, and BTPBT's
 * binary tree as searched (4a). Each searcher's run is `deno task search --searcher S --model
 * cnn7 --profile P --seed N`; this experiment reads their result files
 * (results/search_<S>_cnn7_<P>.json) and runs, in-process, any that is missing (the search
 * resumes from its checkpoints if it was interrupted).
 *
 * @module
 */

import { homedir } from "node:os";
import { join } from "node:path";
import { REPO_ROOT } from "../data/locate.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { profileStem, readJsonIfPresent, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { SearcherName, TrialResult } from "../search/types.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";

/** Output file stem. */
export const NAME = "fig4_search";

/** The searchers Figure 4 compares. */
export const FIG4_SEARCHERS: readonly SearcherName[] = ["btpbt", "pbt", "drl"];

// deno-lint-ignore no-explicit-any
type Json = any;

/** One searcher's curve and final pick, in the result file's terms. */
export interface Fig4Searcher {
  readonly final: {
    readonly replaced_share: number;
    readonly val_accuracy: number;
    readonly test_accuracy: number | null;
    readonly score: number;
    readonly plan: Json;
  } | null;
  /** Per cycle: images used so far, the best score so far and the best share replaced at the threshold. */
  readonly history: readonly {
    readonly cycle: number;
    readonly stage: string;
    readonly images: number;
    readonly best_score: number;
    readonly best_replaced_share: number;
  }[];
}

/** The figure's data. */
export interface Fig4Result {
  readonly config: ExperimentConfig;
  readonly threshold: number;
  readonly budget_images: number;
  readonly searchers: Readonly<Record<string, Fig4Searcher>>;
  /** BTPBT's tree (Figure 4a), when BTPBT ran. */
  readonly tree: Json | null;
}

/** Options of {@link run}: where result files live; whether a missing search may be run now. */
export interface Fig4Config extends ExperimentConfig {
  readonly resultsDir?: string;
  readonly runMissing?: boolean;
}

/** A searcher's result file's data, running the search first when it is missing and allowed. */
async function searchData(searcher: SearcherName, config: Fig4Config): Promise<Json | undefined> {
  const dir = config.resultsDir ?? RESULTS_DIR;
  const path = join(dir, `${profileStem(`search_${searcher}_cnn7`, config.profile)}.json`);
  const existing = await readJsonIfPresent(path) as Json;
  if (existing || config.runMissing === false) return existing?.data;
  // Imported here: the search loads TensorFlow.js and the training workers.
  const { runSearch } = await import("../search/runner_session.ts");
  const { SEARCH_PROFILES } = await import("../search/runner_profiles.ts");
  const { writeSearchOutputs } = await import("../search/outputs.ts");
  const profile = SEARCH_PROFILES[config.profile];
  const run = `${searcher}-cnn7-${profile.name}-s${config.seed}`;
  const started = performance.now();
  const session = await runSearch({
    searcher,
    model: "cnn7",
    dataset: "cifar10",
    profile,
    seed: config.seed,
    runDir: join(homedir(), ".cache", "safenet", "search", run),
    pretrained: join(REPO_ROOT, "data", "pretrained", "cnn7"),
    workers: 2,
  });
  await writeSearchOutputs(session, {
    searcher,
    model: "cnn7",
    profile,
    seed: config.seed,
    run,
    command:
      `deno task search --searcher ${searcher} --model cnn7 --profile ${profile.name} --seed ${config.seed}`,
    resultsDir: dir,
    plansDir: join(REPO_ROOT, "data", "plans"),
    wallSeconds: (performance.now() - started) / 1000,
  });
  return ((await readJsonIfPresent(path)) as Json).data;
}

/** One searcher's curve from its recorded history. */
export function curve(data: Json): Fig4Searcher {
  let bestScore = 0, bestReplaced = 0;
  const history = (data.history as Json[]).map((c) => {
    const results = c.results as TrialResult[];
    for (const r of results) {
      if (!r.aboveThreshold) continue;
      bestScore = Math.max(bestScore, r.score);
      bestReplaced = Math.max(bestReplaced, r.replacedShare);
    }
    return {
      cycle: c.cycle,
      stage: c.stage,
      images: c.imagesUsed,
      best_score: bestScore,
      best_replaced_share: bestReplaced,
    };
  });
  const f = data.final as TrialResult | null;
  return {
    final: f
      ? {
        replaced_share: f.replacedShare,
        val_accuracy: f.validationAccuracy,
        test_accuracy: data.finalTestAccuracy ?? null,
        score: f.score,
        plan: f.config.plan,
      }
      : null,
    history,
  };
}

/** Reads (or runs) the three searches and assembles the figure. */
export async function run(config: Fig4Config): Promise<Fig4Result> {
  const searchers: Record<string, Fig4Searcher> = {};
  let threshold = NaN, budget = NaN, tree: Json | null = null;
  for (const s of FIG4_SEARCHERS) {
    const data = await searchData(s, config);
    if (!data) continue;
    searchers[s] = curve(data);
    threshold = data.threshold;
    budget = data.budgetImages;
    if (s === "btpbt") tree = data.tree ?? null;
  }
  return { config, threshold, budget_images: budget, searchers, tree };
}

/** One row per searcher: its final pick at the threshold (or why none). */
export function tableRows(result: Fig4Result): Row[] {
  return FIG4_SEARCHERS.map((s) => {
    const r = result.searchers[s];
    const f = r?.final;
    return {
      searcher: s,
      "ReLUs replaced (%)": f ? Number((100 * f.replaced_share).toFixed(1)) : null,
      "validation accuracy (%)": f ? Number((100 * f.val_accuracy).toFixed(2)) : null,
      "test accuracy (%)": f?.test_accuracy != null ? Number((100 * f.test_accuracy).toFixed(2)) : null,
      score: f ? Number(f.score.toFixed(4)) : null,
      note: !r ? "not run" : f ? "" : "no result at or above the threshold in the final cycle",
    };
  });
}

/** A sentence reading the figure against the paper's, generated from the result. */
export function reading(result: Fig4Result): string {
  const finals = FIG4_SEARCHERS.map((s) => [s, result.searchers[s]?.final] as const);
  const ran = FIG4_SEARCHERS.filter((s) => result.searchers[s]);
  if (ran.length === 0) {
    return "No search has run at this profile yet: `deno task search --searcher btpbt --profile ...`.";
  }
  const parts = finals.map(([s, f]) =>
    f
      ? `${s} ${(100 * f.replaced_share).toFixed(0)}% replaced at ${(100 * f.val_accuracy).toFixed(2)}%`
      : `${s} no pick`
  );
  return `At a budget of ${
    result.budget_images.toLocaleString("en-US")
  } training images and a threshold of ` +
    `${(100 * result.threshold).toFixed(2)}% (${result.config.profile} profile): ${parts.join("; ")}. ` +
    `The paper's BTPBT replaces ~80% after 200 epochs with 50 workers, PBT and DRL under 30%.`;
}

/** Best score and share replaced against training images, one line per searcher. */
export function chart(result: Fig4Result): PlotlyFigure {
  const data = FIG4_SEARCHERS.filter((s) => result.searchers[s]).flatMap((s) => {
    const h = result.searchers[s].history;
    const x = h.map((c) => c.images);
    return [
      { type: "scatter", mode: "lines", name: `${s} best score`, x, y: h.map((c) => c.best_score) },
      {
        type: "scatter",
        mode: "lines",
        name: `${s} replaced share`,
        x,
        y: h.map((c) => c.best_replaced_share),
        xaxis: "x2",
        yaxis: "y2",
      },
    ];
  });
  return {
    data,
    layout: {
      title: { text: `Figure 4 (CNN-7): search curves at the threshold (${result.config.profile} profile)` },
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "training images" } },
      yaxis: { title: { text: "best score (eq. 4) at the threshold" } },
      xaxis2: { title: { text: "training images" } },
      yaxis2: { title: { text: "share of ReLUs replaced" } },
      width: 1000,
      height: 450,
    },
  };
}

/** Writes results/fig4_search_<profile>.json and the chart. */
export async function write(result: Fig4Result, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  const path = await writeResult(
    NAME,
    {
      threshold: result.threshold,
      budget_images: result.budget_images,
      searchers: result.searchers,
      tree: result.tree,
    },
    { profile, seed, dataset: "cifar10" },
    { dir: options.resultsDir },
  );
  const figure = await writeFigure(profileStem(NAME, profile), chart(result), { dir: options.figuresDir });
  return [path, figure.html, ...(figure.image ? [figure.image] : [])];
}

/** Registry entry. */
export const fig4SearchCurves: Experiment<Fig4Config, Fig4Result> = {
  name: NAME,
  title: "Figure 4: BTPBT against PBT and DRL on CNN-7 (search curves and BTPBT's tree)",
  run,
  write,
};
