/**
 * Fixed-point layout of a polynomial activation and its plaintext reference.
 *
 * The input y arrives with `inFracBits` fractional bits (2f after a linear layer). Inside the
 * protocol it is shifted down to g = `inputBits` bits, x = floor(Y / 2^(in - g)), and the
 * polynomial is evaluated exactly in Z_{pq} as X = sum_k C_k x^k with integer coefficients
 * C_k = round(c_k * 2^(T - k g)), so X carries T = outFracBits + 40 fractional bits (40 is the
 * largest final shift ring.ts's exact truncation supports; a larger T would also grow |X| and
 * with it the statistical distance, protocol.ts). The output is X shifted down by 40.
 *
 * Error of one element against the real polynomial at the decoded y (output units 2^-out):
 * - final truncation: result in {floor(X / 2^40), floor(X / 2^40) + 1}, so |error| < 1 unit;
 * - input truncation: x is floor(Y / 2^(in - g)) or one more, i.e. y moves by less than
 *   2^(1 - g), changing the output by at most max|poly'| * 2^(1 - g) (g = 11 for degree 3 by
 *   default, no input truncation for degrees 1 and 2 at 16 input bits);
 * - coefficient rounding: at most sum_k 0.5 |x|^k 2^-(T - k g); with the default g the top term
 *   keeps >= 15 bits (<= 2^-16 |x|^d).
 * No failures: the lift is exact for |Y| < p/4 - 2^inShift (Y is y at `inFracBits`) and the
 * return to F_p for |X| < 2^40 p (protocol.ts).
 *
 * Degree 0 (a pruned channel) outputs round(c_0 * 2^outFracBits).
 *
 * @module
 */

import { Fp } from "../field.ts";
import { MAX_TRUNCATION_BITS } from "./ring.ts";

/** Polynomial degree: 0 (constant), 1, 2 or 3. */
export type PolyDegree = 0 | 1 | 2 | 3;

/** Public fixed-point layout of one polynomial batch. */
export interface PolyLayout {
  readonly degree: PolyDegree;
  /** Fractional bits of the input shares (e.g. 16 = 2f after a linear layer). */
  readonly inFracBits: number;
  /** Fractional bits of the output (e.g. f = 8). */
  readonly outFracBits: number;
  /** Fractional bits of x inside the polynomial; default min(inFracBits, floor((T - 15) / degree)). */
  readonly inputBits?: number;
}

/** A layout with every derived quantity filled in. */
export interface ResolvedPolyLayout {
  readonly degree: PolyDegree;
  readonly inFracBits: number;
  readonly outFracBits: number;
  /** g. */
  readonly inputBits: number;
  /** T = outFracBits + outShift: fractional bits of X. */
  readonly sumBits: number;
  /** inFracBits - g. */
  readonly inShift: number;
  /** T - outFracBits. */
  readonly outShift: number;
}

/** Fills in defaults and checks a layout; throws naming the problem. */
export function resolvePolyLayout(layout: PolyLayout): ResolvedPolyLayout {
  const { degree, inFracBits, outFracBits } = layout;
  if (![0, 1, 2, 3].includes(degree)) {
    throw new RangeError(`poly: degree must be 0, 1, 2 or 3, got ${degree}`);
  }
  for (const [name, v] of [["inFracBits", inFracBits], ["outFracBits", outFracBits]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 30) {
      throw new RangeError(`poly: ${name} must be an integer in [0, 30], got ${v}`);
    }
  }
  const outShift = MAX_TRUNCATION_BITS, sumBits = outFracBits + outShift;
  const inputBits = layout.inputBits ??
    (degree === 0 ? inFracBits : Math.min(inFracBits, Math.floor((sumBits - 15) / degree)));
  if (
    !Number.isInteger(inputBits) || inputBits < 0 || inputBits > inFracBits || degree * inputBits > sumBits
  ) {
    throw new RangeError(
      `poly: inputBits must be an integer in [0, inFracBits = ${inFracBits}] with degree x inputBits <= ${sumBits}, got ${inputBits}`,
    );
  }
  return { degree, inFracBits, outFracBits, inputBits, sumBits, inShift: inFracBits - inputBits, outShift };
}

/** Binomial coefficient for the small arguments used here. */
export function binomial(n: number, k: number): number {
  let r = 1;
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i;
  return r;
}

/**
 * The integer coefficient C_k = round(c_k * 2^(T - k g)) (degree 0: round(c_0 * 2^out)), as a
 * BigInt; throws if it is not finite or does not fit the ring.
 */
export function coefficientInteger(l: ResolvedPolyLayout, k: number, c: number): bigint {
  const bits = l.degree === 0 ? l.outFracBits : l.sumBits - k * l.inputBits;
  const v = Math.round(c * 2 ** bits);
  if (!Number.isFinite(v) || Math.abs(v) >= 2 ** 80) {
    throw new RangeError(`poly: coefficient c_${k} = ${c} does not fit the fixed-point layout`);
  }
  return BigInt(v);
}

/**
 * Per-element coefficient vectors [k][i] from per-channel coefficients [channel][k] for an HWC
 * tensor of n elements (element i has channel i mod channels).
 */
export function perChannel(coefficients: readonly (readonly number[])[], n: number): Float64Array[] {
  const channels = coefficients.length;
  const terms = coefficients[0]?.length ?? 0;
  if (channels === 0 || n % channels !== 0 || coefficients.some((c) => c.length !== terms)) {
    throw new RangeError(`perChannel: ${channels} channels with equal term counts must divide ${n} elements`);
  }
  return Array.from({ length: terms }, (_, k) => {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = coefficients[i % channels][k];
    return v;
  });
}

/** Checks per-element coefficients: degree + 1 vectors of n finite numbers. */
export function checkCoefficients(
  l: ResolvedPolyLayout,
  coefficients: readonly ArrayLike<number>[],
  n: number,
): void {
  if (coefficients.length !== l.degree + 1 || coefficients.some((c) => c.length !== n)) {
    throw new RangeError(`poly: need ${l.degree + 1} coefficient vectors of ${n} elements (one per power)`);
  }
}

/**
 * Plaintext reference with the protocol's fixed-point arithmetic: y (F_p, inFracBits) to the
 * output (F_p, outFracBits), using x = floor(Y / 2^inShift) and floor(X / 2^outShift). The
 * protocol gives this or one unit more, or the same for x + 1 (when inShift > 0).
 */
export function polyReference(
  layout: PolyLayout,
  coefficients: readonly ArrayLike<number>[],
  y: Float64Array,
): Float64Array {
  const l = resolvePolyLayout(layout);
  checkCoefficients(l, coefficients, y.length);
  const out = new Float64Array(y.length);
  const p = BigInt(Fp.p), shiftOut = 1n << BigInt(l.outShift);
  for (let i = 0; i < y.length; i++) {
    if (l.degree === 0) {
      out[i] = Number(((coefficientInteger(l, 0, coefficients[0][i]) % p) + p) % p);
      continue;
    }
    const x = BigInt(Math.floor(Fp.toSigned(y[i]) / 2 ** l.inShift));
    let acc = 0n;
    for (let k = l.degree; k >= 0; k--) acc = acc * x + coefficientInteger(l, k, coefficients[k][i]);
    const fl = acc >= 0n ? acc / shiftOut : -((-acc + shiftOut - 1n) / shiftOut);
    out[i] = Number(((fl % p) + p) % p);
  }
  return out;
}
