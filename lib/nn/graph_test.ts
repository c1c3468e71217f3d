import assert from "node:assert/strict";
import { architecture, MODEL_NAMES } from "./architectures.ts";
import { activationSites, type Graph, inferShapes } from "./graph.ts";

Deno.test("activation sites and neuron counts of the three networks", () => {
  const counts = Object.fromEntries(MODEL_NAMES.map((m) => [m, activationSites(architecture(m)).map((s) => s.neurons)]));
  assert.deepEqual(counts.cnn7, [65536, 65536, 16384, 16384, 4096, 4096, 1024]);
  assert.equal(counts.vgg16.length, 14);
  assert.equal(counts.resnet32.length, 31);
  // Delphi reports 303,104 ReLUs for ResNet-32 on CIFAR.
  assert.equal(counts.resnet32.reduce((a, b) => a + b, 0), 303104);
});

Deno.test("output shapes are the class logits", () => {
  for (const m of MODEL_NAMES) {
    const g = architecture(m, { numClasses: 100 });
    assert.deepEqual(inferShapes(g).get(g.ops.at(-1)!.id), [1, 1, 100]);
  }
});

Deno.test("malformed graphs fail naming the op", () => {
  const bad: Graph = {
    name: "bad",
    ops: [
      { kind: "input", id: "input", inputs: [], shape: [8, 8, 3] },
      { kind: "conv", id: "c", inputs: ["input"], filters: 4, kernel: 3, stride: 1, padding: "same", useBias: true },
      { kind: "avgpool", id: "p", inputs: ["c"], size: 2 },
      { kind: "add", id: "a", inputs: ["c", "p"] },
    ],
  };
  assert.throws(() => inferShapes(bad), /op 'a' \(add\): shapes differ/);
  assert.throws(
    () => inferShapes({ name: "x", ops: [{ kind: "flatten", id: "f", inputs: ["nope"] }] }),
    /input 'nope' is not defined/,
  );
});
