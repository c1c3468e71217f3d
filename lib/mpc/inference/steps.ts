/**
 * Pieces both parties of the inference protocol share: message kinds of the protocol's own
 * messages, the residual add on shares, and seed derivation.
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Channel, Phase } from "../channel.ts";
import { Fp } from "../field.ts";
import type { TensorScale } from "../quantize.ts";
import type { PolyDegree, PolyLayout } from "../poly/layout.ts";
import type { Op } from "../../nn/graph.ts";

/**
 * What the parties need from a connection: a `Channel` that also names sections, so time and
 * bytes are counted per layer (a `FramedChannel` from transport.ts).
 */
export type InferenceChannel = Channel & { section(label: string): void };

/** Callbacks for progress reports (e.g. a command-line program printing what it is doing). */
export interface ProgressHooks {
  /** Called as a phase begins. */
  phase?(phase: Phase): void;
}

/** Client -> server, online: the input minus the client's mask, x - r. */
export const INPUT_KIND = "inference.input";
/** Server -> client, online: the server's share of the network's output. */
export const OUTPUT_KIND = "inference.output";
/** The section that session start is counted under. */
export const SETUP_SECTION = "setup";

/** Labels of the independent random streams derived from one party's seed. */
export const DERIVE = { masks: "masks", gc: "gc", polyOt: "poly-ot" } as const;

/** The fixed-point layout of a site's degree-`degree` polynomial neurons: 2f bits in, f out. */
export function polyLayout(degree: PolyDegree, fracBits: number): PolyLayout {
  return { degree, inFracBits: 2 * fracBits, outFracBits: fracBits };
}

/** A 16-byte seed for stream `label`, derived from `seed` (so streams never overlap). */
export function deriveSeed(seed: Uint8Array, label: string): Uint8Array {
  return new Uint8Array(createHash("sha256").update(seed).update(label).digest().subarray(0, 16));
}

/**
 * A residual add on one party's shares: the input at f bits is multiplied by 2^f (a public
 * constant, so local) to match the other at 2f bits, then the shares are added.
 */
export function alignShares(
  scales: ReadonlyMap<string, TensorScale>,
  op: Op,
  shares: ReadonlyMap<string, Float64Array>,
): Float64Array {
  const bits = op.inputs.map((id) => scales.get(id)!.bits);
  const top = Math.max(...bits);
  const [a, b] = op.inputs.map((id, i) => {
    const share = shares.get(id)!;
    return bits[i] === top ? share : Fp.scaleVec(share, Fp.reduce(2 ** (top - bits[i])));
  });
  return Fp.addVec(a, b);
}
