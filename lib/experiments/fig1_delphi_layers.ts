/**
 * Figure 1 (CNN-7): Delphi's layer-wise replacement. (a) Latency, split into offline/online x
 * linear/activation, when the last k = 0..7 ReLU layers become degree-2 polynomials, from the
 * cost model (the `paper` calibration: the paper's machines; and, where benchmark files exist,
 * the `measured` one: this project's protocol on this machine), with the real run's total
 * overlaid where one exists (k = 0, all ReLU). (b) Test accuracy of each of those eight networks
 * fine-tuned from the shipped CNN-7 (data/pretrained/cnn7-delphi<k>/training.json, trained by
 * `deno task train` in the background), with the threshold: this project's all-ReLU accuracy
 * minus 0.6 points (the paper's 85.1 -> 84.5); a network not trained yet is listed with the
 * command that trains it.
 *
 * @module
 */

import { architecture } from "../nn/architectures.ts";
import { activationSites } from "../nn/graph.ts";
import { countPlan, layerwisePlan, type Plan } from "../nn/plan.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import { asPaperRow, measuredCalibration, paperCalibration, price } from "../cost/mod.ts";
import { REPO_ROOT } from "../data/locate.ts";
import { PAPER_FIG1, PAPER_THRESHOLD_DROP_POINTS, paperPercent } from "../paper.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { profileStem, readJsonIfPresent, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";

/** Output file stem. */
export const NAME = "fig1_delphi_layers";

/** One k: the last k ReLU layers replaced. */
export interface Fig1Point {
  readonly k: number;
  readonly replacedShare: number;
  /** The paper calibration's four columns and total (seconds). */
  readonly paperModel: ReturnType<typeof asPaperRow>;
  /** The measured calibration's, or null without benchmark files. */
  readonly measuredModel: ReturnType<typeof asPaperRow> | null;
  /** Real run total of this project's protocol, where one exists. */
  readonly runTotal: number | null;
  /** Test accuracy (%) of the fine-tuned network, or how to get it. */
  readonly accuracy: number | null;
  readonly trainCommand: string;
}

/** The figure's data. */
export interface Fig1Result {
  readonly config: ExperimentConfig;
  readonly allReluAccuracy: number | null;
  readonly threshold: number | null;
  readonly points: readonly Fig1Point[];
}

/** The plan file of `lastLayersPlan(k)` (written once to data/plans/ for the training runs). */
export function delphiPlanFile(k: number): string {
  return `data/plans/cnn7_delphi_last${k}.json`;
}

/** Delphi's plan replacing the last `k` activation layers of CNN-7 by degree-2 polynomials. */
export function lastLayersPlan(k: number): Plan {
  const graph = architecture("cnn7");
  const sites = activationSites(graph);
  return layerwisePlan(graph, sites.slice(sites.length - k).map((s) => s.index), 2);
}

// deno-lint-ignore no-explicit-any
type Json = any;

/**
 * The command that fine-tunes the network of panel (b) with the last `k` layers degree 2: five
 * epochs from the shipped CNN-7 at a low cosine learning rate (the stable recipe for networks
 * with polynomials: frozen batch-norm statistics, clipped gradients; `deno task train` defaults).
 */
export function fineTuneCommand(k: number): string {
  return `tools/deno task train --model cnn7 --dataset cifar10 --init data/pretrained/cnn7 ` +
    `--plan ${delphiPlanFile(k)} --epochs 5 --schedule cosine:0.005:1 --seed 1 ` +
    `--run cnn7-delphi${k} --out data/pretrained/cnn7-delphi${k}`;
}

/** A JSON file read as untyped data (benchmark files, training records), undefined if absent. */
const readJson = (path: string) => readJsonIfPresent(path) as Promise<Json | undefined>;

/** Computes both panels from the cost model and whatever trained networks exist. */
export async function run(config: ExperimentConfig & { resultsDir?: string }): Promise<Fig1Result> {
  const graph = architecture("cnn7");
  const dir = config.resultsDir ?? RESULTS_DIR;
  const paper = await paperCalibration();
  const measured = await measuredCalibration(dir).catch(() => null);
  const bench = await readJson(`${dir}/bench_protocol.json`);
  const base = await readJson(`${REPO_ROOT}/data/pretrained/cnn7/training.json`);
  const points: Fig1Point[] = [];
  for (let k = 0; k <= activationSites(graph).length; k++) {
    const plan = lastLayersPlan(k);
    const schedule = planSchedule(graph, plan);
    const record = k === 0
      ? base
      : await readJson(`${REPO_ROOT}/data/pretrained/cnn7-delphi${k}/training.json`);
    points.push({
      k,
      replacedShare: countPlan(graph, plan).fractionReplaced,
      paperModel: asPaperRow(price(schedule, { variant: "delphi", calibration: paper })),
      measuredModel: measured ? asPaperRow(price(schedule, { variant: "lab", calibration: measured })) : null,
      runTotal: k === 0 ? bench?.cnn7?.all_relu?.total_s ?? null : null,
      accuracy: typeof record?.testAccuracy === "number" ? 100 * record.testAccuracy : null,
      trainCommand: fineTuneCommand(k),
    });
  }
  const allRelu = points[0].accuracy;
  return {
    config,
    allReluAccuracy: allRelu,
    threshold: allRelu === null ? null : allRelu - PAPER_THRESHOLD_DROP_POINTS,
    points,
  };
}

/** One row per k. */
export function tableRows(result: Fig1Result): Row[] {
  return result.points.map((p) => ({
    "last k layers": p.k,
    "ReLUs replaced (%)": Number((100 * p.replacedShare).toFixed(1)),
    "model total s (paper calibration)": Number(p.paperModel.total.toFixed(1)),
    "model total s (this machine)": p.measuredModel ? Number(p.measuredModel.total.toFixed(2)) : null,
    "real run s": p.runTotal,
    "test accuracy (%)": p.accuracy === null ? "not trained yet" : Number(p.accuracy.toFixed(2)),
  }));
}

/** A sentence reading the figure against the paper's, generated from the result. */
export function reading(result: Fig1Result): string {
  const [zero] = result.points;
  const act = zero.paperModel.offlineActivation + zero.paperModel.onlineActivation;
  const text = [
    `With every ReLU kept, activations are ${
      (100 * act / zero.paperModel.total).toFixed(1)
    }% of the paper-calibrated ` +
    `latency (the paper: ${(100 * PAPER_FIG1.activationShareOfTotal).toFixed(1)}%).`,
  ];
  const trained = result.points.filter((p) => p.accuracy !== null && p.k > 0);
  if (result.threshold !== null && trained.length > 0) {
    const ok = trained.filter((p) => p.accuracy! >= result.threshold!);
    const best = ok.at(-1);
    text.push(
      best
        ? `At the threshold of ${
          result.threshold.toFixed(2)
        }% Delphi can replace the last ${best.k} layers ` +
          `(${
            (100 * best.replacedShare).toFixed(0)
          }% of the ReLUs; the paper: ${PAPER_FIG1.delphiLayersAtThreshold} layers, ` +
          `~${paperPercent(PAPER_FIG1.delphiReplacedShare)}%).`
        : `None of the ${trained.length} fine-tuned networks reaches the threshold of ${
          result.threshold.toFixed(2)
        }%.`,
    );
  } else {
    text.push("Panel (b) waits for the fine-tuned networks (their commands are in the table).");
  }
  return text.join(" ");
}

/** The two panels. */
export function chart(result: Fig1Result): PlotlyFigure {
  const ks = result.points.map((p) => `${p.k}L`);
  const part = (name: string, f: (p: Fig1Point) => number) => ({
    type: "bar",
    name,
    x: ks,
    y: result.points.map(f),
    xaxis: "x",
    yaxis: "y",
  });
  const data: Record<string, unknown>[] = [
    part("offline HE linear", (p) => p.paperModel.offlineLinear),
    part("offline activation", (p) => p.paperModel.offlineActivation),
    part("online linear", (p) => p.paperModel.onlineLinear),
    part("online activation", (p) => p.paperModel.onlineActivation),
  ];
  const runs = result.points.filter((p) => p.runTotal !== null);
  if (runs.length) {
    data.push({
      type: "scatter",
      mode: "markers",
      name: "this project's protocol, real run (this machine)",
      x: runs.map((p) => `${p.k}L`),
      y: runs.map((p) => p.runTotal),
      marker: { symbol: "diamond", size: 12 },
      xaxis: "x",
      yaxis: "y",
    });
  }
  const trained = result.points.filter((p) => p.accuracy !== null);
  data.push({
    type: "scatter",
    mode: "lines+markers",
    name: "test accuracy (%)",
    x: trained.map((p) => `${p.k}L`),
    y: trained.map((p) => p.accuracy),
    xaxis: "x2",
    yaxis: "y2",
  });
  if (result.threshold !== null) {
    data.push({
      type: "scatter",
      mode: "lines",
      name: `threshold ${result.threshold.toFixed(2)}%`,
      x: [ks[0], ks.at(-1)],
      y: [result.threshold, result.threshold],
      line: { dash: "dash" },
      xaxis: "x2",
      yaxis: "y2",
    });
  }
  return {
    data,
    layout: {
      title: { text: "Figure 1 (CNN-7): Delphi replacing the last k ReLU layers by degree-2 polynomials" },
      barmode: "stack",
      grid: { rows: 1, columns: 2, pattern: "independent" },
      xaxis: { title: { text: "(a) last k layers replaced" } },
      yaxis: { title: { text: "seconds (cost model, paper calibration)" } },
      xaxis2: { title: { text: "(b) last k layers replaced" } },
      yaxis2: { title: { text: "test accuracy (%)" } },
      width: 1000,
      height: 450,
    },
  };
}

/** Writes results/fig1_delphi_layers_<profile>.json and the chart. */
export async function write(result: Fig1Result, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  const { config: _, ...data } = result;
  const path = await writeResult(NAME, data, { profile, seed, dataset: "cifar10" }, {
    dir: options.resultsDir,
  });
  const figure = await writeFigure(profileStem(NAME, profile), chart(result), { dir: options.figuresDir });
  return [path, figure.html, ...(figure.image ? [figure.image] : [])];
}

/** Registry entry. */
export const fig1DelphiLayers: Experiment<ExperimentConfig, Fig1Result> = {
  name: NAME,
  title: "Figure 1: Delphi's layer-wise replacement on CNN-7 (latency and accuracy)",
  run,
  write,
};
