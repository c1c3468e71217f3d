/**
 * Per-layer summary of end-to-end runs: each party's channel statistics (time and bytes per
 * section and phase, transport/accounting.ts) folded into one table per run set, with the
 * sections and which party's clock tells a section's time taken from the schedule.
 *
 * Offline, the client waits for the server's answers, so its clock gives a section's time.
 * Online, linear layers run on the server alone (its clock), activation sites in lockstep (the
 * client's).
 *
 * @module
 */

import type { TrafficStats } from "../transport.ts";
import { median, roundTo } from "../../report/stats.ts";
import type { Schedule } from "./schedule.ts";

/** Both parties' statistics of one run. */
export interface RunStats {
  readonly server: TrafficStats;
  readonly client: TrafficStats;
}

/** Bytes of one phase, by direction. */
export interface DirectedBytes {
  readonly to_server: number;
  readonly to_client: number;
}

/** One section (layer) over the runs: median times, bytes of the first run. */
export interface SectionSummary {
  readonly kind: string;
  readonly offline_s: number;
  readonly online_s: number;
  readonly offline_bytes: DirectedBytes;
  readonly online_bytes: DirectedBytes;
  /** Round trips the client counted (a send followed by a receive), first run. */
  readonly offline_round_trips: number;
  readonly online_round_trips: number;
}

/** A set of runs of one network and plan. */
export interface RunSummary {
  readonly offline_s: number;
  readonly online_s: number;
  readonly total_s: number;
  /** Bytes of all phases and directions (first run; they do not vary). */
  readonly bytes: number;
  readonly offline_bytes: DirectedBytes;
  readonly online_bytes: DirectedBytes;
  readonly runs_total_s: readonly number[];
  readonly layers: Readonly<Record<string, SectionSummary>>;
}

type Cell = TrafficStats["sections"][number];

function cell(s: TrafficStats, section: string, phase: "offline" | "online"): Cell | undefined {
  return s.sections.find((c) => c.section === section && c.phase === phase);
}

/** The client's sent and received bytes as directions. */
function directed(c: { bytesSent: number; bytesReceived: number } | undefined): DirectedBytes {
  return { to_server: c?.bytesSent ?? 0, to_client: c?.bytesReceived ?? 0 };
}

/** Medians over `runs` of `schedule`'s phase times and per-section times; bytes by direction. */
export function summarizeRuns(schedule: Schedule, runs: readonly RunStats[]): RunSummary {
  if (runs.length === 0) throw new Error("summarizeRuns: no runs");
  const round = (x: number, digits = 3) => roundTo(x, digits);
  const offline = runs.map((r) => r.client.phases.offline.timeMs / 1000);
  const online = runs.map((r) => r.client.phases.online.timeMs / 1000);
  const layers: Record<string, SectionSummary> = {};
  for (const step of schedule.steps) {
    if (step.kind !== "he-linear" && step.kind !== "activation" && step.kind !== "input") continue;
    const onlineSide = step.kind === "he-linear" ? "server" : "client";
    const seconds = (side: "client" | "server", phase: "offline" | "online") =>
      median(runs.map((r) => (cell(r[side], step.section, phase)?.timeMs ?? 0) / 1000));
    layers[step.section] = {
      kind: step.kind,
      offline_s: round(seconds("client", "offline")),
      online_s: round(seconds(onlineSide, "online"), 4),
      offline_bytes: directed(cell(runs[0].client, step.section, "offline")),
      online_bytes: directed(cell(runs[0].client, step.section, "online")),
      offline_round_trips: cell(runs[0].client, step.section, "offline")?.roundTrips ?? 0,
      online_round_trips: cell(runs[0].client, step.section, "online")?.roundTrips ?? 0,
    };
  }
  const { total, phases } = runs[0].client;
  return {
    offline_s: round(median(offline)),
    online_s: round(median(online)),
    total_s: round(median(runs.map((_, i) => offline[i] + online[i]))),
    bytes: total.bytesSent + total.bytesReceived,
    offline_bytes: directed(phases.offline),
    online_bytes: directed(phases.online),
    runs_total_s: runs.map((_, i) => round(offline[i] + online[i])),
    layers,
  };
}
