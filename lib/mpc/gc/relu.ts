/**
 * The Delphi ReLU as a boolean circuit, with truncation and re-sharing built in, and its
 * plaintext reference.
 *
 * Shares: the server holds s, the client c, with s + c = y (mod p); a signed value v in
 * (-p/2, p/2) is encoded as v mod p, so y is "non-negative" iff y <= h = (p - 1) / 2. The circuit
 * computes, for the client's next-layer mask r',
 *
 *   z = ReLU(y >> shift) - r'  (mod p)        (or (y >> shift) - r' without the ReLU)
 *
 * where `>>` is the arithmetic shift of the signed value (truncation after a fixed-point
 * multiplication; rounds toward minus infinity, error in [0, 1) units of the last kept bit).
 * The server garbles and learns z; the client evaluates and learns nothing.
 *
 * Cheap formulation (AND count 214 - shift with ReLU, 170 without, for Delphi's p):
 * - The client feeds c'' = (c + h - 1) mod p instead of c, so the circuit's first modular sum
 *   (see `modAddPlusOne`) gives w = y + h mod p. Adding h moves the sign test to w >= h, and
 *   h = 15 * 2^36 has only high bits, so the test and w - h cost 4 ANDs instead of ~45.
 * - ReLU(y) >> shift = (w >= h) ? (w - h) >> shift : 0: dropping low bits is free.
 * - The client feeds q'' = (-r' - 1) mod p (identity: (-r' - (h >> shift) - 1) mod p) and the
 *   second modular sum gives z. Both c'' and q'' are known to the client offline.
 *
 * @module
 */

import { P } from "../field.ts";
import { type Circuit, CircuitBuilder } from "./circuit.ts";
import { andWord, bitLength, geConst, modAddPlusOne, subConst, type Word } from "./arith.ts";

/** What a ReLU batch computes. */
export interface ReluSpec {
  /** Field modulus (odd, < 2^52). Default: Delphi's p (`P` of field.ts, 15 * 2^37 + 1). */
  readonly modulus?: number;
  /** Arithmetic right shift (truncation) applied to the signed value. Default 0. */
  readonly shift?: number;
  /** Apply ReLU (default true); false gives truncation and re-sharing only. */
  readonly relu?: boolean;
}

/** A `ReluSpec` with defaults filled in and checked. */
export interface ResolvedReluSpec {
  readonly modulus: number;
  readonly shift: number;
  readonly relu: boolean;
  /** bitLength(modulus). */
  readonly width: number;
  /** (modulus - 1) / 2: the largest non-negative value. */
  readonly half: number;
}

/** Fills in defaults and validates a spec (throws naming the problem). */
export function resolveReluSpec(spec: ReluSpec = {}): ResolvedReluSpec {
  const modulus = spec.modulus ?? P;
  const shift = spec.shift ?? 0;
  const relu = spec.relu ?? true;
  if (!Number.isSafeInteger(modulus) || modulus < 3 || modulus % 2 === 0 || modulus >= 2 ** 52) {
    throw new RangeError(`ReLU circuit: modulus must be an odd integer in [3, 2^52), got ${modulus}`);
  }
  const width = bitLength(modulus);
  const half = (modulus - 1) / 2;
  if (!Number.isInteger(shift) || shift < 0 || shift >= width - 1) {
    throw new RangeError(`ReLU circuit: shift must be an integer in [0, ${width - 2}], got ${shift}`);
  }
  if (!relu && half % 2 ** shift !== 0) {
    throw new RangeError(
      `ReLU circuit: truncation without ReLU needs 2^shift to divide (p - 1) / 2 = ${half}; ` +
        `shift ${shift} does not (use shift <= ${trailingZeros(half)} or relu: true)`,
    );
  }
  return { modulus, shift, relu, width, half };
}

function trailingZeros(x: number): number {
  let k = 0;
  while (x > 0 && x % 2 ** (k + 1) === 0) k++;
  return k;
}

/** Input layout of the ReLU circuit, in bits of one instance. */
export interface ReluLayout {
  /** Server input: s, `width` bits. */
  readonly serverBits: number;
  /** Client input: c'' then q'', `width` bits each. */
  readonly clientBits: number;
  /** Output: z, `width` bits. */
  readonly outputBits: number;
}

/** Builds the ReLU (or truncation) circuit for `spec`; see the module doc for the algebra. */
export function reluCircuit(spec: ReluSpec = {}): Circuit {
  const { modulus: p, shift, relu, width, half } = resolveReluSpec(spec);
  const b = new CircuitBuilder();
  const s = b.garblerWord(width);
  const cpp = b.evaluatorWord(width);
  const qpp = b.evaluatorWord(width);
  const w = modAddPlusOne(b, s, cpp, p); // y + h mod p
  let a: Word;
  if (relu) {
    // w - h is < 2^bitLength(h) when w >= h; its lower bits are free.
    const positive = geConst(b, w, half);
    const d = subConst(b, w, half).slice(0, bitLength(half));
    a = andWord(b, d.slice(shift), positive);
  } else {
    a = w.slice(shift);
  }
  modAddPlusOne(b, a, qpp, p).forEach((bit) => b.output(bit));
  return b.build();
}

/** The bit counts of the circuit's inputs and output for `spec`. */
export function reluLayout(spec: ReluSpec = {}): ReluLayout {
  const { width } = resolveReluSpec(spec);
  return { serverBits: width, clientBits: 2 * width, outputBits: width };
}

function checkShares(values: Float64Array, p: number, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(v >= 0 && v < p && Number.isInteger(v))) {
      throw new RangeError(`${what}[${i}] = ${v} is not a field element (an integer in [0, ${p}))`);
    }
  }
}

/**
 * The client's circuit input bits for shares c and next-layer masks r' (both in [0, p)): the
 * bit matrix of c'' = (c + h - 1) mod p followed by that of q'' (see the module doc), in the
 * bit-major layout of `toBitMatrix` (2 * width rows of n bits).
 */
export function clientInputBits(c: Float64Array, rNext: Float64Array, spec: ReluSpec = {}): Uint8Array {
  const { modulus: p, shift, relu, half, width } = resolveReluSpec(spec);
  if (c.length !== rNext.length) {
    throw new RangeError(`ReLU client inputs: ${c.length} shares but ${rNext.length} masks`);
  }
  checkShares(c, p, "client share c");
  checkShares(rNext, p, "next-layer mask r'");
  const n = c.length;
  const cpp = new Float64Array(n), qpp = new Float64Array(n);
  const offset = relu ? 0 : half / 2 ** shift;
  for (let i = 0; i < n; i++) {
    cpp[i] = (c[i] + half - 1 + p) % p;
    qpp[i] = (2 * p - rNext[i] - offset - 1) % p;
  }
  const bits = new Uint8Array(2 * width * n);
  bits.set(toBitMatrix(cpp, width), 0);
  bits.set(toBitMatrix(qpp, width), width * n);
  return bits;
}

/** The server's circuit input bits: its shares s (in [0, p)) as a bit matrix. */
export function serverInputBits(s: Float64Array, spec: ReluSpec = {}): Uint8Array {
  const { modulus: p, width } = resolveReluSpec(spec);
  checkShares(s, p, "server share s");
  return toBitMatrix(s, width);
}

/**
 * Plaintext reference: z = ReLU(signed(s + c) >> shift) - r' mod p (or without ReLU), for
 * shares and masks in [0, p). Exact in doubles since p < 2^52.
 */
export function reluReference(
  s: Float64Array,
  c: Float64Array,
  rNext: Float64Array,
  spec: ReluSpec = {},
): Float64Array {
  const { modulus: p, shift, relu, half } = resolveReluSpec(spec);
  const out = new Float64Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const y = (s[i] + c[i]) % p;
    const signed = y <= half ? y : y - p;
    let v = Math.floor(signed / 2 ** shift);
    if (relu && v < 0) v = 0;
    out[i] = ((v - rNext[i]) % p + p) % p;
  }
  return out;
}

/** Splits field elements into a bit-major matrix: `bits[k * n + i]` = bit k of values[i]. */
export function toBitMatrix(values: Float64Array, width: number): Uint8Array {
  const n = values.length;
  const bits = new Uint8Array(width * n);
  for (let i = 0; i < n; i++) {
    const lo = values[i] >>> 0;
    const hi = Math.floor(values[i] / 4294967296);
    for (let k = 0; k < width; k++) {
      bits[k * n + i] = k < 32 ? (lo >>> k) & 1 : (hi >>> (k - 32)) & 1;
    }
  }
  return bits;
}

/** Inverse of `toBitMatrix` for `width` <= 53. */
export function fromBitMatrix(bits: Uint8Array, width: number, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let k = 0; k < width; k++) {
    const weight = 2 ** k;
    for (let i = 0; i < n; i++) if (bits[k * n + i]) out[i] += weight;
  }
  return out;
}
