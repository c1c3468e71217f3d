import assert from "node:assert/strict";
import { saveModel } from "../../nn/io.ts";
import { buildModel } from "../../nn/model.ts";
import { cnn7 } from "../../nn/architectures.ts";
import { applyPlan } from "../../nn/apply_plan.ts";
import { uniformPlan } from "../../nn/plan.ts";
import { initBackend } from "../../nn/backend.ts";
import { CIFAR10_STATS } from "../../data/augment.ts";
import type { QuantizedActivation } from "../quantize.ts";
import { prepareNetwork, readPlan } from "./model.ts";

await initBackend("wasm");

Deno.test("prepareNetwork: seeded random weights, all-ReLU by default, CIFAR-10 normalisation", async () => {
  const served = await prepareNetwork({ model: "cnn7", weights: "random:5" });
  assert.equal(served.graph.name, "cnn7");
  assert.match(served.source, /random weights \(seed 5/);
  assert.ok(
    Object.values(served.net.ops).every((op) =>
      op.kind !== "activation" || op.mask.every((m) => m === "relu")
    ),
  );
  assert.deepEqual(served.normalize, CIFAR10_STATS);
  assert.deepEqual(served.warnings, []);
  const again = await prepareNetwork({ model: "cnn7", weights: "random:5" });
  assert.deepEqual(
    Array.from((again.folded.ops.conv1 as { kernel: Float32Array }).kernel.slice(0, 8)),
    Array.from((served.folded.ops.conv1 as { kernel: Float32Array }).kernel.slice(0, 8)),
  );
});

Deno.test("prepareNetwork: a saved model with training.json (no batch-norm, 4 classes, its own statistics, its plan by default)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const graph = cnn7({ batchNorm: false, numClasses: 4 });
    const model = buildModel(graph, { seed: 2 });
    const plan = uniformPlan(graph, 0.5, 3);
    applyPlan(model, graph, plan);
    await saveModel(model, dir);
    const stats = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
    await Deno.writeTextFile(
      `${dir}/training.json`,
      JSON.stringify({
        recipe: { model: "cnn7", batchNorm: false, numClasses: 4, plan },
        config: { normalize: stats },
      }),
    );
    const served = await prepareNetwork({ model: "cnn7", weights: dir, plan });
    assert.equal(served.graph.ops.filter((op) => op.kind === "batchnorm").length, 0);
    assert.deepEqual(served.normalize, stats);
    assert.deepEqual(served.warnings, []);
    const act1 = served.net.ops.act1 as QuantizedActivation;
    assert.equal(act1.mask.filter((m) => m === 3).length, 32);
    // Without a plan, the one training.json records is served.
    const byDefault = await prepareNetwork({ model: "cnn7", weights: dir });
    assert.deepEqual(byDefault.plan, plan);
    assert.deepEqual(byDefault.warnings, []);
    // Serving another plan than the one the weights carry re-applies it, with a warning.
    const other = await prepareNetwork({ model: "cnn7", weights: dir, plan: uniformPlan(graph, 0.25, 2) });
    assert.match(other.warnings.join(), /trained for another plan/);
    await assert.rejects(
      prepareNetwork({ model: "vgg16", weights: dir }),
      /are a cnn7 model .*pass --model cnn7/,
    );
    // Without training.json, the weights themselves do not fit.
    await Deno.remove(`${dir}/training.json`);
    await assert.rejects(prepareNetwork({ model: "vgg16", weights: dir }), /has no layer|does not fit/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readPlan: a missing or broken file is a clear error", async () => {
  await assert.rejects(readPlan("/nonexistent/plan.json"), /cannot read plan \/nonexistent\/plan.json/);
});
