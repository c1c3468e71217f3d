/**
 * Test helpers that look at an HE answer as a client holding the secret key can: its exact
 * noise (what decryption rounds away) and its components. Tests of circuit privacy use them.
 *
 * @module
 */

import {
  type CipherText,
  ciphertextFromWords,
  ciphertextWords,
  coeffsOfPlaintext,
  type HeContext,
  type HeKeys,
} from "../seal.ts";

/** Client keys plus the secret key's serialisation (tests only: real clients never export it). */
export interface ExposedKeys {
  readonly keys: HeKeys;
  readonly secretKey: Uint8Array;
}

/** Fresh client keys whose secret key the test can read. */
export function exposedKeys(he: HeContext): ExposedKeys {
  const keygen = he.seal.KeyGenerator(he.context);
  const sk = keygen.secretKey();
  const pk = keygen.createPublicKey();
  const keys: HeKeys = {
    he,
    encryptor: he.seal.Encryptor(he.context, pk, sk),
    decryptor: he.seal.Decryptor(he.context, sk),
    publicKey: pk.saveArray(he.seal.ComprModeType.none),
  };
  const secretKey = sk.saveArray(he.seal.ComprModeType.none);
  sk.delete();
  pk.delete();
  keygen.delete();
  return { keys, secretKey };
}

/** The moduli of `ct`'s level. */
function levelModuli(he: HeContext, ct: CipherText): bigint[] {
  return Array.from(he.context.getContextData(ct.parmsId).parms.coeffModulus);
}

/**
 * The exact noise of a two-component ciphertext (not NTT), per coefficient: v with
 * c0 + c1 s = (q / t) m + v mod q, q the product of its level's primes, m its decryption.
 * Computed as SEAL decrypts (c1 s in NTT form with the secret key's NTT residues), with the
 * inverse NTT done by SEAL and the CRT by BigInt.
 */
export function answerNoise(he: HeContext, exposed: ExposedKeys, ct: CipherText): number[] {
  const n = he.degree, t = BigInt(he.plainModulus);
  const moduli = levelModuli(he, ct);
  const k = moduli.length;
  // The secret key is a plaintext in NTT form over all key-level primes; its data ends the
  // serialisation, prime by prime, so the first k blocks are this level's.
  const sk = exposed.secretKey;
  const keyPrimes = he.context.keyContextData.parms.coeffModulus.length;
  const skData = new BigUint64Array(keyPrimes * n);
  new Uint8Array(skData.buffer).set(sk.subarray(sk.length - 8 * keyPrimes * n));
  const ntt = ct.clone();
  he.evaluator.cipherTransformToNtt(ntt, ntt);
  const words = ciphertextWords(he, ntt);
  ntt.delete();
  const d = words.data;
  for (const [j, q] of moduli.entries()) {
    for (let i = 0; i < n; i++) {
      const at = j * n + i;
      const x = (d[at] + d[k * n + at] * skData[at]) % q;
      d[at] = x, d[k * n + at] = x; // both components, so the result is not "transparent"
    }
  }
  const sum = ciphertextFromWords(he, words);
  he.evaluator.cipherTransformFromNtt(sum, sum);
  const x = ciphertextWords(he, sum).data;
  sum.delete();
  const pt = exposed.keys.decryptor.decrypt(ct);
  const m = coeffsOfPlaintext(he, pt!);
  pt!.delete();
  const q = moduli.reduce((a, b) => a * b, 1n);
  const crt = moduli.map((qj) => {
    const rest = q / qj;
    return rest * modInverse(rest % qj, qj);
  });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let xi = 0n;
    for (let j = 0; j < k; j++) xi += x[j * n + i] * crt[j];
    xi %= q;
    // t v = t X - q m mod t q, centred.
    let tv = (t * xi - q * BigInt(m[i])) % (t * q);
    if (tv < 0n) tv += t * q;
    if (tv > (t * q) / 2n) tv -= t * q;
    out.push(Number(tv) / Number(t));
  }
  return out;
}

/** The second component c1 of a serialised answer, residue by residue. */
export function secondComponent(he: HeContext, answer: Uint8Array): BigUint64Array {
  const ct = he.seal.CipherText();
  ct.loadArray(he.context, answer);
  const { data } = ciphertextWords(he, ct);
  const half = data.length / 2;
  ct.delete();
  return data.slice(half);
}

function modInverse(a: bigint, m: bigint): bigint {
  let [r0, r1, s0, s1] = [a, m, 1n, 0n];
  while (r1 !== 0n) {
    const qt = r0 / r1;
    [r0, r1] = [r1, r0 - qt * r1];
    [s0, s1] = [s1, s0 - qt * s1];
  }
  return ((s0 % m) + m) % m;
}
