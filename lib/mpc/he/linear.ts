/**
 * Delphi's linear layers with BFV (see DESIGN.md "The protocol").
 *
 * Offline, for a layer with secret weights W (conv, dense):
 * 1. client -> server `he.linear.query`: Enc(r) for its input mask r, coefficient-packed
 *    (packing.ts), seeded symmetric ciphertexts;
 * 2. server: Enc(r * W - U) by plaintext-ciphertext products in NTT form, U uniform over all N
 *    coefficients of every answer (which also hides the packing's weight-dependent "garbage"
 *    coefficients); re-randomised with the client's public key, noise flooded and switched down
 *    to one prime (answer.ts: the client learns nothing of W beyond r * W - U);
 *    -> client `he.linear.answer`;
 * 3. client decrypts its share r * W - u (u = U at the output coefficients).
 * Online the server computes (x - r) * W + b + u in the clear (`linearOnlineServer`), so the
 * shares add up to x * W + b.
 *
 * Pooling has public weights: each party applies it to its own share, no messages, u = 0.
 *
 * Message phases are the caller's (Channel.setPhase).
 *
 * @module
 */

import type { Channel } from "../channel.ts";
import { Fp } from "../field.ts";
import type { Prg } from "../prg.ts";
import { frameBytes } from "../transport/frame.ts";
import { type AnswerKey, privateAnswer } from "./answer.ts";
import {
  checkWeights,
  convGeometry,
  geometryInput,
  geometryKernel,
  hasWeights,
  type LinearLayer,
  type LinearWeights,
  outputShape,
  shapeSize,
} from "./layer.ts";
import { choosePacking, type Packing, packInput, packKernel, polyIndex, unpackOutput } from "./packing.ts";
import { plainLinear } from "./plain.ts";
import {
  answerCiphertextBytes,
  type CipherText,
  coeffsOfPlaintext,
  decryptChecked,
  encryptToBytes,
  type HeContext,
  type HeKeys,
  loadCiphertext,
  packBlobs,
  packedBlobsBytes,
  plaintextFromCoeffs,
  queryCiphertextBytes,
  unpackBlobs,
} from "./seal.ts";

/** Message kind of the client's encrypted mask. */
const QUERY_KIND = "he.linear.query";
/** Message kind of the server's masked products. */
const ANSWER_KIND = "he.linear.answer";

/** Bytes on the wire of one layer's offline exchange: the query to the server, the answer back. */
export function linearTraffic(he: HeContext, pk: Packing): { toServer: number; toClient: number } {
  return {
    toServer: frameBytes(QUERY_KIND, packedBlobsBytes(pk.inputPolys, queryCiphertextBytes(he))),
    toClient: frameBytes(ANSWER_KIND, packedBlobsBytes(pk.outputPolys, answerCiphertextBytes(he))),
  };
}

/** The packing both parties derive from the layer (public: it depends on shapes only). */
export function layerPacking(layer: LinearLayer, degree: number): Packing {
  return choosePacking(convGeometry(layer), degree);
}

function checkPlainModulus(he: HeContext): void {
  if (he.plainModulus !== Fp.p) {
    throw new Error(
      `HE linear layers need plaintext modulus p = ${Fp.p}, got a context for ${he.plainModulus}`,
    );
  }
}

/**
 * Client, offline: sends Enc(r) for input mask `r` (HWC, field elements) and returns its output
 * share r * W - u (HWC). For pooling, returns the pooled mask with no messages.
 */
export async function linearOfflineClient(
  ch: Channel,
  keys: HeKeys,
  layer: LinearLayer,
  r: Float64Array,
): Promise<Float64Array> {
  if (r.length !== shapeSize(layer.inputShape)) {
    throw new RangeError(
      `layer ${layer.op.id}: mask has ${r.length} elements, expected ${layer.inputShape.join("x")}`,
    );
  }
  Fp.checkVec(r, `layer ${layer.op.id} mask`);
  if (!hasWeights(layer)) return plainLinear(layer, undefined, r);
  const he = keys.he;
  checkPlainModulus(he);
  const pk = layerPacking(layer, he.degree);
  const query = packInput(pk, geometryInput(layer, pk.geometry, r)).map((poly) => {
    const pt = plaintextFromCoeffs(he, poly);
    try {
      return encryptToBytes(keys, pt);
    } finally {
      pt.delete();
    }
  });
  await ch.send(QUERY_KIND, packBlobs(query));
  const answer = unpackBlobs(await ch.recv(ANSWER_KIND), pk.outputPolys, ANSWER_KIND);
  const polys = answer.map((bytes, i) => {
    const ct = loadCiphertext(he, bytes, `${ANSWER_KIND} ciphertext ${i}`);
    try {
      const pt = decryptChecked(keys, ct, `layer ${layer.op.id} answer ${i}`);
      const coeffs = coeffsOfPlaintext(he, pt);
      pt.delete();
      return coeffs;
    } finally {
      ct.delete();
    }
  });
  return unpackOutput(pk, polys);
}

/**
 * Server, offline: answers the client's query for `layer` with `weights` (under the client's
 * public key `key`) and returns its offline state u (HWC), to be added online by
 * `linearOnlineServer`. `prg` draws the masks and the flooding noise. For pooling, returns
 * zeros with no messages.
 */
export async function linearOfflineServer(
  ch: Channel,
  key: AnswerKey,
  layer: LinearLayer,
  weights: LinearWeights | undefined,
  prg: Prg,
): Promise<Float64Array> {
  checkWeights(layer, weights, Fp);
  const outSize = shapeSize(outputShape(layer));
  if (!hasWeights(layer)) return new Float64Array(outSize);
  const he = key.he;
  checkPlainModulus(he);
  const pk = layerPacking(layer, he.degree);
  const kz = geometryKernel(layer, pk.geometry, weights!.kernel);
  const query = unpackBlobs(await ch.recv(QUERY_KIND), pk.inputPolys, QUERY_KIND);
  const ev = he.evaluator;
  const inputs: CipherText[] = [];
  const masks: Float64Array[] = new Array(pk.outputPolys);
  const answers: Uint8Array[] = new Array(pk.outputPolys);
  try {
    for (const [i, bytes] of query.entries()) {
      const ct = loadCiphertext(he, bytes, `${QUERY_KIND} ciphertext ${i}`);
      inputs.push(ct);
      ev.cipherTransformToNtt(ct, ct);
    }
    const ntt = he.context.firstParmsId;
    for (let og = 0; og < pk.outputGroups; og++) {
      // Kernel plaintexts of this output group, in NTT form, shared by all tiles.
      const kernels = [];
      for (let cg = 0; cg < pk.channelGroups; cg++) {
        const poly = packKernel(pk, kz, cg, og);
        if (!poly) continue;
        const pt = plaintextFromCoeffs(he, poly);
        ev.plainTransformToNtt(pt, ntt, pt);
        kernels.push({ cg, pt });
      }
      try {
        for (let t = 0; t < pk.tiles; t++) {
          const index = polyIndex(t, og, pk.outputGroups);
          // All-zero output channels (no kernel plaintext) start from an encryption of zero.
          let acc = kernels.length ? undefined : key.encryptor.encrypt(key.zero) as CipherText;
          for (const { cg, pt } of kernels) {
            const prod = ev.multiplyPlain(inputs[polyIndex(t, cg, pk.channelGroups)], pt) as CipherText;
            if (acc) {
              ev.add(acc, prod, acc);
              prod.delete();
            } else acc = prod;
          }
          if (kernels.length) ev.cipherTransformFromNtt(acc!, acc!);
          const mask = Fp.random(pk.degree, prg);
          const maskPt = plaintextFromCoeffs(he, mask);
          ev.subPlain(acc!, maskPt, acc!);
          maskPt.delete();
          try {
            answers[index] = privateAnswer(key, acc!, pk.channelGroups, prg);
          } finally {
            acc!.delete();
          }
          masks[index] = mask;
        }
      } finally {
        for (const { pt } of kernels) pt.delete();
      }
    }
  } finally {
    for (const ct of inputs) ct.delete();
  }
  await ch.send(ANSWER_KIND, packBlobs(answers));
  return unpackOutput(pk, masks);
}

/** Server, online: (x - r) * W + b + u over F_p, its share of the layer's output. */
export function linearOnlineServer(
  layer: LinearLayer,
  weights: LinearWeights | undefined,
  xMinusR: Float64Array,
  u: Float64Array,
): Float64Array {
  const y = plainLinear(layer, weights, xMinusR);
  if (u.length !== y.length) {
    throw new RangeError(
      `layer ${layer.op.id}: offline state has ${u.length} elements, expected ${y.length}`,
    );
  }
  return Fp.addVec(y, u, y);
}
