import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import * as tfl from "@tensorflow/tfjs-layers";
import assert from "node:assert/strict";
import { cnn7, resnet32, vgg16 } from "./architectures.ts";
import type { Graph } from "./graph.ts";
import { MaskedActivation } from "./masked_activation.ts";
import { initBackend } from "./backend.ts";
import { relativeError } from "./kernels/_test_util.ts";
import {
  activationLayers,
  buildModel,
  findLayer,
  TrainingBatchNormalization,
  TrainingConv2D,
} from "./model.ts";
import { applyPlan } from "./apply_plan.ts";
import { allReluPlan, uniformPlan } from "./plan.ts";

await tf.setBackend("cpu");

const count = (ws: tfl.LayerVariable[]) => ws.reduce((a, w) => a + w.shape.reduce((x, y) => x! * y!, 1)!, 0);

Deno.test("buildModel: CNN-7 layers named by op id, of the right kinds and sizes", () => {
  const graph = cnn7();
  const model = buildModel(graph);
  assert.deepEqual(model.layers.map((l) => l.name), graph.ops.map((op) => op.id));
  const kinds: Record<string, string> = {
    input: "InputLayer",
    conv: "Conv2D",
    batchnorm: "BatchNormalization",
    activation: "MaskedActivation",
    avgpool: "AveragePooling2D",
    flatten: "Flatten",
    dense: "Dense",
  };
  graph.ops.forEach((op, i) => assert.equal(model.layers[i].getClassName(), kinds[op.kind], op.id));
  assert.deepEqual(model.outputs[0].shape, [null, 10]);
  // By hand: convs 3*3*3*64 + 4 * 3*3*64*64 + 64*64 + 64*16, dense 8*8*16*10 + 10,
  // batch-norm gamma/beta 2 * (6*64 + 16), coefficients 4 * (6*64 + 16).
  assert.equal(count(model.trainableWeights), 1728 + 4 * 36864 + 4096 + 1024 + 10250 + 800 + 1600);
  // Moving mean/variance 2 * 400, masks 400.
  assert.equal(count(model.nonTrainableWeights), 1200);
  const conv = findLayer(model, "conv7").getConfig();
  assert.equal(conv.padding, "same");
  assert.equal(conv.useBias, false);
  assert.ok(activationLayers(model, graph).every((l) => l.alpha === 0));
});

Deno.test("buildModel: ResNet-32 has strided convs, residual adds and a 1x1 global pool", () => {
  const graph = resnet32();
  const model = buildModel(graph);
  assert.equal(model.layers.filter((l) => l.getClassName() === "Add").length, 15);
  assert.deepEqual(findLayer(model, "conv12").getConfig().strides, [2, 2]); // stage 2's first block
  assert.deepEqual(findLayer(model, "conv14").getConfig().kernelSize, [1, 1]); // its shortcut
  assert.deepEqual((findLayer(model, "gap").output as tfl.SymbolicTensor).shape, [null, 1, 1, 64]);
  assert.equal(activationLayers(model, graph).length, 31);
  assert.deepEqual(buildModel(vgg16()).outputs[0].shape, [null, 10]);
});

Deno.test("buildModel: seeded He-normal kernels, deterministic per seed, distinct per layer", () => {
  const graph = cnn7({ inputShape: [8, 8, 3] });
  const kernel = (m: tfl.LayersModel, id: string) => findLayer(m, id).getWeights()[0].dataSync();
  const a = buildModel(graph, { seed: 1 });
  assert.deepEqual(kernel(a, "conv3"), kernel(buildModel(graph, { seed: 1 }), "conv3"));
  assert.notDeepEqual(kernel(a, "conv3"), kernel(buildModel(graph, { seed: 2 }), "conv3"));
  assert.notDeepEqual(kernel(a, "conv3"), kernel(a, "conv4"));
  const w = kernel(a, "conv3");
  const std = Math.sqrt(Array.from(w).reduce((s, v) => s + v * v, 0) / w.length);
  const he = Math.sqrt(2 / (3 * 3 * 64));
  assert.ok(Math.abs(std / he - 1) < 0.15, `std ${std} vs He ${he}`);
});

// Small enough for the cpu backend, whose Conv2DBackpropFilter is ~100x slower than its forward conv.
const TINY: Graph = {
  name: "tiny",
  ops: [
    { kind: "input", id: "input", inputs: [], shape: [4, 4, 2] },
    {
      kind: "conv",
      id: "conv1",
      inputs: ["input"],
      filters: 6,
      kernel: 3,
      stride: 1,
      padding: "same",
      useBias: false,
    },
    { kind: "batchnorm", id: "bn1", inputs: ["conv1"] },
    { kind: "activation", id: "act1", inputs: ["bn1"], producer: "conv1" },
    { kind: "avgpool", id: "pool1", inputs: ["act1"], size: 2 },
    { kind: "flatten", id: "flatten", inputs: ["pool1"] },
    { kind: "dense", id: "dense1", inputs: ["flatten"], units: 3 },
  ],
};

Deno.test("a masked model trains with tfjs fit: all-ReLU and mixed plans", async () => {
  const x = tf.randomNormal([12, 4, 4, 2], 0, 1, "float32", 1);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2], "int32"), 3);
  for (const plan of [allReluPlan(TINY), uniformPlan(TINY, 0.5, 3)]) {
    const model = buildModel(TINY, { seed: 4 });
    applyPlan(model, TINY, plan, x);
    model.compile({ optimizer: tf.train.sgd(0.02), loss: "categoricalCrossentropy" });
    const before = activationLayers(model, TINY)[0].getCoefficients();
    const history = await model.fit(x, y, { epochs: 5, batchSize: 12, verbose: 0, shuffle: false });
    const loss = history.history.loss as number[];
    assert.ok(loss[4] < loss[0], `loss should fall: ${loss}`);
    const after = activationLayers(model, TINY)[0].getCoefficients();
    assert.equal(
      JSON.stringify(after) !== JSON.stringify(before),
      plan.sites[0].alpha > 0,
      "coefficients train",
    );
  }
});

Deno.test("a MaskedActivation works on dense sites ([batch, units])", () => {
  const model = buildModel(vgg16({ inputShape: [32, 32, 3] }));
  const site = findLayer(model, "act14");
  assert.ok(site instanceof MaskedActivation);
  assert.equal(site.channels, 512);
});

/**
 * Loss, gradients and updated batch-norm statistics of one training-mode pass of `model`, whose
 * class names and weights also rebuild it from its JSON with tfjs-layers' stock layers.
 */
function trainingPass(model: tfl.LayersModel, x: tf.Tensor, r: tf.Tensor): tf.Tensor[] {
  const { value, grads } = tf.variableGrads(
    () => tf.sum(tf.mul(model.apply(x, { training: true }) as tf.Tensor, r)) as tf.Scalar,
    model.trainableWeights.map((w) => w.read() as tf.Variable),
  );
  return [value, ...Object.values(grads), ...model.nonTrainableWeights.map((w) => tf.clone(w.read()))];
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`buildModel's Conv2D and BatchNormalization train like tfjs-layers' stock layers (${backend})`, async () => {
    await initBackend(backend);
    const built = buildModel(TINY, { seed: 5 });
    assert.ok(built.layers.some((l) => l instanceof TrainingConv2D));
    assert.ok(built.layers.some((l) => l instanceof TrainingBatchNormalization));
    // Saved as stock layers: the JSON rebuilds a model of stock Conv2D and BatchNormalization.
    const stock = await tfl.models.modelFromJSON({ modelTopology: built.toJSON(null, false) });
    assert.ok(
      !stock.layers.some((l) => l instanceof TrainingConv2D || l instanceof TrainingBatchNormalization),
    );
    assert.deepEqual(stock.weights.map((w) => w.originalName), built.weights.map((w) => w.originalName));
    stock.setWeights(built.getWeights());
    const x = tf.add(tf.mul(tf.randomNormal([6, 4, 4, 2], 0, 1, "float32", 6), 2), 1);
    const r = tf.randomNormal([6, 3], 0, 1, "float32", 7);
    // Twice: the second pass starts from moving statistics the first one updated.
    for (let pass = 0; pass < 2; pass++) {
      const want = trainingPass(stock, x, r), got = trainingPass(built, x, r);
      assert.equal(got.length, want.length);
      got.forEach((g, i) => {
        const err = relativeError(g.dataSync(), want[i].dataSync());
        assert.ok(err < 1e-4, `pass ${pass} output ${i}: relative error ${err}`);
      });
      tf.dispose([...want, ...got]);
    }
    const inference = (m: tfl.LayersModel) => (m.predict(x) as tf.Tensor).dataSync();
    assert.ok(relativeError(inference(built), inference(stock)) < 1e-5);
    await initBackend("cpu");
  });
}
