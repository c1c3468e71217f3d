import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import type * as tfl from "@tensorflow/tfjs-layers";
import assert from "node:assert/strict";
import { cnn7, resnet32, vgg16 } from "./architectures.ts";
import { type FoldedConv, type FoldedDense, foldedForward, foldedTrace, foldNetwork } from "./fold.ts";
import { type Graph, inferShapes } from "./graph.ts";
import { activationLayers, buildModel, findLayer } from "./model.ts";
import { applyPlan } from "./apply_plan.ts";
import { allReluPlan, type Plan, uniformPlan } from "./plan.ts";

await tf.setBackend("cpu");

/** Gives every batch-norm non-trivial gamma, beta and running statistics, so folding matters. */
function randomiseBatchNorms(model: tfl.LayersModel, graph: Graph, seed: number) {
  for (const op of graph.ops) {
    if (op.kind !== "batchnorm") continue;
    const layer = findLayer(model, op.id);
    const c = layer.getWeights()[0].shape[0];
    layer.setWeights([
      tf.randomUniform([c], 0.5, 1.5, "float32", seed++),
      tf.randomUniform([c], -0.3, 0.3, "float32", seed++),
      tf.randomUniform([c], -0.5, 0.5, "float32", seed++),
      tf.randomUniform([c], 0.5, 4, "float32", seed++),
    ]);
  }
}

Deno.test("foldNetwork folds batch-norm into the conv by hand on a 1x1 network", () => {
  const graph: Graph = {
    name: "one",
    ops: [
      { kind: "input", id: "input", inputs: [], shape: [1, 1, 1] },
      {
        kind: "conv",
        id: "conv1",
        inputs: ["input"],
        filters: 2,
        kernel: 1,
        stride: 1,
        padding: "valid",
        useBias: true,
      },
      { kind: "batchnorm", id: "bn1", inputs: ["conv1"] },
      { kind: "activation", id: "act1", inputs: ["bn1"], producer: "conv1" },
      { kind: "flatten", id: "flatten", inputs: ["act1"] },
      { kind: "dense", id: "dense1", inputs: ["flatten"], units: 1 },
    ],
  };
  const model = buildModel(graph);
  findLayer(model, "conv1").setWeights([tf.tensor4d([2, -1], [1, 1, 1, 2]), tf.tensor1d([0.5, 0])]);
  // gamma, beta, moving mean, moving variance per channel.
  const [gamma, beta, mean, variance] = [[0.5, 2], [1, -1], [2, 0.5], [3, 1]];
  findLayer(model, "bn1").setWeights([gamma, beta, mean, variance].map((v) => tf.tensor1d(v)));
  const plan: Plan = { model: "one", sites: [{ alpha: 0.5, beta: 2 }] };
  applyPlan(model, graph, plan); // channel 1 (|w| 1 < 2) is approximated
  activationLayers(model, graph)[0].writeCoefficients([[1, 1, 1], [0.25, -0.5, 2]]);
  const folded = foldNetwork(model, graph, plan);
  const conv = folded.ops.conv1 as FoldedConv;
  const eps = 1e-5; // buildModel's batch-norm epsilon
  const s = [0.5 / Math.sqrt(3 + eps), 2 / Math.sqrt(1 + eps)];
  const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-6, `${a} vs ${b}`);
  close(conv.kernel[0], 2 * s[0]);
  close(conv.bias[0], (0.5 - 2) * s[0] + 1);
  close(conv.kernel[1], -1 * s[1]);
  close(conv.bias[1], (0 - 0.5) * s[1] - 1);
  assert.deepEqual(folded.ops.bn1, { kind: "folded", into: "conv1" });
  assert.deepEqual(folded.ops.act1, {
    kind: "activation",
    alpha: 0.5,
    degree: 2,
    mask: ["relu", 2],
    coefficients: [[], [0.25, -0.5, 2]],
  });
  assert.deepEqual((folded.ops.dense1 as FoldedDense).kernelShape, [2, 1]);
  const x = [1.5];
  const trace = foldedTrace(folded, graph, x);
  const pre = [(2 * 1.5 + 0.5 - 2) * s[0] + 1, (-1.5 - 0.5) * s[1] - 1];
  close(trace.get("act1")![0], Math.max(pre[0], 0));
  close(trace.get("act1")![1], 0.25 - 0.5 * pre[1] + 2 * pre[1] ** 2);
  const logits = (model.predict(tf.tensor4d(x, [1, 1, 1, 1])) as tf.Tensor).dataSync();
  assert.ok(Math.abs(foldedForward(folded, graph, x)[0] - logits[0]) < 1e-5);
});

/** Checks the folded reference forward pass against the tfjs model in inference mode. */
function checkMatches(graph: Graph, plan: Plan, examples: number) {
  const [h, w, c] = inferShapes(graph).get("input")!;
  const model = buildModel(graph, { seed: 11 });
  randomiseBatchNorms(model, graph, 100);
  const x = tf.randomNormal([examples, h, w, c], 0, 1, "float32", 9);
  applyPlan(model, graph, plan, x);
  const folded = foldNetwork(model, graph, plan);
  const logits = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  const data = x.dataSync();
  if (examples > 1) {
    const spread = Math.max(...logits[0].map((v, k) => Math.abs(v - logits[1][k])));
    assert.ok(spread > 1e-2 * Math.max(...logits[0].map(Math.abs)), "logits depend on the input");
  }
  for (let e = 0; e < examples; e++) {
    const ref = foldedForward(folded, graph, data.subarray(e * h * w * c, (e + 1) * h * w * c));
    const scale = Math.max(...logits[e].map(Math.abs));
    assert.ok(scale > 1e-3, "logits are not degenerate");
    logits[e].forEach((v, k) => {
      assert.ok(
        Math.abs(v - ref[k]) <= 1e-4 * scale,
        `${graph.name} example ${e} logit ${k}: tfjs ${v} vs folded ${ref[k]}`,
      );
    });
  }
  tf.dispose(model.weights.map((v) => v.read()));
}

/** Every degree and several ratios, never a whole site pruned (that would cut the input off the logits). */
function mixed(graph: Graph, sites: number): Plan {
  return {
    model: graph.name,
    sites: Array.from({ length: sites }, (_, i) => {
      const alpha = [0.5, 0.25, 1, 0, 0.75][i % 5];
      return { alpha, beta: alpha === 1 ? 2 : ([3, 0, 1, 2] as const)[i % 4] };
    }),
  };
}

Deno.test("foldedForward matches the tfjs model: CNN-7, mixed plan and all-ReLU", () => {
  const graph = cnn7({ inputShape: [8, 8, 3] });
  checkMatches(graph, mixed(graph, 7), 2);
  checkMatches(graph, allReluPlan(graph), 1);
});

Deno.test("foldedForward matches the tfjs model: ResNet-32 (strided 'same' convs, residual adds)", () => {
  const graph = resnet32({ inputShape: [8, 8, 3] });
  checkMatches(graph, mixed(graph, 31), 2);
});

Deno.test("foldedForward matches the tfjs model: VGG-16 (dense activation site)", () => {
  const graph = vgg16({ inputShape: [32, 32, 3] });
  checkMatches(graph, uniformPlan(graph, 0.5, 2), 1);
});

Deno.test("foldNetwork refuses a plan the model does not run", () => {
  const graph = cnn7({ inputShape: [8, 8, 3] });
  const model = buildModel(graph);
  assert.throws(
    () => foldNetwork(model, graph, uniformPlan(graph, 0.5, 2)),
    /site 'act1' runs alpha 0, degree 2 but the plan says alpha 0.5, beta 2: applyPlan/,
  );
});
