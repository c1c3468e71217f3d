/**
 * Half-gates garbling (Zahur, Rosulek, Evans 2015) with free-XOR and point-and-permute, batched
 * over many instances of one circuit.
 *
 * Labels are 128-bit blocks held as 4 little-endian int32 words; the permute ("colour") bit of
 * a label is bit 0 of word 0, and the global offset Δ has colour 1, so the two labels of a wire
 * have different colours. AND gates cost two ciphertexts (32 bytes); the garbler hashes four
 * labels per AND, the evaluator two.
 *
 * Hash: the multi-instance TCCR hash H_id(x) = π_{S⊕id}(σ(x)) ⊕ σ(x) (see `RekeyedAes` in
 * prg.ts), one AES call per hash. AND gate j of a batch hashes its first input under
 * id = idBase + 2j (the garbler half-gate) and its second under idBase + 2j + 1 (the evaluator
 * half-gate); a batch consumes `hashIdsUsed(circuit)` ids and a session must never reuse one.
 * All n instances of a gate share the gate's keys; their labels are independent, so no
 * (key, input) pair repeats.
 *
 * Batching: gates run in circuit order, each across all n instances, so every AND gate makes
 * two AES calls over 2n blocks each and AES's per-call cost is paid per gate, not per block.
 * Labels are slot-major: slot k of instances 0..n-1 is contiguous (`(k * n + i) * 4` words). The
 * hot loops are small functions so V8 optimises each one; σ is fused into them.
 *
 * @module
 */

import { type Circuit, Op } from "./circuit.ts";
import type { RekeyedAes } from "../prg.ts";

/** Number of hash ids (AES keys) one batch of `circuit` consumes, whatever its size. */
export function hashIdsUsed(circuit: Circuit): number {
  return 2 * circuit.ands;
}

function checkLabels(what: string, labels: Int32Array, bits: number, n: number): void {
  if (labels.length !== 4 * bits * n) {
    throw new RangeError(
      `${what}: expected ${bits} x ${n} labels (${4 * bits * n} words), got ${labels.length} words`,
    );
  }
}

// The kernels take subarray views (one per slot, per table run), which V8 compiles to tighter
// loops than offsets into one big array (measured: ~1.7x on the XOR loop).

function xorSlots(a: Int32Array, b: Int32Array, o: Int32Array): void {
  for (let j = 0; j < o.length; j++) o[j] = a[j] ^ b[j];
}

/**
 * Garbler, step 1 of an AND gate: ba = σ(A0) for all instances, then σ(A0 ^ Δ) = σ(A0) ^ σ(Δ);
 * bb likewise for B. `na` / `nb` (0 or -1) swap a wire's labels for a negated input.
 */
function garblerGather(
  la: Int32Array,
  lb: Int32Array,
  ba: Int32Array,
  bb: Int32Array,
  d: Int32Array,
  na: number,
  nb: number,
): void {
  const d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3];
  const s0 = d2, s1 = d3, s2 = d0 ^ d2, s3 = d1 ^ d3;
  const ma0 = d0 & na, ma1 = d1 & na, ma2 = d2 & na, ma3 = d3 & na;
  const mb0 = d0 & nb, mb1 = d1 & nb, mb2 = d2 & nb, mb3 = d3 & nb;
  const words = la.length;
  for (let x = 0, y = words; x < words; x += 4, y += 4) {
    const a0 = la[x] ^ ma0, a1 = la[x + 1] ^ ma1, a2 = la[x + 2] ^ ma2, a3 = la[x + 3] ^ ma3;
    const b0 = lb[x] ^ mb0, b1 = lb[x + 1] ^ mb1, b2 = lb[x + 2] ^ mb2, b3 = lb[x + 3] ^ mb3;
    const ga2 = a0 ^ a2, ga3 = a1 ^ a3, gb2 = b0 ^ b2, gb3 = b1 ^ b3;
    ba[x] = a2, ba[x + 1] = a3, ba[x + 2] = ga2, ba[x + 3] = ga3;
    ba[y] = a2 ^ s0, ba[y + 1] = a3 ^ s1, ba[y + 2] = ga2 ^ s2, ba[y + 3] = ga3 ^ s3;
    bb[x] = b2, bb[x + 1] = b3, bb[x + 2] = gb2, bb[x + 3] = gb3;
    bb[y] = b2 ^ s0, bb[y + 1] = b3 ^ s1, bb[y + 2] = gb2 ^ s2, bb[y + 3] = gb3 ^ s3;
  }
}

/**
 * Garbler, step 2: with H = π(σ(x)) ⊕ σ(x) from the encrypted buffers, the tables
 * TG = H(A0) ^ H(A1) ^ pb Δ and TE = H(B0) ^ H(B1) ^ A0, and the output zero-label
 * C0 = H(A0) ^ pa TG ^ (pb ? H(B1) : H(B0)).
 */
function garblerFinish(
  la: Int32Array,
  lb: Int32Array,
  lo: Int32Array,
  ba: Int32Array,
  bb: Int32Array,
  tab: Int32Array,
  d: Int32Array,
  na: number,
  nb: number,
): void {
  const d0 = d[0], d1 = d[1], d2 = d[2], d3 = d[3];
  const s0 = d2, s1 = d3, s2 = d0 ^ d2, s3 = d1 ^ d3;
  const ma0 = d0 & na, ma1 = d1 & na, ma2 = d2 & na, ma3 = d3 & na;
  const mb0 = d0 & nb, mb1 = d1 & nb, mb2 = d2 & nb, mb3 = d3 & nb;
  const words = la.length;
  for (let x = 0, y = words, t = 0; x < words; x += 4, y += 4, t += 8) {
    const a0 = la[x] ^ ma0, a1 = la[x + 1] ^ ma1, a2 = la[x + 2] ^ ma2, a3 = la[x + 3] ^ ma3;
    const b0 = lb[x] ^ mb0, b1 = lb[x + 1] ^ mb1, b2 = lb[x + 2] ^ mb2, b3 = lb[x + 3] ^ mb3;
    const pa = -(a0 & 1), pb = -(b0 & 1);
    const ga2 = a0 ^ a2, ga3 = a1 ^ a3, gb2 = b0 ^ b2, gb3 = b1 ^ b3; // σ(A0), σ(B0) words 2-3
    const ha0 = ba[x] ^ a2, ha1 = ba[x + 1] ^ a3, ha2 = ba[x + 2] ^ ga2, ha3 = ba[x + 3] ^ ga3;
    const hc0 = ba[y] ^ a2 ^ s0,
      hc1 = ba[y + 1] ^ a3 ^ s1,
      hc2 = ba[y + 2] ^ ga2 ^ s2,
      hc3 = ba[y + 3] ^ ga3 ^ s3;
    const hb0 = bb[x] ^ b2, hb1 = bb[x + 1] ^ b3, hb2 = bb[x + 2] ^ gb2, hb3 = bb[x + 3] ^ gb3;
    const hd0 = bb[y] ^ b2 ^ s0,
      hd1 = bb[y + 1] ^ b3 ^ s1,
      hd2 = bb[y + 2] ^ gb2 ^ s2,
      hd3 = bb[y + 3] ^ gb3 ^ s3;
    const tg0 = ha0 ^ hc0 ^ (d0 & pb), tg1 = ha1 ^ hc1 ^ (d1 & pb);
    const tg2 = ha2 ^ hc2 ^ (d2 & pb), tg3 = ha3 ^ hc3 ^ (d3 & pb);
    tab[t] = tg0, tab[t + 1] = tg1, tab[t + 2] = tg2, tab[t + 3] = tg3;
    tab[t + 4] = hb0 ^ hd0 ^ a0, tab[t + 5] = hb1 ^ hd1 ^ a1;
    tab[t + 6] = hb2 ^ hd2 ^ a2, tab[t + 7] = hb3 ^ hd3 ^ a3;
    lo[x] = ha0 ^ (tg0 & pa) ^ hb0 ^ ((hb0 ^ hd0) & pb);
    lo[x + 1] = ha1 ^ (tg1 & pa) ^ hb1 ^ ((hb1 ^ hd1) & pb);
    lo[x + 2] = ha2 ^ (tg2 & pa) ^ hb2 ^ ((hb2 ^ hd2) & pb);
    lo[x + 3] = ha3 ^ (tg3 & pa) ^ hb3 ^ ((hb3 ^ hd3) & pb);
  }
}

/** Evaluator, step 1: ba = σ(A), bb = σ(B) for all instances. */
function evaluatorGather(la: Int32Array, lb: Int32Array, ba: Int32Array, bb: Int32Array): void {
  for (let x = 0; x < la.length; x += 4) {
    const a2 = la[x + 2], a3 = la[x + 3], b2 = lb[x + 2], b3 = lb[x + 3];
    ba[x] = a2, ba[x + 1] = a3, ba[x + 2] = la[x] ^ a2, ba[x + 3] = la[x + 1] ^ a3;
    bb[x] = b2, bb[x + 1] = b3, bb[x + 2] = lb[x] ^ b2, bb[x + 3] = lb[x + 1] ^ b3;
  }
}

/** Evaluator, step 2: C = H(A) ^ sa TG ^ H(B) ^ sb (TE ^ A). */
function evaluatorFinish(
  la: Int32Array,
  lb: Int32Array,
  lo: Int32Array,
  ba: Int32Array,
  bb: Int32Array,
  tab: Int32Array,
): void {
  for (let x = 0, t = 0; x < la.length; x += 4, t += 8) {
    const a0 = la[x], a1 = la[x + 1], a2 = la[x + 2], a3 = la[x + 3];
    const b0 = lb[x], b1 = lb[x + 1], b2 = lb[x + 2], b3 = lb[x + 3];
    const sa = -(a0 & 1), sb = -(b0 & 1);
    lo[x] = ba[x] ^ a2 ^ (tab[t] & sa) ^ bb[x] ^ b2 ^ ((tab[t + 4] ^ a0) & sb);
    lo[x + 1] = ba[x + 1] ^ a3 ^ (tab[t + 1] & sa) ^ bb[x + 1] ^ b3 ^ ((tab[t + 5] ^ a1) & sb);
    lo[x + 2] = ba[x + 2] ^ a0 ^ a2 ^ (tab[t + 2] & sa) ^ bb[x + 2] ^ b0 ^ b2 ^ ((tab[t + 6] ^ a2) & sb);
    lo[x + 3] = ba[x + 3] ^ a1 ^ a3 ^ (tab[t + 3] & sa) ^ bb[x + 3] ^ b1 ^ b3 ^ ((tab[t + 7] ^ a3) & sb);
  }
}

/**
 * Garbles and evaluates batches of `n` instances of one circuit, reusing its buffers between
 * batches (one engine per party; not for concurrent use).
 */
export class HalfGates {
  /** The circuit. */
  readonly circuit: Circuit;
  /** Instances per batch. */
  readonly n: number;
  #aes: RekeyedAes;
  #labels: Int32Array;
  #ba: Int32Array;
  #bb: Int32Array;

  /** An engine for batches of `n` instances of `circuit`, hashing with keys from `aes`. */
  constructor(circuit: Circuit, n: number, aes: RekeyedAes) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`HalfGates: batch size must be a positive integer, got ${n}`);
    }
    this.circuit = circuit;
    this.n = n;
    this.#aes = aes;
    this.#labels = new Int32Array(circuit.slots * n * 4);
    this.#ba = new Int32Array(8 * n);
    this.#bb = new Int32Array(8 * n);
  }

  /**
   * The labels of the output wires after the last `garble` (zero-labels, for an output literal's
   * non-negated wire) or `evaluate` (the active labels): output k of instance i at
   * `(k * n + i) * 4`; all zero for constant outputs. For composing circuits and for tests.
   */
  outputLabels(): Int32Array {
    const { n } = this;
    const outs = this.circuit.outputs;
    const out = new Int32Array(outs.length * n * 4);
    outs.forEach((lit, k) => {
      if (lit >= 2) {
        const s = ((lit >> 1) - 1) * n * 4;
        out.set(this.#labels.subarray(s, s + 4 * n), k * n * 4);
      }
    });
    return out;
  }

  /** Int32 words of garbled tables per batch. */
  get tableWords(): number {
    return this.circuit.ands * this.n * 8;
  }

  /**
   * Garbles one batch. `garblerZero` / `evaluatorZero` are the inputs' zero-labels
   * (input-major: input k of instance i at `(k * n + i) * 4`), `delta` is Δ (4 words,
   * colour 1). Writes the tables (TG, TE: 8 words per AND gate per instance, gate-major) into
   * `tables` and returns the secret decoding bits: output k of instance i is
   * `colour ^ decode[k * n + i]`.
   */
  garble(
    delta: Int32Array,
    garblerZero: Int32Array,
    evaluatorZero: Int32Array,
    idBase: number,
    tables: Int32Array = new Int32Array(this.tableWords),
  ): Uint8Array {
    const { circuit, n } = this;
    if ((delta[0] & 1) !== 1) throw new RangeError("garble: Δ must have colour bit 1 (bit 0 of word 0)");
    checkLabels("garble (garbler inputs)", garblerZero, circuit.garblerInputs, n);
    checkLabels("garble (evaluator inputs)", evaluatorZero, circuit.evaluatorInputs, n);
    if (tables.length !== this.tableWords) {
      throw new RangeError(`garble: tables must hold ${this.tableWords} words`);
    }
    const L = this.#labels, ba = this.#ba, bb = this.#bb, g = circuit.gates;
    L.set(garblerZero, 0);
    L.set(evaluatorZero, circuit.garblerInputs * n * 4);
    const w = 4 * n, slot = (lit: number) => L.subarray((lit >> 1) * w, ((lit >> 1) + 1) * w);
    let and = 0;
    for (let k = 0; k < g.length; k += 4) {
      const la = slot(g[k + 1]), lb = slot(g[k + 2]), lo = L.subarray(g[k + 3] * w, (g[k + 3] + 1) * w);
      if (g[k] === Op.Xor) {
        xorSlots(la, lb, lo);
        continue;
      }
      // A negated input swaps the wire's labels: its zero-label is the stored one XOR Δ.
      const na = -(g[k + 1] & 1), nb = -(g[k + 2] & 1);
      garblerGather(la, lb, ba, bb, delta, na, nb);
      this.#aes.encryptUnder(idBase + 2 * and, ba);
      this.#aes.encryptUnder(idBase + 2 * and + 1, bb);
      garblerFinish(la, lb, lo, ba, bb, tables.subarray(and * 2 * w, (and + 1) * 2 * w), delta, na, nb);
      and++;
    }
    const outs = circuit.outputs;
    const decode = new Uint8Array(outs.length * n);
    for (let k = 0; k < outs.length; k++) {
      const lit = outs[k];
      if (lit < 2) {
        decode.fill(lit, k * n, (k + 1) * n); // constant output: the evaluator reports colour 0
        continue;
      }
      const s = ((lit >> 1) - 1) * n * 4, neg = lit & 1;
      for (let i = 0; i < n; i++) decode[k * n + i] = (L[s + 4 * i] & 1) ^ neg;
    }
    return decode;
  }

  /**
   * Evaluates one batch from one label per input wire (input-major, as in `garble`) and
   * returns the colour bits of the output labels (`colours[k * n + i]`), which decode to the
   * outputs only with the garbler's decoding bits.
   */
  evaluate(
    tables: Int32Array,
    garblerLabels: Int32Array,
    evaluatorLabels: Int32Array,
    idBase: number,
  ): Uint8Array {
    const { circuit, n } = this;
    checkLabels("evaluate (garbler inputs)", garblerLabels, circuit.garblerInputs, n);
    checkLabels("evaluate (evaluator inputs)", evaluatorLabels, circuit.evaluatorInputs, n);
    if (tables.length !== this.tableWords) {
      throw new RangeError(
        `evaluate: expected ${this.tableWords} table words for ${n} instances, got ${tables.length}`,
      );
    }
    const L = this.#labels, ba = this.#ba, bb = this.#bb, g = circuit.gates;
    L.set(garblerLabels, 0);
    L.set(evaluatorLabels, circuit.garblerInputs * n * 4);
    const w = 4 * n, slot = (lit: number) => L.subarray((lit >> 1) * w, ((lit >> 1) + 1) * w);
    const ha = ba.subarray(0, w), hb = bb.subarray(0, w);
    let and = 0;
    for (let k = 0; k < g.length; k += 4) {
      const la = slot(g[k + 1]), lb = slot(g[k + 2]), lo = L.subarray(g[k + 3] * w, (g[k + 3] + 1) * w);
      if (g[k] === Op.Xor) {
        xorSlots(la, lb, lo);
        continue;
      }
      evaluatorGather(la, lb, ha, hb);
      this.#aes.encryptUnder(idBase + 2 * and, ha);
      this.#aes.encryptUnder(idBase + 2 * and + 1, hb);
      evaluatorFinish(la, lb, lo, ha, hb, tables.subarray(and * 2 * w, (and + 1) * 2 * w));
      and++;
    }
    const outs = circuit.outputs;
    const colours = new Uint8Array(outs.length * n);
    for (let k = 0; k < outs.length; k++) {
      const lit = outs[k];
      if (lit < 2) continue;
      const s = ((lit >> 1) - 1) * n * 4;
      for (let i = 0; i < n; i++) colours[k * n + i] = L[s + 4 * i] & 1;
    }
    return colours;
  }
}
