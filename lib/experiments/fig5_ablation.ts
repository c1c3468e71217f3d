/**
 * Figure 5 (ablation, CNN-7): how much of the network each technique replaces at the accuracy
 * threshold. Delphi (whole layers by degree-2 polynomials, Delphi's planner), CW (one channel
 * ratio alpha with degree 2 on every layer, the uniform grid), CW-MP (a ratio per layer, degree 2:
 * BTPBT restricted to beta = 2) and CW-MP-MD (ratios and degrees 0/2/3 per layer: BTPBT). Each
 * bar is a search's final pick, read from its result file (lib/experiments/searches.ts); per layer
 * the share replaced, marked by degree as the paper marks it (square 3, triangle 2, cross pruned).
 * VGG-16 (Figure 5b) needs its pretrained network, which does not exist yet; the result says so.
 *
 * @module
 */

import { architecture } from "../nn/architectures.ts";
import { countPlan, type Plan } from "../nn/plan.ts";
import { PAPER_FIG1, PAPER_FIG4, PAPER_FIG5 } from "../paper.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { profileStem, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { TrialResult } from "../search/types.ts";
import type { Experiment, WriteOptions } from "./experiment.ts";
import { searchCommand, type SearchSpec } from "../search/options.ts";
import { searchData, type SearchExperimentConfig } from "./searches.ts";

/** Output file stem. */
export const NAME = "fig5_ablation";

/** The ablation's variants, in the paper's order, with the search that produces each. */
export const FIG5_VARIANTS = {
  delphi: { searcher: "delphi" },
  cw: { searcher: "uniform" },
  cw_mp: { searcher: "btpbt", degrees: [2] },
  cw_mp_md: { searcher: "btpbt" },
} as const satisfies Record<string, SearchSpec>;
export type Fig5Variant = keyof typeof FIG5_VARIANTS;
const VARIANTS = Object.keys(FIG5_VARIANTS) as Fig5Variant[];

/** The paper's labels. */
const LABELS: Record<Fig5Variant, string> = {
  delphi: "Delphi",
  cw: "CW",
  cw_mp: "CW-MP",
  cw_mp_md: "CW-MP-MD",
};

/** One activation layer of a variant's plan. */
export interface Fig5Site {
  readonly site: number;
  readonly id: string;
  readonly alpha: number;
  /** The polynomial degree of the replaced channels (0: pruned). */
  readonly beta: number;
  /** Share of this layer's neurons replaced. */
  readonly replaced_share: number;
}

/** A variant's final pick (null: no pick reached the threshold, or the search has not run). */
export interface Fig5VariantResult {
  readonly command: string;
  readonly ran: boolean;
  readonly replaced_share: number | null;
  readonly val_accuracy: number | null;
  readonly test_accuracy: number | null;
  readonly sites: readonly Fig5Site[] | null;
}

/** Per network: its variants, or why it is missing. */
export interface Fig5Network {
  readonly threshold: number | null;
  readonly budget_images: number | null;
  readonly variants: Readonly<Record<Fig5Variant, Fig5VariantResult>> | null;
  readonly missing?: string;
}

/** The figure's data. */
export interface Fig5Result {
  readonly config: SearchExperimentConfig;
  readonly networks: { readonly cnn7: Fig5Network; readonly vgg16: Fig5Network };
}

/** Per-layer shares of a plan. */
export function planSites(plan: Plan): Fig5Site[] {
  return countPlan(architecture("cnn7"), plan).sites.map((s) => ({
    site: s.index,
    id: s.id,
    alpha: s.alpha,
    beta: s.beta,
    replaced_share: s.approximatedNeurons / s.neurons,
  }));
}

/** Reads (or runs) the four searches on CNN-7 and assembles the figure. */
export async function run(config: SearchExperimentConfig): Promise<Fig5Result> {
  const variants = {} as Record<Fig5Variant, Fig5VariantResult>;
  let threshold: number | null = null, budget: number | null = null;
  for (const v of VARIANTS) {
    const spec: SearchSpec = FIG5_VARIANTS[v];
    const data = await searchData(spec, config);
    const final = data?.final as TrialResult | null | undefined;
    if (data) {
      threshold = data.threshold;
      budget = data.budgetImages;
    }
    variants[v] = {
      command: searchCommand(spec, "cnn7", config.profile, config.seed),
      ran: data !== undefined,
      replaced_share: final ? final.replacedShare : null,
      val_accuracy: final ? final.validationAccuracy : null,
      test_accuracy: final ? data.finalTestAccuracy ?? null : null,
      sites: final ? planSites(final.config.plan) : null,
    };
  }
  return {
    config,
    networks: {
      cnn7: { threshold, budget_images: budget, variants },
      vgg16: {
        threshold: null,
        budget_images: null,
        variants: null,
        missing:
          "no pretrained VGG-16 yet (issue 9: `deno task train --model vgg16 ... --out data/pretrained/vgg16`); " +
          "the searches need it as their starting point",
      },
    },
  };
}

function pct(x: number | null, digits = 1): number | null {
  return x === null ? null : Number((100 * x).toFixed(digits));
}

/** One row per variant: its total share replaced at the threshold and its accuracy. */
export function tableRows(result: Fig5Result): Row[] {
  const variants = result.networks.cnn7.variants!;
  return VARIANTS.map((v) => {
    const r = variants[v];
    return {
      variant: LABELS[v],
      "ReLUs replaced (%)": pct(r.replaced_share),
      "validation accuracy (%)": pct(r.val_accuracy, 2),
      "test accuracy (%)": pct(r.test_accuracy, 2),
      note: !r.ran ? `not run: ${r.command}` : r.sites ? "" : "no pick at or above the threshold",
    };
  });
}

/** Per layer and variant: alpha, degree and share replaced. */
export function siteRows(result: Fig5Result): Row[] {
  const variants = result.networks.cnn7.variants!;
  return VARIANTS.flatMap((v) =>
    (variants[v].sites ?? []).map((s) => ({
      variant: LABELS[v],
      layer: s.site + 1,
      alpha: s.alpha,
      degree: s.alpha === 0 ? "-" : s.beta,
      "replaced (%)": pct(s.replaced_share),
    }))
  );
}

/** The paper's reading of Figure 5a (CNN-7 at 84.5%). */
const PAPER_READING = `The paper's Delphi replaces ~${100 * PAPER_FIG5.cnn7DelphiReplacedShare}% (the last ` +
  `${PAPER_FIG1.delphiLayersAtThreshold} layers), CW with alpha ${PAPER_FIG5.cnn7ChannelWise.alpha} as much at ` +
  `the same accuracy, and CW-MP-MD ~${100 * PAPER_FIG4.btpbtReplacedShare}% (Figure 4).`;

/** A sentence reading the figure against the paper's, generated from the result. */
export function reading(result: Fig5Result): string {
  const { cnn7 } = result.networks;
  const variants = cnn7.variants!;
  const ran = VARIANTS.filter((v) => variants[v].ran);
  if (ran.length === 0) return `No ablation search has run at the ${result.config.profile} profile yet.`;
  const parts = VARIANTS.map((v) => {
    const r = variants[v];
    if (!r.ran) return `${LABELS[v]} not run`;
    return r.replaced_share === null ? `${LABELS[v]} no pick` : `${LABELS[v]} ${pct(r.replaced_share)}%`;
  });
  return `CNN-7 at the threshold ${
    cnn7.threshold === null ? "-" : (100 * cnn7.threshold).toFixed(2)
  }% (${result.config.profile} profile, ` +
    `${cnn7.budget_images?.toLocaleString("en-US")} training images per search): ${
      parts.join(", ")
    } of ReLUs ` +
    `replaced. ${PAPER_READING}`;
}

/** Plotly marker symbols for the paper's degree marks. */
const SYMBOLS: Record<number, string> = { 3: "square", 2: "triangle-up", 0: "x" };

/** Grouped bars per layer (share replaced), each topped by its degree's mark. */
export function chart(result: Fig5Result): PlotlyFigure {
  const variants = result.networks.cnn7.variants!;
  const data = VARIANTS.filter((v) => variants[v].sites).flatMap((v) => {
    const sites = variants[v].sites!;
    const x = sites.map((s) => `layer ${s.site + 1}`);
    const y = sites.map((s) => s.replaced_share);
    const total = pct(variants[v].replaced_share);
    return [
      { type: "bar", name: `${LABELS[v]} (${total}% in all)`, x, y, offsetgroup: v, legendgroup: v },
      {
        type: "scatter",
        mode: "markers",
        x,
        y,
        offsetgroup: v,
        legendgroup: v,
        showlegend: false,
        marker: {
          symbol: sites.map((s) => s.alpha === 0 ? "circle-open" : SYMBOLS[s.beta]),
          size: 9,
          color: "black",
        },
        hovertext: sites.map((s) => s.alpha === 0 ? "ReLU" : s.beta === 0 ? "pruned" : `degree ${s.beta}`),
      },
    ];
  });
  return {
    data,
    layout: {
      title: {
        text:
          `Figure 5a (CNN-7): share replaced per layer at the threshold (${result.config.profile} profile)` +
          "<br><sup>square: degree 3, triangle: degree 2, cross: pruned, open circle: ReLU</sup>",
      },
      barmode: "group",
      scattermode: "group",
      xaxis: { title: { text: "activation layer" } },
      yaxis: { title: { text: "share of the layer's ReLUs replaced" }, range: [0, 1.08] },
      width: 1000,
      height: 450,
    },
  };
}

/** Writes results/fig5_ablation_<profile>.json and the chart. */
export async function write(result: Fig5Result, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  const path = await writeResult(NAME, { networks: result.networks }, { profile, seed, dataset: "cifar10" }, {
    dir: options.resultsDir,
  });
  const figure = await writeFigure(profileStem(NAME, profile), chart(result), { dir: options.figuresDir });
  return [path, figure.html, ...(figure.image ? [figure.image] : [])];
}

/** Registry entry. */
export const fig5Ablation: Experiment<SearchExperimentConfig, Fig5Result> = {
  name: NAME,
  title: "Figure 5: ablation Delphi / CW / CW-MP / CW-MP-MD on CNN-7 (share replaced per layer)",
  run,
  write,
};
