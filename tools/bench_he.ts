/**
 * Benchmark of the Delphi algebra: field multiply, HE linear layers of CNN-7 (offline time,
 * bytes, packing; online plaintext time), what circuit privacy costs per HE answer
 * (re-randomisation and noise flooding against a bare switch to one prime) and polynomial
 * activations (offline HE at two batch sizes, online per element). Prints JSON and writes it to results/; the
 * cost model's `measured` calibration reads it.
 *
 * Both parties run in this one process over an in-memory channel, so "offline ms" is the sum of
 * the client's and the server's work (one thread). Online polynomial times are also measured
 * per party by replaying recorded messages. Every time is the minimum over `--reps` runs (the
 * machine is shared; minima are the least noisy estimate of the work itself).
 *
 * Usage: deno task bench:he [--reps 3] [--poly-n 65536] [--skip-linear] [--out results/bench_he.json]
 *
 * @module
 */

import { parseArgs } from "node:util";
import { writeBenchmark } from "../lib/report/results.ts";
import { cnn7 } from "../lib/nn/architectures.ts";
import { inferShapes, type Shape } from "../lib/nn/graph.ts";
import type { Channel, Phase } from "../lib/mpc/channel.ts";
import { Fp } from "../lib/mpc/field.ts";
import { encodeFixed } from "../lib/mpc/fixed.ts";
import { Prg } from "../lib/mpc/prg.ts";
import { share } from "../lib/mpc/sharing.ts";
import { memoryChannelPair } from "../lib/mpc/transport.ts";
import {
  hasWeights,
  kernelLength,
  type LinearLayer,
  type LinearOp,
  outputShape,
  shapeSize,
} from "../lib/mpc/he/layer.ts";
import {
  layerPacking,
  linearOfflineClient,
  linearOfflineServer,
  linearOnlineServer,
} from "../lib/mpc/he/linear.ts";
import { answerKey, disposeAnswerKey, privateAnswer } from "../lib/mpc/he/answer.ts";
import { affineChunks } from "../lib/mpc/he/affine.ts";
import {
  type CipherText,
  disposeKeys,
  encryptToBytes,
  heContext,
  heKeys,
  loadCiphertext,
  plaintextFromCoeffs,
} from "../lib/mpc/he/seal.ts";
import type { PolyDegree } from "../lib/mpc/poly/layout.ts";
import {
  polyOfflineClient,
  polyOfflineServer,
  polyOnlineClient,
  polyOnlineServer,
} from "../lib/mpc/poly/protocol.ts";
import { RING } from "../lib/mpc/poly/ring.ts";
import { IknpReceiver, IknpSender } from "../lib/mpc/ot/iknp.ts";

const USAGE =
  `usage: deno task bench:he [--reps 3] [--poly-n 65536] [--skip-linear] [--out results/bench_he.json]
  Times the HE linear layers of CNN-7, circuit privacy per answer and the polynomial protocol
  (both parties in one process, one thread); writes the JSON the cost model's calibration reads.`;

const { values: args } = parseArgs({
  options: {
    reps: { type: "string", default: "3" },
    "poly-n": { type: "string", default: "65536" },
    "skip-linear": { type: "boolean", default: false },
    out: { type: "string", default: "results/bench_he.json" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (args.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const reps = Number(args.reps), polyN = Number(args["poly-n"]);
const prg = new Prg();

async function minTime(runs: number, f: () => Promise<unknown> | unknown): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Records what a channel receives, then replays it: times one party's online work alone. */
class Replay implements Channel {
  readonly log: [string, Uint8Array][] = [];
  #pos = 0;
  constructor(private readonly inner?: Channel) {}
  async send(kind: string, payload: Uint8Array) {
    await this.inner?.send(kind, payload);
  }
  async recv(kind: string) {
    if (this.inner) {
      const v = await this.inner.recv(kind);
      this.log.push([kind, v]);
      return v;
    }
    const [k, v] = this.log[this.#pos++ % this.log.length];
    if (k !== kind) throw new Error(`replay: expected ${kind}, recorded ${k}`);
    return v;
  }
  setPhase(_phase: Phase) {}
  replay(): Replay {
    const r = new Replay();
    r.log.push(...this.log);
    return r;
  }
}

async function benchField() {
  const n = 1 << 20;
  const a = Fp.random(n, prg), b = Fp.random(n, prg), c = new Float64Array(n);
  const ms = await minTime(reps, () => Fp.mulVec(a, b, c));
  return { mulNs: (ms * 1e6) / n, bytesPerElement: Fp.bytesPerElement };
}

async function benchLinear() {
  const graph = cnn7();
  const shapes = inferShapes(graph);
  const he = await heContext();
  const keys = heKeys(he);
  const key = answerKey(he, keys.publicKey);
  const layers: Record<string, unknown>[] = [];
  let offlineTotal = 0, onlineTotal = 0, bytesTotal = 0;
  for (const op of graph.ops) {
    if (op.kind !== "conv" && op.kind !== "dense" && op.kind !== "avgpool") continue;
    const layer: LinearLayer = { op: op as LinearOp, inputShape: shapes.get(op.inputs[0]) as Shape };
    const n = shapeSize(layer.inputShape);
    const out = shapeSize(outputShape(layer));
    const weights = hasWeights(layer)
      ? {
        kernel: Fp.fromSignedVec(Array.from(prg.int32s(kernelLength(layer)), (v) => v % 128)),
        bias: Fp.random(outputShape(layer)[2], prg),
      }
      : undefined;
    const r = Fp.random(n, prg), x = Fp.random(n, prg);
    let bytes = { sent: 0, received: 0 };
    let u: Float64Array = new Float64Array(out);
    const offlineMs = await minTime(reps, async () => {
      const [cch, sch] = memoryChannelPair();
      [, u] = await Promise.all([
        linearOfflineClient(cch, keys, layer, r),
        linearOfflineServer(sch, key, layer, weights, prg),
      ]);
      const t = cch.stats().total;
      bytes = { sent: t.bytesSent, received: t.bytesReceived };
      cch.close();
      sch.close();
    });
    const onlineMs = await minTime(reps, () => linearOnlineServer(layer, weights, x, u));
    const pk = hasWeights(layer) ? layerPacking(layer, he.degree) : undefined;
    layers.push({
      id: op.id,
      kind: op.kind,
      input: layer.inputShape,
      output: outputShape(layer),
      macs: shapeSize(outputShape(layer)) *
        (hasWeights(layer) ? kernelLength(layer) / outputShape(layer)[2] : 0),
      offlineMs,
      onlineMs,
      clientSentBytes: bytes.sent,
      clientReceivedBytes: bytes.received,
      packing: pk && {
        tileRows: pk.tileRows,
        channelsPerBlock: pk.channelsPerBlock,
        outputsPerPoly: pk.outputsPerPoly,
        inputCiphertexts: pk.inputPolys,
        outputCiphertexts: pk.outputPolys,
        products: pk.products,
        kernelPlaintexts: pk.channelGroups * pk.outputGroups,
      },
    });
    offlineTotal += offlineMs, onlineTotal += onlineMs, bytesTotal += bytes.sent + bytes.received;
    console.error(`linear ${op.id}: offline ${offlineMs.toFixed(0)} ms, online ${onlineMs.toFixed(1)} ms`);
  }
  disposeKeys(keys);
  disposeAnswerKey(key);
  return { layers, total: { offlineMs: offlineTotal, onlineMs: onlineTotal, offlineBytes: bytesTotal } };
}

/** Elements of the small polynomial batch: less than one HE chunk, so that the offline costs of
 * the two batch sizes separate what is paid per chunk from what is paid per element. */
const POLY_SMALL_BATCH = 1024;

/** Shares, mask and coefficients of a polynomial batch of `n` elements. */
function polyBatch(degree: PolyDegree, n: number) {
  const layout = { degree, inFracBits: 16, outFracBits: 8 };
  const ys = Array.from({ length: n }, (_, i) => 4 * Math.sin(i));
  const { server: s, client: c } = share(encodeFixed(ys, 16), prg);
  const mask = Fp.random(n, prg);
  const coeffs = Array.from({ length: degree + 1 }, (_, k) => new Float64Array(n).fill(0.5 / (k + 1)));
  return { layout, s, c, mask, coeffs };
}

/** The offline phase of a batch of `n` elements: its time (minimum over reps), bytes and the states. */
async function polyOffline(degree: PolyDegree, n: number) {
  const { layout, s, c, mask, coeffs } = polyBatch(degree, n);
  const [hp, hq, hq2] = await Promise.all(RING.map((F) => heContext(F.p)));
  const keys = { p: heKeys(hp), q: heKeys(hq), q2: heKeys(hq2) };
  const he = {
    p: answerKey(hp, keys.p.publicKey),
    q: answerKey(hq, keys.q.publicKey),
    q2: answerKey(hq2, keys.q2.publicKey),
  };
  let states: [Awaited<ReturnType<typeof polyOfflineClient>>, Awaited<ReturnType<typeof polyOfflineServer>>];
  let bytes = { toServer: 0, toClient: 0 };
  // One OT session (base OTs once, as in inference) for all repetitions; bytes counted per run.
  const [och, osh] = memoryChannelPair();
  const [clientOt, serverOt] = await Promise.all([IknpSender.setup(och, prg), IknpReceiver.setup(osh, prg)]);
  const ms = await minTime(reps, async () => {
    const before = och.stats().total;
    states = await Promise.all([
      polyOfflineClient(och, keys, clientOt, layout, c, mask, prg),
      polyOfflineServer(osh, he, serverOt, layout, coeffs, prg),
    ]);
    const t = och.stats().total;
    bytes = { toServer: t.bytesSent - before.bytesSent, toClient: t.bytesReceived - before.bytesReceived };
  });
  och.close();
  osh.close();
  Object.values(keys).forEach(disposeKeys);
  Object.values(he).forEach(disposeAnswerKey);
  const size = { elements: n, chunks: affineChunks(hp.degree, n), offlineMs: ms, ...bytes };
  return { size, states: states!, s };
}

async function benchPoly(degree: PolyDegree, n: number) {
  const small = await polyOffline(degree, POLY_SMALL_BATCH);
  const { size: large, states, s } = await polyOffline(degree, n);
  const offlineMs = large.offlineMs;
  const offlineBytes = { toServer: large.toServer, toClient: large.toClient };
  const [cs, ss] = states;
  // Record one online exchange, then time each party alone on replayed messages.
  const [cch, sch] = memoryChannelPair();
  const cRec = new Replay(cch), sRec = new Replay(sch);
  await Promise.all([polyOnlineClient(cRec, cs), polyOnlineServer(sRec, ss, s)]);
  const t = cch.stats().total;
  const onlineBytes = { toServer: t.bytesSent, toClient: t.bytesReceived };
  const bothMs = await minTime(
    reps,
    () => Promise.all([polyOnlineClient(cch, cs), polyOnlineServer(sch, ss, s)]),
  );
  cch.close();
  sch.close();
  const serverMs = await minTime(reps, () => polyOnlineServer(sRec.replay(), ss, s));
  const clientMs = await minTime(reps, () => polyOnlineClient(cRec.replay(), cs));
  const perElement = (ms: number) => (ms * 1000) / n;
  return {
    degree,
    elements: n,
    offlineUsPerElement: perElement(offlineMs),
    offlineBytesToServerPerElement: offlineBytes.toServer / n,
    offlineBytesToClientPerElement: offlineBytes.toClient / n,
    onlineUsPerElement: perElement(bothMs),
    onlineServerUsPerElement: perElement(serverMs),
    onlineClientUsPerElement: perElement(clientMs),
    onlineBytesToServerPerElement: onlineBytes.toServer / n,
    onlineBytesToClientPerElement: onlineBytes.toClient / n,
    /** The offline phase at both batch sizes, for fitting per-chunk and per-element costs. */
    offlineSizes: [small.size, large],
  };
}

/**
 * The HE part of a session's setup, once per session: the BFV contexts (SEAL's module and one
 * context per prime of the ring, built once per process: timed on first use, so this must run
 * before anything else touches HE), the client's keys (secret, public), the server loading the
 * public keys, and the public keys' bytes.
 */
async function benchSession() {
  const t0 = performance.now();
  const contexts = await Promise.all(RING.map((F) => heContext(F.p)));
  const contextsMs = performance.now() - t0;
  let publicKeyBytes = 0;
  const ms = await minTime(reps, () => {
    const keys = contexts.map(heKeys);
    const answerKeys = keys.map((k, i) => answerKey(contexts[i], k.publicKey));
    publicKeyBytes = keys.reduce((n, k) => n + k.publicKey.length, 0);
    keys.forEach(disposeKeys);
    answerKeys.forEach(disposeAnswerKey);
  });
  return { contextsMs, keysMs: ms, publicKeyBytes };
}

/**
 * Per answer ciphertext, what circuit privacy adds: `privateAnswer` (a fresh public-key
 * encryption of zero, flooding, switch to one prime, serialisation) against the bare switch and
 * serialisation the server did before, on a product of a query and a full-range plaintext.
 */
async function benchAnswer() {
  const he = await heContext();
  const keys = heKeys(he);
  const key = answerKey(he, keys.publicKey);
  const ct = loadCiphertext(
    he,
    encryptToBytes(keys, plaintextFromCoeffs(he, Fp.random(he.degree, prg))),
    "query",
  );
  const w = plaintextFromCoeffs(he, Fp.random(he.degree, prg));
  const acc = he.evaluator.multiplyPlain(ct, w) as CipherText;
  const count = 20, products = 16;
  const bareMs = await minTime(reps, () => {
    for (let i = 0; i < count; i++) {
      const c = acc.clone();
      he.evaluator.cipherModSwitchTo(c, he.context.lastParmsId, c);
      c.saveArray(he.seal.ComprModeType.none);
      c.delete();
    }
  });
  const privateMs = await minTime(reps, () => {
    for (let i = 0; i < count; i++) privateAnswer(key, acc, products, prg);
  });
  for (const o of [ct, w, acc]) o.delete();
  disposeKeys(keys);
  disposeAnswerKey(key);
  return {
    bareMsPerAnswer: bareMs / count,
    privateMsPerAnswer: privateMs / count,
    productsPerAnswer: products,
  };
}

const result = {
  // Machine, commit and date come from writeBenchmark.
  timing: "minima over repetitions (the cores may be shared)",
  session: await benchSession(),
  field: await benchField(),
  answer: await benchAnswer(),
  linear: args["skip-linear"] ? null : await benchLinear(),
  poly: [await benchPoly(2, polyN), await benchPoly(3, polyN)],
};
const json = JSON.stringify(result, null, 2);
console.log(json);
if (args.out) await writeBenchmark(args.out, result);
