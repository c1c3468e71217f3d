import assert from "node:assert/strict";
import { Fp } from "./field.ts";
import { plainLinear } from "./he/plain.ts";
import type { LinearOp } from "./he/layer.ts";
import { DEFAULT_FRAC_BITS } from "./fixed.ts";
import {
  activationReference,
  type QuantizedActivation,
  type QuantizedLinear,
  quantizeNetwork,
  referenceForward,
  tensorScales,
  weightsHash,
} from "./quantize.ts";
import { cnn7, resnet32 } from "../nn/architectures.ts";
import { type FoldedConv, foldedForward, type FoldedNetwork } from "../nn/fold.ts";
import { type Graph, inferShapes } from "../nn/graph.ts";
import { convAccumulate, linearGeometry } from "../nn/linear.ts";
import { randomFolded, randomGraph, TestRandom } from "./inference/testdata/networks.ts";

Deno.test("tensorScales: CNN-7 and ResNet-32 fit the protocol; pooling multipliers reach the next linear layer", () => {
  const f = 8;
  const scales = tensorScales(cnn7(), f);
  assert.deepEqual(scales.get("input"), { bits: 8, multiplier: 1 });
  assert.deepEqual(scales.get("conv1_bn"), { bits: 16, multiplier: 1 });
  assert.deepEqual(scales.get("act1"), { bits: 8, multiplier: 1 });
  assert.deepEqual(scales.get("pool1"), { bits: 8, multiplier: 4 });
  assert.deepEqual(scales.get("pool2"), { bits: 8, multiplier: 4 });
  assert.deepEqual(scales.get("conv3"), { bits: 16, multiplier: 1 });
  assert.deepEqual(scales.get("dense1"), { bits: 16, multiplier: 1 });
  const res = tensorScales(resnet32(), f);
  // A residual add of a conv output (2f) and a block input (f) is at 2f.
  const add = resnet32().ops.find((op) => op.kind === "add")!;
  assert.deepEqual(res.get(add.id), { bits: 16, multiplier: 1 });
  assert.deepEqual(res.get("gap"), { bits: 8, multiplier: 64 });
});

Deno.test("tensorScales: graphs the protocol cannot run fail naming the op", () => {
  const base = (ops: Graph["ops"]): Graph => ({
    name: "bad",
    ops: [{ kind: "input", id: "input", inputs: [], shape: [4, 4, 1] }, ...ops],
  });
  const conv = (id: string, from: string) =>
    ({
      kind: "conv",
      id,
      inputs: [from],
      filters: 2,
      kernel: 1,
      stride: 1,
      padding: "same",
      useBias: true,
    }) as const;
  assert.throws(
    () => tensorScales(base([conv("c1", "input"), conv("c2", "c1")]), 8),
    /'c2'.*put an activation between/,
  );
  assert.throws(
    () =>
      tensorScales(
        base([conv("c1", "input"), { kind: "avgpool", id: "p", inputs: ["c1"], size: 2 }, {
          kind: "activation",
          id: "a",
          inputs: ["p"],
          producer: "c1",
        }]),
        8,
      ),
    /'a' \(activation\).*no pooling in between/,
  );
});

/** A hand-made network: one 1x1 conv (2 channels), an activation (ReLU, degree 0), 2x2 pool, dense. */
function handNetwork(): { graph: Graph; folded: FoldedNetwork } {
  const graph: Graph = {
    name: "hand",
    ops: [
      { kind: "input", id: "input", inputs: [], shape: [2, 2, 1] },
      {
        kind: "conv",
        id: "conv1",
        inputs: ["input"],
        filters: 2,
        kernel: 1,
        stride: 1,
        padding: "same",
        useBias: true,
      },
      { kind: "activation", id: "act1", inputs: ["conv1"], producer: "conv1" },
      { kind: "avgpool", id: "pool1", inputs: ["act1"], size: 2 },
      { kind: "flatten", id: "flatten", inputs: ["pool1"] },
      { kind: "dense", id: "dense1", inputs: ["flatten"], units: 1 },
    ],
  };
  const folded: FoldedNetwork = {
    model: "hand",
    ops: {
      conv1: {
        kind: "conv",
        kernel: Float32Array.of(1.5, -0.25),
        kernelShape: [1, 1, 1, 2],
        bias: Float32Array.of(0.5, 0),
        stride: 1,
        padding: "same",
      },
      act1: { kind: "activation", alpha: 0.5, degree: 0, mask: ["relu", 0], coefficients: [[], [0.75]] },
      dense1: {
        kind: "dense",
        kernel: Float32Array.of(1, 2),
        kernelShape: [2, 1],
        bias: Float32Array.of(-1),
      },
    },
  };
  return { graph, folded };
}

Deno.test("quantizeNetwork: weights at f bits (divided by the pooling window), biases at 2f, masks and coefficients kept", () => {
  const { graph, folded } = handNetwork();
  const net = quantizeNetwork(folded, graph, { fracBits: 4 });
  const conv = net.ops.conv1 as QuantizedLinear;
  assert.deepEqual(Array.from(conv.weights), [24, -4]);
  assert.deepEqual(Array.from(conv.bias), [128, 0]);
  assert.deepEqual(Array.from(conv.field.kernel), [24, Fp.p - 4]);
  // The dense layer follows a 2x2 average pool: its weights carry the 1/4.
  assert.deepEqual(Array.from((net.ops.dense1 as QuantizedLinear).weights), [4, 8]);
  assert.deepEqual((net.ops.act1 as QuantizedActivation).mask, ["relu", 0]);
  assert.equal(quantizeNetwork(folded, graph).fracBits, DEFAULT_FRAC_BITS);
});

Deno.test("referenceForward: the hand network step by step, with floor truncation and the pooled sum", () => {
  const { graph, folded } = handNetwork();
  const f = 4;
  const net = quantizeNetwork(folded, graph, { fracBits: f });
  const x = [1, -1, 0.5, 2];
  const ref = referenceForward(net, graph, x);
  // conv1 channel 0: 1.5 x + 0.5 -> 2, -1, 1.25, 3.5; at 2f = 8 bits: 512, -256, 320, 896.
  assert.deepEqual(Array.from(ref.trace.get("conv1")!).filter((_, i) => i % 2 === 0), [512, -256, 320, 896]);
  // ReLU(floor(y / 16)): 32, 0, 20, 56. Degree 0: round(0.75 x 16) = 12 everywhere.
  assert.deepEqual(Array.from(ref.trace.get("act1")!), [32, 12, 0, 12, 20, 12, 56, 12]);
  assert.deepEqual(Array.from(ref.trace.get("pool1")!), [108, 48]);
  // dense: (108 x 4 + 48 x 8) - 256 = 560 at 8 bits = 2.1875 (float: (27/16 + 2 x 0.75) - 1 = 2.1875).
  assert.deepEqual(Array.from(ref.output), [560]);
  assert.deepEqual(Array.from(ref.logits), [2.1875]);
  assert.ok(Math.abs(foldedForward(folded, graph, x)[0] - 2.1875) < 1e-6);
});

Deno.test("activationReference: ReLU is max(floor(y / 2^f), 0) on signed values; degree 0 is round(c0 2^f)", () => {
  const act: QuantizedActivation = { kind: "activation", mask: ["relu", 0], coefficients: [[], [-0.3]] };
  const y = Float64Array.of(-1, 7, 255, 7, 256, 7, 257, 7, -300, 7);
  assert.deepEqual(Array.from(activationReference(act, y, 8)), [0, -77, 0, -77, 1, -77, 1, -77, 0, -77]);
});

Deno.test("referenceForward tracks the float network and converges as f grows", () => {
  for (const seed of [1, 2, 3]) {
    const rng = new TestRandom(seed);
    const graph = randomGraph(rng);
    const folded = randomFolded(graph, rng, ["relu", 0, 1, 2, 3]);
    const [h, w, c] = (graph.ops[0] as { kind: "input"; shape: readonly number[] }).shape;
    const x = rng.array(h * w * c, 2);
    const float = foldedForward(folded, graph, x);
    const errors = [8, 12].map((f) => {
      const ref = referenceForward(quantizeNetwork(folded, graph, { fracBits: f }), graph, x).logits;
      return Math.max(...float.map((v, i) => Math.abs(v - ref[i])));
    });
    assert.ok(errors[0] < 0.1, `graph ${seed}: f = 8 error ${errors[0]}`);
    assert.ok(
      errors[1] < errors[0] / 4 || errors[1] < 1e-3,
      `graph ${seed}: f = 12 error ${errors[1]} vs f = 8 ${errors[0]}`,
    );
  }
});

Deno.test("referenceForward throws naming the layer when a value would wrap mod p", () => {
  const { graph, folded } = handNetwork();
  const big = structuredClone(folded);
  (big.ops.conv1 as FoldedConv).kernel = Float32Array.of(3e3, 1);
  const net = quantizeNetwork(big, graph, { fracBits: 12 });
  assert.throws(
    () => referenceForward(net, graph, [1e3, 0, 0, 0]),
    /fixed-point overflow at 'conv1' \(conv\) with f = 12.*fewer fractional bits/,
  );
  // The same network with fewer bits fits.
  referenceForward(quantizeNetwork(big, graph, { fracBits: 4 }), graph, [1e3, 0, 0, 0]);
});

Deno.test("quantizeNetwork tells weights that are no trained model's (random bytes) from too many fractional bits", () => {
  const { graph, folded } = handNetwork();
  for (const value of [NaN, 6.1e19]) {
    const random = structuredClone(folded);
    (random.ops.conv1 as FoldedConv).kernel = Float32Array.of(value, 1);
    assert.throws(
      () => quantizeNetwork(random, graph),
      /weights of 'conv1'\[0\] = .*: these are not the weights of a trained model \(values out of range\)/,
    );
  }
  const large = structuredClone(folded);
  (large.ops.conv1 as FoldedConv).bias = Float32Array.of(100, 0);
  assert.throws(
    () => quantizeNetwork(large, graph, { fracBits: 18 }),
    /bias of 'conv1'.*use fewer fractional bits/,
  );
});

Deno.test("quantizeNetwork rejects folded networks that do not fit the graph", () => {
  const { graph, folded } = handNetwork();
  const missing = structuredClone(folded);
  delete missing.ops.dense1;
  assert.throws(() => quantizeNetwork(missing, graph), /no dense entry for 'dense1'/);
  const narrow = structuredClone(folded);
  (narrow.ops.act1 as { mask: unknown[] }).mask = ["relu"];
  assert.throws(() => quantizeNetwork(narrow, graph), /'act1' has a mask of 1 channels, the graph has 2/);
  const degree = structuredClone(folded);
  (degree.ops.act1 as { coefficients: number[][] }).coefficients = [[], [0.1, 0.2]];
  assert.throws(() => quantizeNetwork(degree, graph), /channel 1 is degree 0 but has 2 coefficients/);
  assert.throws(
    () => quantizeNetwork(folded, graph, { fracBits: 20 }),
    /fracBits must be an integer in \[1, 19\]/,
  );
});

Deno.test("weightsHash is stable and changes with any weight, coefficient or f", () => {
  const { graph, folded } = handNetwork();
  const h = weightsHash(quantizeNetwork(folded, graph));
  assert.equal(h, weightsHash(quantizeNetwork(structuredClone(folded), graph)));
  assert.match(h, /^[0-9a-f]{64}$/);
  const other = structuredClone(folded);
  (other.ops.act1 as { coefficients: number[][] }).coefficients[1][0] = 0.7;
  assert.notEqual(weightsHash(quantizeNetwork(other, graph)), h);
  const bias = structuredClone(folded);
  (bias.ops.dense1 as { bias: Float32Array }).bias[0] = -0.5;
  assert.notEqual(weightsHash(quantizeNetwork(bias, graph)), h);
  assert.notEqual(weightsHash(quantizeNetwork(folded, graph, { fracBits: DEFAULT_FRAC_BITS + 1 })), h);
});

Deno.test("convAccumulate on signed integers agrees with the field kernel (plainLinear) for every conv shape", () => {
  const rng = new TestRandom(3);
  for (
    const [size, kernel, stride, padding] of [[5, 3, 1, "same"], [6, 3, 2, "same"], [7, 3, 2, "valid"], [
      4,
      1,
      1,
      "valid",
    ], [6, 5, 1, "same"]] as const
  ) {
    const graph: Graph = {
      name: "conv",
      ops: [
        { kind: "input", id: "input", inputs: [], shape: [size, size, 3] },
        { kind: "conv", id: "c", inputs: ["input"], filters: 4, kernel, stride, padding, useBias: false },
      ],
    };
    const shapes = inferShapes(graph);
    const g = linearGeometry(graph.ops[1], shapes);
    const x = Float64Array.from({ length: size * size * 3 }, () => rng.int(-5000, 5000));
    const w = Float64Array.from({ length: kernel * kernel * 12 }, () => rng.int(-300, 300));
    const out = new Float64Array(g.outShape[0] * g.outShape[1] * 4);
    convAccumulate(x, w, g, out);
    const field = plainLinear({ op: graph.ops[1] as LinearOp, inputShape: [size, size, 3] }, {
      kernel: Fp.fromSignedVec(w),
    }, Fp.fromSignedVec(x));
    assert.deepEqual(
      Array.from(out),
      Array.from(Fp.toSignedVec(field)),
      `${size} ${kernel} ${stride} ${padding}`,
    );
  }
});
