/**
 * Fixed-point numbers in F_p and truncation of shares.
 *
 * A real x is encoded as round(x * 2^f) mod p (signed encoding, see field.ts). A product of two
 * encodings carries 2f fractional bits and must be truncated by f bits.
 *
 * Choice of f (default 9; Delphi uses 8): with p < 2^41 a signed value must stay below 2^40 in
 * magnitude. A linear layer's output has 2f fractional bits, so 2f = 18 leaves 22 bits for the
 * integer part and the accumulation (CNN-7 pre-activations are far below 2^10). f = 8 was
 * measured too coarse for a trained CNN-7 (same class as float on 93 of 100 test images; f = 9:
 * 100 of 100; see lib/mpc/quantize.ts). More important on a 41-bit field is truncation of
 * *shares* (below): it fails with probability about |X| / p where X is the value being
 * truncated, in units of its last bit. At 2f = 18 and |y| <= 8 that is <= 2^-20 per element;
 * the paper's 15 bits (2f = 30) would give 2^-8, so a
 * network with polynomial channels would see many failures per image. The garbled ReLU
 * truncates exactly inside the circuit, so share truncation is only needed where no circuit
 * follows (polynomial channels, the final layer); f stays a parameter for experiments.
 *
 * Local share truncation (SecureML-style, adapted to F_p): for shares s + c = X (mod p) with X
 * small, the server outputs floor(s / 2^k) and the client -floor((p - c) / 2^k) (mod p). If the
 * integer s - (p - c) equals X (no wrap-around) the result is floor(X / 2^k) or that plus one,
 * i.e. within 1 unit of X / 2^k and unbiased when the client's share is uniform. The wrap happens
 * iff the client's share falls in a window of |X| values: probability |X| / p for a uniform
 * share, and then the result is off by about p / 2^k (a large error). `truncationFailureProbability`
 * gives that bound.
 *
 * @module
 */

import { Fp, type PrimeField } from "./field.ts";
import type { Party } from "./sharing.ts";

/** Default number of fractional bits (see the module comment for why 9 and not 15). */
export const DEFAULT_FRAC_BITS = 9;

function checkBits(bits: number, what: string, F: PrimeField): void {
  if (!Number.isInteger(bits) || bits < 0 || bits >= F.bits - 1) {
    throw new RangeError(`${what}: bit count must be an integer in [0, ${F.bits - 2}], got ${bits}`);
  }
}

/**
 * Encodes reals as round(x * 2^fracBits) mod p. Throws naming the first value that is not
 * finite or whose encoding does not fit (|x| * 2^f > (p - 1) / 2).
 */
export function encodeFixed(
  xs: ArrayLike<number>,
  fracBits = DEFAULT_FRAC_BITS,
  F: PrimeField = Fp,
): Float64Array {
  checkBits(fracBits, "encodeFixed", F);
  const scale = 2 ** fracBits;
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const v = Math.round(xs[i] * scale);
    if (!(Math.abs(v) <= F.half)) {
      throw new RangeError(
        `encodeFixed: value [${i}] = ${xs[i]} does not fit ${fracBits} fractional bits in F_p ` +
          `(|x| must be below ${F.half / scale}); lower fracBits or rescale the input`,
      );
    }
    // v + 0 turns -0 into 0.
    out[i] = v < 0 ? v + F.p : v + 0;
  }
  return out;
}

/** Decodes field elements to reals: signed value / 2^fracBits. */
export function decodeFixed(v: Float64Array, fracBits = DEFAULT_FRAC_BITS, F: PrimeField = Fp): Float64Array {
  checkBits(fracBits, "decodeFixed", F);
  const scale = 2 ** -fracBits;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = F.toSigned(v[i]) * scale;
  return out;
}

/** Plaintext reference: the signed value shifted right by `bits` (floor), re-encoded. */
export function truncate(v: Float64Array, bits: number, F: PrimeField = Fp): Float64Array {
  checkBits(bits, "truncate", F);
  const scale = 2 ** bits;
  const out = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const t = Math.floor(F.toSigned(v[i]) / scale);
    out[i] = t < 0 ? t + F.p : t;
  }
  return out;
}

/**
 * Local truncation of one party's share by `bits` (see the module comment): the server takes
 * floor(s / 2^k), the client -floor((p - c) / 2^k). Together they give floor(X / 2^k) + {0, 1}
 * except with probability about |X| / p.
 */
export function truncateShare(
  share: Float64Array,
  bits: number,
  party: Party,
  F: PrimeField = Fp,
): Float64Array {
  checkBits(bits, "truncateShare", F);
  const scale = 2 ** bits, p = F.p;
  const out = new Float64Array(share.length);
  if (party === "server") {
    for (let i = 0; i < share.length; i++) out[i] = Math.floor(share[i] / scale);
  } else {
    for (let i = 0; i < share.length; i++) {
      const t = Math.floor((p - share[i]) / scale);
      out[i] = t === 0 ? 0 : p - t;
    }
  }
  return out;
}

/**
 * Probability that local truncation of a value of magnitude |x| (in units of its last bit,
 * i.e. the signed field value) fails with a large error, for a uniform client share: |x| / p.
 */
export function truncationFailureProbability(magnitude: number, F: PrimeField = Fp): number {
  return Math.min(1, Math.abs(magnitude) / F.p);
}
