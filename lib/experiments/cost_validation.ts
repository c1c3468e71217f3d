/**
 * Validation of the cost model against the real protocol: for each network and plan that
 * `bench:protocol` ran end to end, the `measured` calibration's prediction (lib/cost, variant
 * `lab`) beside the measured run, in total and per layer. The targets (issue 10): time within
 * 20% (offline, online, total), bytes within 5% (each direction).
 *
 * Reads results/bench_protocol*.json (the runs), results/bench_link.json (what each link
 * delivered between two processes, `bench:protocol --probe-links`: the links are priced as
 * measured where it exists, else at their presets) and the benchmark files the calibration is
 * fitted from; computes no protocol itself, so `reproduce` stays quick.
 *
 * @module
 */

import { architecture, MODEL_NAMES, type ModelName } from "../nn/architectures.ts";
import { allReluPlan, type Plan, uniformPlan } from "../nn/plan.ts";
import { planSchedule } from "../mpc/inference/schedule.ts";
import { type Calibration, type Link, LINKS, measuredCalibration, price, probedLinks } from "../cost/mod.ts";
import type { PlotlyFigure } from "../report/chart.ts";
import { writeFigure } from "../report/chart.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { profileStem, readJsonIfPresent, writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";

/** Output file stem. */
export const NAME = "cost_validation";

/** Time and bytes of one run (or its prediction). */
export interface Measure {
  readonly offline_s: number;
  readonly online_s: number;
  readonly total_s: number;
  readonly bytes: { readonly to_server: number; readonly to_client: number };
}

/** One network x plan x link. */
export interface ValidationRow {
  readonly network: ModelName;
  readonly plan: "all_relu" | "plan80";
  readonly link: "loopback" | "lan" | "wan";
  /** The link as priced: bytes per second (null: unlimited), round trip, and where they come from. */
  readonly priced_link: {
    readonly bandwidth_bytes_s: number | null;
    readonly rtt_s: number;
    readonly source: string;
  };
  readonly predicted: Measure;
  readonly measured: Measure;
  /** Per layer (section): predicted and measured offline + online seconds. */
  readonly layers: readonly { section: string; predicted_s: number; measured_s: number }[];
}

/** The experiment's result. */
export interface CostValidationResult {
  readonly config: ExperimentConfig;
  readonly calibration: string;
  readonly rows: readonly ValidationRow[];
  /** Tolerances checked. */
  readonly tolerance: { readonly time: number; readonly bytes: number };
}

/** Relative tolerances of the validation. */
export const TOLERANCE = { time: 0.2, bytes: 0.05 } as const;

// deno-lint-ignore no-explicit-any
type Json = any;

function planOf(model: ModelName, plan: "all_relu" | "plan80"): Plan {
  const graph = architecture(model);
  return plan === "all_relu" ? allReluPlan(graph) : uniformPlan(graph, 0.8, 2);
}

/** The link of each benchmark file the validation reads (bench:protocol --link writes the others). */
const BENCH_FILES = {
  loopback: "bench_protocol.json",
  lan: "bench_protocol_lan.json",
  wan: "bench_protocol_wan.json",
} as const;

/**
 * Predictions against the runs in `bench` (a bench_protocol file's content), made for the link
 * the runs went over: `priced` as measured, or by default its preset.
 */
export function validate(
  bench: Json,
  calibration: Calibration,
  link: ValidationRow["link"] = "loopback",
  priced?: Link,
): ValidationRow[] {
  const pricedLink = priced ?? LINKS[link];
  const priced_link = {
    bandwidth_bytes_s: Number.isFinite(pricedLink.bandwidth) ? pricedLink.bandwidth : null,
    rtt_s: pricedLink.rtt,
    source: priced ? "measured (results/bench_link.json)" : "preset",
  };
  const rows: ValidationRow[] = [];
  for (const network of MODEL_NAMES) {
    for (const plan of ["all_relu", "plan80"] as const) {
      const run = bench[network]?.[plan];
      if (!run) continue;
      const schedule = planSchedule(architecture(network), planOf(network, plan), bench.fracBits);
      const p = price(schedule, { variant: "lab", calibration, link: pricedLink });
      const layers = p.sections
        .filter((s) => run.layers?.[s.section])
        .map((s) => ({
          section: s.section,
          predicted_s: s.offline.total_s + s.online.total_s,
          measured_s: run.layers[s.section].offline_s + run.layers[s.section].online_s,
        }));
      rows.push({
        network,
        plan,
        link,
        priced_link,
        predicted: {
          offline_s: p.offline.total_s,
          online_s: p.online.total_s,
          total_s: p.total_s,
          bytes: {
            to_server: p.offline.bytes.toServer + p.online.bytes.toServer,
            to_client: p.offline.bytes.toClient + p.online.bytes.toClient,
          },
        },
        measured: {
          offline_s: run.offline_s,
          online_s: run.online_s,
          total_s: run.total_s,
          bytes: {
            to_server: run.offline_bytes.to_server + run.online_bytes.to_server,
            to_client: run.offline_bytes.to_client + run.online_bytes.to_client,
          },
        },
        layers,
      });
    }
  }
  return rows;
}

/** Runs the validation on the repository's benchmark files. */
export async function run(config: ExperimentConfig & { resultsDir?: string }): Promise<CostValidationResult> {
  const dir = config.resultsDir ?? RESULTS_DIR;
  const read = async (link: ValidationRow["link"]): Promise<Json | undefined> => {
    const path = `${dir}/${BENCH_FILES[link]}`;
    try {
      return await readJsonIfPresent(path);
    } catch (e) {
      throw new Error(`cost validation cannot read ${path} (${(e as Error).message}): rerun bench:protocol`);
    }
  };
  const bench = await read("loopback");
  if (!bench) {
    throw new Error(
      `cost validation needs ${dir}/${BENCH_FILES.loopback}: run \`tools/deno task bench:protocol\``,
    );
  }
  const calibration = await measuredCalibration(dir);
  const links = probedLinks(await readJsonIfPresent(`${dir}/bench_link.json`));
  const rows = validate(bench, calibration, "loopback", links.loopback);
  // The shaped links are validated where bench:protocol --link has run.
  for (const link of ["lan", "wan"] as const) {
    const linked = await read(link);
    if (linked) rows.push(...validate(linked, calibration, link, links[link]));
  }
  return {
    config,
    calibration: calibration.source,
    rows,
    tolerance: TOLERANCE,
  };
}

const rel = (predicted: number, measured: number) => (predicted - measured) / measured;
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;

/** One table row per network x plan x link, with relative differences. */
export function tableRows(result: CostValidationResult): Row[] {
  return result.rows.map((r) => ({
    network: r.network,
    plan: r.plan,
    link: r.link,
    "offline s (pred / meas)": `${r.predicted.offline_s.toFixed(2)} / ${r.measured.offline_s.toFixed(2)}`,
    "online s": `${r.predicted.online_s.toFixed(2)} / ${r.measured.online_s.toFixed(2)}`,
    "total s": `${r.predicted.total_s.toFixed(2)} / ${r.measured.total_s.toFixed(2)}`,
    "total diff": pct(rel(r.predicted.total_s, r.measured.total_s)),
    "bytes to server diff": pct(rel(r.predicted.bytes.to_server, r.measured.bytes.to_server)),
    "bytes to client diff": pct(rel(r.predicted.bytes.to_client, r.measured.bytes.to_client)),
  }));
}

/** Which rows meet the tolerances, and a sentence saying so (generated, not typed). */
export function reading(result: CostValidationResult): string {
  if (result.rows.length === 0) {
    return "No end-to-end runs to validate against: run `tools/deno task bench:protocol`.";
  }
  const fails = result.rows.flatMap((r) => {
    const out: string[] = [];
    for (const k of ["offline_s", "online_s", "total_s"] as const) {
      const d = rel(r.predicted[k], r.measured[k]);
      if (Math.abs(d) > result.tolerance.time) {
        out.push(`${r.network} ${r.plan} ${r.link} ${k.replace("_s", "")} ${pct(d)}`);
      }
    }
    for (const k of ["to_server", "to_client"] as const) {
      const d = rel(r.predicted.bytes[k], r.measured.bytes[k]);
      if (Math.abs(d) > result.tolerance.bytes) {
        out.push(`${r.network} ${r.plan} ${r.link} bytes ${k} ${pct(d)}`);
      }
    }
    return out;
  });
  const [time, bytes] = [result.tolerance.time, result.tolerance.bytes].map((t) => Math.round(100 * t));
  const within = `time within ${time}%, bytes within ${bytes}%`;
  return fails.length === 0
    ? `All ${result.rows.length} runs are predicted ${within}.`
    : `${result.rows.length} runs; outside the targets (${within}): ${fails.join("; ")}.`;
}

/** Parity chart: predicted against measured seconds, one point per layer and per total. */
export function chart(result: CostValidationResult): PlotlyFigure {
  const all = result.rows.flatMap((r) => [...r.layers.map((l) => l.measured_s), r.measured.total_s]);
  const max = Math.max(1e-3, ...all) * 1.1;
  const data: Record<string, unknown>[] = result.rows.map((r) => ({
    type: "scatter",
    mode: "markers",
    name: `${r.network} ${r.plan} ${r.link} (layers)`,
    x: r.layers.map((l) => l.measured_s),
    y: r.layers.map((l) => l.predicted_s),
    text: r.layers.map((l) => l.section),
    hovertemplate: "%{text}: measured %{x:.3f} s, predicted %{y:.3f} s<extra></extra>",
  }));
  data.push({
    type: "scatter",
    mode: "markers",
    name: "totals",
    marker: { symbol: "diamond", size: 11 },
    x: result.rows.map((r) => r.measured.total_s),
    y: result.rows.map((r) => r.predicted.total_s),
    text: result.rows.map((r) => `${r.network} ${r.plan} ${r.link}`),
    hovertemplate: "%{text}: measured %{x:.2f} s, predicted %{y:.2f} s<extra></extra>",
  });
  data.push({
    type: "scatter",
    mode: "lines",
    name: "parity",
    x: [0, max],
    y: [0, max],
    line: { dash: "dot" },
  });
  return {
    data,
    layout: {
      title: { text: "Cost model (measured calibration) against the real protocol" },
      xaxis: { title: { text: "measured seconds" }, type: "log" },
      yaxis: { title: { text: "predicted seconds" }, type: "log" },
      width: 800,
      height: 600,
    },
  };
}

/** Writes results/cost_validation_<profile>.json and its parity chart. */
export async function write(result: CostValidationResult, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  const path = await writeResult(
    NAME,
    { calibration: result.calibration, tolerance: result.tolerance, rows: result.rows },
    { profile, seed, dataset: null },
    { dir: options.resultsDir },
  );
  const figure = await writeFigure(profileStem(NAME, profile), chart(result), { dir: options.figuresDir });
  return [path, figure.html, ...(figure.image ? [figure.image] : [])];
}

/** Registry entry. */
export const costValidation: Experiment<ExperimentConfig, CostValidationResult> = {
  name: NAME,
  title: "Cost model against the real protocol (loopback, LAN, WAN)",
  run,
  write,
};
