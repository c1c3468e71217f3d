/**
 * Prime-field arithmetic on doubles: F_p with Delphi's p = 2061584302081 = 15 * 2^37 + 1
 * (41 bits), and any other prime below 2^50 of the same shape p = c 2^e + 1 with c p < 2^53
 * (the NTT-friendly primes BFV batching needs) through the same `PrimeField` class.
 *
 * Representation: an element is a JavaScript number holding an integer in [0, p); a vector is a
 * `Float64Array` of such integers. Every value below 2^53 is exact in a double, so additions
 * need one conditional correction and no BigInt is involved anywhere on the hot paths.
 *
 * Multiplication is exact by Dekker's product: a * b = h + l with h = fl(a * b) and l the
 * rounding error, computed from 27-bit halves of the operands (Veltkamp splitting). The
 * quotient q = floor(h / p) is off by at most one, and because p - 1 = c 2^e with c p < 2^53,
 * q (p - 1) is a single exact double: ((h - q (p - 1)) - q) + l is an exact small integer that
 * one correction brings into [0, p). About 6 ns per product on this machine kind against
 * ~54 ns for BigInt (a general p would need q p split as well: a third more work). `mulAdd` folds an
 * addend into the same reduction (a Horner step costs one reduction, no extra correction), and
 * `hornerVec` splits the evaluation point once per element for all steps: about half the time
 * of separate mul and add passes at degree 3.
 *
 * Signed values: x in (-p/2, p/2) is encoded as x mod p; `toSigned` maps [0, p) back to
 * (-p/2, p/2] (values above (p - 1) / 2 are negative).
 *
 * @module
 */

import type { Prg } from "./prg.ts";

/** Delphi's prime p = 15 * 2^37 + 1 (41 bits); p = 1 mod 2^14, so BFV batching with N = 8192 works. */
export const P = 2061584302081;

/** Veltkamp splitter for doubles: 2^27 + 1. */
const SPLITTER = 134217729;

/** Largest modulus supported: residues and their sums stay far below 2^53. */
const MAX_MODULUS = 2 ** 50;

/** c of p = c 2^e + 1 (c odd): the odd part of p - 1. */
function oddPartOfPredecessor(p: number): number {
  let c = p - 1;
  while (c % 2 === 0 && c > 0) c /= 2;
  return c;
}

const TWO32 = 4294967296;

/** Whether typed arrays are little-endian here (the wire format is), for the 6-byte fast path. */
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Arithmetic modulo one prime p < 2^50, on integers held in doubles. */
export class PrimeField {
  /** The modulus. */
  readonly p: number;
  /** bitLength(p). */
  readonly bits: number;
  /** Bytes per element in `toBytes` (little-endian, ceil(bits / 8)). */
  readonly bytesPerElement: number;
  /** (p - 1) / 2: the largest value `toSigned` keeps non-negative. */
  readonly half: number;
  readonly #invP: number;
  readonly #pMinus1: number;

  /**
   * The field of integers modulo `p`, an odd prime in [3, 2^50) of the form c 2^e + 1 with
   * c p < 2^53 (primality is the caller's claim).
   */
  constructor(p: number) {
    if (!Number.isSafeInteger(p) || p < 3 || p % 2 === 0 || p >= MAX_MODULUS) {
      throw new RangeError(`PrimeField: modulus must be an odd prime in [3, 2^50), got ${p}`);
    }
    const c = oddPartOfPredecessor(p);
    if (c * p >= 2 ** 53) {
      throw new RangeError(
        `PrimeField: p = ${p} = ${c} * 2^${Math.log2((p - 1) / c)} + 1 has too large an odd part ` +
          `(needs c * p < 2^53 for the exact multiply); pick a prime c * 2^e + 1 with smaller c`,
      );
    }
    this.p = p;
    this.bits = Math.ceil(Math.log2(p + 1));
    this.bytesPerElement = Math.ceil(this.bits / 8);
    this.half = (p - 1) / 2;
    this.#invP = 1 / p;
    this.#pMinus1 = p - 1;
  }

  /** x mod p for any safe integer x (|x| < 2^53), in [0, p). */
  reduce(x: number): number {
    const r = x - Math.floor(x * this.#invP) * this.p;
    // The float quotient may be off by one in either direction.
    return r < 0 ? r + this.p : r >= this.p ? r - this.p : r;
  }

  /** a + b mod p. */
  add(a: number, b: number): number {
    const s = a + b;
    return s >= this.p ? s - this.p : s;
  }

  /** a - b mod p. */
  sub(a: number, b: number): number {
    const d = a - b;
    return d < 0 ? d + this.p : d;
  }

  /** a * b mod p, exact (Dekker product, see the module comment). */
  mul(a: number, b: number): number {
    return this.mulAdd(a, b, 0);
  }

  /** a * b + c mod p for elements a, b, c, exact, with one reduction (see `#mulAddSplit`). */
  mulAdd(a: number, b: number, c: number): number {
    const t = SPLITTER * b;
    const bh = t - (t - b);
    return this.#mulAddSplit(a, b, bh, b - bh, c);
  }

  /**
   * a * b + c mod p with b already Veltkamp-split into bh + bl (so a vector kernel splits a
   * reused operand once). Exactness, for elements a, b, c < p < 2^50:
   * - h + l = a b exactly (Dekker's two-product: all four half products have <= 52 bits), and
   *   h, l are integers.
   * - The quotient q = floor(fl(h + c) / p) uses the sum, so the result usually lands in [0, p)
   *   directly: fl(h + c) and fl(. * invP) each lose a relative 2^-53, so the float quotient is
   *   within (a b + c) / p * 2^-51 < p 2^-51 < 1/2 of the true one and q is off by at most 1,
   *   i.e. r = a b + c - q p lies in [-p, 2p) and one correction suffices.
   * - q < p and p - 1 = c 2^e with c p < 2^53, so q (p - 1) = (q c) 2^e is one exact double.
   *   h - q (p - 1) = r - l - c + q is an integer below 2^52 in magnitude, hence exact, and so
   *   are the remaining sums (each below 4p + 2^29).
   */
  #mulAddSplit(a: number, b: number, bh: number, bl: number, c: number): number {
    const p = this.p;
    const h = a * b;
    const t = SPLITTER * a;
    const ah = t - (t - a), al = a - ah;
    const l = ((ah * bh - h) + ah * bl + al * bh) + al * bl;
    const q = Math.floor((h + c) * this.#invP);
    const r = (((h - q * this.#pMinus1) - q) + l) + c;
    // Rare (the float quotient is off only near an integer), so these branches predict well.
    return r < 0 ? r + p : r >= p ? r - p : r;
  }

  /** a^e mod p for an integer e >= 0. */
  pow(a: number, e: number): number {
    if (!Number.isSafeInteger(e) || e < 0) {
      throw new RangeError(`pow: exponent must be a safe integer >= 0, got ${e}`);
    }
    let result = 1 % this.p, base = a;
    while (e > 0) {
      if (e % 2 === 1) result = this.mul(result, base);
      base = this.mul(base, base);
      e = Math.floor(e / 2);
    }
    return result;
  }

  /** a^-1 mod p (Fermat); throws for a = 0. */
  inv(a: number): number {
    if (a === 0) throw new RangeError("inv: 0 has no inverse mod p");
    return this.pow(a, this.p - 2);
  }

  /** Encodes a signed integer x with |x| <= (p - 1) / 2 as x mod p. */
  fromSigned(x: number): number {
    if (!Number.isInteger(x) || Math.abs(x) > this.half) {
      throw new RangeError(`fromSigned: ${x} is not an integer in [-(p-1)/2, (p-1)/2] for p = ${this.p}`);
    }
    return x < 0 ? x + this.p : x;
  }

  /** Decodes an element to the signed integer in [-(p-1)/2, (p-1)/2]. */
  toSigned(a: number): number {
    return a > this.half ? a - this.p : a;
  }

  /** Throws unless every entry of `v` is an element. */
  checkVec(v: Float64Array, what = "vector"): void {
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (!(x >= 0 && x < this.p && Math.floor(x) === x)) {
        throw new RangeError(`${what}[${i}] = ${x} is not a field element (an integer in [0, ${this.p}))`);
      }
    }
  }

  /** a + b elementwise (into `out`, which may alias an input). */
  addVec(a: Float64Array, b: Float64Array, out: Float64Array = new Float64Array(a.length)): Float64Array {
    sameLength(a, b, out, "addVec");
    const p = this.p;
    for (let i = 0; i < a.length; i++) {
      const s = a[i] + b[i];
      out[i] = s >= p ? s - p : s;
    }
    return out;
  }

  /** a - b elementwise. */
  subVec(a: Float64Array, b: Float64Array, out: Float64Array = new Float64Array(a.length)): Float64Array {
    sameLength(a, b, out, "subVec");
    const p = this.p;
    for (let i = 0; i < a.length; i++) {
      const d = a[i] - b[i];
      out[i] = d < 0 ? d + p : d;
    }
    return out;
  }

  /** a * b elementwise. */
  mulVec(a: Float64Array, b: Float64Array, out: Float64Array = new Float64Array(a.length)): Float64Array {
    sameLength(a, b, out, "mulVec");
    for (let i = 0; i < a.length; i++) out[i] = this.mul(a[i], b[i]);
    return out;
  }

  /**
   * Horner evaluation out[i] = sum_m x[i]^m coeffs[m][i] (coefficients per element, lowest
   * first; `out` may alias any input), or at x[i] + shift[i] when `shift` is given (saves a
   * pass when the point is a sum of shares). Each point is split once for all degree - 1 steps,
   * and each step is one fused multiply-add with one reduction.
   */
  hornerVec(
    coeffs: readonly Float64Array[],
    x: Float64Array,
    out: Float64Array = new Float64Array(x.length),
    shift?: Float64Array,
  ): Float64Array {
    if (coeffs.length === 0) throw new RangeError("hornerVec: needs at least one coefficient vector");
    for (const cm of coeffs) sameLength(x, cm, out, "hornerVec");
    if (shift) sameLength(x, shift, out, "hornerVec");
    const top = coeffs.length - 1, n = x.length, p = this.p;
    for (let i = 0; i < n; i++) {
      let xi = x[i];
      if (shift) {
        xi += shift[i];
        if (xi >= p) xi -= p;
      }
      const t = SPLITTER * xi;
      const xh = t - (t - xi), xl = xi - xh;
      let acc = coeffs[top][i];
      for (let m = top - 1; m >= 0; m--) acc = this.#mulAddSplit(acc, xi, xh, xl, coeffs[m][i]);
      out[i] = acc;
    }
    return out;
  }

  /** k * a elementwise for one element k. */
  scaleVec(a: Float64Array, k: number, out: Float64Array = new Float64Array(a.length)): Float64Array {
    sameLength(a, a, out, "scaleVec");
    for (let i = 0; i < a.length; i++) out[i] = this.mul(a[i], k);
    return out;
  }

  /** Encodes signed integers (|x| <= (p - 1) / 2) as a field vector. */
  fromSignedVec(xs: ArrayLike<number>): Float64Array {
    const out = new Float64Array(xs.length);
    for (let i = 0; i < xs.length; i++) out[i] = this.fromSigned(xs[i]);
    return out;
  }

  /** Decodes a field vector to signed integers. */
  toSignedVec(a: Float64Array): Float64Array {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = a[i] > this.half ? a[i] - this.p : a[i];
    return out;
  }

  /** `n` uniform elements from `prg`. */
  random(n: number, prg: Prg): Float64Array {
    return prg.fieldElements(n, this.p);
  }

  /**
   * Little-endian `bytesPerElement` bytes per element, for messages; into `out` (exactly
   * `v.length * bytesPerElement` bytes, e.g. a slice of a larger message) when given.
   */
  toBytes(v: Float64Array, out: Uint8Array = new Uint8Array(v.length * this.bytesPerElement)): Uint8Array {
    const k = this.bytesPerElement;
    if (out.length !== v.length * k) {
      throw new RangeError(`toBytes: ${v.length} elements need ${v.length * k} bytes, got ${out.length}`);
    }
    if (k === 6 && LITTLE_ENDIAN && out.byteOffset % 2 === 0) {
      // 41- to 48-bit primes (the protocol's): three 16-bit words, no per-byte or DataView calls.
      const words = new Uint16Array(out.buffer, out.byteOffset, out.length / 2);
      for (let i = 0, o = 0; i < v.length; i++, o += 3) {
        const x = v[i], lo = x >>> 0; // x mod 2^32
        words[o] = lo;
        words[o + 1] = lo >>> 16;
        words[o + 2] = (x - lo) / TWO32;
      }
      return out;
    }
    const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
    for (let i = 0, o = 0; i < v.length; i++, o += k) {
      const x = v[i];
      const hi = Math.floor(x / TWO32), lo = x - hi * TWO32;
      if (k >= 4) {
        view.setUint32(o, lo, true);
        // k - 4 <= 3 high bytes (p < 2^50).
        if (k >= 6) view.setUint16(o + 4, hi & 0xffff, true);
        if (k === 5 || k === 7) view.setUint8(o + k - 1, hi >>> ((k - 5) * 8));
      } else {
        for (let j = 0; j < k; j++) out[o + j] = (lo >>> (8 * j)) & 0xff;
      }
    }
    return out;
  }

  /** Inverse of `toBytes`; checks the length (against `n` when given) and that entries are elements. */
  fromBytes(bytes: Uint8Array, n?: number, what = "message"): Float64Array {
    const k = this.bytesPerElement;
    if (bytes.length % k !== 0 || (n !== undefined && bytes.length !== n * k)) {
      throw new RangeError(
        `${what}: ${bytes.length} bytes is not ${n ?? "a whole number of"} field elements of ${k} bytes`,
      );
    }
    const out = new Float64Array(bytes.length / k);
    let bad = -1;
    if (k === 6 && LITTLE_ENDIAN && bytes.byteOffset % 2 === 0) {
      const words = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
      for (let i = 0, o = 0; i < out.length; i++, o += 3) {
        const x = words[o + 2] * TWO32 + words[o + 1] * 65536 + words[o];
        if (x >= this.p && bad < 0) bad = i;
        out[i] = x;
      }
    } else {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (let i = 0, o = 0; i < out.length; i++, o += k) {
        let x: number;
        if (k >= 4) {
          let hi = k >= 6 ? view.getUint16(o + 4, true) : 0;
          if (k === 5 || k === 7) hi += view.getUint8(o + k - 1) * 2 ** ((k - 5) * 8);
          x = hi * TWO32 + view.getUint32(o, true);
        } else {
          x = 0;
          for (let j = k - 1; j >= 0; j--) x = x * 256 + bytes[o + j];
        }
        if (x >= this.p && bad < 0) bad = i;
        out[i] = x;
      }
    }
    if (bad >= 0) {
      throw new RangeError(
        `${what}[${bad}] = ${out[bad]} is not a field element (an integer in [0, ${this.p}))`,
      );
    }
    return out;
  }
}

function sameLength(a: Float64Array, b: Float64Array, out: Float64Array, what: string): void {
  if (a.length !== b.length || out.length !== a.length) {
    throw new RangeError(`${what}: lengths differ (${a.length}, ${b.length}, out ${out.length})`);
  }
}

/** The protocol's field F_p with p = `P`. */
export const Fp: PrimeField = new PrimeField(P);
