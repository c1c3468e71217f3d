/**
 * The ring Z_{pq} in which polynomial activations are evaluated, as residue pairs (CRT).
 *
 * Why a second prime: on p alone (41 bits) a product of fixed-point values cannot be truncated
 * locally with a small failure rate. Local truncation of a shared X fails with probability about
 * |X| / modulus, and a cubic at useful precision needs X around 2^48 (input with 10-16
 * fractional bits cubed, times coefficients). Working modulo P = p q (82 bits) with the extra
 * prime q = 2168958484481 = 505 * 2^32 + 1 (41 bits, q = 1 mod 2^14 so BFV batching works for it
 * too, and of the shape field.ts multiplies fastest) makes that
 * 2^-34; the only remaining failure is the unavoidable one of lifting the input shares from
 * F_p to the integers, about |Y| / p for the pre-activation Y at its own (small) scale.
 *
 * - `liftServer` / `liftClient`: a sharing s + c = Y (mod p) with |Y| small satisfies, as
 *   integers, Y = s + (c - p) unless the client's c falls in a window of |Y| values; each party
 *   shifts its integer right and reduces it mod P; the sum is floor(Y / 2^shift) or one more.
 * - `truncateToField`: the server's integer z in [0, P) (from its residues) to
 *   floor((z - P) / 2^k) mod p, exactly, using p = c 2^e + 1 (Delphi's p: c = 15, e = 37), so
 *   nothing wider than 2^53 is ever formed.
 *
 * @module
 */

import { Fp, PrimeField } from "../field.ts";

/** The second CRT prime: 2168958484481 = 505 * 2^32 + 1 (41 bits, above p). */
export const Q = 2168958484481;
/** F_q. */
export const Fq: PrimeField = new PrimeField(Q);

/** A vector of Z_{pq} elements as residues mod p and mod q. */
export interface Residues {
  readonly p: Float64Array;
  readonly q: Float64Array;
}

/** p^-1 mod q, for CRT reconstruction. */
const P_INV_Q = Fq.inv(Fp.p % Q);
/** p = C_P * 2^E_P + 1 with E_P maximal. */
const E_P = (() => {
  let e = 0;
  while ((Fp.p - 1) % 2 ** (e + 1) === 0) e++;
  return e;
})();
const C_P = (Fp.p - 1) / 2 ** E_P;

/** Largest final right shift of the protocol: the client's re-masking needs 2^k <= q. */
export const MAX_TRUNCATION_BITS = Math.floor(Math.log2(Q));

/** Zero residue vectors of length n. */
export function zeroResidues(n: number): Residues {
  return { p: new Float64Array(n), q: new Float64Array(n) };
}

/** Residues of signed safe integers. */
export function residuesOf(xs: ArrayLike<number>): Residues {
  const out = zeroResidues(xs.length);
  for (let i = 0; i < xs.length; i++) {
    out.p[i] = Fp.reduce(xs[i]);
    out.q[i] = Fq.reduce(xs[i]);
  }
  return out;
}

/** Residues of a signed BigInt (e.g. a large fixed-point coefficient). */
export function residueOfBig(x: bigint): [p: number, q: number] {
  const mod = (m: number) => Number(((x % BigInt(m)) + BigInt(m)) % BigInt(m));
  return [mod(Fp.p), mod(Q)];
}

/**
 * Server's half of the lift for its F_p share s: floor(s / 2^shift), plus 1 when shift > 0
 * (the two parties' floors lose one unit about half the time; the +1 centres the sum on
 * {floor(Y / 2^shift), floor(Y / 2^shift) + 1}). Below p < q, so reduced in both fields.
 */
export function liftServer(s: number, shift: number): number {
  return Math.floor(s / 2 ** shift) + (shift > 0 ? 1 : 0);
}

/** Client's half of the lift for its F_p share c: the (negative) integer floor((c - p) / 2^shift). */
export function liftClient(c: number, shift: number): number {
  return Math.floor((c - Fp.p) / 2 ** shift);
}

/**
 * floor((z - P) / 2^k) mod p for the integer z in [0, P) with residues (zp, zq); k in
 * [0, MAX_TRUNCATION_BITS].
 */
export function truncateToField(zp: number, zq: number, k: number): number {
  const out = new Float64Array(1);
  truncateVecToField(Float64Array.of(zp), Float64Array.of(zq), k, out);
  return out[0];
}

/**
 * `truncateToField` elementwise, plus `add` (0 or 1) mod p, into `out`: one pass with the
 * k-dependent constants hoisted (the last step of the protocol's online phase).
 */
export function truncateVecToField(
  zp: Float64Array,
  zq: Float64Array,
  k: number,
  out: Float64Array,
  add = 0,
): void {
  const p = Fp.p, n = out.length;
  const scale = 2 ** -k;
  if (k <= E_P) {
    // zp + p u = C_P 2^E_P u + (zp + u); the first part is a multiple of 2^k when k <= E_P.
    const c = Fp.reduce(C_P * 2 ** (E_P - k));
    for (let i = 0; i < n; i++) {
      const u = crtHigh(zp[i], zq[i]);
      let r = Fp.mul(c, Fp.reduce(u)) + Fp.reduce(Math.floor((zp[i] + u) * scale)) + add;
      if (r >= p) r -= p;
      out[i] = r >= p ? r - p : r;
    }
    return;
  }
  const scaleE = 2 ** -E_P, scaleRest = 2 ** (E_P - k);
  for (let i = 0; i < n; i++) {
    const zpi = zp[i], u = crtHigh(zpi, zq[i]);
    const a = C_P * u + Math.floor((zpi + u) * scaleE); // |a| < 2^46: exact
    const r = Fp.reduce(Math.floor(a * scaleRest)) + add;
    out[i] = r >= p ? r - p : r;
  }
}

/** CRT: z = zp + p t with t = (zq - zp) p^-1 mod q; returns u = t - q in [-q, 0), z - P = zp + p u. */
function crtHigh(zp: number, zq: number): number {
  let d = zq - zp;
  if (d < 0) d += Q;
  return Fq.mul(d, P_INV_Q) - Q;
}

/** Serialises residues: the p part then the q part, `bytesPerElement` bytes each. */
export function residuesToBytes(r: Residues): Uint8Array {
  const half = r.p.length * Fp.bytesPerElement;
  const out = new Uint8Array(half + r.q.length * Fq.bytesPerElement);
  Fp.toBytes(r.p, out.subarray(0, half));
  Fq.toBytes(r.q, out.subarray(half));
  return out;
}

/** Inverse of `residuesToBytes` for `n` elements (checks length and ranges). */
export function residuesFromBytes(bytes: Uint8Array, n: number, what: string): Residues {
  const half = n * Fp.bytesPerElement;
  if (bytes.length !== half + n * Fq.bytesPerElement) {
    throw new RangeError(`${what}: ${bytes.length} bytes is not ${n} residue pairs`);
  }
  return {
    p: Fp.fromBytes(bytes.subarray(0, half), n, what),
    q: Fq.fromBytes(bytes.subarray(half), n, what),
  };
}
