/**
 * Every experiment, in the paper's order; `deno task reproduce` lists and runs these.
 *
 * @module
 */
import type { Experiment } from "./experiment.ts";
import { costValidation } from "./cost_validation.ts";
import { fig1DelphiLayers } from "./fig1_delphi_layers.ts";
import { fig2ReluDistribution } from "./fig2_relu_distribution.ts";
import { fig4SearchCurves } from "./fig4_search_curves.ts";
import { fig5Ablation } from "./fig5_ablation.ts";
import { latencyTables } from "./latency_tables.ts";
import { table1CryptoWorks } from "./table1_crypto_works.ts";

/** All registered experiments. */
export const EXPERIMENTS: readonly Experiment[] = [
  table1CryptoWorks,
  fig1DelphiLayers,
  fig2ReluDistribution,
  fig4SearchCurves,
  fig5Ablation,
  ...latencyTables,
  costValidation,
];

/** The experiment called `name`; throws listing the known names. */
export function experimentByName(name: string): Experiment {
  const found = EXPERIMENTS.find((e) => e.name === name);
  if (!found) {
    throw new Error(`unknown experiment '${name}': known are ${EXPERIMENTS.map((e) => e.name).join(", ")}`);
  }
  return found;
}
