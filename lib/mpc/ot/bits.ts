/**
 * Bit vectors (one 0/1 per byte) packed eight to a byte, least significant bit first, for
 * messages that carry bits (choice or selection bits).
 *
 * @module
 */

/** Packs bits (0/1, one per byte) into ceil(n / 8) bytes. */
export function packBits(bits: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bits.length / 8));
  for (let j = 0; j < bits.length; j++) out[j >> 3] |= bits[j] << (j & 7);
  return out;
}

/** Inverse of `packBits` for `count` bits; throws naming `what` if the length is wrong. */
export function unpackBits(packed: Uint8Array, count: number, what: string): Uint8Array {
  if (packed.length !== Math.ceil(count / 8)) {
    throw new RangeError(`${what}: expected ${Math.ceil(count / 8)} bytes of bits, got ${packed.length}`);
  }
  const out = new Uint8Array(count);
  for (let j = 0; j < count; j++) out[j] = (packed[j >> 3] >> (j & 7)) & 1;
  return out;
}
