/**
 * Bit-matrix transposition for OT extension: 128 columns of m bits each (the IKNP matrices, as
 * the PRGs produce them) into m rows of 128 bits (one 16-byte block per OT).
 *
 * @module
 */

/** Transposes a 32x32 bit block in place: afterwards bit r of word c is the old bit c of word r. */
function transpose32(a: Int32Array): void {
  for (let j = 16, m = 0x0000ffff; j !== 0; j >>>= 1, m ^= m << j) {
    for (let k = 0; k < 32; k = (k + j + 1) & ~j) {
      const t = ((a[k] >>> j) ^ a[k + j]) & m;
      a[k + j] ^= t;
      a[k] ^= t << j;
    }
  }
}

/**
 * `cols` holds 128 columns of `words` 32-bit words each (column i at `i * words`, bit j of the
 * column at word j >> 5, bit j & 31). Returns rows: row j is 4 words at `4 * j`, with column i
 * at word i >> 5, bit i & 31. The row count is `32 * words`.
 */
export function transposeColumns(cols: Int32Array, words: number): Int32Array {
  if (cols.length !== 128 * words) {
    throw new RangeError(`transposeColumns: expected 128 x ${words} words, got ${cols.length}`);
  }
  const rows = new Int32Array(128 * words);
  const block = new Int32Array(32);
  for (let w = 0; w < words; w++) {
    for (let ib = 0; ib < 4; ib++) {
      for (let r = 0, src = 32 * ib * words + w; r < 32; r++, src += words) block[r] = cols[src];
      transpose32(block);
      for (let c = 0, dst = 4 * 32 * w + ib; c < 32; c++, dst += 4) rows[dst] = block[c];
    }
  }
  return rows;
}
