/**
 * Small, fast, seeded randomness for data handling: a splitmix32-style generator (a Weyl
 * sequence through the murmur3 finaliser), seed mixing, and Fisher-Yates shuffles.
 *
 * Everything here is a pure function of its seeds, identical on every platform, so a training
 * run resumed at (seed, epoch, batch) sees exactly the data it would have seen.
 *
 * @module
 */

const GOLDEN = 0x9e3779b9;

/** murmur3's 32-bit finaliser: a bijection on uint32 that mixes every input bit into every output bit. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * One 32-bit seed from several integers (e.g. seed, epoch, stream, batch); different tuples give
 * unrelated seeds. Inputs are taken modulo 2^32.
 */
export function mixSeeds(...values: readonly number[]): number {
  let h = 0x243f6a88;
  for (const v of values) h = fmix32((h ^ fmix32((v >>> 0) + GOLDEN)) + GOLDEN);
  return h;
}

/** A seeded pseudo-random generator (splitmix32). Not for cryptography. */
export class Rng {
  #state: number;

  /** A generator whose whole output is determined by `seed` (an integer, taken modulo 2^32). */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next uniform integer in [0, 2^32). */
  uint32(): number {
    this.#state = (this.#state + GOLDEN) >>> 0;
    return fmix32(this.#state);
  }

  /** Next uniform float in [0, 1), 32 bits of resolution. */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Next integer in [0, n) for 1 <= n <= 2^32 (bias below n / 2^32, negligible for data sizes). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
}

/** Shuffles `array` in place (Fisher-Yates) and returns it. */
export function shuffle<T extends { length: number; [i: number]: unknown }>(array: T, rng: Rng): T {
  for (let i = array.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = array[i];
    array[i] = array[j];
    array[j] = t;
  }
  return array;
}

/** A uniformly random permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  return shuffle(p, rng);
}
