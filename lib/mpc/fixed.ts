/**
 * Fixed-point numbers in F_p.
 *
 * A real x is encoded as round(x * 2^f) mod p (signed encoding, see field.ts). A product of two
 * encodings carries 2f fractional bits and must be truncated by f bits: exactly inside the
 * garbled circuit for ReLU channels, on shares in the polynomial protocol (lib/mpc/poly, exact
 * up to one unit), and not at all for the logits (decoded at 2f bits).
 *
 * Choice of f (default 9; Delphi uses 8): with p < 2^41 a signed value must stay below 2^40 in
 * magnitude. A linear layer's output has 2f fractional bits, so 2f = 18 leaves 22 bits for the
 * integer part and the accumulation (CNN-7 pre-activations are far below 2^10). f = 8 was
 * measured too coarse for a trained CNN-7 (same class as float on 93 of 100 test images; f = 9:
 * 100 of 100; see lib/mpc/quantize.ts). The paper's 15 bits (2f = 30) would leave 10 bits for
 * integer parts and accumulation, too few on a 41-bit field.
 */

import { Fp, type PrimeField } from "./field.ts";

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
