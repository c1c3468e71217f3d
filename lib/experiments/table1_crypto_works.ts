/**
 * Table 1 of the paper: cryptographic inference works and what they support, extended with this
 * project's row and the capabilities it adds. The paper's rows come from lib/paper.ts
 * (reconstructed from its Section 2.3); this project's row is data here, each capability named
 * with the module that provides it, so the claim can be checked.
 *
 * @module
 */

import { PAPER_TABLE1, type Table1Capability } from "../paper.ts";
import { writeResult } from "../report/results.ts";
import type { Row } from "../report/table.ts";
import type { Experiment, ExperimentConfig, WriteOptions } from "./experiment.ts";

/** Output file stem. */
export const NAME = "table1_crypto_works";

/** Column titles of the paper's capabilities. */
export const CAPABILITY_TITLES: Readonly<Record<Table1Capability, string>> = {
  hybridHeGc: "HE + GC hybrid",
  offlineOnlineSplit: "offline/online split",
  polynomialActivations: "polynomial activations",
  channelWise: "channel-wise",
  multipleDegrees: "multiple degrees",
  mixedPrecision: "mixed precision",
};

/** A capability this project adds beyond the paper's columns, with where it lives. */
export interface Extension {
  readonly capability: string;
  readonly module: string;
}

/** This project's row: the paper's capabilities (where it implements them) and its additions. */
export const LAB_ROW = {
  work: "SAFENet Lab (this project)",
  reference: "lib/mpc, lib/cost, lib/search",
  capabilities: {
    hybridHeGc: true,
    offlineOnlineSplit: true,
    polynomialActivations: true,
    channelWise: true,
    multipleDegrees: true,
    mixedPrecision: true,
  } as Readonly<Record<Table1Capability, boolean>>,
  extensions: [
    { capability: "degree-1 (affine) and degree-0 (pruned) channels", module: "lib/mpc/poly/protocol.ts" },
    { capability: "residual networks (additions on shares)", module: "lib/mpc/inference/steps.ts" },
    {
      capability: "HE answers flooded: client's view within 2^-40 of weight-independent per inference",
      module: "lib/mpc/he/answer.ts",
    },
    { capability: "exact lift of polynomial inputs (no wrap failures)", module: "lib/mpc/poly/protocol.ts" },
    { capability: "coefficient-packed convolutions without rotations", module: "lib/mpc/he/packing.ts" },
    { capability: "protocol cost model with paper and measured calibrations", module: "lib/cost/mod.ts" },
  ] as readonly Extension[],
} as const;

/** The table's data. */
export interface Table1Result {
  readonly config: ExperimentConfig;
  readonly rows: readonly {
    readonly work: string;
    readonly reference: string;
    readonly capabilities: Readonly<Record<Table1Capability, boolean>>;
    readonly source: "paper" | "this project";
  }[];
  readonly extensions: readonly Extension[];
}

/** The paper's rows and this project's. */
export function run(config: ExperimentConfig): Table1Result {
  return {
    config,
    rows: [
      ...PAPER_TABLE1.map((w) => ({ ...w, source: "paper" as const })),
      {
        work: LAB_ROW.work,
        reference: LAB_ROW.reference,
        capabilities: LAB_ROW.capabilities,
        source: "this project",
      },
    ],
    extensions: LAB_ROW.extensions,
  };
}

/** One row per work, a check mark per capability. */
export function tableRows(result: Table1Result): Row[] {
  return result.rows.map((r) => ({
    work: r.work,
    reference: r.reference,
    ...Object.fromEntries(
      Object.entries(CAPABILITY_TITLES).map((
        [k, title],
      ) => [title, r.capabilities[k as Table1Capability] ? "✓" : ""]),
    ),
  }));
}

/** This project's additions, one row each. */
export function extensionRows(result: Table1Result): Row[] {
  return result.extensions.map((e) => ({ "added by this project": e.capability, module: e.module }));
}

/** A sentence reading the table, generated from it. */
export function reading(result: Table1Result): string {
  const full = result.rows.filter((r) => Object.values(r.capabilities).every(Boolean)).map((r) => r.work);
  return `Of the ${result.rows.length} works, ${
    full.join(" and ")
  } support every capability of the paper's ` +
    `Table 1; this project adds ${result.extensions.length} more (listed below the table).`;
}

/** Writes results/table1_crypto_works_<profile>.json. */
export async function write(result: Table1Result, options: WriteOptions = {}): Promise<string[]> {
  const { profile, seed } = result.config;
  return [
    await writeResult(NAME, { rows: result.rows, extensions: result.extensions }, {
      profile,
      seed,
      dataset: null,
    }, {
      dir: options.resultsDir,
    }),
  ];
}

/** Registry entry. */
export const table1CryptoWorks: Experiment<ExperimentConfig, Table1Result> = {
  name: NAME,
  title: "Table 1: cryptographic inference works",
  run,
  write,
};
