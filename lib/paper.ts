/**
 * Numbers and settings quoted from the SAFENet paper (and the published figures of the works it
 * compares with), in one place: every experiment, notebook and the README generator reads them
 * from here, so a paper value is typed once and always labelled as the paper's.
 *
 * The paper's latencies come from its own machines (two Intel Xeon E7-4850 instances, 16 GB,
 * LAN, 4 threads each); they are never this project's measurements.
 *
 * @module
 */

import type { ModelName } from "./nn/architectures.ts";

/** Where the paper's numbers were measured (to label them). */
export const PAPER_SETUP = {
  machine: "two Intel Xeon E7-4850 instances, 16 GB DRAM, LAN, 4 threads each",
  fixedPointBits: 15,
  searchHardware: "one NVIDIA Tesla V100",
} as const;

/** One row of Tables 2-4: seconds per phase and kind, total, accuracy (%). */
export interface PaperLatencyRow {
  readonly offlineLinear: number;
  readonly offlineActivation: number;
  readonly onlineLinear: number;
  readonly onlineActivation: number;
  readonly total: number;
  readonly accuracy: number;
}

/** The protocols of Tables 2-4. */
export type PaperProtocol = "gazelle" | "delphi" | "safenet";

/** One of Tables 2-4. */
export interface PaperLatencyTable {
  readonly table: number;
  readonly model: ModelName;
  readonly dataset: "cifar10" | "cifar100";
  readonly rows: Readonly<Record<PaperProtocol, PaperLatencyRow>>;
}

const row = (
  offlineLinear: number,
  offlineActivation: number,
  onlineLinear: number,
  onlineActivation: number,
  total: number,
  accuracy: number,
): PaperLatencyRow => ({ offlineLinear, offlineActivation, onlineLinear, onlineActivation, total, accuracy });

/** Tables 2 (CNN-7, CIFAR-10), 3 (VGG-16, CIFAR-10) and 4 (ResNet-32, CIFAR-100), as printed. */
export const PAPER_LATENCY_TABLES: Readonly<Record<ModelName, PaperLatencyTable>> = {
  cnn7: {
    table: 2,
    model: "cnn7",
    dataset: "cifar10",
    rows: {
      gazelle: row(0, 91, 37, 9, 137, 85.1),
      delphi: row(37, 53.4, 0, 5.3, 95.4, 84.6),
      safenet: row(37, 18.2, 0, 1.8, 53.4, 85.1),
    },
  },
  vgg16: {
    table: 3,
    model: "vgg16",
    dataset: "cifar10",
    rows: {
      gazelle: row(0, 142, 45, 16, 203, 89.6),
      delphi: row(45, 114, 0, 13, 172, 88.1),
      safenet: row(40.2, 56.8, 0, 6.5, 104, 88.9),
    },
  },
  resnet32: {
    table: 4,
    model: "resnet32",
    dataset: "cifar100",
    rows: {
      gazelle: row(0, 158, 64, 18, 240, 67.9),
      delphi: row(64, 126.4, 0, 14.4, 204.8, 67.3),
      safenet: row(57.6, 63.2, 0, 7.2, 128, 67.5),
    },
  },
};

/**
 * The score's unit costs (Section 3, equation 4): amortised microseconds per activation. R(beta)
 * = 1 - poly / ReLU, e.g. R(3) = 1 - 0.2 / 20.1. The paper gives no separate degree-2 figure; its
 * Section 2.1 says a polynomial activation is 192x cheaper than a garbled ReLU.
 */
export const PAPER_UNIT_COSTS_US = { relu: 20.1, degree3: 0.2, polyVsReluSpeedup: 192 } as const;

/** Figure 1 and Section 2.1 (CNN-7 on CIFAR-10). */
export const PAPER_FIG1 = {
  /** The all-ReLU CNN-7's accuracy (%) and the threshold the paper keeps (%). */
  allReluAccuracy: 85.1,
  threshold: 84.5,
  /** Delphi replaces at most this many (last) ReLU layers at the threshold... */
  delphiLayersAtThreshold: 6,
  /** ...which is about this share of ReLUs. */
  delphiReplacedShare: 0.42,
  /** Activation latency as a share of the all-ReLU total, and of its online phase. */
  activationShareOfTotal: 0.725,
  activationShareOfOnline: 0.99,
} as const;

/**
 * Points of accuracy the paper's threshold lies below its all-ReLU accuracy (85.1 -> 84.5),
 * rounded to cancel the binary representation's residue (0.5999999999999943).
 */
export const PAPER_THRESHOLD_DROP_POINTS =
  Math.round((PAPER_FIG1.allReluAccuracy - PAPER_FIG1.threshold) * 1e6) / 1e6;

/** Section 1: Delphi replaces "~20% ReLU numbers on ResNet-32" at under 1% accuracy loss. */
export const PAPER_DELPHI_RESNET32_SHARE = 0.2;

/** Figure 2: CNN-7's first ReLU layer holds more than this share of its ReLUs. */
export const PAPER_CNN7_FIRST_LAYER_SHARE = 0.58;

/** Figure 4 (CNN-7): the search comparison and its budget. */
export const PAPER_FIG4 = {
  btpbtReplacedShare: 0.8,
  /** PBT and DRL replace less than this share. */
  baselinesReplacedBelow: 0.3,
  epochs: 200,
  workers: 50,
  /** Iterations between two exploitations. */
  cycleIterations: 20,
  epochsPerPbt: 20,
  globalEpochs: 40,
  gpuHours: 7,
} as const;

/** Figure 5 (ablation at the threshold). */
export const PAPER_FIG5 = {
  /** CNN-7: Delphi replaces the last 6 layers, about this share of ReLUs. */
  cnn7DelphiReplacedShare: 0.41,
  /** CNN-7: the hand-crafted channel-wise setting the paper uses. */
  cnn7ChannelWise: { alpha: 0.5, beta: 2 },
  /** VGG-16: SAFENet replaces this much more (relative) than Delphi at equal accuracy. */
  vgg16GainOverDelphi: 0.28,
} as const;

/** Delphi's published garbled-ReLU costs (its paper, ResNet-32's 303,104 ReLUs). */
export const DELPHI_PUBLISHED_RELU = {
  offlineGcBytes: 17072,
  offlineOtBytes: 1344,
  onlineBytes: 1184,
  garbleUs: 102,
  evaluateUs: 52,
} as const;

/** A capability column of Table 1. */
export type Table1Capability =
  | "hybridHeGc"
  | "offlineOnlineSplit"
  | "polynomialActivations"
  | "channelWise"
  | "multipleDegrees"
  | "mixedPrecision";

/** One work of Table 1. */
export interface Table1Work {
  readonly work: string;
  readonly reference: string;
  readonly capabilities: Readonly<Record<Table1Capability, boolean>>;
}

/** Table 1's capability columns, in its order. */
export const TABLE1_CAPABILITIES: readonly Table1Capability[] = [
  "hybridHeGc",
  "offlineOnlineSplit",
  "polynomialActivations",
  "channelWise",
  "multipleDegrees",
  "mixedPrecision",
];

const caps = (...on: readonly Table1Capability[]): Record<Table1Capability, boolean> =>
  Object.fromEntries(TABLE1_CAPABILITIES.map((c) => [c, on.includes(c)])) as Record<
    Table1Capability,
    boolean
  >;

/**
 * Table 1 ("Cryptographic inference works"). The source's table is an image; these rows are
 * reconstructed from Section 2.3's text, which states each work's capabilities.
 */
export const PAPER_TABLE1: readonly Table1Work[] = [
  { work: "MiniONN", reference: "Liu et al. 2017", capabilities: caps("hybridHeGc") },
  { work: "Gazelle", reference: "Juvekar et al. 2018", capabilities: caps("hybridHeGc") },
  { work: "NASS", reference: "Bian et al. 2020", capabilities: caps("hybridHeGc") },
  { work: "CONAD", reference: "Shafran et al. 2019", capabilities: caps("hybridHeGc") },
  { work: "CryptoNAS", reference: "Ghodsi et al. 2020", capabilities: caps("hybridHeGc") },
  {
    work: "Delphi",
    reference: "Mishra et al. 2020",
    capabilities: caps("hybridHeGc", "offlineOnlineSplit", "polynomialActivations"),
  },
  {
    work: "SAFENet",
    reference: "this paper",
    capabilities: caps(...TABLE1_CAPABILITIES),
  },
];

/** A share from the paper (e.g. 0.28) as the whole percent it states (28; 100 * 0.28 is 28.000000000000004). */
export function paperPercent(share: number): number {
  return Math.round(100 * share);
}
