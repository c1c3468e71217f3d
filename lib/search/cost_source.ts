/**
 * How equation 4 prices the activation cost a plan removes, chosen per search (`deno task search
 * --cost`):
 *
 * - `paper` (default): the paper's unit costs per neuron ({@link paperPricing}), so searches
 *   reproduce the paper's objective;
 * - `lab-loopback`, `lab-lan`, `lab-wan`: this project's own protocol priced by its cost model
 *   (lib/cost, the `lab` variant) with the `measured` calibration from this machine's benchmark
 *   files, over the named link as `bench:protocol --probe-links` measured it between two
 *   processes (results/bench_link.json; its preset where not measured), each plan priced whole
 *   ({@link protocolPricing}). A plan searched this way optimises what this protocol spends,
 *   where the paper's prices do not hold (here a degree-3 polynomial's offline correlations cost
 *   more compute than a garbled ReLU but far fewer bytes, and each site pays per batch).
 *
 * @module
 */
import { join } from "node:path";
import { LINKS, measuredCalibration, probedLinks } from "../cost/mod.ts";
import { RESULTS_DIR } from "../report/paths.ts";
import { readJsonIfPresent } from "../report/results.ts";
import { type ActivationPricing, paperPricing, protocolPricing } from "./score.ts";

/** The R(beta) sources a search can use. */
export const COST_SOURCES = ["paper", "lab-loopback", "lab-lan", "lab-wan"] as const;
export type CostSource = typeof COST_SOURCES[number];

/** The default: the paper's unit costs. */
export const DEFAULT_COST_SOURCE: CostSource = "paper";

/** True for a known cost source name. */
export function isCostSource(name: string): name is CostSource {
  return (COST_SOURCES as readonly string[]).includes(name);
}

/** The pricing of `source`; a lab source reads the benchmark files in `resultsDir` (default results/). */
export async function costPricing(source: CostSource, resultsDir = RESULTS_DIR): Promise<ActivationPricing> {
  if (source === "paper") return paperPricing;
  const name = source.slice("lab-".length) as keyof typeof LINKS;
  const measured = probedLinks(await readJsonIfPresent(join(resultsDir, "bench_link.json")))[name];
  return protocolPricing({
    variant: "lab",
    calibration: await measuredCalibration(resultsDir),
    link: measured ?? LINKS[name],
  });
}
