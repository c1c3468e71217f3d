/**
 * Tables 2 (CNN-7), 3 (VGG-16) and 4 (ResNet-32): latency of Gazelle, Delphi and SAFENet in the
 * paper's four columns (offline and online, HE linear and MPC activation), total and accuracy.
 * Beside each paper value: the cost model with the `paper` calibration (fitted to the Gazelle and
 * Delphi rows, so the SAFENet row is a prediction), the model with the `measured` calibration
 * (this project's protocol on this machine), and this project's real run where one exists for
 * the row's plan (results/bench_protocol.json), with relative differences.
 *
 * Plans: Gazelle runs all ReLU. SAFENet's row uses the project's published plan,
 * data/plans/<model>_safenet.json (the long BTPBT search's pick), where it exists. Otherwise, where
 * a search of the table's profile has picked a plan (data/plans/<model>_delphi_<profile>.json from
 * Delphi's planner, <model>_btpbt_<profile>.json from BTPBT), the Delphi and SAFENet rows use it,
 * with the test accuracy the search measured on its pick; otherwise Delphi's row uses a plan with
 * the share of ReLUs the paper's Delphi replaced (lib/cost/paper_fit.ts) and SAFENet's the 80% plan
 * (alpha 0.8, degree 2 at every site), with the accuracy of data/pretrained/<model>[-plan80]/
 * training.json where that exists, else "—" with the command that trains it. The real run
 * (results/bench_protocol.json; for the published SAFENet plan, results/bench_protocol_safenet.json)
 * is shown only for the plan it ran. Table 4's CIFAR-100 cannot be brought onto these machines, so
 * its accuracy column can only show ResNet-32 on CIFAR-10, labelled as a substitute.
 *
 * @module
 */

import { architecture, type ModelName } from "../nn/architectures.ts";
import { allReluPlan, countPlan, type Plan, uniformPlan, validatePlan } from "../nn/plan.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import {
  asPaperRow,
  type Calibration,
  measuredCalibration,
  paperCalibration,
  paperDelphiPlan,
  price,
  type Variant,
} from "../cost/mod.ts";
import { REPO_ROOT } from "../data/locate.ts";
import { PAPER_LATENCY_TABLES, type PaperLatencyRow, type PaperProtocol } from "../paper.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { readJsonIfPresent, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";

/** The four time columns and the total, in the paper's order. */
export const COLUMNS = [
  "offlineLinear",
  "offlineActivation",
  "onlineLinear",
  "onlineActivation",
  "total",
] as const;
export type Column = typeof COLUMNS[number];
type Times = Readonly<Record<Column, number>>;

/** One protocol's row: the paper's values and ours beside them. */
export interface LatencyRow {
  readonly protocol: PaperProtocol;
  /** What plan the row's model and run use. */
  readonly plan: string;
  readonly paper: PaperLatencyRow;
  readonly paperModel: Times;
  /** This project's protocol priced with this machine's unit costs; null without benchmark files. */
  readonly measuredModel: Times | null;
  /** This project's protocol run end to end on the row's plan, if it was run (per-layer sums). */
  readonly run: Times | null;
  /** This project's accuracy on the row's plan, or why there is none. */
  readonly accuracy: { readonly value: number; readonly dataset: string } | { readonly missing: string };
}

/** One table's result. */
export interface LatencyTableResult {
  readonly config: ExperimentConfig;
  readonly model: ModelName;
  readonly table: number;
  readonly dataset: string;
  readonly rows: readonly LatencyRow[];
  readonly calibrations: { readonly paper: string; readonly measured: string | null };
}

/** A row's plan, what to call it, its accuracy, and which bench_protocol run (if any) ran it. */
interface RowPlan {
  readonly label: string;
  readonly plan: Plan;
  readonly accuracy: LatencyRow["accuracy"];
  /** The bench_protocol run of this plan: the file (in the results directory) and its key per model. */
  readonly run?: { readonly file: string; readonly key: "all_relu" | "plan80" | "safenet" };
}

/** The searcher whose pick stands for a protocol's row. */
const ROW_SEARCHERS: Partial<Record<PaperProtocol, string>> = { delphi: "delphi", safenet: "btpbt" };

/** The row's plan: a search's pick at the profile when there is one (see the module comment). */
async function rowPlan(
  model: ModelName,
  protocol: PaperProtocol,
  config: ExperimentConfig & { plansDir?: string },
): Promise<RowPlan> {
  const graph = architecture(model);
  if (protocol === "gazelle") {
    return {
      label: "all ReLU",
      plan: allReluPlan(graph),
      accuracy: await accuracyOf(model, protocol),
      run: { file: "bench_protocol.json", key: "all_relu" },
    };
  }
  const searcher = ROW_SEARCHERS[protocol]!;
  const plansDir = config.plansDir ?? `${REPO_ROOT}/data/plans`;
  // SAFENet's published plan (`search --publish safenet`) stands for it at every profile.
  const names = [
    ...(protocol === "safenet" ? [`${model}_safenet.json`] : []),
    `${model}_${searcher}_${config.profile}.json`,
  ];
  for (const name of names) {
    const searched = await readJson(`${plansDir}/${name}`);
    if (!searched) continue;
    const { provenance, ...plan } = searched;
    validatePlan(graph, plan);
    const share = (100 * countPlan(graph, plan).fractionReplaced).toFixed(1);
    return {
      label: `${searcher === "btpbt" ? "BTPBT" : "Delphi's planner"}'s pick, ${share}% replaced ` +
        `(${provenance?.profile ?? config.profile} search, data/plans/${name})`,
      plan,
      accuracy: typeof provenance?.testAccuracy === "number"
        ? { value: 100 * provenance.testAccuracy, dataset: "cifar10, the search's pick" }
        : { missing: "the search recorded no test accuracy" },
      // bench:protocol --plans safenet runs the published plan (its own file).
      ...(name === `${model}_safenet.json`
        ? { run: { file: "bench_protocol_safenet.json", key: "safenet" } }
        : {}),
    };
  }
  return protocol === "delphi"
    ? {
      label: "the paper's Delphi share of ReLUs replaced (assumed)",
      plan: paperDelphiPlan(model),
      accuracy: await accuracyOf(model, protocol),
    }
    : {
      label: "80% of every layer's channels, degree 2 (not searched)",
      plan: uniformPlan(graph, 0.8, 2),
      accuracy: await accuracyOf(model, protocol),
      run: { file: "bench_protocol.json", key: "plan80" },
    };
}

function times(model: ModelName, plan: Plan, variant: Variant, calibration: Calibration): Times {
  return asPaperRow(price(planSchedule(architecture(model), plan), { variant, calibration }));
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** A JSON file read as untyped data (benchmark files, training records), undefined if absent. */
const readJson = (path: string) => readJsonIfPresent(path) as Promise<Json | undefined>;

async function accuracyOf(model: ModelName, protocol: PaperProtocol): Promise<LatencyRow["accuracy"]> {
  const dir = protocol === "safenet" ? `${model}-plan80` : model;
  const record = await readJson(`${REPO_ROOT}/data/pretrained/${dir}/training.json`);
  if (protocol !== "delphi" && typeof record?.testAccuracy === "number") {
    return { value: 100 * record.testAccuracy, dataset: record.dataset ?? "cifar10" };
  }
  return {
    missing: protocol === "delphi"
      ? "needs Delphi's layer-wise plan fine-tuned (Figure 1b)"
      : `not trained yet: tools/deno task train --model ${model}${
        protocol === "safenet" ? " --plan ..." : ""
      }`,
  };
}

/** A bench_protocol run in the paper's columns: its layers' times summed by kind. */
function runColumns(run: Json): Times {
  const sum = (kind: string, phase: "offline_s" | "online_s") =>
    Object.values(run.layers as Record<string, Json>).filter((l) => l.kind === kind)
      .reduce((s: number, l) => s + l[phase], 0);
  return {
    offlineLinear: sum("he-linear", "offline_s"),
    offlineActivation: sum("activation", "offline_s"),
    onlineLinear: sum("he-linear", "online_s") + sum("input", "online_s"),
    onlineActivation: sum("activation", "online_s"),
    total: run.total_s,
  };
}

/** Computes Table `PAPER_LATENCY_TABLES[model].table`. */
export async function runTable(
  model: ModelName,
  config: ExperimentConfig & { resultsDir?: string; plansDir?: string },
): Promise<LatencyTableResult> {
  const paperCal = await paperCalibration();
  let measured: Calibration | null = null;
  try {
    measured = await measuredCalibration(config.resultsDir ?? RESULTS_DIR);
  } catch {
    // No (or outdated) benchmark files: the measured column is left empty and says so.
  }
  const paper = PAPER_LATENCY_TABLES[model];
  const rows: LatencyRow[] = [];
  for (const protocol of ["gazelle", "delphi", "safenet"] as const) {
    const { label, plan: p, accuracy, run } = await rowPlan(model, protocol, config);
    const bench = run ? await readJson(`${config.resultsDir ?? RESULTS_DIR}/${run.file}`) : undefined;
    const r = run ? bench?.[model]?.[run.key] : undefined;
    rows.push({
      protocol,
      plan: label,
      paper: paper.rows[protocol],
      // Delphi's count-equivalent plan is channel-wise: priced with SAFENet's operations, which
      // are Delphi's for whole layers.
      paperModel: times(model, p, protocol === "delphi" ? "safenet" : protocol, paperCal),
      measuredModel: measured ? times(model, p, "lab", measured) : null,
      run: r ? runColumns(r) : null,
      accuracy,
    });
  }
  return {
    config,
    model,
    table: paper.table,
    dataset: paper.dataset,
    rows,
    calibrations: { paper: paperCal.source, measured: measured?.source ?? null },
  };
}

const num = (x: number) => x.toFixed(1);
const diff = (ours: number, paper: number) =>
  paper === 0 ? "" : ` (${ours >= paper ? "+" : ""}${(100 * (ours - paper) / paper).toFixed(0)}%)`;

/** One table row per protocol and source: the paper, the paper-calibrated model, ours. */
export function tableRows(result: LatencyTableResult): Row[] {
  return result.rows.flatMap((r) => {
    const acc = "value" in r.accuracy ? `${r.accuracy.value.toFixed(2)}% (${r.accuracy.dataset})` : "—";
    const line = (source: string, t: Times | null, accuracy: string): Row => ({
      protocol: r.protocol,
      source,
      ...Object.fromEntries(
        COLUMNS.map((c) => [c, t ? `${num(t[c])}${source === "paper" ? "" : diff(t[c], r.paper[c])}` : "—"]),
      ),
      accuracy,
    });
    return [
      line("paper", r.paper, `${r.paper.accuracy}%`),
      line("model, paper calibration", r.paperModel, ""),
      line("model, this machine", r.measuredModel, ""),
      line("real run, this project's protocol", r.run, acc),
    ];
  });
}

/** A sentence reading ours against the paper, generated from the result. */
export function reading(result: LatencyTableResult): string {
  const [gazelle, delphi, safenet] = result.rows;
  const cut = (a: number, b: number) => `${(100 * (1 - a / b)).toFixed(0)}%`;
  const parts = [
    `The paper's SAFENet cuts Delphi's total by ${cut(safenet.paper.total, delphi.paper.total)}; ` +
    `the paper-calibrated model predicts ${
      cut(safenet.paperModel.total, delphi.paperModel.total)
    } for the plans used here ` +
    `(SAFENet: ${safenet.plan}).`,
  ];
  if (safenet.run && gazelle.run) {
    // The real run exists only for the 80% plan (the row's plan when no search has picked one).
    parts.push(
      `This project's protocol runs the all-ReLU network in ${gazelle.run.total.toFixed(1)} s and the ` +
        `80% plan in ${safenet.run.total.toFixed(1)} s on this machine (${
          cut(safenet.run.total, gazelle.run.total)
        } less).`,
    );
  }
  return parts.join(" ");
}

/** Writes results/table<N>_<model>_<profile>.json. */
export async function writeTable(result: LatencyTableResult, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  const { config: _, ...data } = result;
  return [
    await writeResult(tableName(result.model), data, { profile, seed, dataset: result.dataset }, {
      dir: options.resultsDir,
    }),
  ];
}

/** The output stem of the table of `model`, e.g. "table2_cnn7". */
export function tableName(model: ModelName): string {
  return `table${PAPER_LATENCY_TABLES[model].table}_${model}`;
}

/** Registry entries: one per table. */
export const latencyTables: readonly Experiment<ExperimentConfig, LatencyTableResult>[] = (
  ["cnn7", "vgg16", "resnet32"] as const
).map((model) => ({
  name: tableName(model),
  title: `Table ${PAPER_LATENCY_TABLES[model].table}: ${
    architecture(model).name
  } latency, Gazelle / Delphi / SAFENet`,
  run: (config) => runTable(model, config),
  write: writeTable,
}));
