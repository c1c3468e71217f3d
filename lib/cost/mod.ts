/**
 * The protocol cost model: the price of a plan before running it.
 *
 * ```ts
 * import { paperCalibration, price } from "./lib/cost/mod.ts";
 * import { planSchedule } from "./lib/mpc/inference/schedule.ts";
 * const p = price(planSchedule(graph, plan), { variant: "safenet", calibration: await paperCalibration() });
 * ```
 *
 * - counts.ts: what a schedule asks of each protocol, per section;
 * - rotation_packing.ts: Gazelle's slot packing, for the paper's variants;
 * - variants.ts: gazelle, delphi, safenet, lab as tallies of unit operations;
 * - calibration.ts: unit costs with their source (`measured` from results/bench_*.json);
 * - paper_fit.ts: the `paper` calibration fitted to the paper's Tables 2-4;
 * - model.ts: `price`, with network links (loopback, LAN, WAN).
 *
 * @module
 */

import { fileURLToPath } from "node:url";
import { type Calibration, checkCalibration } from "./calibration.ts";

export * from "./calibration.ts";
export * from "./counts.ts";
export * from "./model.ts";
export * from "./paper_fit.ts";
export * from "./rotation_packing.ts";
export * from "./variants.ts";

/** Where the fitted `paper` calibration is stored. */
export const PAPER_CALIBRATION_PATH: string = fileURLToPath(
  new URL("./calibrations/paper.json", import.meta.url),
);

/** The stored `paper` calibration (fitted by `deno task calibrate`). */
export async function paperCalibration(): Promise<Calibration> {
  const calibration = JSON.parse(await Deno.readTextFile(PAPER_CALIBRATION_PATH)) as Calibration;
  checkCalibration(calibration);
  return calibration;
}
