/**
 * Figure 2 of the paper: how a network's ReLU units spread over its activation layers, for
 * CNN-7, VGG-16 and ResNet-32 on CIFAR-shaped (32x32x3) inputs. Most ReLUs sit in the first
 * layers, which is why replacing whole layers (Delphi) cannot remove many of them cheaply.
 *
 * @module
 */
import { architecture, type ModelName } from "../nn/architectures.ts";
import { activationSites, type Shape } from "../nn/graph.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { profileStem, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";
import { PAPER_CNN7_FIRST_LAYER_SHARE } from "../paper.ts";

/** Output file stem. */
export const NAME = "fig2_relu_distribution";

const DEFAULT_MODELS: readonly ModelName[] = ["cnn7", "vgg16", "resnet32"];
const DISPLAY_NAMES: Record<ModelName, string> = { cnn7: "CNN-7", vgg16: "VGG-16", resnet32: "ResNet-32" };

/** Configuration; `models` defaults to the paper's three networks. */
export interface Fig2Config extends ExperimentConfig {
  readonly models?: readonly ModelName[];
}

/** One activation layer of one network. */
export interface Fig2Layer {
  /** 1-based position among the network's activation layers. */
  readonly layer: number;
  /** The activation op's id in the graph. */
  readonly site: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** ReLU units (neurons) in the layer. */
  readonly relus: number;
  /** Fraction of the network's ReLUs in this layer. */
  readonly share: number;
}

/** One network's ReLU distribution. */
export interface Fig2Network {
  readonly model: ModelName;
  readonly displayName: string;
  readonly totalRelus: number;
  readonly layers: readonly Fig2Layer[];
}

/** The figure's data. */
export interface Fig2Result {
  readonly config: Fig2Config;
  readonly inputShape: Shape;
  readonly networks: readonly Fig2Network[];
}

const INPUT_SHAPE: Shape = [32, 32, 3];

/** Counts ReLU units per activation layer of each network. */
export function run(config: Fig2Config): Fig2Result {
  const networks = (config.models ?? DEFAULT_MODELS).map((model): Fig2Network => {
    const sites = activationSites(architecture(model, { inputShape: INPUT_SHAPE }));
    const totalRelus = sites.reduce((sum, s) => sum + s.neurons, 0);
    const layers = sites.map((s) => ({
      layer: s.index + 1,
      site: s.id,
      height: s.height,
      width: s.width,
      channels: s.channels,
      relus: s.neurons,
      share: s.neurons / totalRelus,
    }));
    return { model, displayName: DISPLAY_NAMES[model], totalRelus, layers };
  });
  return { config, inputShape: INPUT_SHAPE, networks };
}

/** One table row per (network, layer): shape, ReLU units, share in percent. */
export function tableRows(result: Fig2Result): Row[] {
  return result.networks.flatMap((net) =>
    net.layers.map((l) => ({
      network: net.displayName,
      layer: l.layer,
      "output (HxWxC)": `${l.height}x${l.width}x${l.channels}`,
      relus: l.relus,
      "share (%)": Number((100 * l.share).toFixed(2)),
    }))
  );
}

/** One row per network: total ReLUs, layer count, and the first layer's and first two layers' shares. */
export function summaryRows(result: Fig2Result): Row[] {
  return result.networks.map((net) => ({
    network: net.displayName,
    "activation layers": net.layers.length,
    "total ReLUs": net.totalRelus,
    "first layer (%)": Number((100 * net.layers[0].share).toFixed(1)),
    "first two layers (%)": Number((100 * (net.layers[0].share + (net.layers[1]?.share ?? 0))).toFixed(1)),
  }));
}

/** Our CNN-7 first-layer share beside the paper's "> 58%", with the first two layers for context. */
export function paperComparison(result: Fig2Result): Row[] {
  const cnn7 = result.networks.find((n) => n.model === "cnn7");
  if (!cnn7) throw new Error("paperComparison: the result has no CNN-7; run with models including 'cnn7'");
  const [first, second] = cnn7.layers;
  return [
    {
      quantity: "paper: CNN-7 first ReLU layer",
      relus: null,
      "share (%)": `> ${(100 * PAPER_CNN7_FIRST_LAYER_SHARE).toFixed(0)}`,
    },
    { quantity: "ours: first layer", relus: first.relus, "share (%)": (100 * first.share).toFixed(1) },
    {
      quantity: "ours: first two layers (both 32x32)",
      relus: first.relus + second.relus,
      "share (%)": (100 * (first.share + second.share)).toFixed(1),
    },
    { quantity: "ours: total", relus: cnn7.totalRelus, "share (%)": "100.0" },
  ];
}

/** The figure: one bar panel per network, share of its ReLUs per activation layer. */
export function chart(result: Fig2Result): PlotlyFigure {
  const n = result.networks.length;
  const layout: Record<string, unknown> = {
    title: { text: "Figure 2: ReLU units per activation layer (CIFAR, 32x32x3 input)" },
    grid: { rows: n, columns: 1, pattern: "independent", roworder: "top to bottom" },
    height: 260 * n + 80,
    width: 900,
    showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
    margin: { t: 90, l: 70, r: 20, b: 50 },
  };
  const data = result.networks.map((net, i) => {
    const axis = i === 0 ? "" : String(i + 1);
    layout[`yaxis${axis}`] = { title: { text: "share of ReLUs (%)" }, rangemode: "tozero" };
    layout[`xaxis${axis}`] = {
      title: { text: i === n - 1 ? "activation layer" : "" },
      dtick: net.layers.length > 16 ? 2 : 1,
    };
    return {
      type: "bar",
      name: `${net.displayName} (${net.totalRelus.toLocaleString("en-US")} ReLUs)`,
      x: net.layers.map((l) => l.layer),
      y: net.layers.map((l) => 100 * l.share),
      customdata: net.layers.map((l) => [l.relus, `${l.height}x${l.width}x${l.channels}`]),
      hovertemplate: "layer %{x}: %{customdata[0]:,} ReLUs (%{y:.1f}%), %{customdata[1]}<extra></extra>",
      xaxis: `x${axis}`,
      yaxis: `y${axis}`,
    };
  });
  return { data, layout };
}

/** Writes results/fig2_relu_distribution_<profile>.json and figures/fig2_relu_distribution_<profile>.{html,svg}. */
export async function write(result: Fig2Result, options: WriteOptions = {}): Promise<string[]> {
  const resultPath = await writeResult(
    NAME,
    { inputShape: result.inputShape, networks: result.networks },
    { profile: result.config.profile, seed: result.config.seed, dataset: null },
    { dir: options.resultsDir },
  );
  const figure = await writeFigure(profileStem(NAME, result.config.profile), chart(result), {
    dir: options.figuresDir,
  });
  return [resultPath, figure.html, ...(figure.image ? [figure.image] : [])];
}

/** Registry entry. */
export const fig2ReluDistribution: Experiment<Fig2Config, Fig2Result> = {
  name: NAME,
  title: "Figure 2: ReLU units per activation layer (CNN-7, VGG-16, ResNet-32)",
  run,
  write,
};
