import assert from "node:assert/strict";
import { architecture, MODEL_NAMES } from "./architectures.ts";
import { activationSites, forwardMacs, type Graph, inferShapes, outputSize, paddingBefore } from "./graph.ts";

Deno.test("activation sites and neuron counts of the three networks", () => {
  const counts = Object.fromEntries(
    MODEL_NAMES.map((m) => [m, activationSites(architecture(m)).map((s) => s.neurons)]),
  );
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
      {
        kind: "conv",
        id: "c",
        inputs: ["input"],
        filters: 4,
        kernel: 3,
        stride: 1,
        padding: "same",
        useBias: true,
      },
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

Deno.test("forwardMacs: CNN-7 by hand, layer by layer", () => {
  const conv = (size: number, k: number, cin: number, cout: number) => size * size * k * k * cin * cout;
  const byHand = conv(32, 3, 3, 64) + conv(32, 3, 64, 64) + // 32x32, then average pooling
    conv(16, 3, 64, 64) * 2 + // 16x16, then average pooling
    conv(8, 3, 64, 64) + conv(8, 1, 64, 64) + conv(8, 1, 64, 16) +
    8 * 8 * 16 * 10; // dense on the flattened 8x8x16
  assert.equal(byHand, 61_089_792);
  assert.equal(forwardMacs(architecture("cnn7")), byHand);
  // Residual 1x1 shortcuts and strides count too: ResNet-32 is larger than CNN-7 per image.
  assert.ok(forwardMacs(architecture("resnet32")) > byHand);
});

Deno.test("conv output size and padding follow TensorFlow's rules", () => {
  // [size, kernel, stride, padding] -> [output size, padding before]
  const cases: [number, number, number, "same" | "valid", number, number][] = [
    [32, 3, 1, "same", 32, 1],
    [32, 5, 1, "same", 32, 2],
    [32, 3, 2, "same", 16, 0], // total padding 1: 0 before, 1 after
    [33, 3, 2, "same", 17, 1],
    [32, 3, 1, "valid", 30, 0],
    [32, 3, 2, "valid", 15, 0],
  ];
  for (const [size, k, s, padding, out, before] of cases) {
    assert.equal(outputSize(size, k, s, padding), out, `${size} ${k} ${s} ${padding}`);
    assert.equal(paddingBefore(size, k, s, padding), before, `${size} ${k} ${s} ${padding}`);
  }
});
