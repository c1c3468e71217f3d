/**
 * Protocol variants as tallies of unit operations: for each section of a schedule and each phase
 * (offline, online), how many of which operation the variant performs for the linear part and
 * the activation part (the paper's four time columns), and how many sequential round trips.
 * A calibration (calibration.ts) then gives each operation its seconds and bytes.
 *
 * - `gazelle`: HE linear layers online with rotation-based packing (rotation_packing.ts), the
 *   client encrypting its input and decrypting the result; ReLU by garbled circuits, garbled
 *   offline and evaluated online. ReLU only.
 * - `delphi`: the same HE with the same packing moved offline (the server adds a mask), online
 *   only a plaintext product; garbled ReLUs; whole layers may be degree-2 polynomials
 *   (Beaver-style correlations offline, one round online).
 * - `safenet`: Delphi with channel-wise mixed plans, degrees 0 (pruned, free), 2 and 3.
 * - `lab`: this project's protocol: coefficient packing without rotations (packing.ts), its
 *   garbled ReLU and polynomial protocols.
 *
 * @module
 */

import type { SectionCounts } from "./counts.ts";
import { rotationCounts } from "./rotation_packing.ts";
import { reluOfflineRoundTrips } from "../mpc/inference/relu.ts";
import { POLY_OFFLINE_ROUND_TRIPS, POLY_ONLINE_ROUND_TRIPS } from "../mpc/poly/protocol.ts";

/** The protocols the model prices. */
export const VARIANTS = ["gazelle", "delphi", "safenet", "lab"] as const;
export type Variant = typeof VARIANTS[number];

/** The unit operations a calibration prices. */
export const OPERATIONS = [
  /** Rotation packing, once per session: the client's keys, Galois (rotation) keys among them. */
  "rot.session",
  /** Rotation packing: one ciphertext encrypted by the client, sent, and one decrypted. */
  "rot.ciphertext",
  /** Rotation packing: one plaintext x ciphertext multiply. */
  "rot.multiply",
  /** Rotation packing: one rotation (key switch). */
  "rot.rotation",
  /** This project's protocol, once per session: HE keys for every prime, their public keys sent, base OTs. */
  "lab.session",
  /** This project's packing: one query ciphertext (encrypt, send, load, NTT). */
  "lab.query",
  /** One kernel plaintext encoded and transformed. */
  "lab.kernel",
  /** One plaintext x ciphertext product in NTT form. */
  "lab.product",
  /** One answer ciphertext (mask, re-randomise, flood, switch, send, decrypt). */
  "lab.answer",
  /** One online plaintext multiply-accumulate mod p. */
  "plain.mac",
  /** One element of a share sent or handled locally (input mask, pooling, adds). */
  "share.element",
  /** One garbled ReLU, offline (garbling, tables, oblivious transfer) and online (evaluation). */
  "gc.relu.offline",
  "gc.relu.online",
  /** One polynomial neuron of degree 1, 2 or 3, offline (correlations) and online. */
  "poly1.offline",
  "poly2.offline",
  "poly3.offline",
  /**
   * This project's protocol: one HE chunk (N - 1 neurons, every prime of the ring) of a degree's
   * offline correlations, on top of its per-neuron offline work (oblivious transfer, lift).
   */
  "poly1.offline.chunk",
  "poly2.offline.chunk",
  "poly3.offline.chunk",
  "poly1.online",
  "poly2.online",
  "poly3.online",
] as const;
export type Operation = typeof OPERATIONS[number];

/** Counts of operations. */
export type Tally = Partial<Record<Operation, number>>;

/** One section's work in one phase, split as the paper's columns. */
export interface PhaseWork {
  readonly linear: Tally;
  readonly activation: Tally;
  /** Sequential round trips. */
  readonly rounds: number;
}

/** One section's work in both phases. */
export interface SectionWork {
  readonly section: string;
  readonly kind: SectionCounts["kind"];
  readonly offline: PhaseWork;
  readonly online: PhaseWork;
}

const none: PhaseWork = { linear: {}, activation: {}, rounds: 0 };

/** Polynomial work; this project's protocol (`chunked`) also pays its offline HE per whole chunk. */
function polyTally(
  act: NonNullable<SectionCounts["activation"]>,
  phase: "offline" | "online",
  chunked: boolean,
): Tally {
  const t: Tally = {};
  for (const d of [1, 2, 3] as const) {
    if (!act.poly[d]) continue;
    t[`poly${d}.${phase}`] = act.poly[d];
    if (chunked && phase === "offline") t[`poly${d}.offline.chunk`] = act.polyChunks[d];
  }
  return t;
}

/** Throws unless the plan's activations are what `variant` can run. */
function checkSupported(variant: Variant, s: SectionCounts): void {
  const act = s.activation;
  if (!act) return;
  const approximated = act.neurons - act.relus;
  if (variant === "gazelle" && approximated > 0) {
    throw new Error(`gazelle runs ReLU only; site '${s.section}' has ${approximated} approximated neurons`);
  }
  if (
    variant === "delphi" && approximated > 0 && (approximated !== act.neurons || act.poly[2] !== act.neurons)
  ) {
    throw new Error(
      `delphi replaces whole layers by degree-2 polynomials; site '${s.section}' mixes functions ` +
        `(use the safenet variant for channel-wise plans)`,
    );
  }
}

/** The work of `variant` for one section. */
export function sectionWork(variant: Variant, s: SectionCounts): SectionWork {
  checkSupported(variant, s);
  const local: Tally = s.localElements ? { "share.element": s.localElements } : {};
  const base = { section: s.section, kind: s.kind };
  switch (s.kind) {
    case "input":
      // Gazelle's client encrypts its input in the first linear layer; the others send x - r.
      return variant === "gazelle" ? { ...base, offline: none, online: none } : {
        ...base,
        offline: none,
        online: { linear: { "share.element": s.elements }, activation: {}, rounds: 0.5 },
      };
    case "linear": {
      const lin = s.linear!;
      if (variant === "lab") {
        const p = lin.packing;
        return {
          ...base,
          offline: {
            linear: {
              "lab.query": p.queryCiphertexts,
              "lab.kernel": p.kernelPlaintexts,
              "lab.product": p.products,
              "lab.answer": p.answerCiphertexts,
            },
            activation: {},
            rounds: 1,
          },
          online: { linear: { "plain.mac": lin.macs, ...local }, activation: {}, rounds: 0 },
        };
      }
      const r = rotationCounts(lin);
      const he: Tally = {
        "rot.ciphertext": r.inputCiphertexts + r.outputCiphertexts,
        "rot.multiply": r.multiplies,
        "rot.rotation": r.rotations,
      };
      return variant === "gazelle"
        ? { ...base, offline: none, online: { linear: { ...he, ...local }, activation: {}, rounds: 1 } }
        : {
          ...base,
          offline: { linear: he, activation: {}, rounds: 1 },
          online: { linear: { "plain.mac": lin.macs, ...local }, activation: {}, rounds: 0 },
        };
    }
    case "activation": {
      const act = s.activation!;
      const gcOff: Tally = act.relus ? { "gc.relu.offline": act.relus } : {};
      const gcOn: Tally = act.relus ? { "gc.relu.online": act.relus } : {};
      const polyBatches = ([1, 2, 3] as const).filter((d) => act.poly[d] > 0).length;
      // The papers' protocols: one round trip for the garbled ReLUs and one for the polynomials,
      // per phase. This project's: its garbling batches one after another offline (pipelined
      // online), and each degree's polynomial batch in turn.
      const rounds = variant === "lab"
        ? {
          offline: reluOfflineRoundTrips(act.relus) + polyBatches * POLY_OFFLINE_ROUND_TRIPS,
          online: (act.relus ? 1 : 0) + polyBatches * POLY_ONLINE_ROUND_TRIPS,
        }
        : {
          offline: (act.relus ? 1 : 0) + (polyBatches ? 1 : 0),
          online: (act.relus ? 1 : 0) + (polyBatches ? 1 : 0),
        };
      return {
        ...base,
        offline: {
          linear: {},
          activation: { ...gcOff, ...polyTally(act, "offline", variant === "lab") },
          rounds: rounds.offline,
        },
        online: {
          linear: { ...local },
          activation: { ...gcOn, ...polyTally(act, "online", false) },
          rounds: rounds.online,
        },
      };
    }
  }
}
