/**
 * Circuit privacy of the server's HE answers: what the client decrypts must not depend on the
 * server's weights (or polynomial coefficients) beyond the masked result it is meant to get.
 *
 * The server's answer is Enc(r) x W - U, computed from the client's own ciphertext. Without
 * care it leaks W twice: its second component is a deterministic function of the query's
 * (c1 x W, unchanged by subtracting a plaintext), and its noise is the query's noise times W,
 * which the client, holding the secret key, can read off. `privateAnswer` fixes both, as in
 * Delphi's implementation and Gentry's noise flooding:
 * 1. add a fresh encryption of zero under the client's public key (sent once per session), so
 *    the second component is a fresh RLWE sample, independent of W;
 * 2. add to the first component integer noise uniform on [-B, B] with B = 2^64 x the largest
 *    noise that W can contribute (a bound from public sizes only, `weightNoiseBound`), so the
 *    decrypted noise's distribution moves by less than 2^-65 per coefficient whatever W is;
 * 3. switch down to one prime (a deterministic function of the flooded ciphertext, so it
 *    cannot undo the above) and serialise.
 *
 * Statistical distance: per coefficient < 2^-(FLOOD_STATISTICAL_BITS + 1), per answer
 * ciphertext < N x that = 2^-52, per inference < (answer ciphertexts) x 2^-52
 * (`answerStatisticalDistanceLog2`); at most 4,096 answers keep it below 2^-40.
 *
 * Noise bound (SEAL's BFV, t = the plaintext modulus): a fresh symmetric encryption has
 * c0 + c1 s = (q / t) m + v with |v| <= 19.2 + 1/2 (SEAL clips its Gaussian at 6 sigma, plus
 * the encoding's rounding); multiplying by a plaintext w with centred coefficients |w_i| <= t / 2
 * gives noise v * w with |(v * w)_i| <= 20 N t / 2; a sum of `products` such terms plus a
 * plaintext added or subtracted (<= 1/2 rounding) stays below `weightNoiseBound`.
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import type { Prg } from "../prg.ts";
import {
  type CipherText,
  ciphertextFromWords,
  ciphertextWords,
  type Encryptor,
  type HeContext,
  type HeKeys,
  packBlobs,
  type PlainText,
  unpackBlobs,
} from "./seal.ts";

/** Message kind of the client's public keys (once per session). */
const PUBLIC_KEYS_KIND = "he.public-keys";

/** Statistical security parameter of the flooding per coefficient (see the module doc). */
export const FLOOD_STATISTICAL_BITS = 64;
/** Bound on a fresh symmetric ciphertext's noise, encoding rounding included. */
const QUERY_NOISE_BOUND = 20n;

/** The server's handle on the client's public key for one BFV context. */
export interface AnswerKey {
  readonly he: HeContext;
  /** Public-key encryptor (encryptions of zero re-randomise answers). */
  readonly encryptor: Encryptor;
  /** The all-zero plaintext. */
  readonly zero: PlainText;
  /** The data level's coefficient-modulus primes (where answers are flooded). */
  readonly moduli: readonly bigint[];
}

/** The answer key for a client's serialised public key; fails clearly on a malformed key. */
export function answerKey(he: HeContext, publicKey: Uint8Array): AnswerKey {
  const pk = he.seal.PublicKey();
  try {
    pk.loadArray(he.context, publicKey);
  } catch (e) {
    pk.delete();
    throw new Error(
      `HE: cannot load the client's public key (${publicKey.length} bytes) for t = ${he.plainModulus}: ` +
        `${e instanceof Error ? e.message : e}; both parties must use the same BFV parameters`,
    );
  }
  const encryptor = he.seal.Encryptor(he.context, pk);
  pk.delete();
  return {
    he,
    encryptor,
    zero: he.seal.PlainText({ coeffCount: he.degree }),
    moduli: Array.from(he.context.firstContextData.parms.coeffModulus),
  };
}

/** Frees an answer key's wasm memory. */
export function disposeAnswerKey(key: AnswerKey): void {
  key.encryptor.delete();
  key.zero.delete();
}

/** Client: sends the public key of each context (once per session, before any HE query). */
export async function sendPublicKeys(ch: Channel, keys: readonly HeKeys[]): Promise<void> {
  await ch.send(PUBLIC_KEYS_KIND, packBlobs(keys.map((k) => k.publicKey)));
}

/** Server: receives the client's public keys, one per context in the order the client sent. */
export async function receiveAnswerKeys(ch: Channel, contexts: readonly HeContext[]): Promise<AnswerKey[]> {
  const blobs = unpackBlobs(await ch.recv(PUBLIC_KEYS_KIND), contexts.length, PUBLIC_KEYS_KIND);
  const keys: AnswerKey[] = [];
  try {
    for (const [i, he] of contexts.entries()) keys.push(answerKey(he, blobs[i]));
  } catch (e) {
    keys.forEach(disposeAnswerKey);
    throw e;
  }
  return keys;
}

/**
 * Largest noise that the server's secret plaintexts can put into an answer that sums
 * `products` plaintext x query products (public: from shapes only) and adds one plaintext.
 */
export function weightNoiseBound(he: HeContext, products: number): bigint {
  return QUERY_NOISE_BOUND * BigInt(products) * BigInt(he.degree) * BigInt(Math.floor(he.plainModulus / 2)) +
    1n;
}

/** Half-width B of the flooding noise for such an answer. */
export function floodBound(he: HeContext, products: number): bigint {
  return weightNoiseBound(he, products) << BigInt(FLOOD_STATISTICAL_BITS);
}

/** log2 of the bound on the statistical distance, over one session, of `answers` flooded answers. */
export function answerStatisticalDistanceLog2(he: HeContext, answers: number): number {
  return Math.log2(answers) + Math.log2(he.degree) - (FLOOD_STATISTICAL_BITS + 1);
}

/**
 * Server: the answer ciphertext `acc` (data level, not NTT; computed from the client's query
 * with `products` plaintext products) re-randomised, flooded, switched to one prime and
 * serialised. `acc` is left to the caller to free.
 */
export function privateAnswer(key: AnswerKey, acc: CipherText, products: number, prg: Prg): Uint8Array {
  const flooded = floodedAnswer(key, acc, products, prg);
  try {
    key.he.evaluator.cipherModSwitchTo(flooded, key.he.context.lastParmsId, flooded);
    return flooded.saveArray(key.he.seal.ComprModeType.none);
  } finally {
    flooded.delete();
  }
}

/**
 * `acc` plus a fresh public-key encryption of zero, with flooding noise for `products`
 * products added to its first component, still at the data level (`privateAnswer`'s first two
 * steps; exported for the tests that measure the noise). The caller frees the result.
 */
export function floodedAnswer(key: AnswerKey, acc: CipherText, products: number, prg: Prg): CipherText {
  const { he } = key;
  const bound = floodBound(he, products);
  // Decryption stays correct while all noise is below Delta / 2 = q / 2t; keep a factor 4 spare.
  const q = key.moduli.reduce((a, b) => a * b, 1n);
  if (bound * 8n * BigInt(he.plainModulus) > q) {
    throw new Error(
      `HE: an answer summing ${products} products cannot be flooded to ${FLOOD_STATISTICAL_BITS} bits ` +
        `within the ${key.moduli.length}-prime modulus; split the layer into fewer channel groups`,
    );
  }
  const fresh = key.encryptor.encrypt(key.zero) as CipherText;
  try {
    he.evaluator.add(acc, fresh, fresh);
    return withFloodedNoise(key, fresh, bound, prg);
  } finally {
    fresh.delete();
  }
}

/** A copy of `ct` with integer noise uniform on [-bound, bound] added to its first component. */
function withFloodedNoise(key: AnswerKey, ct: CipherText, bound: bigint, prg: Prg): CipherText {
  const { he, moduli } = key;
  const n = he.degree;
  const words = ciphertextWords(he, ct);
  const data = words.data;
  const noise = uniformSigned(n, bound, prg);
  for (const [j, m] of moduli.entries()) {
    const base = j * n;
    for (let i = 0; i < n; i++) {
      let r = noise[i] % m;
      if (r < 0n) r += m;
      const v = data[base + i] + r;
      data[base + i] = v >= m ? v - m : v;
    }
  }
  return ciphertextFromWords(he, words);
}

/** `n` integers uniform on [-bound, bound], by rejection sampling on whole 64-bit words. */
function uniformSigned(n: number, bound: bigint, prg: Prg): bigint[] {
  const range = 2n * bound + 1n;
  const bits = range.toString(2).length;
  const limbs = Math.ceil(bits / 64);
  const mask = (1n << BigInt(bits)) - 1n;
  const out: bigint[] = [];
  while (out.length < n) {
    // Acceptance is above 1/2 per candidate.
    const want = 2 * (n - out.length) + 16;
    const raw = new BigUint64Array(prg.bytes(8 * limbs * want).buffer);
    for (let k = 0; k < want && out.length < n; k++) {
      let v = 0n;
      for (let l = 0; l < limbs; l++) v = (v << 64n) | raw[k * limbs + l];
      v &= mask;
      if (v < range) out.push(v - bound);
    }
  }
  return out;
}
