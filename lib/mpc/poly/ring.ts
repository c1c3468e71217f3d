/**
 * The ring Z_M, M = p q q2 (123 bits), in which polynomial activations are evaluated, as residue
 * triples (CRT).
 *
 * Why primes beyond p: on p alone (41 bits) a product of fixed-point values does not fit (a
 * cubic at useful precision needs X around 2^48 to 2^56: input with 11-17 fractional bits
 * raised to the degree, times coefficients), and the client's re-masking R of X must range over
 * far more values than |X| for the server's view z = X - R to say nothing about X (protocol.ts:
 * statistical distance |X| / L for R uniform on L values). Two more 41-bit primes,
 * q = 505 * 2^32 + 1 and q2 = 507 * 2^32 + 1 (both = 1 mod 2^14 so BFV batching works for them,
 * and of the shape field.ts multiplies fastest), give L ~ 2^122.9: about 2^-74 |X| / 2^49 per
 * element.
 *
 * - `liftServerVec` / `liftClientVec`: the parties' halves of the exact lift of F_p shares to
 *   the integers (protocol.ts derives it; one product of their bits is left to an OT).
 * - `residuesOfBlocks`: OT pads (128-bit blocks, one per prime) as ring elements, within
 *   q_i / 2^128 of uniform per residue.
 * - `truncateVecToField`: for z in [0, M) given by its residues, its representative v in
 *   [pq - M, pq) (v = z - M exactly when the top mixed-radix digit of z is non-zero) and
 *   floor(v / 2^k) mod p = (v mod p - v mod 2^k) 2^-k mod p, with v mod p = z mod p and
 *   v mod 2^k from the mixed-radix digits by products mod 2^40 on 20-bit halves, so nothing
 *   wider than 2^53 is ever formed.
 *
 * @module
 */

import { Fp, P, PrimeField } from "../field.ts";

/** The second CRT prime: 2168958484481 = 505 * 2^32 + 1 (41 bits, above p). */
export const Q = 2168958484481;
/** F_q. */
export const Fq: PrimeField = new PrimeField(Q);
/** The third CRT prime: 2177548419073 = 507 * 2^32 + 1 (41 bits, above q). */
export const Q2 = 2177548419073;
/** F_q2. */
export const Fq2: PrimeField = new PrimeField(Q2);
/** The ring's primes, in residue order: p, q, q2. */
export const RING: readonly PrimeField[] = [Fp, Fq, Fq2];
/** M = p q q2. */
export const RING_MODULUS: bigint = BigInt(P) * BigInt(Q) * BigInt(Q2);

/** A vector of Z_M elements: its residues modulo p, q and q2 (one vector each, `RING` order). */
export type Residues = readonly Float64Array[];

/** Bytes of one serialised ring element (6 per prime: all three have 41 bits). */
export const RESIDUE_BYTES = RING.reduce((s, F) => s + F.bytesPerElement, 0);

/** Largest final right shift: `truncateVecToField` works modulo 2^40. */
export const MAX_TRUNCATION_BITS = 40;

const TWO20 = 2 ** 20, TWO32 = 2 ** 32, TWO40 = 2 ** 40;
/** x mod 2^40 for a safe integer x (negative too). */
const mod40 = (x: number) => x - Math.floor(x / TWO40) * TWO40;
const low40 = (x: bigint) => Number(x % (1n << 40n));
const P_LOW = low40(BigInt(P)), PQ_LOW = low40(BigInt(P) * BigInt(Q)), M_LOW = low40(RING_MODULUS);
/** p^-1 mod q and (p q)^-1 mod q2, for the mixed-radix digits. */
const P_INV_Q = Fq.inv(P % Q), PQ_INV_Q2 = Fq2.inv(Number((BigInt(P) * BigInt(Q)) % BigInt(Q2)));

/** a b mod 2^40 for a < 2^40 and a safe integer b >= 0, exact (20-bit halves). */
function mulMod40(a: number, b: number): number {
  b = mod40(b);
  const a1 = Math.floor(a / TWO20), a0 = a - a1 * TWO20;
  const b1 = Math.floor(b / TWO20), b0 = b - b1 * TWO20;
  const mid = a1 * b0 + a0 * b1; // < 2^41; a1 b1 2^40 vanishes mod 2^40
  return mod40(a0 * b0 + (mid - Math.floor(mid / TWO20) * TWO20) * TWO20);
}

/** Zero residue vectors of length n. */
export function zeroResidues(n: number): Residues {
  return RING.map(() => new Float64Array(n));
}

/** Residues of signed safe integers. */
export function residuesOf(xs: ArrayLike<number>): Residues {
  return RING.map((F) => Float64Array.from(xs, (x) => F.reduce(x)));
}

/** Residues of a signed BigInt (e.g. a large fixed-point coefficient), `RING` order. */
export function residueOfBig(x: bigint): number[] {
  return RING.map(({ p }) => Number(((x % BigInt(p)) + BigInt(p)) % BigInt(p)));
}

/**
 * Ring elements from OT pads: block c of element j (4 words at `4 (c m + j)`, c = 0, 1, 2) read
 * as a 128-bit integer modulo the c-th prime.
 */
export function residuesOfBlocks(pads: Int32Array, m: number): Residues {
  if (pads.length !== 4 * RING.length * m) {
    throw new RangeError(
      `residuesOfBlocks: ${pads.length} words is not ${RING.length} blocks for ${m} elements`,
    );
  }
  return RING.map((F, c) => {
    const out = new Float64Array(m), two32 = F.reduce(TWO32);
    for (let j = 0, w = 4 * c * m; j < m; j++, w += 4) {
      let acc = F.mulAdd(pads[w + 3] >>> 0, two32, pads[w + 2] >>> 0);
      acc = F.mulAdd(acc, two32, pads[w + 1] >>> 0);
      out[j] = F.mulAdd(acc, two32, pads[w] >>> 0);
    }
    return out;
  });
}

/**
 * The public constants of the exact lift with input shift k (protocol.ts): O / 2^k for the
 * offset O = 2^k floor(p / 2^(k+2)) the server adds to its share, and H = (p + 1) / 2.
 */
export function liftConstants(k: number): { offsetHigh: number; half: number } {
  return { offsetHigh: Math.floor(Fp.p / 2 ** (k + 2)), half: (Fp.p + 1) / 2 };
}

/**
 * Server's half of the lift of its F_p shares s: floor(s' / 2^k) into `high` (below p, so
 * reduced for every prime) and a = [s' >= H] into `a`, for s' = s + O mod p.
 */
export function liftServerVec(s: Float64Array, k: number, high: Float64Array, a: Uint8Array): void {
  const { offsetHigh, half } = liftConstants(k);
  const p = Fp.p, offset = offsetHigh * 2 ** k, scale = 2 ** -k;
  for (let i = 0; i < s.length; i++) {
    let shifted = s[i] + offset;
    if (shifted >= p) shifted -= p;
    a[i] = shifted >= half ? 1 : 0;
    high[i] = Math.floor(shifted * scale);
  }
}

/**
 * Client's half of the lift of its F_p shares c: floor(c / 2^k) - b D_c into `own` and
 * v = (1 - b) D_c into `v` (integers, |own| < 2^41), with b = [c >= H] and
 * D_c = floor(c / 2^k) - floor((c - p) / 2^k). The lifted input is
 * high + 1 - O / 2^k + own - a v (protocol.ts).
 */
export function liftClientVec(c: Float64Array, k: number, own: Float64Array, v: Float64Array): void {
  const { half } = liftConstants(k);
  const p = Fp.p, scale = 2 ** -k;
  for (let i = 0; i < c.length; i++) {
    const ci = c[i], high = Math.floor(ci * scale), dc = high - Math.floor((ci - p) * scale);
    own[i] = ci >= half ? high - dc : high;
    v[i] = ci >= half ? 0 : dc;
  }
}

/**
 * J(k), the number of multiples of p the re-masking R = 2^k (r' + p j) + l draws j from: the
 * largest with 2^k p J <= M - p q - 2^k p, so that X - R stays in `truncateVecToField`'s window
 * for |X| < 2^k p (capped at 2^52 for the sampler; reached only for k < 31).
 */
export function remaskMultiples(k: number): number {
  const j = BigInt(Q) * BigInt(Q2 - 1) / (1n << BigInt(k)) - 1n;
  return Number(j < 1n << 52n ? j : 1n << 52n);
}

/**
 * floor(v / 2^k) mod p for the representative v in [pq - M, pq) of the z in [0, M) with
 * residues z; k in [0, MAX_TRUNCATION_BITS].
 */
export function truncateToField(z: readonly number[], k: number): number {
  const out = new Float64Array(1);
  truncateVecToField(z.map((r) => Float64Array.of(r)), k, out);
  return out[0];
}

/**
 * `truncateToField` elementwise, plus `add` (0 or 1) mod p, into `out`: one pass with the
 * k-dependent constants hoisted (the last step of the protocol's online phase).
 */
export function truncateVecToField(z: Residues, k: number, out: Float64Array, add = 0): void {
  if (!Number.isInteger(k) || k < 0 || k > MAX_TRUNCATION_BITS) {
    throw new RangeError(
      `truncateVecToField: shift must be an integer in [0, ${MAX_TRUNCATION_BITS}], got ${k}`,
    );
  }
  const [zp, zq, zq2] = z, n = out.length;
  const twoK = 2 ** k, inv2k = Fp.inv(Fp.reduce(twoK));
  for (let i = 0; i < n; i++) {
    const a = zp[i];
    // z = a + p t1 + p q t2 (mixed radix); a < p < q < q2, so a and t1 are already reduced.
    const t1 = Fq.mul(Fq.sub(zq[i], a), P_INV_Q);
    const t2 = Fq2.mul(Fq2.sub(Fq2.sub(zq2[i], a), Fq2.mul(P, t1)), PQ_INV_Q2);
    // v mod 2^40, then mod 2^k; v = z - M when t2 > 0 (z >= p q).
    const v40 = mod40(a + mulMod40(P_LOW, t1) + mulMod40(PQ_LOW, t2) - (t2 > 0 ? M_LOW : 0));
    const low = v40 - Math.floor(v40 / twoK) * twoK;
    out[i] = Fp.mulAdd(Fp.sub(a, low), inv2k, add);
  }
}

/** Serialises residues: each prime's vector in turn, `bytesPerElement` bytes per element. */
export function residuesToBytes(r: Residues): Uint8Array {
  const n = r[0].length, out = new Uint8Array(n * RESIDUE_BYTES);
  RING.forEach((F, c) =>
    F.toBytes(r[c], out.subarray(c * n * F.bytesPerElement, (c + 1) * n * F.bytesPerElement))
  );
  return out;
}

/** Inverse of `residuesToBytes` for `n` elements (checks length and ranges). */
export function residuesFromBytes(bytes: Uint8Array, n: number, what: string): Residues {
  if (bytes.length !== n * RESIDUE_BYTES) {
    throw new RangeError(`${what}: ${bytes.length} bytes is not ${n} residue triples`);
  }
  return RING.map((F, c) =>
    F.fromBytes(bytes.subarray(c * n * F.bytesPerElement, (c + 1) * n * F.bytesPerElement), n, what)
  );
}
