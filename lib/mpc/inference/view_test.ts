/**
 * The server's view is independent of the client's input: over many runs of a small network
 * (ReLU, degree 2 and 3 and pruned channels in one layer), everything the server receives
 * that is not a ciphertext — the masked input, the garbled circuits' output colours, the
 * polynomial protocol's openings — has the same distribution for two very different images,
 * and a uniform one (chi-squared tests). The same statistic on the unmasked values tells the
 * two images apart at once, so the test has power.
 */
import assert from "node:assert/strict";
import type { Phase } from "../channel.ts";
import { Fp } from "../field.ts";
import { encodeFixed } from "../fixed.ts";
import { type FramedChannel, memoryChannelPair } from "../transport.ts";
import { quantizeNetwork } from "../quantize.ts";
import { CORRECTION_KIND, MASKED_KIND } from "../poly/protocol.ts";
import { RELU_KINDS } from "../gc/protocol.ts";
import { RESIDUE_BYTES, RING } from "../poly/ring.ts";
import type { Graph } from "../../nn/graph.ts";
import type { FoldedNetwork } from "../../nn/fold.ts";
import { InferenceClient } from "./client.ts";
import { InferenceServer } from "./server.ts";
import { type InferenceChannel, INPUT_KIND } from "./steps.ts";
import { TestRandom } from "./testdata/networks.ts";

/** Forwards to a channel, keeping every payload received, by kind. */
class RecordingChannel implements InferenceChannel {
  readonly received = new Map<string, Uint8Array[]>();
  constructor(private readonly inner: FramedChannel) {}
  send(kind: string, payload: Uint8Array) {
    return this.inner.send(kind, payload);
  }
  async recv(kind: string) {
    const payload = await this.inner.recv(kind);
    this.received.set(kind, [...(this.received.get(kind) ?? []), payload]);
    return payload;
  }
  setPhase(phase: Phase) {
    this.inner.setPhase(phase);
  }
  section(label: string) {
    this.inner.section(label);
  }
}

const graph: Graph = {
  name: "view",
  ops: [
    { kind: "input", id: "input", inputs: [], shape: [8, 8, 2] },
    {
      kind: "conv",
      id: "conv1",
      inputs: ["input"],
      filters: 4,
      kernel: 3,
      stride: 1,
      padding: "same",
      useBias: true,
    },
    { kind: "activation", id: "act1", inputs: ["conv1"], producer: "conv1" },
    { kind: "flatten", id: "flatten", inputs: ["act1"] },
    { kind: "dense", id: "dense1", inputs: ["flatten"], units: 3 },
  ],
};

function network(): FoldedNetwork {
  const rng = new TestRandom(11);
  return {
    model: "view",
    ops: {
      conv1: {
        kind: "conv",
        kernel: rng.array(72, 0.5),
        kernelShape: [3, 3, 2, 4],
        bias: rng.array(4, 0.3),
        stride: 1,
        padding: "same",
      },
      act1: {
        kind: "activation",
        alpha: 0.75,
        degree: 2,
        mask: ["relu", 2, 3, 0],
        coefficients: [[], [0.2, 0.5, 0.2], [0.1, 0.5, 0.3, 0.02], [0.4]],
      },
      dense1: {
        kind: "dense",
        kernel: rng.array(256 * 3, 0.1),
        kernelShape: [256, 3],
        bias: rng.array(3, 0.1),
      },
    },
  };
}

/** Runs `runs` inferences of one image in one session; returns the server's received payloads. */
async function serverView(
  image: Float32Array,
  runs: number,
  seed: number,
): Promise<Map<string, Uint8Array[]>> {
  const served = {
    graph,
    net: quantizeNetwork(network(), graph),
    plan: { model: "view", sites: [{ alpha: 0.75, beta: 2 as const }] },
  };
  const [clientChannel, serverChannel] = memoryChannelPair();
  const recording = new RecordingChannel(serverChannel);
  await Promise.all([
    (async () => {
      const server = await InferenceServer.open(recording, served, {
        insecureTestSeed: new Uint8Array(16).fill(seed),
      });
      for (let i = 0; i < runs; i++) await server.serve();
      server.close();
    })(),
    (async () => {
      const client = await InferenceClient.open(clientChannel, {
        insecureTestSeed: new Uint8Array(16).fill(seed + 1),
      });
      for (let i = 0; i < runs; i++) await client.infer(image);
      client.close();
    })(),
  ]);
  await Promise.all([clientChannel.close(), serverChannel.close()]);
  return recording.received;
}

const BINS = 8;

/** Histogram of values in [0, modulus) over BINS equal bins. */
function histogram(values: Iterable<number>, modulus: number): number[] {
  const counts = new Array(BINS).fill(0);
  for (const v of values) counts[Math.floor((v / modulus) * BINS)]++;
  return counts;
}

/** Chi-squared statistic of two histograms against their pooled distribution (homogeneity). */
function chiSquaredTwoSample(a: number[], b: number[]): number {
  const na = a.reduce((s, x) => s + x, 0), nb = b.reduce((s, x) => s + x, 0);
  let chi2 = 0;
  a.forEach((_, i) => {
    const pooled = (a[i] + b[i]) / (na + nb);
    if (pooled === 0) return;
    chi2 += (a[i] - na * pooled) ** 2 / (na * pooled) + (b[i] - nb * pooled) ** 2 / (nb * pooled);
  });
  return chi2;
}

/** Chi-squared statistic against the uniform distribution. */
function chiSquaredUniform(counts: number[]): number {
  const n = counts.reduce((s, x) => s + x, 0), e = n / counts.length;
  return counts.reduce((s, c) => s + (c - e) ** 2 / e, 0);
}

/** 7 degrees of freedom, p = 1e-4. */
const CRITICAL = 29.88;

/** Field values of a view's messages of `kind`, by prime: all residues mod p, q, q2 where present. */
function fieldValues(view: Map<string, Uint8Array[]>, kind: string): number[][] {
  const byPrime: number[][] = RING.map(() => []);
  for (const payload of view.get(kind) ?? []) {
    if (kind === INPUT_KIND) {
      byPrime[0].push(...Fp.fromBytes(payload));
      continue;
    }
    // Residue vectors: n elements mod p, then n mod q, then n mod q2.
    const n = payload.length / RESIDUE_BYTES, width = n * Fp.bytesPerElement;
    RING.forEach((F, i) => byPrime[i].push(...F.fromBytes(payload.subarray(i * width, (i + 1) * width))));
  }
  return byPrime;
}

function colourBits(view: Map<string, Uint8Array[]>): number[] {
  const bits: number[] = [];
  for (const payload of view.get(RELU_KINDS.colours) ?? []) {
    for (const byte of payload) for (let k = 0; k < 8; k++) bits.push((byte >> k) & 1);
  }
  return bits;
}

Deno.test("the server's view is uniform and the same for two different inputs (chi-squared)", async () => {
  const runs = 12;
  const dark = new Float32Array(128).fill(-2);
  const rng = new TestRandom(5);
  const busy = Float32Array.from({ length: 128 }, () => rng.symmetric(2.5));
  const [viewA, viewB] = [await serverView(dark, runs, 20), await serverView(busy, runs, 40)];

  for (const kind of [INPUT_KIND, CORRECTION_KIND, MASKED_KIND]) {
    const [a, b] = [fieldValues(viewA, kind), fieldValues(viewB, kind)];
    assert.ok(a[0].length >= runs * 64, `${kind}: ${a[0].length} values`);
    for (const [i, { p: modulus }] of RING.entries()) {
      const part = `prime ${i}`;
      if (a[i].length === 0) continue;
      const [ha, hb] = [histogram(a[i], modulus), histogram(b[i], modulus)];
      const two = chiSquaredTwoSample(ha, hb);
      assert.ok(two < CRITICAL, `${kind} mod ${part}: inputs distinguishable, chi-squared ${two.toFixed(1)}`);
      for (const h of [ha, hb]) {
        const uniform = chiSquaredUniform(h);
        assert.ok(
          uniform < CRITICAL,
          `${kind} mod ${part}: not uniform, chi-squared ${uniform.toFixed(1)} (${h})`,
        );
      }
    }
  }
  // Colour bits of the garbled circuits' outputs: 41 per ReLU, fair coins for either input.
  const [ca, cb] = [colourBits(viewA), colourBits(viewB)];
  assert.ok(ca.length >= runs * 64 * 41);
  const bitHist = (
    bits: number[],
  ) => [bits.length - bits.reduce((s, x) => s + x, 0), bits.reduce((s, x) => s + x, 0)];
  const twoBits = chiSquaredTwoSample(bitHist(ca), bitHist(cb));
  assert.ok(
    twoBits < 15.1,
    `colour bits: inputs distinguishable, chi-squared ${twoBits.toFixed(1)} (1 dof, p = 1e-4)`,
  );

  // Power: the same statistic on the unmasked inputs separates the two images completely.
  const plain = (x: Float32Array) => Array.from({ length: runs }, () => Array.from(encodeFixed(x))).flat();
  const power = chiSquaredTwoSample(histogram(plain(dark), Fp.p), histogram(plain(busy), Fp.p));
  assert.ok(power > 10 * CRITICAL, `unmasked inputs: chi-squared only ${power.toFixed(1)}`);
});
