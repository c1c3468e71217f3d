import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import assert from "node:assert/strict";
import { cnn7, resnet32, vgg16 } from "./architectures.ts";
import { fitReluPerChannel, l1Importance, selectApproximated } from "./approximation.ts";
import { applyPlan } from "./apply_plan.ts";
import { activationLayers, buildModel, findLayer } from "./model.ts";
import { allReluPlan, countPlan, layerwisePlan, type Plan, uniformPlan, validatePlan } from "./plan.ts";

await tf.setBackend("cpu");

// CNN-7's sites by hand: [height, width, channels].
const CNN7_SITES = [[32, 32, 64], [32, 32, 64], [16, 16, 64], [16, 16, 64], [8, 8, 64], [8, 8, 64], [
  8,
  8,
  16,
]];

Deno.test("countPlan: all-ReLU totals of CNN-7, VGG-16 and ResNet-32", () => {
  for (
    const [graph, sites, total] of [[cnn7(), 7, 173_056], [vgg16(), 14, 276_992], [
      resnet32(),
      31,
      303_104,
    ]] as const
  ) {
    const count = countPlan(graph, allReluPlan(graph));
    assert.equal(count.sites.length, sites, graph.name);
    assert.equal(count.neurons, total, graph.name);
    assert.equal(count.relus, total, graph.name);
    assert.equal(count.approximatedNeurons, 0);
    assert.equal(count.fractionReplaced, 0);
  }
});

Deno.test("countPlan: uniform alpha on CNN-7 floors per channel, then multiplies by H x W", () => {
  for (const [alpha, beta] of [[0.5, 2], [0.3, 3], [1, 0]] as const) {
    const count = countPlan(cnn7(), uniformPlan(cnn7(), alpha, beta));
    const approx = CNN7_SITES.map(([h, w, c]) => Math.floor(alpha * c) * h * w);
    assert.deepEqual(count.sites.map((s) => s.approximatedNeurons), approx);
    assert.deepEqual(
      count.sites.map((s) => s.approximatedChannels),
      CNN7_SITES.map(([, , c]) => Math.floor(alpha * c)),
    );
    const total = approx.reduce((a, b) => a + b, 0);
    assert.equal(count.approximatedNeurons, total);
    assert.equal(count.approximatedByDegree[beta], total);
    assert.equal(count.relus, 173_056 - total);
    assert.equal(count.fractionReplaced, total / 173_056);
  }
  // alpha 0.3: 19 of 64 and 4 of 16 channels.
  assert.equal(
    countPlan(cnn7(), uniformPlan(cnn7(), 0.3, 2)).approximatedNeurons,
    19 * (2048 + 512 + 128) + 4 * 64,
  );
  assert.equal(countPlan(cnn7(), uniformPlan(cnn7(), 0.5, 2)).approximatedNeurons, 86_528);
});

Deno.test("layerwisePlan replaces whole sites by index or id; counts split by degree", () => {
  const graph = cnn7();
  const plan = layerwisePlan(graph, [0, "act7"], 3);
  assert.deepEqual(plan.sites.map((s) => s.alpha), [1, 0, 0, 0, 0, 0, 1]);
  const count = countPlan(graph, plan);
  assert.equal(count.approximatedByDegree[3], 65_536 + 1_024);
  assert.equal(count.approximatedByDegree[2], 0);
  assert.throws(() => layerwisePlan(graph, ["act9"]), /no activation site "act9"; sites are 0..6/);
  const mixed: Plan = { model: "cnn7", sites: plan.sites.map((s, i) => ({ ...s, beta: i ? 2 : 0 })) };
  assert.deepEqual(countPlan(graph, mixed).approximatedByDegree, { 0: 65_536, 1: 0, 2: 1_024, 3: 0 });
});

Deno.test("validatePlan names the problem", () => {
  const graph = cnn7();
  const good = allReluPlan(graph);
  assert.throws(
    () => validatePlan(graph, { ...good, model: "vgg16" }),
    /invalid plan for cnn7: it is for model 'vgg16'/,
  );
  assert.throws(
    () => validatePlan(graph, { ...good, sites: good.sites.slice(1) }),
    /6 sites, the network has 7/,
  );
  const at = (i: number, site: object) =>
    ({ ...good, sites: good.sites.map((s, j) => (i === j ? site : s)) }) as Plan;
  assert.throws(
    () => validatePlan(graph, at(2, { alpha: 1.2, beta: 2 })),
    /site 2: alpha must be a number in \[0, 1\], got 1.2/,
  );
  assert.throws(() => validatePlan(graph, at(0, { alpha: NaN, beta: 2 })), /site 0: alpha/);
  assert.throws(
    () => validatePlan(graph, at(3, { alpha: 0.5, beta: 4 })),
    /site 3: beta must be one of 0, 1, 2, 3, got 4/,
  );
  assert.throws(() => validatePlan(graph, at(3, { alpha: 0.5, beta: "2" })), /site 3: beta/);
  assert.throws(() => uniformPlan(graph, -0.1, 2), /alpha must be/);
});

Deno.test("applyPlan picks masks by the producers' L1 norms and calibrates sites in order", () => {
  const graph = cnn7({ inputShape: [8, 8, 3] });
  const model = buildModel(graph, { seed: 3 });
  const plan: Plan = {
    model: "cnn7",
    sites: [0.5, 0.25, 1, 0, 0.75, 0.5, 0.5].map((alpha, i) => ({ alpha, beta: i % 2 ? 3 : 2 })),
  };
  const batch = tf.randomNormal([16, 8, 8, 3], 0, 1, "float32", 5);
  applyPlan(model, graph, plan, batch);
  const layers = activationLayers(model, graph);
  graph.ops.filter((op) => op.kind === "activation").forEach((op, i) => {
    if (op.kind !== "activation") return;
    const kernel = findLayer(model, op.producer).getWeights()[0];
    const expected = selectApproximated(
      l1Importance(kernel.dataSync(), kernel.shape[3]!),
      plan.sites[i].alpha,
    );
    assert.deepEqual(layers[i].getMask(), expected, `mask of ${op.id}`);
    assert.equal(layers[i].degree, plan.sites[i].beta);
  });
  // Sites 1 and 2 were fitted on what they saw, site 2's input coming through the fitted site 1.
  for (const i of [0, 1]) {
    const upTo = tfl.model({ inputs: model.inputs, outputs: layers[i].input as tfl.SymbolicTensor });
    const seen = (upTo.predict(batch) as tf.Tensor).dataSync();
    const fitted = fitReluPerChannel(seen, 64, plan.sites[i].beta);
    layers[i].getCoefficients().forEach((c, ch) => {
      c.forEach((v, k) =>
        assert.ok(
          Math.abs(v - fitted[ch][k]) < 1e-4,
          `site ${i} channel ${ch} c${k}: ${v} vs ${fitted[ch][k]}`,
        )
      );
    });
  }
  assert.throws(
    () => applyPlan(model, graph, allReluPlan(vgg16())),
    /invalid plan for cnn7: it is for model .vgg16./,
  );
});
