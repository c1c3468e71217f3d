/**
 * One activation site's ReLU neurons through the garbled-circuit protocol (lib/mpc/gc), in
 * batches of one garbling chunk each.
 *
 * Why batches of one chunk: online, the garbler starts all batches at once, so the evaluator's
 * work on one batch overlaps the garbler's label selection for the next, and every offline
 * exchange stays a short request-then-answer.
 *
 * @module
 */

import type { EvaluatorReluBatch, GarblerReluBatch, ReluEvaluator, ReluGarbler } from "../gc/protocol.ts";

/**
 * ReLUs per garbling batch, each garbled as a single chunk (so not the GC protocol's
 * `DEFAULT_CHUNK`): per-ReLU speed is flat from 256 to 4096 per chunk, and twice the default
 * halves the exchanges per site for ~4 MB of working buffers per party.
 */
export const RELU_BATCH = 2048;

/**
 * Round trips of the offline phase for `n` ReLUs: each garbling batch is a request and its
 * answer, one after another. (Online, the batches overlap: one round trip in all.)
 */
export function reluOfflineRoundTrips(n: number): number {
  return Math.ceil(n / RELU_BATCH);
}

/** The garbler's offline for `n` ReLUs with truncation by `shift` bits. */
export async function garbleRelus(g: ReluGarbler, n: number, shift: number): Promise<GarblerReluBatch[]> {
  const batches: GarblerReluBatch[] = [];
  for (let at = 0; at < n; at += RELU_BATCH) {
    const size = Math.min(RELU_BATCH, n - at);
    batches.push(await g.offline(size, { shift, chunk: size }));
  }
  return batches;
}

/** The garbler's online: z = ReLU((s + c) >> shift) - r' for its shares `s`. */
export async function garblerOnline(
  g: ReluGarbler,
  batches: GarblerReluBatch[],
  s: Float64Array,
): Promise<Float64Array> {
  let at = 0;
  const parts = batches.map((b) => {
    const part = g.online(b, s.subarray(at, at + b.n));
    at += b.n;
    return part;
  });
  const z = new Float64Array(s.length);
  at = 0;
  for (const part of await Promise.all(parts)) {
    z.set(part, at);
    at += part.length;
  }
  return z;
}

/** The evaluator's offline for its shares `c` and next masks `rNext`. */
export async function evaluatorOffline(
  e: ReluEvaluator,
  c: Float64Array,
  rNext: Float64Array,
  shift: number,
): Promise<EvaluatorReluBatch[]> {
  const batches: EvaluatorReluBatch[] = [];
  for (let at = 0; at < c.length; at += RELU_BATCH) {
    const end = Math.min(c.length, at + RELU_BATCH);
    batches.push(await e.offline(c.subarray(at, end), rNext.subarray(at, end), { shift, chunk: end - at }));
  }
  return batches;
}

/** The evaluator's online: evaluates every batch in order. */
export async function evaluatorOnline(e: ReluEvaluator, batches: EvaluatorReluBatch[]): Promise<void> {
  for (const b of batches) await e.online(b);
}
