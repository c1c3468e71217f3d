/**
 * Figure 4 (CNN-7): BTPBT against PBT and DRL at equal budget and threshold: the best score and
 * the share of ReLUs replaced (at or above the threshold) against training images, and BTPBT's
 * binary tree as searched (4a), from the searches' result files (lib/experiments/searches.ts).
 *
 * @module
 */

import { PAPER_FIG4, paperPercent } from "../paper.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { profileStem, writeResult } from "../report/results.ts";
import { type TreeNode, treeSvg, writeSvg } from "../report/tree.ts";
import type { Row } from "../report/table.ts";
import type { SearcherName, TreeRecord, TrialResult } from "../search/types.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";
import { searchData, type SearchExperimentConfig, type SearchFileData } from "./searches.ts";

/** Output file stem. */
export const NAME = "fig4_search";

/** The searchers Figure 4 compares. */
export const FIG4_SEARCHERS: readonly SearcherName[] = ["btpbt", "pbt", "drl"];

type Json = SearchFileData;

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

/** Options of {@link run}. */
export type Fig4Config = SearchExperimentConfig;

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
    const data = await searchData({ searcher: s }, "cnn7", config);
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
      : `${s} ${result.searchers[s] ? "no pick" : "not run yet"}`
  );
  return `At a budget of ${
    result.budget_images.toLocaleString("en-US")
  } training images and a threshold of ` +
    `${(100 * result.threshold).toFixed(2)}% (${result.config.profile} profile): ${parts.join("; ")}. ` +
    `The paper's BTPBT replaces ~${paperPercent(PAPER_FIG4.btpbtReplacedShare)}% after ` +
    `${PAPER_FIG4.epochs} epochs with ${PAPER_FIG4.workers} workers, PBT and DRL under ` +
    `${paperPercent(PAPER_FIG4.baselinesReplacedBelow)}%.`;
}

/** One colour per searcher in both panels. */
const SEARCHER_COLORS: Record<string, string> = { btpbt: "#d62728", pbt: "#1f77b4", drl: "#2ca02c" };

/** Best score and share replaced against training images, one line per searcher. */
export function chart(result: Fig4Result): PlotlyFigure {
  const data = FIG4_SEARCHERS.filter((s) => result.searchers[s]).flatMap((s) => {
    const h = result.searchers[s].history;
    const x = h.map((c) => c.images);
    const line = { color: SEARCHER_COLORS[s] };
    return [
      { type: "scatter", mode: "lines", name: `${s} best score`, x, y: h.map((c) => c.best_score), line },
      {
        type: "scatter",
        mode: "lines",
        name: `${s} replaced share`,
        x,
        y: h.map((c) => c.best_replaced_share),
        xaxis: "x2",
        yaxis: "y2",
        line: { ...line, dash: "dot" },
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

/** BTPBT's tree as searched (Figure 4a): each node's layers and setting; null without a BTPBT run. */
export function treeFigure(result: Fig4Result): { root: TreeNode; captions: string[] } | null {
  const tree = result.tree as TreeRecord | null;
  if (!tree) return null;
  const at = new Map(tree.nodes.map((n) => [`${n.level}/${n.position}`, n]));
  const build = (level: number, position: number): TreeNode | null => {
    const node = at.get(`${level}/${position}`);
    if (!node || node.sites.length === 0) return null;
    const first = node.sites[0] + 1, last = node.sites[node.sites.length - 1] + 1;
    const setting = node.alpha === undefined
      ? "not searched"
      : node.alpha === 0
      ? "ReLU"
      : `α ${node.alpha.toFixed(2)} β ${node.beta}`;
    const children = [build(level + 1, 2 * position), build(level + 1, 2 * position + 1)]
      .filter((c): c is TreeNode => c !== null);
    // A node whose only child would be itself again is a leaf.
    return {
      lines: [first === last ? `layer ${first}` : `layers ${first}-${last}`, setting],
      faded: !tree.levelResults[level]?.candidate,
      emphasis: level === tree.startLevel,
      ...(children.length === 2 ? { children } : {}),
    };
  };
  const root = build(0, 0);
  if (!root) return null;
  const captions = tree.levelResults.map((l) =>
    `level ${l.level}: ${(100 * l.result.replacedShare).toFixed(1)}% at ${
      (100 * l.result.validationAccuracy).toFixed(2)
    }%${l.candidate ? "" : " (below)"}${l.level === tree.startLevel ? ", start" : ""}`
  );
  return { root, captions };
}

/** The tree as SVG (figures/fig4_tree_<profile>.svg), or null without a BTPBT run. */
export function treeImage(result: Fig4Result): string | null {
  const t = treeFigure(result);
  if (!t) return null;
  return treeSvg(t.root, {
    title: `Figure 4a: BTPBT's tree on CNN-7 (${result.config.profile} profile); red: the level the global ` +
      "PBT started from, faded: below the threshold",
    levelCaptions: t.captions,
  });
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
  const svg = treeImage(result);
  const tree = svg ? [await writeSvg(profileStem(`${NAME}_tree`, profile), svg, options.figuresDir)] : [];
  return [path, figure.html, ...(figure.image ? [figure.image] : []), ...tree];
}

/** Registry entry. */
export const fig4SearchCurves: Experiment<Fig4Config, Fig4Result> = {
  name: NAME,
  title: "Figure 4: BTPBT against PBT and DRL on CNN-7 (search curves and BTPBT's tree)",
  run,
  write,
};
