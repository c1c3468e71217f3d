/**
 * The searchers' randomness: a counter-based generator whose whole state is two integers, so a
 * search can save it with its checkpoint and restore it exactly. Draw k of seed s is
 * `mixSeeds(s, k)` (lib/data/random.ts's seed mixer), a pure function of (s, k): no clock, no
 * `Math.random`.
 *
 * @module
 */
import { mixSeeds } from "../data/random.ts";

/** The saved state of a {@link SearchRng}: its seed and how many 32-bit draws it has made. */
export interface RngState {
  readonly seed: number;
  readonly draws: number;
}

/** Rejection sampling of a truncated normal gives up after this many tries (see `truncatedNormal`). */
const MAX_REJECTIONS = 10_000;

/** A seeded, saveable pseudo-random generator for search decisions. Not for cryptography. */
export class SearchRng {
  #seed: number;
  #draws: number;

  /** A generator determined by `seed` (an integer, taken modulo 2^32), optionally resumed after `draws` draws. */
  constructor(seed: number, draws = 0) {
    if (!Number.isSafeInteger(draws) || draws < 0) {
      throw new Error(`SearchRng: draws must be a non-negative integer, got ${draws}`);
    }
    this.#seed = seed >>> 0;
    this.#draws = draws;
  }

  /** A generator continuing exactly where the one that produced `state` was. */
  static restore(state: RngState): SearchRng {
    return new SearchRng(state.seed, state.draws);
  }

  /** The state to save; `SearchRng.restore(rng.state)` continues the same sequence. */
  get state(): RngState {
    return { seed: this.#seed, draws: this.#draws };
  }

  /** Next uniform integer in [0, 2^32). */
  uint32(): number {
    const k = this.#draws++;
    // Two 32-bit words of the counter, so the sequence does not repeat after 2^32 draws.
    return mixSeeds(this.#seed, k >>> 0, Math.floor(k / 4294967296));
  }

  /** Next uniform float in [0, 1). */
  float(): number {
    return this.uint32() / 4294967296;
  }

  /** Next uniform integer in [0, n), n a positive integer. */
  int(n: number): number {
    if (!(Number.isInteger(n) && n > 0)) {
      throw new Error(`SearchRng.int: n must be a positive integer, got ${n}`);
    }
    return Math.floor(this.float() * n);
  }

  /** A uniformly chosen element of a non-empty list. */
  choice<T>(values: readonly T[]): T {
    if (values.length === 0) throw new Error("SearchRng.choice: empty list");
    return values[this.int(values.length)];
  }

  /** k distinct indices of 0..n-1, uniformly, in draw order (Python's random.sample; partial Fisher-Yates). */
  sampleIndices(n: number, k: number): number[] {
    if (!(Number.isInteger(k) && k >= 0 && k <= n)) {
      throw new Error(`SearchRng.sampleIndices: need 0 <= k <= n, got k = ${k}, n = ${n}`);
    }
    const pool = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < k; i++) {
      const j = i + this.int(n - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    return pool.slice(0, k);
  }

  /** A standard normal sample (Box-Muller, two uniform draws, nothing cached). */
  normal(): number {
    const u = 1 - this.float(); // in (0, 1], so the logarithm is finite
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /**
   * A sample of N(mean, sigma^2) conditioned on [low, high] (scipy's truncnorm, as HAQ samples its
   * exploration noise), by rejection. Throws if the interval holds too little of the mass to hit.
   */
  truncatedNormal(mean: number, sigma: number, low: number, high: number): number {
    if (!(sigma > 0 && low < high)) {
      throw new Error(`truncatedNormal: need sigma > 0 and low < high, got ${sigma}, [${low}, ${high}]`);
    }
    for (let i = 0; i < MAX_REJECTIONS; i++) {
      const x = mean + sigma * this.normal();
      if (x >= low && x <= high) return x;
    }
    throw new Error(
      `truncatedNormal: no sample of N(${mean}, ${sigma}^2) fell in [${low}, ${high}] in ${MAX_REJECTIONS} tries`,
    );
  }
}
