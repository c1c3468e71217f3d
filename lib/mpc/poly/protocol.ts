/**
 * Polynomial activations on Delphi's shares, degree 3 in one online round trip, with the
 * server's per-element coefficients kept private.
 *
 * Layout (as for the garbled ReLU): before, the server holds s and the client c (known offline)
 * with s + c = y (mod p); after, the server holds z = poly(y) - r' (mod p) for the client's
 * next-layer mask r' (known offline to the client, its share).
 *
 * Algebra, in Z_{pq} (ring.ts), with x the lifted input and a = a_s + a_c a random value
 * shared between the parties: opening e = x - a gives
 *
 *   X = sum_k C_k (e + a)^k = poly_C(e) + sum_{m<d} e^m H_m,
 *   H_m = sum_{j>=1} binom(j + m, j) C_{j+m} a^j    (H_0 = poly_C(a) - C_0, H_{d-1} = d C_d a).
 *
 * Offline (HE, he/affine.ts, once mod p and once mod q): the client sends Enc(a_c^i),
 * i = 1..d; H_m is an affine function of those with coefficients lambda_{m,i} built from
 * C_k and a_s (server-private), so the client receives H_m - sigma_m and the server keeps
 * sigma_m. The client also sends delta = x_c - a_c (uniform: a_c is fresh), where x_c is its
 * lifted input share, known offline.
 * Online: server -> client `poly.open`: e_s = x_s - a_s (uniform); both compute
 * e = e_s + delta. Client -> server `poly.masked`: sum_m e^m (H_m - sigma_m) - R, where R
 * masks X and encodes the re-masking (below). The server adds poly_C(e) + sum_m e^m sigma_m
 * (one Horner pass over D_m = C_m + sigma_m) and holds z = X - R mod pq. 12 bytes per element
 * each way; the client learns only uniform values, the server only X - R with R uniform over a
 * range of ~2^81 values (statistical distance |X| / 2^81 from independent of X).
 *
 * Truncation and return to F_p: R = 2^k (r' + p j) + rho with rho < 2^k, j < floor(q / 2^k),
 * k = T - outFracBits. Then X = z - pq + R as integers (unless X falls in a window of size
 * |X|), so floor(X / 2^k) = floor((z - pq) / 2^k) + carry + r' + p j: the server's
 * floor((z - pq) / 2^k) + 1 mod p (ring.ts `truncateToField`) is floor(X / 2^k) - r' + {0, 1}.
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
import {
  binomial,
  checkCoefficients,
  coefficientInteger,
  type PolyLayout,
  type ResolvedPolyLayout,
  resolvePolyLayout,
} from "./layout.ts";
import {
  Fq,
  liftClient,
  liftServer,
  Q,
  residueOfBig,
  type Residues,
  residuesFromBytes,
  residuesOf,
  residuesToBytes,
  truncateVecToField,
  zeroResidues,
} from "./ring.ts";

/** Offline: the client's delta = x_c - a_c. */
export const DELTA_KIND = "poly.delta";
/** Offline, degree 0: the client's next-layer mask. */
const MASK_KIND = "poly.mask";
/** Online: the server's e_s = x_s - a_s. */
const OPEN_KIND = "poly.open";
/** Online: the client's masked combination. */
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

/** The client's BFV keys for both moduli of Z_{pq}. */
export interface PolyClientKeys {
  readonly p: HeKeys;
  readonly q: HeKeys;
}

/** The server's answer keys (the client's public keys) for both moduli. */
export interface PolyServerHe {
  readonly p: AnswerKey;
  readonly q: AnswerKey;
}

/** What the server keeps from the offline phase. */
export interface PolyServerState {
  readonly layout: ResolvedPolyLayout;
  readonly n: number;
  /** a_s. */
  readonly a: Residues;
  /** delta from the client. */
  readonly delta: Residues;
  /** D_m = C_m + sigma_m (m < d), D_d = C_d. */
  readonly horner: Residues[];
  /** Degree 0: constant - r'. */
  readonly constantShare?: Float64Array;
}

/** What the client keeps from the offline phase. */
export interface PolyClientState {
  readonly layout: ResolvedPolyLayout;
  readonly n: number;
  readonly delta: Residues;
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
      if (big > -(2n ** 52n) && big < 2n ** 52n) {
        r.p[i] = Fp.reduce(Number(big));
        r.q[i] = Fq.reduce(Number(big));
      } else [r.p[i], r.q[i]] = residueOfBig(big);
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
 * (k = 0..degree; see layout.ts `perChannel`). `he` may be null only in insecure dealer mode.
 */
export async function polyOfflineServer(
  ch: Channel,
  he: PolyServerHe | null,
  layout: PolyLayout,
  coefficients: readonly ArrayLike<number>[],
  prg: Prg,
  options: PolyOptions = {},
): Promise<PolyServerState> {
  const l = resolvePolyLayout(layout);
  const n = coefficients[0]?.length ?? 0;
  checkCoefficients(l, coefficients, n);
  const c = encodeCoefficients(l, coefficients, n);
  if (l.degree === 0) {
    const mask = Fp.fromBytes(await ch.recv(MASK_KIND), n, MASK_KIND);
    return {
      layout: l,
      n,
      a: zeroResidues(0),
      delta: zeroResidues(0),
      horner: [],
      constantShare: Fp.subVec(c[0].p, mask),
    };
  }
  const insecure = warnInsecure(options);
  if (!insecure && !he) {
    throw new Error("polyOfflineServer: HE contexts are required unless insecureTrustedDealer is set");
  }
  const d = l.degree;
  const a = { p: Fp.random(n, prg), q: Fq.random(n, prg) };
  const sigma = {
    p: Array.from({ length: d }, () => Fp.random(n, prg)),
    q: Array.from({ length: d }, () => Fq.random(n, prg)),
  };
  for (const [F, key] of [[Fp, "p"], [Fq, "q"]] as const) {
    const lambda = affineCoefficients(F, d, c.map((r) => r[key]), a[key]);
    if (insecure) await dealerServer(ch, F, lambda, sigma[key], n);
    else await affineServer(ch, he![key], lambda, sigma[key], prg);
  }
  const delta = residuesFromBytes(await ch.recv(DELTA_KIND), n, DELTA_KIND);
  const horner = c.map((ck, m) =>
    m < d ? { p: Fp.addVec(ck.p, sigma.p[m]), q: Fq.addVec(ck.q, sigma.q[m]) } : ck
  );
  return { layout: l, n, a, delta, horner };
}

/**
 * Client, offline: `c` is its F_p share of the input (inFracBits), `nextMask` its next-layer
 * mask r' (its share of the output). `keys` may be null only in insecure dealer mode.
 */
export async function polyOfflineClient(
  ch: Channel,
  keys: PolyClientKeys | null,
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
    return { layout: l, n, delta: zeroResidues(0), h: [] };
  }
  const insecure = warnInsecure(options);
  if (!insecure && !keys) {
    throw new Error("polyOfflineClient: HE keys are required unless insecureTrustedDealer is set");
  }
  const d = l.degree;
  const a = { p: Fp.random(n, prg), q: Fq.random(n, prg) };
  const hp = insecure
    ? await dealerClient(ch, Fp, powers(Fp, a.p, d), d, n)
    : await affineClient(ch, keys!.p, powers(Fp, a.p, d), d, prg);
  const hq = insecure
    ? await dealerClient(ch, Fq, powers(Fq, a.q, d), d, n)
    : await affineClient(ch, keys!.q, powers(Fq, a.q, d), d, prg);
  const x = residuesOf(Array.from(c, (v) => liftClient(v, l.inShift)));
  const delta = { p: Fp.subVec(x.p, a.p), q: Fq.subVec(x.q, a.q) };
  await ch.send(DELTA_KIND, residuesToBytes(delta));
  const h = hp.map((v, m) => ({ p: v, q: hq[m] }));
  const r = remask(nextMask, l.outShift, prg);
  Fp.subVec(h[0].p, r.p, h[0].p);
  Fq.subVec(h[0].q, r.q, h[0].q);
  return { layout: l, n, delta, h };
}

/** R = 2^k (r' + p j) + rho as residues, rho < 2^k and j < floor(q / 2^k) uniform. */
function remask(nextMask: Float64Array, k: number, prg: Prg): Residues {
  const n = nextMask.length;
  const rho = prg.fieldElements(n, 2 ** k);
  const jMax = Math.floor(Q / 2 ** k);
  const j = jMax > 1 ? prg.fieldElements(n, jMax) : new Float64Array(n);
  const twoKp = Fp.reduce(2 ** k), twoKq = Fq.reduce(2 ** k), pModQ = Fp.p % Q;
  const out = zeroResidues(n);
  for (let i = 0; i < n; i++) {
    out.p[i] = Fp.add(Fp.mul(twoKp, nextMask[i]), Fp.reduce(rho[i]));
    out.q[i] = Fq.add(Fq.mul(twoKq, Fq.add(nextMask[i], Fq.mul(pModQ, j[i]))), Fq.reduce(rho[i]));
  }
  return out;
}

/**
 * The server's opening e_s = x_s - a_s (into `open`) and e = e_s + delta (into `e`) in F, for
 * its input share s lifted on the fly to x_s (below p <= F's modulus, so already reduced).
 */
function openVec(
  F: PrimeField,
  s: Float64Array,
  shift: number,
  a: Float64Array,
  delta: Float64Array,
  open: Float64Array,
  e: Float64Array,
): void {
  const m = F.p, n = s.length;
  for (let i = 0; i < n; i++) {
    let u = liftServer(s[i], shift) - a[i];
    if (u < 0) u += m;
    open[i] = u;
    u += delta[i];
    e[i] = u >= m ? u - m : u;
  }
}

/** Server, online: sends e_s for its input share `s` (F_p, inFracBits) and returns z = poly(y) - r'. */
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
  // Whole-vector passes with one field operation site each, so V8 inlines the arithmetic; the
  // few buffers are reused in place (fresh allocations cost page faults at this size).
  const open = zeroResidues(n), e = zeroResidues(n);
  openVec(Fp, s, l.inShift, state.a.p, state.delta.p, open.p, e.p);
  openVec(Fq, s, l.inShift, state.a.q, state.delta.q, open.q, e.q);
  await ch.send(OPEN_KIND, residuesToBytes(open));
  // The server's part of z needs only e: compute it while the client computes its answer.
  const zp = Fp.hornerVec(state.horner.map((r) => r.p), e.p, e.p);
  const zq = Fq.hornerVec(state.horner.map((r) => r.q), e.q, e.q);
  const masked = residuesFromBytes(await ch.recv(MASKED_KIND), n, MASKED_KIND);
  // z = X - R mod pq, then back to F_p (into the spent opening).
  Fp.addVec(zp, masked.p, zp);
  Fq.addVec(zq, masked.q, zq);
  truncateVecToField(zp, zq, l.outShift, open.p, 1);
  return open.p;
}

/** Client, online: answers the server's opening; its output share is its next-layer mask. */
export async function polyOnlineClient(ch: Channel, state: PolyClientState): Promise<void> {
  const { layout: l, n } = state;
  if (l.degree === 0) return;
  const open = residuesFromBytes(await ch.recv(OPEN_KIND), n, OPEN_KIND);
  // The answer sum_m e^m G_m = sum_m e^m (H_m - sigma_m) - R at e = e_s + delta, in place.
  const answer = (F: PrimeField, key: "p" | "q") =>
    F.hornerVec(state.h.map((r) => r[key]), open[key], open[key], state.delta[key]);
  await ch.send(MASKED_KIND, residuesToBytes({ p: answer(Fp, "p"), q: answer(Fq, "q") }));
}
