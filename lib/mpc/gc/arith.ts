/**
 * Word-level circuit arithmetic on little-endian bit vectors of literals: ripple-carry adders
 * (one AND per bit), comparisons against constants (constant folding makes runs of equal bits
 * free) and addition modulo an odd p < 2^52.
 *
 * @module
 */

import { type CircuitBuilder, FALSE, type Lit, TRUE } from "./circuit.ts";

/** A word: bits least significant first. */
export type Word = Lit[];

/** The constant `value` (a non-negative safe integer) as a `width`-bit word. */
export function constWord(value: number, width: number): Word {
  if (!Number.isSafeInteger(value) || value < 0 || value >= 2 ** width) {
    throw new RangeError(`constWord: ${value} is not an integer in [0, 2^${width})`);
  }
  return Array.from({ length: width }, (_, i) => Math.floor(value / 2 ** i) % 2 === 1 ? TRUE : FALSE);
}

/** Number of bits of a non-negative safe integer (0 for 0). */
export function bitLength(value: number): number {
  let bits = 0;
  while (2 ** bits <= value) bits++;
  return bits;
}

/**
 * x + y + carryIn as a `width`-bit word (default: one bit wider than the longer input, so no
 * overflow). Missing high bits read as 0. Costs one AND per carry computed.
 */
export function add(b: CircuitBuilder, x: Word, y: Word, carryIn: Lit = FALSE, width?: number): Word {
  const w = width ?? Math.max(x.length, y.length) + 1;
  const out: Word = [];
  let carry = carryIn;
  for (let i = 0; i < w; i++) {
    // Full adder with one AND: sum = (x ^ c) ^ y, carry = c ^ ((x ^ c) & (y ^ c)).
    const xc = b.xor(x[i] ?? FALSE, carry), yc = b.xor(y[i] ?? FALSE, carry);
    out.push(b.xor(xc, y[i] ?? FALSE));
    if (i + 1 < w) carry = b.xor(carry, b.and(xc, yc));
  }
  return out;
}

/** x >= k for a constant k (x unsigned): the carry out of x + NOT(k) + 1. */
export function geConst(b: CircuitBuilder, x: Word, k: number): Lit {
  const w = Math.max(x.length, bitLength(k));
  const notK = constWord(k, w).map((lit) => lit ^ 1);
  return add(b, x, notK, TRUE, w + 1)[w];
}

/** x - k for a constant k <= x (x unsigned), on x's width; the caller guarantees no borrow. */
export function subConst(b: CircuitBuilder, x: Word, k: number): Word {
  const notK = constWord(k, x.length).map((lit) => lit ^ 1);
  return add(b, x, notK, TRUE, x.length);
}

/** Each bit of `x` AND `bit` (one AND per bit). */
export function andWord(b: CircuitBuilder, x: Word, bit: Lit): Word {
  return x.map((xi) => b.and(xi, bit));
}

/**
 * (x + y + 1) mod p, for x, y < p with x + y <= 2p - 2 (true for any x, y in [0, p)), as a
 * bitLength(p)-bit word.
 *
 * Why "+1": p = 2061584302081 = 15 * 2^37 + 1 is one more than a number with only high bits,
 * so with t = x + y the test t + 1 >= p is t >= 15 * 2^37, which costs a few ANDs on the top
 * bits, and the correction t + 1 - p = t + NOT(g) + g * (2^L - (p - 1)) - g * 2^L folds the
 * "-1" into the adder's carry-in. Callers pre-subtract 1 from an input they know in the clear.
 * Cost: L ANDs (sum with carry-out) + the comparison + L - 1 ANDs (correction), with L = 41
 * and this p: 41 + 4 + 40 = 85 ANDs. Correct for any odd p (cheaper when p - 1 has trailing
 * zeros).
 */
export function modAddPlusOne(b: CircuitBuilder, x: Word, y: Word, p: number): Word {
  const width = bitLength(p);
  if (x.length > width || y.length > width) {
    throw new RangeError(`modAddPlusOne: inputs wider than the ${width} bits of p`);
  }
  const t = add(b, x, y, FALSE, width + 1);
  const g = geConst(b, t, p - 1);
  const correction = constWord(2 ** width - (p - 1), width).map((lit) => lit === TRUE ? g : FALSE);
  return add(b, t.slice(0, width), correction, b.not(g), width);
}
