import assert from "node:assert/strict";
import type { ConvOp, DenseOp, Shape } from "../../nn/graph.ts";
import { Fp } from "../field.ts";
import { Prg } from "../prg.ts";
import { memoryChannelPair } from "../transport.ts";
import { kernelLength, type LinearLayer, outputShape, shapeSize } from "./layer.ts";
import {
  layerPacking,
  linearOfflineClient,
  linearOfflineServer,
  linearOnlineServer,
  linearTraffic,
} from "./linear.ts";
import { plainLinear } from "./plain.ts";
import { answerKey, disposeAnswerKey } from "./answer.ts";
import { disposeKeys, heContext, heKeys } from "./seal.ts";

const prg = new Prg(new Uint8Array(16).fill(31));

function conv(filters: number, kernel: number, stride: number): ConvOp {
  return {
    kind: "conv",
    id: `conv${kernel}s${stride}`,
    inputs: [],
    filters,
    kernel,
    stride,
    padding: "same",
    useBias: true,
  };
}

/** Runs offline + online for one layer; returns client share + server share and the reference. */
async function runLayer(layer: LinearLayer, weightBound: number) {
  const he = await heContext();
  const keys = heKeys(he);
  const key = answerKey(he, keys.publicKey);
  const [client, server] = memoryChannelPair();
  const n = shapeSize(layer.inputShape);
  const x = Fp.random(n, prg), r = Fp.random(n, prg);
  const kn = kernelLength(layer);
  const weights = kn
    ? {
      kernel: Fp.fromSignedVec(Array.from(prg.int32s(kn), (v) => v % weightBound)),
      bias: Fp.random(outputShape(layer)[2], prg),
    }
    : undefined;
  const [clientShare, u] = await Promise.all([
    linearOfflineClient(client, keys, layer, r),
    linearOfflineServer(server, key, layer, weights, prg),
  ]);
  disposeKeys(keys);
  disposeAnswerKey(key);
  const serverShare = linearOnlineServer(layer, weights, Fp.subVec(x, r), u);
  const got = Fp.addVec(clientShare, serverShare);
  client.close();
  server.close();
  return { got, want: plainLinear(layer, weights, x), clientShare, u, traffic: client.stats() };
}

const small: [string, LinearLayer][] = [
  ["conv 3x3 s1", { op: conv(4, 3, 1), inputShape: [8, 8, 3] }],
  ["conv 1x1 s1", { op: conv(5, 1, 1), inputShape: [8, 8, 4] }],
  ["conv 3x3 s2", { op: conv(3, 3, 2), inputShape: [8, 8, 2] }],
  ["conv 1x1 s2", { op: conv(3, 1, 2), inputShape: [8, 8, 2] }],
  ["dense", {
    op: { kind: "dense", id: "fc", inputs: [], units: 10 } as DenseOp,
    inputShape: [1, 1, 64] as Shape,
  }],
  ["avgpool", { op: { kind: "avgpool", id: "pool", inputs: [], size: 2 }, inputShape: [8, 8, 3] }],
];

for (const [name, layer] of small) {
  Deno.test(`HE linear: ${name}: client share + server online share = plainLinear (mod p)`, async () => {
    const { got, want } = await runLayer(layer, 256);
    assert.deepEqual(got, want);
  });
}

Deno.test("HE linear: full-range weights still decrypt exactly", async () => {
  const { got, want } = await runLayer({ op: conv(3, 3, 1), inputShape: [8, 8, 3] }, 2 ** 31);
  assert.deepEqual(got, want);
});

Deno.test("HE linear: 3x3 conv 32x32x16 -> 16 is exact; the client's share looks uniform", async () => {
  const { got, want, clientShare, traffic } = await runLayer(
    { op: conv(16, 3, 1), inputShape: [32, 32, 16] },
    256,
  );
  assert.deepEqual(got, want);
  // The client's share is masked by the server's uniform u: low bits are balanced.
  const counts = [0, 0, 0, 0];
  for (const v of clientShare) counts[v % 4]++;
  const e = clientShare.length / 4;
  assert.ok(counts.reduce((a, c) => a + (c - e) ** 2 / e, 0) < 16.3, `counts ${counts}`); // chi2(3) p = 0.001
  // The cost model's formula is the traffic the protocol sends.
  const layer = { op: conv(16, 3, 1), inputShape: [32, 32, 16] as Shape };
  const expected = linearTraffic(await heContext(), layerPacking(layer, 8192));
  assert.deepEqual(
    { toServer: traffic.total.bytesSent, toClient: traffic.total.bytesReceived },
    expected,
  );
});
