import assert from "node:assert/strict";
import type { Channel } from "../channel.ts";
import { Fp } from "../field.ts";
import { Prg } from "../prg.ts";
import { affineClient, affineServer } from "./affine.ts";
import {
  type AnswerKey,
  answerKey,
  answerStatisticalDistanceLog2,
  disposeAnswerKey,
  floodBound,
  floodedAnswer,
  weightNoiseBound,
} from "./answer.ts";
import { geometryKernel, type LinearLayer } from "./layer.ts";
import { layerPacking, linearOfflineClient, linearOfflineServer } from "./linear.ts";
import { packKernel } from "./packing.ts";
import {
  type CipherText,
  disposeKeys,
  type HeContext,
  heContext,
  loadCiphertext,
  plaintextFromCoeffs,
  unpackBlobs,
} from "./seal.ts";
import { answerNoise, exposedKeys, secondComponent } from "./testdata/client_view.ts";

const prg = new Prg(new Uint8Array(16).fill(73));

/** A 1x1 convolution, one channel in and out: one secret weight, the smallest target. */
const oneWeight: LinearLayer = {
  op: {
    kind: "conv",
    id: "c",
    inputs: [],
    filters: 1,
    kernel: 1,
    stride: 1,
    padding: "same",
    useBias: false,
  },
  inputShape: [8, 8, 1],
};

/** A channel that plays one side of a single exchange: `reply` is what recv returns. */
function oneShot(reply?: Uint8Array) {
  const sent: Uint8Array[] = [];
  const ch: Channel = {
    send: (_kind, payload) => (sent.push(payload), Promise.resolve()),
    recv: () => reply ? Promise.resolve(reply) : Promise.reject(new Error("no reply in this test")),
    setPhase: () => {},
  };
  return { ch, sent };
}

/** The client's HE query for `layer` with a random mask (its serialised ciphertexts). */
async function clientQuery(
  keys: ReturnType<typeof exposedKeys>["keys"],
  layer: LinearLayer,
): Promise<Uint8Array> {
  const { ch, sent } = oneShot();
  const r = Fp.random(8 * 8, prg);
  await assert.rejects(linearOfflineClient(ch, keys, layer, r), /no reply/);
  return sent[0];
}

/** The server's answer ciphertexts to `query` for one weight. */
async function serverAnswer(key: AnswerKey, query: Uint8Array, weight: number): Promise<Uint8Array[]> {
  const { ch, sent } = oneShot(query);
  await linearOfflineServer(ch, key, oneWeight, {
    kernel: Fp.fromSignedVec([weight]),
    bias: Fp.fromSignedVec([0]),
  }, prg);
  return unpackBlobs(sent[0], 1, "answer");
}

/**
 * Query x weight switched to one prime, without re-randomisation: the unprotected answer's c1
 * (none for a zero weight, whose product SEAL refuses).
 */
function deterministicSecondComponent(he: HeContext, query: Uint8Array, weight: number): BigUint64Array {
  const pk = layerPacking(oneWeight, he.degree);
  const kernel = packKernel(pk, geometryKernel(oneWeight, pk.geometry, Fp.fromSignedVec([weight])), 0, 0);
  if (!kernel) return new BigUint64Array(0);
  const ct = loadCiphertext(he, unpackBlobs(query, 1, "query")[0], "query");
  const pt = plaintextFromCoeffs(he, kernel);
  const prod = he.evaluator.multiplyPlain(ct, pt) as CipherText;
  he.evaluator.cipherModSwitchTo(prod, he.context.lastParmsId, prod);
  const bytes = prod.saveArray(he.seal.ComprModeType.none);
  for (const o of [ct, pt, prod]) o.delete();
  return secondComponent(he, bytes);
}

function equal(a: BigUint64Array, b: BigUint64Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

Deno.test("circuit privacy: the weight-recovery attack (brute force on the answer's second component) finds nothing", async () => {
  const he = await heContext();
  const exposed = exposedKeys(he);
  const key = answerKey(he, exposed.keys.publicKey);
  const query = await clientQuery(exposed.keys, oneWeight);
  const secret = -37;
  const candidates = Array.from({ length: 129 }, (_, i) => i - 64);
  const attack = (c1: BigUint64Array) =>
    candidates.filter((w) => equal(deterministicSecondComponent(he, query, w), c1));
  // The attack works on an unprotected answer (subtracting the mask U does not touch c1)...
  assert.deepEqual(attack(deterministicSecondComponent(he, query, secret)), [secret]);
  // ...and finds no candidate in the server's real answer.
  const [answer] = await serverAnswer(key, query, secret);
  assert.deepEqual(attack(secondComponent(he, answer)), []);
  disposeAnswerKey(key);
  disposeKeys(exposed.keys);
});

Deno.test("circuit privacy: two answers to one query have independent second components", async () => {
  const he = await heContext();
  const exposed = exposedKeys(he);
  const key = answerKey(he, exposed.keys.publicKey);
  const query = await clientQuery(exposed.keys, oneWeight);
  const [a] = await serverAnswer(key, query, 5);
  const [b] = await serverAnswer(key, query, 5);
  const ca = secondComponent(he, a), cb = secondComponent(he, b);
  const same = ca.filter((v, i) => v === cb[i]).length;
  assert.ok(same <= 2, `${same} of ${ca.length} coefficients equal`);
  // Each looks uniform mod the prime: low bits balanced (chi2(3) at p = 0.001: 16.3).
  for (const c of [ca, cb]) {
    const counts = [0, 0, 0, 0];
    for (const v of c) counts[Number(v & 3n)]++;
    const e = c.length / 4;
    assert.ok(counts.reduce((s, x) => s + (x - e) ** 2 / e, 0) < 16.3, `counts ${counts}`);
  }
  disposeAnswerKey(key);
  disposeKeys(exposed.keys);
});

Deno.test("circuit privacy: affine answers (polynomial correlations) are re-randomised too", async () => {
  const t = Fp.p, he = await heContext(t);
  const exposed = exposedKeys(he);
  const key = answerKey(he, exposed.keys.publicKey);
  const n = 100;
  const { ch, sent } = oneShot();
  await assert.rejects(affineClient(ch, exposed.keys, [Fp.random(n, prg)], 1, prg), /no reply/);
  const lambda = [[Fp.random(n, prg), Fp.random(n, prg)]];
  const answers: BigUint64Array[] = [];
  for (let i = 0; i < 2; i++) {
    const server = oneShot(sent[0]);
    await affineServer(server.ch, key, lambda, [new Float64Array(n)], prg);
    answers.push(secondComponent(he, unpackBlobs(server.sent[0], 1, "answer")[0]));
  }
  assert.ok(answers[0].filter((v, i) => v === answers[1][i]).length <= 2);
  disposeAnswerKey(key);
  disposeKeys(exposed.keys);
});

/** Pearson chi-square two-sample statistic over `bins` equal bins of [-bound, bound]. */
function twoSampleChi2(a: number[], b: number[], bound: number, bins: number): number {
  const count = (xs: number[]) => {
    const c = new Array(bins).fill(0);
    for (const x of xs) c[Math.min(bins - 1, Math.max(0, Math.floor((x / bound + 1) / 2 * bins)))]++;
    return c;
  };
  const ca = count(a), cb = count(b);
  let chi2 = 0;
  for (let i = 0; i < bins; i++) {
    const total = ca[i] + cb[i];
    if (total === 0) continue;
    const ea = total * a.length / (a.length + b.length), eb = total - ea;
    chi2 += (ca[i] - ea) ** 2 / ea + (cb[i] - eb) ** 2 / eb;
  }
  return chi2;
}

Deno.test("circuit privacy: the noise the client decrypts has the same distribution for small and full-range weights", async () => {
  const he = await heContext();
  const exposed = exposedKeys(he);
  const key = answerKey(he, exposed.keys.publicKey);
  const query = loadCiphertext(he, unpackBlobs(await clientQuery(exposed.keys, oneWeight), 1, "q")[0], "q");
  const mask = plaintextFromCoeffs(he, Fp.random(he.degree, prg));
  // Query x W - U for a weight polynomial of all ones and one of uniform coefficients mod p.
  const answer = (w: Float64Array) => {
    const pt = plaintextFromCoeffs(he, w);
    const acc = he.evaluator.multiplyPlain(query, pt) as CipherText;
    he.evaluator.subPlain(acc, mask, acc);
    pt.delete();
    return acc;
  };
  const small = answer(new Float64Array(he.degree).fill(1));
  const large = answer(Fp.random(he.degree, prg));
  const bound = Number(floodBound(he, 1));
  const noiseSmall = answerNoise(he, exposed, small), noiseLarge = answerNoise(he, exposed, large);
  // Unflooded, the weights show: the full-range noise is ~2^49, the other ~2^10 (the test has power).
  const maxAbs = (v: number[]) => v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  assert.ok(
    maxAbs(noiseLarge) > 2 ** 30 * maxAbs(noiseSmall),
    `${maxAbs(noiseLarge)} vs ${maxAbs(noiseSmall)}`,
  );
  assert.ok(maxAbs(noiseLarge) <= Number(weightNoiseBound(he, 1)), "the bound covers the weight noise");
  assert.ok(twoSampleChi2(noiseSmall, noiseLarge, maxAbs(noiseLarge), 16) > 1000);
  // Flooded: both are uniform on [-B, B]; chi2(15) at p = 0.001 is 37.7.
  const flooded = [small, large].map((acc) => {
    const ct = floodedAnswer(key, acc, 1, prg);
    const v = answerNoise(he, exposed, ct);
    ct.delete();
    return v;
  });
  for (const v of flooded) assert.ok(maxAbs(v) <= bound * (1 + 2 ** -40));
  const chi2 = twoSampleChi2(flooded[0], flooded[1], bound, 16);
  assert.ok(chi2 < 37.7, `chi2 ${chi2.toFixed(1)}`);
  for (const o of [query, mask, small, large]) o.delete();
  disposeAnswerKey(key);
  disposeKeys(exposed.keys);
});

Deno.test("circuit privacy: the per-inference statistical distance bound", async () => {
  const he = await heContext();
  assert.equal(answerStatisticalDistanceLog2(he, 1), 13 - 65);
  assert.ok(answerStatisticalDistanceLog2(he, 4096) <= -40);
  // Flooding fits the modulus for a layer summing 512 channel groups (CNN-7's largest uses fewer).
  assert.ok(floodBound(he, 512) * 8n * BigInt(he.plainModulus) < 2n ** 179n);
});
