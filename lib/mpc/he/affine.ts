/**
 * Elementwise affine maps under batched BFV: the offline engine of the polynomial correlations.
 *
 * The client holds D vectors v_1..v_D (n elements each, mod t); the server holds, for each of M
 * outputs m, coefficient vectors lambda_{m,0..D} and a mask sigma_m. The client learns
 *
 *   out_m = lambda_{m,0} + sum_i lambda_{m,i} * v_i - sigma_m      (elementwise, mod t)
 *
 * and nothing else; the server learns nothing (it only sees ciphertexts). Messages:
 * client -> server `he.affine.query` (Enc(v_i), batched, N - 1 elements per ciphertext),
 * server -> client `he.affine.answer` (M ciphertexts per chunk, re-randomised under the client's
 * public key, noise flooded and switched to one prime: answer.ts, so the client learns nothing
 * of lambda beyond out_m).
 *
 * The last slot of every ciphertext is a dummy: the client fills it with a random value and the
 * server gives it a random non-zero coefficient in every product, so no product is ever the
 * zero polynomial (SEAL refuses "transparent" ciphertexts) even where a whole chunk of
 * lambda_{m,i} is zero — without revealing that it is. A coefficient passed as `null` is a
 * *public* zero (known to both parties, e.g. from the polynomial's degree) and its product is
 * skipped; every output needs at least one non-null coefficient with i >= 1.
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { PrimeField } from "../field.ts";
import type { Prg } from "../prg.ts";
import { type AnswerKey, privateAnswer } from "./answer.ts";
import {
  type CipherText,
  decryptChecked,
  encryptToBytes,
  type HeContext,
  type HeKeys,
  loadCiphertext,
  packBlobs,
  plaintextFromSlots,
  slotsOfPlaintext,
  unpackBlobs,
} from "./seal.ts";

/** Message kind of the client's encrypted vectors. */
const AFFINE_QUERY_KIND = "he.affine.query";
/** Message kind of the server's masked affine maps. */
const AFFINE_ANSWER_KIND = "he.affine.answer";

/** Ciphertext chunks of a batch of `n` elements at ring dimension `degree` (one slot is the dummy). */
export function affineChunks(degree: number, n: number): number {
  return Math.ceil(n / (degree - 1));
}

function chunkCount(he: HeContext, n: number): number {
  return affineChunks(he.degree, n);
}

/** Slots of chunk `k` of `v` plus the dummy slot value. */
function chunkSlots(he: HeContext, v: Float64Array, k: number, dummy: number): Float64Array {
  const per = he.degree - 1;
  const slots = new Float64Array(he.degree);
  slots.set(v.subarray(k * per, Math.min(v.length, (k + 1) * per)));
  slots[he.degree - 1] = dummy;
  return slots;
}

/**
 * Client: encrypts `inputs` (D vectors of equal length n, elements mod t) and returns the M
 * masked affine maps the server applies.
 */
export async function affineClient(
  ch: Channel,
  keys: HeKeys,
  inputs: readonly Float64Array[],
  outputs: number,
  prg: Prg,
): Promise<Float64Array[]> {
  const he = keys.he;
  const n = inputs[0]?.length ?? 0;
  if (inputs.some((v) => v.length !== n)) {
    throw new RangeError("affineClient: input vectors differ in length");
  }
  const F = new PrimeField(he.plainModulus);
  const chunks = chunkCount(he, n);
  const dummies = F.random(inputs.length * chunks, prg);
  const query: Uint8Array[] = [];
  for (let k = 0; k < chunks; k++) {
    for (const [i, v] of inputs.entries()) {
      const pt = plaintextFromSlots(he, chunkSlots(he, v, k, dummies[k * inputs.length + i]));
      try {
        query.push(encryptToBytes(keys, pt));
      } finally {
        pt.delete();
      }
    }
  }
  await ch.send(AFFINE_QUERY_KIND, packBlobs(query));
  const answer = unpackBlobs(await ch.recv(AFFINE_ANSWER_KIND), chunks * outputs, AFFINE_ANSWER_KIND);
  const out = Array.from({ length: outputs }, () => new Float64Array(n));
  const per = he.degree - 1;
  for (let k = 0; k < chunks; k++) {
    for (let m = 0; m < outputs; m++) {
      const ct = loadCiphertext(he, answer[k * outputs + m], `${AFFINE_ANSWER_KIND} ciphertext`);
      // Free ct even when decryption throws (exhausted noise budget).
      try {
        const pt = decryptChecked(keys, ct, "affine answer");
        const slots = slotsOfPlaintext(he, pt);
        pt.delete();
        out[m].set(slots.subarray(0, Math.min(per, n - k * per)), k * per);
      } finally {
        ct.delete();
      }
    }
  }
  return out;
}

/**
 * Server: applies coefficients `lambda[m][i]` (M outputs x (D + 1) vectors of n elements;
 * index 0 is the constant term) and masks `sigma[m]` to the client's encrypted vectors, answering
 * under the client's public key `key`.
 */
export async function affineServer(
  ch: Channel,
  key: AnswerKey,
  lambda: readonly (readonly (Float64Array | null)[])[],
  sigma: readonly Float64Array[],
  prg: Prg,
): Promise<void> {
  const outputs = lambda.length, d = (lambda[0]?.length ?? 1) - 1;
  const n = lambda[0]?.[0]?.length ?? 0;
  const constants = lambda.map((row) => row[0]);
  if (
    d < 1 || constants.some((c) => c === null) ||
    lambda.some((row) =>
      row.length !== d + 1 || row.some((v) => v && v.length !== n) || row.slice(1).every((v) => !v)
    ) ||
    sigma.length !== outputs
  ) {
    throw new RangeError(
      "affineServer: coefficient vectors must be M x (D + 1), D >= 1, of equal length, with M masks",
    );
  }
  const he = key.he;
  const F = new PrimeField(he.plainModulus);
  const chunks = chunkCount(he, n);
  const query = unpackBlobs(await ch.recv(AFFINE_QUERY_KIND), chunks * d, AFFINE_QUERY_KIND);
  const ev = he.evaluator;
  const answer: Uint8Array[] = [];
  for (let k = 0; k < chunks; k++) {
    const cts: CipherText[] = [];
    try {
      for (let i = 0; i < d; i++) {
        cts.push(loadCiphertext(he, query[k * d + i], `${AFFINE_QUERY_KIND} ciphertext`));
      }
      for (let m = 0; m < outputs; m++) {
        let acc: CipherText | undefined;
        let products = 0;
        for (let i = 1; i <= d; i++) {
          const coefficients = lambda[m][i];
          if (!coefficients) continue;
          // A random non-zero dummy coefficient keeps every plaintext non-zero.
          const pt = plaintextFromSlots(
            he,
            chunkSlots(he, coefficients, k, 1 + F.random(1, prg)[0] % (F.p - 1)),
          );
          const prod = ev.multiplyPlain(cts[i - 1], pt) as CipherText;
          pt.delete();
          products++;
          if (acc) {
            ev.add(acc, prod, acc);
            prod.delete();
          } else acc = prod;
        }
        const constant = F.subVec(constants[m]!, sigma[m]);
        const pt = plaintextFromSlots(he, chunkSlots(he, constant, k, F.random(1, prg)[0]));
        ev.addPlain(acc!, pt, acc!);
        pt.delete();
        try {
          answer.push(privateAnswer(key, acc!, products, prg));
        } finally {
          acc!.delete();
        }
      }
    } finally {
      for (const ct of cts) ct.delete();
    }
  }
  await ch.send(AFFINE_ANSWER_KIND, packBlobs(answer));
}
