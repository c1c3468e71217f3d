/**
 * IKNP oblivious-transfer extension (Ishai, Kilian, Nissim, Petrank 2003), semi-honest, on
 * AES: 128 base OTs (base.ts) once per session, then any number of OTs at 16 bytes each.
 *
 * Roles: the OT sender plays base-OT receiver with secret choice bits s (128 of them, bit 0
 * forced to 1); the OT receiver plays base-OT sender and seeds two AES-CTR streams per column.
 * To extend by m OTs with choices r, the receiver draws column i as t^i = G(k_i^0) and sends
 * u^i = t^i ⊕ G(k_i^1) ⊕ r; the sender computes q^i = G(k_i^{s_i}) ⊕ s_i u^i = t^i ⊕ s_i r.
 * Row-wise (after transposing): q_j = t_j ⊕ r_j Δ with Δ = s.
 *
 * - Correlated OT (`correlated`): the sender gets q_j and the receiver t_j = q_j ⊕ r_j Δ, a
 *   COT with global offset Δ, exactly the shape of free-XOR labels: q_j is the zero-label, t_j
 *   the label of the receiver's bit, and Δ (colour bit 1) the garbling offset. One message,
 *   receiver to sender, 16 bytes per OT; no hashing. Secure because the receiver never learns
 *   s: its other label t_j ⊕ Δ is hidden by the base OTs.
 * - Chosen-message OT (`send` / `receive`): the sender masks m0_j with H(j, q_j) and m1_j with
 *   H(j, q_j ⊕ Δ), H the fixed-key TCCR hash (prg.ts), as IKNP prescribes; 48 bytes per OT.
 * - Random OT (`randomPads`): those hashes themselves, several blocks per OT under distinct
 *   tweaks, as pads (e.g. for ring elements, poly/ring.ts); 16 bytes per OT.
 *
 * Both parties must make the same sequence of calls on one session.
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { Prg, TccrHash } from "../prg.ts";
import { baseOtReceive, baseOtSend } from "./base.ts";
import { transposeColumns } from "./transpose.ts";

/** Security parameter: base OTs and bits per extended-OT row. */
export const KAPPA = 128;

/** Message kinds of the extension. */
export const IKNP_KINDS = { u: "ot.iknp.u", y: "ot.iknp.y" } as const;

function wordsFor(m: number): number {
  if (!Number.isInteger(m) || m < 0) {
    throw new RangeError(`IKNP: OT count must be a non-negative integer, got ${m}`);
  }
  return Math.ceil(m / 32);
}

function asInt32(bytes: Uint8Array): Int32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  return new Int32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 2);
}

function int32Bytes(words: Int32Array): Uint8Array {
  return new Uint8Array(words.buffer, words.byteOffset, words.byteLength);
}

/** The sender's side of an IKNP session; holds Δ. */
export class IknpSender {
  /** Δ = s, 4 words, colour bit (bit 0 of word 0) 1. Secret. */
  readonly delta: Int32Array;
  #ch: Channel;
  #streams: Prg[];
  #hash = new TccrHash();
  #tweak = 0;

  private constructor(ch: Channel, delta: Int32Array, streams: Prg[]) {
    this.#ch = ch;
    this.delta = delta;
    this.#streams = streams;
  }

  /** Runs the 128 base OTs (as their receiver) with random s, s_0 = 1. */
  static async setup(ch: Channel, prg: Prg): Promise<IknpSender> {
    const delta = prg.int32s(4);
    delta[0] |= 1;
    const s = Uint8Array.from({ length: KAPPA }, (_, i) => (delta[i >> 5] >>> (i & 31)) & 1);
    const keys = await baseOtReceive(ch, s, prg);
    return new IknpSender(ch, delta, keys.map((k) => new Prg(k)));
  }

  /**
   * `m` correlated OTs: the zero-labels q_j (4 words each, row j at `4 * j`); the receiver
   * gets q_j ⊕ r_j Δ. Receives "ot.iknp.u".
   */
  async correlated(m: number): Promise<Int32Array> {
    const words = wordsFor(m);
    const msg = await this.#ch.recv(IKNP_KINDS.u);
    if (msg.length !== 4 * KAPPA * words) {
      throw new Error(`IKNP: expected ${4 * KAPPA * words} bytes of U for ${m} OTs, got ${msg.length}`);
    }
    const u = asInt32(msg);
    const q = new Int32Array(KAPPA * words);
    for (let i = 0; i < KAPPA; i++) {
      const col = this.#streams[i].fill(q.subarray(i * words, (i + 1) * words));
      if ((this.delta[i >> 5] >>> (i & 31)) & 1) {
        for (let w = 0, src = i * words; w < words; w++) col[w] ^= u[src + w];
      }
    }
    return transposeColumns(q, words).subarray(0, 4 * m);
  }

  /**
   * Chosen-message OT: the receiver learns m0_j or m1_j (16 bytes each, 4 words, row j at
   * `4 * j`) by its choice bit, and nothing about the other. Sends "ot.iknp.y".
   */
  async send(m0: Int32Array, m1: Int32Array): Promise<void> {
    if (m0.length !== m1.length || m0.length % 4 !== 0) {
      throw new RangeError("IKNP send: m0 and m1 must be equal-length arrays of 4-word messages");
    }
    const m = m0.length / 4;
    const pads = this.#hashPair(await this.correlated(m), this.#tweak);
    this.#tweak += m;
    for (let j = 0; j < 4 * m; j++) {
      pads[j] ^= m0[j];
      pads[4 * m + j] ^= m1[j];
    }
    await this.#ch.send(IKNP_KINDS.y, int32Bytes(pads));
  }

  /**
   * Random OT with wide pads: `m` pairs of pads of `blocks` 16-byte blocks each, H(t, q_j) and
   * H(t, q_j ⊕ Δ) under a fresh tweak t per block; the receiver's `randomPads` gets the pad of
   * its choice bit and nothing about the other. No message beyond the extension's "ot.iknp.u".
   * Returns [pads0, pads1], block c of OT j at words `4 (c m + j)`.
   */
  async randomPads(m: number, blocks: number): Promise<[Int32Array, Int32Array]> {
    const q = await this.correlated(m);
    const pads0 = new Int32Array(4 * blocks * m), pads1 = new Int32Array(4 * blocks * m);
    for (let c = 0; c < blocks; c++) {
      const pair = this.#hashPair(q, this.#tweak + c * m);
      pads0.set(pair.subarray(0, 4 * m), 4 * c * m);
      pads1.set(pair.subarray(4 * m), 4 * c * m);
    }
    this.#tweak += blocks * m;
    return [pads0, pads1];
  }

  /** [H(tweak + j, q_j) for all j, then H(tweak + j, q_j ⊕ Δ)]: the two pads of every OT. */
  #hashPair(q: Int32Array, tweak: number): Int32Array {
    const m = q.length / 4;
    const pads = new Int32Array(8 * m);
    pads.set(q, 0);
    for (let j = 0; j < 4 * m; j += 4) {
      for (let w = 0; w < 4; w++) pads[4 * m + j + w] = q[j + w] ^ this.delta[w];
    }
    this.#hash.hashInPlace(pads, m, 2, tweak);
    return pads;
  }
}

/** The receiver's side of an IKNP session. */
export class IknpReceiver {
  #ch: Channel;
  #streams0: Prg[];
  #streams1: Prg[];
  #hash = new TccrHash();
  #tweak = 0;

  private constructor(ch: Channel, streams0: Prg[], streams1: Prg[]) {
    this.#ch = ch;
    this.#streams0 = streams0;
    this.#streams1 = streams1;
  }

  /** Runs the 128 base OTs (as their sender). */
  static async setup(ch: Channel, prg: Prg): Promise<IknpReceiver> {
    const { k0, k1 } = await baseOtSend(ch, KAPPA, prg);
    return new IknpReceiver(ch, k0.map((k) => new Prg(k)), k1.map((k) => new Prg(k)));
  }

  /**
   * Correlated OTs for choice bits `choices` (one 0/1 per byte): the labels t_j = q_j ⊕ r_j Δ
   * (4 words each). Sends "ot.iknp.u".
   */
  async correlated(choices: Uint8Array): Promise<Int32Array> {
    const m = choices.length;
    const words = wordsFor(m);
    const r = new Int32Array(words);
    for (let j = 0; j < m; j++) {
      const c = choices[j];
      if (c > 1) throw new RangeError(`IKNP: choice ${j} is ${c}, not 0 or 1`);
      r[j >> 5] |= c << (j & 31);
    }
    const t = new Int32Array(KAPPA * words), u = new Int32Array(KAPPA * words);
    for (let i = 0; i < KAPPA; i++) {
      const ti = this.#streams0[i].fill(t.subarray(i * words, (i + 1) * words));
      const ui = this.#streams1[i].fill(u.subarray(i * words, (i + 1) * words));
      for (let w = 0; w < words; w++) ui[w] ^= ti[w] ^ r[w];
    }
    await this.#ch.send(IKNP_KINDS.u, int32Bytes(u));
    return transposeColumns(t, words).subarray(0, 4 * m);
  }

  /** Chosen-message OT: m_{r_j} for each choice bit (4 words each). Receives "ot.iknp.y". */
  async receive(choices: Uint8Array): Promise<Int32Array> {
    const m = choices.length;
    const t = await this.correlated(choices);
    const msg = await this.#ch.recv(IKNP_KINDS.y);
    if (msg.length !== 32 * m) {
      throw new Error(`IKNP: expected ${32 * m} bytes of masked messages, got ${msg.length}`);
    }
    const y = asInt32(msg);
    const pads = t.slice();
    this.#hash.hashInPlace(pads, m, 1, this.#tweak);
    this.#tweak += m;
    for (let j = 0; j < m; j++) {
      const off = choices[j] ? 4 * m + 4 * j : 4 * j;
      for (let w = 0; w < 4; w++) pads[4 * j + w] ^= y[off + w];
    }
    return pads;
  }

  /**
   * The receiver's side of `IknpSender.randomPads`: for each choice bit, the sender's pad of
   * that bit (`blocks` blocks, block c of OT j at words `4 (c m + j)`). Sends "ot.iknp.u".
   */
  async randomPads(choices: Uint8Array, blocks: number): Promise<Int32Array> {
    const m = choices.length;
    const t = await this.correlated(choices);
    const pads = new Int32Array(4 * blocks * m);
    for (let c = 0; c < blocks; c++) {
      const block = pads.subarray(4 * c * m, 4 * (c + 1) * m);
      block.set(t);
      this.#hash.hashInPlace(block, m, 1, this.#tweak + c * m);
    }
    this.#tweak += blocks * m;
    return pads;
  }
}
