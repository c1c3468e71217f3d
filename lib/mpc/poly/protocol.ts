/**
 * Polynomial activations on Delphi's shares, degree 3 in one online round trip, with the
 * server's per-element coefficients kept private, an exact lift of the input shares and a
 * statistically private, exact return to F_p.
 *
 * Layout (as for the garbled ReLU): before, the server holds s and the client c (known offline)
 * with s + c = y (mod p); after, the server holds z = poly(y) - r' (mod p) for the client's
 * next-layer mask r' (known offline to the client, its share).
 *
 * Algebra, in Z_M (ring.ts, M = p q q2), with x the lifted input and a = a_s + a_c a random
 * value shared between the parties: opening e = x - a gives
 *
 *   X = sum_k C_k (e + a)^k = poly_C(e) + sum_{m<d} e^m H_m,
 *   H_m = sum_{j>=1} binom(j + m, j) C_{j+m} a^j    (H_0 = poly_C(a) - C_0, H_{d-1} = d C_d a).
 *
 * Offline (HE, he/affine.ts, once per prime): the client sends Enc(a_c^i), i = 1..d; H_m is an
 * affine function of those with coefficients lambda_{m,i} built from C_k and a_s
 * (server-private), so the client receives H_m - sigma_m and the server keeps sigma_m.
 *
 * Lift, exact (y at inFracBits, k = inShift). Assumption: |y| < p/4 - 2^k, true of every valid
 * fixed-point value (pre-activations are many orders of magnitude below p/4 ~ 2^39). The
 * server adds the public O = 2^k floor(p / 2^(k+2)) to its share: s' = s + O, and
 * y' = y + O lies in [0, (p-1)/2]. With H = (p+1)/2, a = [s' >= H] (server, online) and
 * b = [c >= H] (client, offline), the wrap w = [s' + c >= p] is exactly a OR b (both: the sum
 * is >= p + 1; neither: <= p - 1; one: without a wrap y' = s' + c >= H, impossible). So
 * y' = s' + c - w p as integers, and
 *
 *   x = floor(s'/2^k) + 1 + floor(c/2^k) - w D_c - O/2^k,   D_c = floor(c/2^k) - floor((c-p)/2^k),
 *
 * is floor(y/2^k) or one more (the +1 makes up for the carry the two floors lose). In it
 * w D_c = b D_c + a v with v = (1 - b) D_c known to the client offline: the one product of
 * the two parties' data. Offline the server draws a bit rho and the parties get shares
 * t_s + t_c = rho v (mod M) from one random OT (ot/iknp.ts `randomPads`; the server receives
 * with choice rho, the client, holding pads m0, m1, sends `poly.correction` v + m0 - m1, so
 * t_s = m_rho + rho (v + m0 - m1), t_c = -m0). Online the server reveals eps = a XOR rho
 * (uniform to the client) and a v = rho v + eps (1 - 2 rho) v splits into the local shares
 * (1 - 2 eps) t_s and (1 - 2 eps) t_c + eps v.
 *
 * Online: server -> client `poly.open`: e_s = x_s - a_s (uniform) and the bits eps; the client
 * computes x_c, delta = x_c - a_c (uniform: a_c is fresh) and e = e_s + delta. Client -> server
 * `poly.masked`: delta and sum_m e^m (H_m - sigma_m) - R, R the re-masking (below). The server
 * adds poly_C(e) + sum_m e^m sigma_m (one Horner pass over D_m = C_m + sigma_m, after the
 * message: it needs delta) and holds z = X - R mod M. Bytes per element online: 18 + 1/8
 * server -> client, 36 client -> server; offline, besides HE: 16 (IKNP) + 18 (correction).
 *
 * Re-masking and return to F_p (k = outShift): R = 2^k (r' + p j) + l with l < 2^k and
 * j < J = ring.ts `remaskMultiples(k)` uniform, i.e. R uniform on [0, L), L = 2^k p J
 * (~2^122.9 at k = 40). For |X| < 2^k p (any X whose output fits F_p) X - R lies in
 * [pq - M, pq), the window ring.ts `truncateVecToField` reads z in, so the server's
 * floor(z / 2^k) + 1 mod p is floor(X / 2^k) - r' + {0, 1} exactly: no failure.
 *
 * Security (semi-honest): the client sees e_s, eps and the OT extension's messages, all uniform
 * or pseudorandom. The server sees the correction (masked by the pad it lacks: within
 * sum_i q_i / 2^128 of uniform), delta (uniform) and z = X - R, uniform on L consecutive values
 * ending at X: within |X| / L of its distribution for X = 0. `elementStatisticalDistance`
 * bounds the sum of the two per element: 2^-63.9 for activations below 2^10 at 9 fractional
 * bits; summed over an inference (lib/mpc/inference/security.ts) 2^-46.8 for the 80%-plan
 * CNN-7, 2^-46.1 for VGG-16 and 2^-46.0 for ResNet-32 with the same plan.
 *
 * Degree 0: the client sends r' offline (the output is a constant the server knows, so the mask
 * protects nothing) and the server holds round(c_0 2^out) - r'.
 *
 * `{ insecureTrustedDealer: true }` replaces the HE step by sending the client's a_c powers in
 * the clear (the server then knows a and so y): a simulation of a trusted dealer for timing the
 * online phase only. It logs a warning and is never the default.
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { Fp, type PrimeField } from "../field.ts";
import type { Prg } from "../prg.ts";
import { affineClient, affineServer } from "../he/affine.ts";
import type { AnswerKey } from "../he/answer.ts";
import type { HeKeys } from "../he/seal.ts";
import type { IknpReceiver, IknpSender } from "../ot/iknp.ts";
import { packBits, unpackBits } from "../ot/bits.ts";
import {
  binomial,
  checkCoefficients,
  coefficientInteger,
  type PolyLayout,
  type ResolvedPolyLayout,
  resolvePolyLayout,
} from "./layout.ts";
import {
  liftClientVec,
  liftConstants,
  liftServerVec,
  remaskMultiples,
  RESIDUE_BYTES,
  residueOfBig,
  type Residues,
  residuesFromBytes,
  residuesOfBlocks,
  residuesToBytes,
  RING,
  truncateVecToField,
  zeroResidues,
} from "./ring.ts";

/** Offline: the client's OT correction v + m0 - m1. */
export const CORRECTION_KIND = "poly.correction";
/** Offline, degree 0: the client's next-layer mask. */
const MASK_KIND = "poly.mask";
/** Online: the server's e_s = x_s - a_s and bits eps. */
export const OPEN_KIND = "poly.open";
/** Online: the client's delta and masked combination. */
export const MASKED_KIND = "poly.masked";
/** Offline, insecure dealer mode only: the client's a_c powers in the clear. */
const DEALER_POWERS_KIND = "poly.insecure-dealer.powers";
/** Offline, insecure dealer mode only: the masked affine maps in the clear. */
const DEALER_ANSWER_KIND = "poly.insecure-dealer.answer";

/** Protocol options. */
export interface PolyOptions {
  /**
   * INSECURE simulation: skip HE and reveal the client's correlation shares to the server.
   * For measuring the online phase only; logs a warning. Default false.
   */
  readonly insecureTrustedDealer?: boolean;
}

/** The client's BFV keys for the three moduli of Z_M. */
export interface PolyClientKeys {
  readonly p: HeKeys;
  readonly q: HeKeys;
  readonly q2: HeKeys;
}

/** The server's answer keys (the client's public keys) for the three moduli. */
export interface PolyServerHe {
  readonly p: AnswerKey;
  readonly q: AnswerKey;
  readonly q2: AnswerKey;
}

/** `RING` order of the keys of {@link PolyClientKeys} and {@link PolyServerHe}. */
const MODULI = ["p", "q", "q2"] as const;

/** What the server keeps from the offline phase. */
export interface PolyServerState {
  readonly layout: ResolvedPolyLayout;
  readonly n: number;
  /** 1 - O / 2^k - t_s - a_s: e_s = floor(s' / 2^k) + base + eps 2 t_s. */
  readonly base: Residues;
  /** 2 t_s. */
  readonly twoT: Residues;
  /** The random bits rho (one per byte). */
  readonly rho: Uint8Array;
  /** D_m = C_m + sigma_m (m < d), D_d = C_d. */
  readonly horner: Residues[];
  /** Degree 0: constant - r'. */
  readonly constantShare?: Float64Array;
}

/** What the client keeps from the offline phase. */
export interface PolyClientState {
  readonly layout: ResolvedPolyLayout;
  readonly n: number;
  /** delta = x_c - a_c is delta0 + eps delta1. */
  readonly delta0: Residues;
  readonly delta1: Residues;
  /** G_m = H_m - sigma_m for 0 < m < d, and G_0 = H_0 - sigma_0 - R (the mask folded in). */
  readonly h: Residues[];
}

function warnInsecure(options: PolyOptions): boolean {
  if (!options.insecureTrustedDealer) return false;
  console.warn(
    "poly: INSECURE trusted-dealer simulation: correlation shares are sent in the clear " +
      "(the server can learn the client's activations); use only to time the online phase",
  );
  return true;
}

/** x^i for i = 1..d, elementwise in F. */
function powers(F: PrimeField, x: Float64Array, d: number): Float64Array[] {
  const out = [x];
  for (let i = 2; i <= d; i++) out.push(F.mulVec(out[i - 2], x));
  return out;
}

/** Integer coefficients C_k as residues, [k] per element. */
function encodeCoefficients(
  l: ResolvedPolyLayout,
  coefficients: readonly ArrayLike<number>[],
  n: number,
): Residues[] {
  return coefficients.map((cs, k) => {
    const r = zeroResidues(n);
    for (let i = 0; i < n; i++) {
      const big = coefficientInteger(l, k, cs[i]);
      const small = big > -(2n ** 52n) && big < 2n ** 52n;
      const big3 = small ? null : residueOfBig(big);
      RING.forEach((F, c) => r[c][i] = big3 ? big3[c] : F.reduce(Number(big)));
    }
    return r;
  });
}

/**
 * lambda[m][i] (m < d, i = 0..d) in field F from C (per power) and a_s:
 * lambda_{m,i} = sum_{j >= max(1, i)}^{d - m} binom(j + m, j) binom(j, i) C_{j+m} a_s^(j - i),
 * null (a public zero) for i > d - m.
 */
function affineCoefficients(
  F: PrimeField,
  d: number,
  c: Float64Array[],
  a: Float64Array,
): (Float64Array | null)[][] {
  const n = a.length;
  const aPow = [new Float64Array(n).fill(1), ...powers(F, a, d)];
  const lambda: (Float64Array | null)[][] = [];
  for (let m = 0; m < d; m++) {
    const row: (Float64Array | null)[] = [];
    for (let i = 0; i <= d; i++) {
      if (i > d - m) {
        row.push(null);
        continue;
      }
      const v = new Float64Array(n);
      for (let j = Math.max(1, i); j <= d - m; j++) {
        const w = F.reduce(binomial(j + m, j) * binomial(j, i));
        const cj = c[j + m], ap = aPow[j - i];
        for (let e = 0; e < n; e++) v[e] = F.add(v[e], F.mul(F.mul(w, cj[e]), ap[e]));
      }
      row.push(v);
    }
    lambda.push(row);
  }
  return lambda;
}

/** Insecure dealer: the affine maps computed by the server on powers sent in the clear. */
async function dealerClient(ch: Channel, F: PrimeField, inputs: Float64Array[], outputs: number, n: number) {
  await ch.send(DEALER_POWERS_KIND, F.toBytes(concat(inputs)));
  const flat = F.fromBytes(await ch.recv(DEALER_ANSWER_KIND), outputs * n, DEALER_ANSWER_KIND);
  return Array.from({ length: outputs }, (_, m) => flat.slice(m * n, (m + 1) * n));
}

async function dealerServer(
  ch: Channel,
  F: PrimeField,
  lambda: (Float64Array | null)[][],
  sigma: Float64Array[],
  n: number,
) {
  const d = lambda[0].length - 1;
  const flat = F.fromBytes(await ch.recv(DEALER_POWERS_KIND), d * n, DEALER_POWERS_KIND);
  const out = lambda.map((row, m) => {
    const v = F.subVec(row[0]!, sigma[m]);
    for (let i = 1; i <= d; i++) {
      const li = row[i];
      if (!li) continue;
      for (let e = 0; e < n; e++) v[e] = F.add(v[e], F.mul(li[e], flat[(i - 1) * n + e]));
    }
    return v;
  });
  await ch.send(DEALER_ANSWER_KIND, F.toBytes(concat(out)));
}

function concat(vs: Float64Array[]): Float64Array {
  const out = new Float64Array(vs.reduce((s, v) => s + v.length, 0));
  let o = 0;
  for (const v of vs) out.set(v, o), o += v.length;
  return out;
}

/**
 * Server, offline, for n elements with per-element real coefficients `coefficients[k][i]`
 * (k = 0..degree; see layout.ts `perChannel`). `he` may be null only in insecure dealer mode;
 * `ot` is the session's OT extension with the server as receiver.
 */
export async function polyOfflineServer(
  ch: Channel,
  he: PolyServerHe | null,
  ot: IknpReceiver,
  layout: PolyLayout,
  coefficients: readonly ArrayLike<number>[],
  prg: Prg,
  options: PolyOptions = {},
): Promise<PolyServerState> {
  const l = resolvePolyLayout(layout);
  const n = coefficients[0]?.length ?? 0;
  checkCoefficients(l, coefficients, n);
  const c = encodeCoefficients(l, coefficients, n);
  const empty = { base: zeroResidues(0), twoT: zeroResidues(0), rho: new Uint8Array(0) };
  if (l.degree === 0) {
    const mask = Fp.fromBytes(await ch.recv(MASK_KIND), n, MASK_KIND);
    return { layout: l, n, ...empty, horner: [], constantShare: Fp.subVec(c[0][0], mask) };
  }
  const insecure = warnInsecure(options);
  if (!insecure && !he) {
    throw new Error("polyOfflineServer: HE answer keys are required unless insecureTrustedDealer is set");
  }
  const d = l.degree;
  const a = RING.map((F) => F.random(n, prg));
  const sigma = RING.map((F) => Array.from({ length: d }, () => F.random(n, prg)));
  for (const [i, F] of RING.entries()) {
    const lambda = affineCoefficients(F, d, c.map((r) => r[i]), a[i]);
    if (insecure) await dealerServer(ch, F, lambda, sigma[i], n);
    else await affineServer(ch, he![MODULI[i]], lambda, sigma[i], prg);
  }
  // Shares of rho v: t_s = m_rho + rho (v + m0 - m1).
  const rho = prg.bits(n);
  const pad = residuesOfBlocks(await ot.randomPads(rho, RING.length), n);
  const correction = residuesFromBytes(await ch.recv(CORRECTION_KIND), n, CORRECTION_KIND);
  const { offsetHigh } = liftConstants(l.inShift);
  const base = zeroResidues(n), twoT = zeroResidues(n);
  RING.forEach((F, i) => {
    const constant = F.reduce(1 - offsetHigh);
    for (let e = 0; e < n; e++) {
      const t = rho[e] ? F.add(pad[i][e], correction[i][e]) : pad[i][e];
      base[i][e] = F.sub(F.sub(constant, t), a[i][e]);
      twoT[i][e] = F.add(t, t);
    }
  });
  const horner = c.map((ck, m) => m < d ? ck.map((v, i) => RING[i].addVec(v, sigma[i][m])) : ck);
  return { layout: l, n, base, twoT, rho, horner };
}

/**
 * Round trips of one polynomial batch (one degree at one site), as the client counts them:
 * offline one HE exchange per prime of the ring, one after another (the OT pads and the
 * correction ride on them); online one.
 */
export const POLY_OFFLINE_ROUND_TRIPS = RING.length;
export const POLY_ONLINE_ROUND_TRIPS = 1;

/**
 * Client, offline: `c` is its F_p share of the input (inFracBits), `nextMask` its next-layer
 * mask r' (its share of the output). `keys` may be null only in insecure dealer mode; `ot` is
 * the session's OT extension with the client as sender.
 */
export async function polyOfflineClient(
  ch: Channel,
  keys: PolyClientKeys | null,
  ot: IknpSender,
  layout: PolyLayout,
  c: Float64Array,
  nextMask: Float64Array,
  prg: Prg,
  options: PolyOptions = {},
): Promise<PolyClientState> {
  const l = resolvePolyLayout(layout);
  const n = c.length;
  if (nextMask.length !== n) {
    throw new RangeError(`polyOfflineClient: mask has ${nextMask.length} elements, input ${n}`);
  }
  Fp.checkVec(c, "poly input share");
  Fp.checkVec(nextMask, "poly next-layer mask");
  if (l.degree === 0) {
    await ch.send(MASK_KIND, Fp.toBytes(nextMask));
    return { layout: l, n, delta0: zeroResidues(0), delta1: zeroResidues(0), h: [] };
  }
  const insecure = warnInsecure(options);
  if (!insecure && !keys) {
    throw new Error("polyOfflineClient: HE keys are required unless insecureTrustedDealer is set");
  }
  const d = l.degree;
  const a = RING.map((F) => F.random(n, prg));
  const byPrime: Float64Array[][] = [];
  for (const [i, F] of RING.entries()) {
    byPrime.push(
      insecure
        ? await dealerClient(ch, F, powers(F, a[i], d), d, n)
        : await affineClient(ch, keys![MODULI[i]], powers(F, a[i], d), d, prg),
    );
  }
  // The client's part of the lift: x_c = own - a v.
  const own = new Float64Array(n), v = new Float64Array(n);
  liftClientVec(c, l.inShift, own, v);
  // Shares of rho v (t_c = -m0) by the correction v + m0 - m1; then, with a v's share
  // (1 - 2 eps) t_c + eps v, delta = (own + m0 - a_c) + eps (-2 m0 - v).
  const [pads0, pads1] = await ot.randomPads(n, RING.length);
  const m0 = residuesOfBlocks(pads0, n), m1 = residuesOfBlocks(pads1, n);
  const correction = zeroResidues(n), delta0 = zeroResidues(n), delta1 = zeroResidues(n);
  RING.forEach((F, i) => {
    for (let e = 0; e < n; e++) {
      const ve = F.reduce(v[e]), m = m0[i][e];
      correction[i][e] = F.sub(F.add(ve, m), m1[i][e]);
      delta0[i][e] = F.sub(F.add(F.reduce(own[e]), m), a[i][e]);
      delta1[i][e] = F.sub(0, F.add(F.add(m, m), ve));
    }
  });
  await ch.send(CORRECTION_KIND, residuesToBytes(correction));
  const h = Array.from({ length: d }, (_, m) => byPrime.map((hm) => hm[m]));
  const r = remask(nextMask, l.outShift, prg);
  RING.forEach((F, i) => F.subVec(h[0][i], r[i], h[0][i]));
  return { layout: l, n, delta0, delta1, h };
}

/** R = 2^k (r' + p j) + l as residues, l < 2^k and j < remaskMultiples(k) uniform. */
function remask(nextMask: Float64Array, k: number, prg: Prg): Residues {
  const n = nextMask.length;
  const low = prg.fieldElements(n, 2 ** k);
  const j = prg.fieldElements(n, remaskMultiples(k));
  return RING.map((F) => {
    const twoK = F.reduce(2 ** k), pMod = F.reduce(Fp.p), out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      out[i] = F.mulAdd(twoK, F.mulAdd(pMod, F.reduce(j[i]), nextMask[i]), F.reduce(low[i]));
    }
    return out;
  });
}

/**
 * Server, online: sends e_s and eps for its input share `s` (F_p, inFracBits) and returns
 * z = poly(y) - r'.
 */
export async function polyOnlineServer(
  ch: Channel,
  state: PolyServerState,
  s: Float64Array,
): Promise<Float64Array> {
  const { layout: l, n } = state;
  if (s.length !== n) {
    throw new RangeError(`polyOnlineServer: share has ${s.length} elements, offline prepared ${n}`);
  }
  if (l.degree === 0) return state.constantShare!.slice();
  // Whole-vector passes with one field operation site each, so V8 inlines the arithmetic.
  const high = new Float64Array(n), eps = new Uint8Array(n);
  liftServerVec(s, l.inShift, high, eps);
  for (let e = 0; e < n; e++) eps[e] ^= state.rho[e];
  // e_s = floor(s'/2^k) + base + eps 2 t_s; floor(s'/2^k) < p is reduced for every prime.
  const open = RING.map((F, i) => {
    const base = state.base[i], twoT = state.twoT[i], m = F.p, out = new Float64Array(n);
    for (let e = 0; e < n; e++) {
      let u = high[e] + base[e];
      if (u >= m) u -= m;
      if (eps[e]) {
        u += twoT[e];
        if (u >= m) u -= m;
      }
      out[e] = u;
    }
    return out;
  });
  const bits = packBits(eps), message = new Uint8Array(n * RESIDUE_BYTES + bits.length);
  message.set(residuesToBytes(open));
  message.set(bits, n * RESIDUE_BYTES);
  await ch.send(OPEN_KIND, message);
  const masked = residuesFromBytes(await ch.recv(MASKED_KIND), 2 * n, MASKED_KIND);
  // z = X - R mod M: the server's Horner pass at e = e_s + delta plus the client's answer,
  // then back to F_p (into `high`, spent).
  const z = RING.map((F, i) => {
    const out = F.hornerVec(state.horner.map((r) => r[i]), open[i], open[i], masked[i].subarray(0, n));
    return F.addVec(out, masked[i].subarray(n), out);
  });
  truncateVecToField(z, l.outShift, high, 1);
  return high;
}

/** Client, online: answers the server's opening; its output share is its next-layer mask. */
export async function polyOnlineClient(ch: Channel, state: PolyClientState): Promise<void> {
  const { layout: l, n } = state;
  if (l.degree === 0) return;
  const message = await ch.recv(OPEN_KIND);
  const bitBytes = Math.ceil(n / 8);
  if (message.length !== n * RESIDUE_BYTES + bitBytes) {
    throw new RangeError(`${OPEN_KIND}: ${message.length} bytes is not ${n} residue triples and ${n} bits`);
  }
  const open = residuesFromBytes(message.subarray(0, n * RESIDUE_BYTES), n, OPEN_KIND);
  const eps = unpackBits(message.subarray(n * RESIDUE_BYTES), n, OPEN_KIND);
  // [delta | answer] per prime; the answer sum_m e^m G_m at e = e_s + delta.
  const reply = RING.map((F, i) => {
    const out = new Float64Array(2 * n), delta = out.subarray(0, n);
    const d0 = state.delta0[i], d1 = state.delta1[i], m = F.p;
    for (let e = 0; e < n; e++) {
      let u = d0[e];
      if (eps[e]) {
        u += d1[e];
        if (u >= m) u -= m;
      }
      delta[e] = u;
    }
    F.hornerVec(state.h.map((r) => r[i]), open[i], out.subarray(n), delta);
    return out;
  });
  await ch.send(MASKED_KIND, residuesToBytes(reply));
}

/**
 * Bound on the statistical distance between the server's view of one element and a view
 * independent of the client's data, for |X| <= outputBound 2^T, i.e. polynomial values (before
 * the final truncation) of magnitude at most `outputBound` in real units: |X| / L for the
 * re-masking plus the OT correction's sum_i q_i / 2^128. 0 for degree 0 (nothing is masked).
 */
export function elementStatisticalDistance(layout: PolyLayout, outputBound: number): number {
  const l = resolvePolyLayout(layout);
  if (l.degree === 0) return 0;
  const range = 2 ** l.outShift * Fp.p * remaskMultiples(l.outShift);
  return (outputBound * 2 ** l.sumBits) / range + RING.reduce((s, F) => s + F.p, 0) / 2 ** 128;
}
