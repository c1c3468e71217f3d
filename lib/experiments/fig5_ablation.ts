/**
 * Figure 5 (ablation): how much of the network each technique replaces at the accuracy threshold,
 * on CNN-7 (5a) and VGG-16 (5b). Delphi (whole layers by degree-2 polynomials, Delphi's planner),
 * CW (one channel ratio alpha with degree 2 on every layer, the uniform grid), CW-MP (a ratio per
 * layer, degree 2: BTPBT restricted to beta = 2) and CW-MP-MD (ratios and degrees 0/2/3 per layer:
 * BTPBT). Each bar is a search's final pick, read from its result file
 * (lib/experiments/searches.ts); per layer the share replaced, marked by degree as the paper marks
 * it (square 3, triangle 2, cross pruned).
 *
 * VGG-16's searches train ~4x slower per image than CNN-7's here and are sized by its deeper BTPBT
 * tree (lib/search/runner_profiles.ts), so they run at the long and paper profiles only (each
 * needs the pretrained VGG-16 of data/pretrained/vgg16); smaller profiles show VGG-16 where its
 * result files exist and otherwise say how to make them.
 *
 * @module
 */

import { architecture, type ModelName } from "../nn/architectures.ts";
import { countPlan, type Plan } from "../nn/plan.ts";
import { PAPER_FIG1, PAPER_FIG4, PAPER_FIG5, paperPercent } from "../paper.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { profileStem, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { TrialResult } from "../search/types.ts";
import type { Experiment, WriteOptions } from "./experiment.ts";
import { searchCommand, type SearchSpec } from "../search/options.ts";
import { hasPretrained, searchData, type SearchExperimentConfig } from "./searches.ts";

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

/** The figure's networks, its panels in the paper's order. */
export const FIG5_NETWORKS = {
  cnn7: { label: "CNN-7", panel: "5a" },
  vgg16: { label: "VGG-16", panel: "5b" },
} as const;
export type Fig5Model = keyof typeof FIG5_NETWORKS;
const NETWORKS = Object.keys(FIG5_NETWORKS) as Fig5Model[];

/** Profiles at which VGG-16's searches run when their result files are missing (see the module comment). */
const VGG16_SEARCH_PROFILES: readonly string[] = ["long", "paper"];

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
  readonly networks: Readonly<Record<Fig5Model, Fig5Network>>;
}

/** Per-layer shares of a plan (its `model` names the network). */
export function planSites(plan: Plan): Fig5Site[] {
  return countPlan(architecture(plan.model as ModelName), plan).sites.map((s) => ({
    site: s.index,
    id: s.id,
    alpha: s.alpha,
    beta: s.beta,
    replaced_share: s.approximatedNeurons / s.neurons,
  }));
}

/**
 * Why `model`'s searches neither exist nor run at `config`'s profile, or undefined when they may
 * run (CNN-7 always; VGG-16 at the long and paper profiles once its pretrained network exists).
 */
function whyNotRun(model: Fig5Model, config: SearchExperimentConfig): string | undefined {
  if (model === "cnn7") return undefined;
  const long = "`deno task reproduce --profile long --only fig5_ablation`";
  if (!VGG16_SEARCH_PROFILES.includes(config.profile)) {
    return `its four searches run at the long profile only (hours each on 2 cores): ${long}`;
  }
  if (!hasPretrained(model)) {
    return "no pretrained VGG-16 yet (issue 9: `deno task train --model vgg16 ... --out data/pretrained/vgg16`); " +
      "the searches need it as their starting point";
  }
  return undefined;
}

/** The four variants' picks on one network: read, or searched where {@link whyNotRun} allows. */
async function network(model: Fig5Model, config: SearchExperimentConfig): Promise<Fig5Network> {
  const why = whyNotRun(model, config);
  const variants = {} as Record<Fig5Variant, Fig5VariantResult>;
  let threshold: number | null = null, budget: number | null = null;
  for (const v of VARIANTS) {
    const spec: SearchSpec = FIG5_VARIANTS[v];
    const data = await searchData(spec, model, why === undefined ? config : { ...config, readOnly: true });
    const final = data?.final as TrialResult | null | undefined;
    if (data) {
      threshold = data.threshold;
      budget = data.budgetImages;
    }
    variants[v] = {
      command: searchCommand(spec, model, config.profile, config.seed),
      ran: data !== undefined,
      replaced_share: final ? final.replacedShare : null,
      val_accuracy: final ? final.validationAccuracy : null,
      test_accuracy: final ? data.finalTestAccuracy ?? null : null,
      sites: final ? planSites(final.config.plan) : null,
    };
  }
  if (why !== undefined && VARIANTS.every((v) => !variants[v].ran)) {
    return { threshold: null, budget_images: null, variants: null, missing: why };
  }
  return { threshold, budget_images: budget, variants };
}

/** Reads (or runs) the four searches on each network and assembles the figure. */
export async function run(config: SearchExperimentConfig): Promise<Fig5Result> {
  const networks = {} as Record<Fig5Model, Fig5Network>;
  for (const model of NETWORKS) networks[model] = await network(model, config);
  return { config, networks };
}

function pct(x: number | null, digits = 1): number | null {
  return x === null ? null : Number((100 * x).toFixed(digits));
}

/** The networks with variants to show, in panel order. */
function shown(result: Fig5Result): Fig5Model[] {
  return NETWORKS.filter((m) => result.networks[m].variants !== null);
}

/** One row per network and variant: its total share replaced at the threshold and its accuracy. */
export function tableRows(result: Fig5Result): Row[] {
  return shown(result).flatMap((model) => {
    const variants = result.networks[model].variants!;
    return VARIANTS.map((v) => {
      const r = variants[v];
      return {
        network: FIG5_NETWORKS[model].label,
        variant: LABELS[v],
        "ReLUs replaced (%)": pct(r.replaced_share),
        "validation accuracy (%)": pct(r.val_accuracy, 2),
        "test accuracy (%)": pct(r.test_accuracy, 2),
        note: !r.ran ? `not run: ${r.command}` : r.sites ? "" : "no pick at or above the threshold",
      };
    });
  });
}

/** Per network, layer and variant: alpha, degree and share replaced. */
export function siteRows(result: Fig5Result): Row[] {
  return shown(result).flatMap((model) => {
    const variants = result.networks[model].variants!;
    return VARIANTS.flatMap((v) =>
      (variants[v].sites ?? []).map((s) => ({
        network: FIG5_NETWORKS[model].label,
        variant: LABELS[v],
        layer: s.site + 1,
        alpha: s.alpha,
        degree: s.alpha === 0 ? "-" : s.beta,
        "replaced (%)": pct(s.replaced_share),
      }))
    );
  });
}

/** The paper's reading of Figure 5 (CNN-7 at 84.5%; VGG-16 against Delphi). */
const PAPER_READING =
  `The paper's Delphi replaces ~${paperPercent(PAPER_FIG5.cnn7DelphiReplacedShare)}% of CNN-7 (the last ` +
  `${PAPER_FIG1.delphiLayersAtThreshold} layers), CW with alpha ${PAPER_FIG5.cnn7ChannelWise.alpha} as much ` +
  `at the same accuracy, and CW-MP-MD ~${paperPercent(PAPER_FIG4.btpbtReplacedShare)}% (Figure 4); on ` +
  `VGG-16 SAFENet replaces ${paperPercent(PAPER_FIG5.vgg16GainOverDelphi)}% more than Delphi ` +
  `at equal accuracy.`;

/** Whether any of `net`'s searches has a result file. */
function ran(net: Fig5Network): boolean {
  return net.variants !== null && VARIANTS.some((v) => net.variants![v].ran);
}

/** Whether any search of the figure, on either network, has a result file. */
export function anySearchRan(result: Fig5Result): boolean {
  return NETWORKS.some((m) => ran(result.networks[m]));
}

/** One network's sentence: its threshold, budget and each variant's total. */
function networkReading(model: Fig5Model, result: Fig5Result): string {
  const net = result.networks[model];
  const { label } = FIG5_NETWORKS[model];
  if (net.variants === null) return `${label}: ${net.missing}.`;
  const variants = net.variants;
  if (!ran(net)) {
    return `${label}: no ablation search has run at the ${result.config.profile} profile yet.`;
  }
  const parts = VARIANTS.map((v) => {
    const r = variants[v];
    if (!r.ran) return `${LABELS[v]} not run`;
    return r.replaced_share === null ? `${LABELS[v]} no pick` : `${LABELS[v]} ${pct(r.replaced_share)}%`;
  });
  return `${label} at the threshold ${net.threshold === null ? "-" : (100 * net.threshold).toFixed(2)}% ` +
    `(${result.config.profile} profile, ${net.budget_images?.toLocaleString("en-US")} training images per ` +
    `search): ${parts.join(", ")} of ReLUs replaced.`;
}

/** A sentence per network reading the figure against the paper's, generated from the result. */
export function reading(result: Fig5Result): string {
  return [...NETWORKS.map((m) => networkReading(m, result)), PAPER_READING].join(" ");
}

/** Plotly marker symbols for the paper's degree marks. */
const SYMBOLS: Record<number, string> = { 3: "square", 2: "triangle-up", 0: "x" };

/**
 * Grouped bars per layer (share replaced), each topped by its degree's mark; one panel per network
 * with a pick (5a above 5b).
 */
export function chart(result: Fig5Result): PlotlyFigure {
  // Plotly names the first panel's axes x, y and the next ones x2, y2, ...
  const panels = shown(result).filter((m) => VARIANTS.some((v) => result.networks[m].variants![v].sites))
    .map((model, i) => ({ model, suffix: i === 0 ? "" : String(i + 1) }));
  const legend = new Set<Fig5Variant>();
  const data = panels.flatMap(({ model, suffix }) => {
    const axes = { xaxis: `x${suffix}`, yaxis: `y${suffix}` };
    const variants = result.networks[model].variants!;
    return VARIANTS.filter((v) => variants[v].sites).flatMap((v) => {
      const sites = variants[v].sites!;
      const x = sites.map((s) => `layer ${s.site + 1}`);
      const y = sites.map((s) => s.replaced_share);
      const showlegend = !legend.has(v);
      legend.add(v);
      return [
        { type: "bar", name: LABELS[v], x, y, offsetgroup: v, legendgroup: v, showlegend, ...axes },
        {
          type: "scatter",
          mode: "markers",
          x,
          y,
          offsetgroup: v,
          legendgroup: v,
          showlegend: false,
          ...axes,
          marker: {
            symbol: sites.map((s) => s.alpha === 0 ? "circle-open" : SYMBOLS[s.beta]),
            size: 9,
            color: "black",
          },
          hovertext: sites.map((s) => s.alpha === 0 ? "ReLU" : s.beta === 0 ? "pruned" : `degree ${s.beta}`),
        },
      ];
    });
  });
  // Per panel: its network and each variant's total (the legend is shared).
  const axisLayout = Object.fromEntries(panels.flatMap(({ model, suffix }) => {
    const variants = result.networks[model].variants!;
    const totals = VARIANTS.filter((v) => variants[v].sites)
      .map((v) => `${LABELS[v]} ${pct(variants[v].replaced_share)}%`).join(", ");
    const { label, panel: name } = FIG5_NETWORKS[model];
    return [
      [`xaxis${suffix}`, { title: { text: `Figure ${name} (${label}) layer; in all: ${totals}` } }],
      [`yaxis${suffix}`, { title: { text: "share replaced" }, range: [0, 1.08] }],
    ];
  }));
  return {
    data,
    layout: {
      title: {
        text:
          `Figure 5: share of each layer's ReLUs replaced at the threshold (${result.config.profile} profile)` +
          "<br><sup>square: degree 3, triangle: degree 2, cross: pruned, open circle: ReLU</sup>",
      },
      barmode: "group",
      scattermode: "group",
      ...(panels.length > 1 ? { grid: { rows: panels.length, columns: 1, pattern: "independent" } } : {}),
      ...axisLayout,
      width: 1000,
      height: 150 + 350 * Math.max(1, panels.length),
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
  title: "Figure 5: ablation Delphi / CW / CW-MP / CW-MP-MD on CNN-7 and VGG-16 (share replaced per layer)",
  run,
  write,
};
