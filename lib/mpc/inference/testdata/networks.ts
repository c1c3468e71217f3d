/**
 * Test fixtures for secure inference: small random graphs covering every op the protocol runs
 * (convs with stride and padding, residual adds with identity and conv shortcuts, average and
 * global pooling, flatten, dense), random folded weights with mixed per-channel functions
 * (ReLU, degrees 0-3), and a runner for both parties over an in-memory channel.
 *
 * @module
 */

import { memoryChannelPair } from "../../transport.ts";
import type { FramedChannel } from "../../transport.ts";
import type { ChannelFunction, FoldedNetwork } from "../../../nn/fold.ts";
import { activationSites, type Graph, inferShapes, type Op } from "../../../nn/graph.ts";
import type { Plan } from "../../../nn/plan.ts";
import { quantizeNetwork } from "../../quantize.ts";
import { InferenceClient, type InferenceResult } from "../client.ts";
import { InferenceServer, type ServedNetwork } from "../server.ts";

/** A small deterministic generator (xorshift32) for fixtures. */
export class TestRandom {
  #state: number;
  constructor(seed: number) {
    this.#state = (seed * 2654435761) >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    let x = this.#state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#state = x >>> 0;
    return this.#state / 4294967296;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  /** Uniform in [-scale, scale). */
  symmetric(scale: number): number {
    return (2 * this.next() - 1) * scale;
  }
  /** One of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  /** `n` values uniform in [-scale, scale). */
  array(n: number, scale: number): Float32Array {
    return Float32Array.from({ length: n }, () => this.symmetric(scale));
  }
}

/**
 * A random small graph: conv and activation, then some of: a residual block (identity or
 * 1x1-conv shortcut), a strided conv, 2x2 average pooling; then global pooling or not,
 * flatten, and a dense layer.
 */
export function randomGraph(rng: TestRandom, name = "tiny"): Graph {
  const ops: Op[] = [];
  const size = rng.pick([4, 6, 8]);
  ops.push({ kind: "input", id: "input", inputs: [], shape: [size, size, rng.int(1, 3)] });
  let n = 0;
  const conv = (
    from: string,
    filters: number,
    kernel: number,
    stride = 1,
    padding: "same" | "valid" = "same",
  ) => {
    const id = `conv${++n}`;
    ops.push({ kind: "conv", id, inputs: [from], filters, kernel, stride, padding, useBias: true });
    return id;
  };
  const act = (from: string, producer: string) => {
    const id = `act${++n}`;
    ops.push({ kind: "activation", id, inputs: [from], producer });
    return id;
  };
  const filters = rng.int(2, 4);
  const first = conv("input", filters, 3, 1, rng.pick(["same", "valid"] as const));
  let tip = act(first, first);
  if (rng.next() < 0.7) {
    const a = conv(tip, filters, 3);
    const b = conv(act(a, a), filters, 3);
    const shortcut = rng.next() < 0.5 ? tip : conv(tip, filters, 1);
    const add = `add${++n}`;
    ops.push({ kind: "add", id: add, inputs: [b, shortcut] });
    tip = act(add, b);
  }
  if (rng.next() < 0.5) {
    const strided = conv(tip, rng.int(2, 4), 3, 2);
    tip = act(strided, strided);
  }
  const [h] = inferShapes({ name, ops }).get(tip)!;
  if (h % 2 === 0 && rng.next() < 0.6) {
    const id = `pool${++n}`;
    ops.push({ kind: "avgpool", id, inputs: [tip], size: 2 });
    tip = id;
  }
  if (rng.next() < 0.4) {
    ops.push({ kind: "globalavgpool", id: "gap", inputs: [tip] });
    tip = "gap";
  }
  ops.push({ kind: "flatten", id: "flatten", inputs: [tip] });
  ops.push({ kind: "dense", id: "dense", inputs: ["flatten"], units: rng.int(2, 5) });
  return { name, ops };
}

/** Coefficients that keep a polynomial of degree d tame on inputs of a few units. */
export function randomCoefficients(rng: TestRandom, degree: number): number[] {
  const scales = [0.3, 0.6, 0.2, 0.03];
  return Array.from({ length: degree + 1 }, (_, k) => rng.symmetric(scales[k]));
}

/**
 * Random folded weights for `graph` with per-channel functions drawn from `functions`
 * (e.g. ["relu"] for an all-ReLU network, or all five kinds mixed).
 */
export function randomFolded(
  graph: Graph,
  rng: TestRandom,
  functions: readonly ChannelFunction[],
): FoldedNetwork {
  const shapes = inferShapes(graph);
  const ops: FoldedNetwork["ops"] = {};
  for (const op of graph.ops) {
    if (op.kind === "conv") {
      const cin = shapes.get(op.inputs[0])![2];
      const fanIn = op.kernel * op.kernel * cin;
      ops[op.id] = {
        kind: "conv",
        kernel: rng.array(fanIn * op.filters, 1.5 / Math.sqrt(fanIn)),
        kernelShape: [op.kernel, op.kernel, cin, op.filters],
        bias: rng.array(op.filters, 0.3),
        stride: op.stride,
        padding: op.padding,
      };
    } else if (op.kind === "dense") {
      const [h, w, c] = shapes.get(op.inputs[0])!;
      const inputs = h * w * c;
      ops[op.id] = {
        kind: "dense",
        kernel: rng.array(inputs * op.units, 1.5 / Math.sqrt(inputs)),
        kernelShape: [inputs, op.units],
        bias: rng.array(op.units, 0.3),
      };
    } else if (op.kind === "activation") {
      const channels = shapes.get(op.id)![2];
      const mask = Array.from({ length: channels }, () => rng.pick(functions));
      ops[op.id] = {
        kind: "activation",
        alpha: mask.filter((m) => m !== "relu").length / channels,
        degree: 2,
        mask,
        coefficients: mask.map((m) => (m === "relu" ? [] : randomCoefficients(rng, m))),
      };
    }
  }
  return { model: graph.name, ops };
}

/** An all-ReLU plan shape for `graph` (the hash input; masks travel separately). */
export function testPlan(graph: Graph): Plan {
  return { model: graph.name, sites: activationSites(graph).map(() => ({ alpha: 0, beta: 2 })) };
}

/** A served network from a random graph and weights. */
export function randomServed(
  seed: number,
  functions: readonly ChannelFunction[],
  fracBits?: number,
): ServedNetwork {
  const rng = new TestRandom(seed);
  const graph = randomGraph(rng, `tiny${seed}`);
  const folded = randomFolded(graph, rng, functions);
  return { graph, net: quantizeNetwork(folded, graph, { fracBits }), plan: testPlan(graph) };
}

/** What {@link runPair} returns. */
export interface PairRun {
  readonly results: InferenceResult[];
  /** The server's share of every op, per image. */
  readonly serverShares: Map<string, Float64Array>[];
  readonly client: FramedChannel;
  readonly server: FramedChannel;
}

/** Runs one session over an in-memory channel pair: one inference per image, in order. */
export async function runPair(
  served: ServedNetwork,
  images: readonly ArrayLike<number>[],
  seed = 1,
): Promise<PairRun> {
  const [clientChannel, serverChannel] = memoryChannelPair();
  const seedOf = (b: number) => new Uint8Array(16).fill(b);
  const [serverShares, results] = await Promise.all([
    (async () => {
      const server = await InferenceServer.open(serverChannel, served, {
        insecureTestSeed: seedOf(2 * seed),
      });
      const shares = [];
      for (const _ of images) shares.push(await server.serve());
      server.close();
      return shares;
    })(),
    (async () => {
      const client = await InferenceClient.open(clientChannel, { insecureTestSeed: seedOf(2 * seed + 1) });
      const results = [];
      for (const image of images) results.push(await client.infer(image));
      client.close();
      return results;
    })(),
  ]);
  await Promise.all([clientChannel.close(), serverChannel.close()]);
  return { results, serverShares, client: clientChannel, server: serverChannel };
}
