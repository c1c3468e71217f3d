import assert from "node:assert/strict";
import { Fp } from "../field.ts";
import { plainLinear } from "../he/plain.ts";
import type { LinearOp } from "../he/layer.ts";
import { convAccumulate, maxFilterL1 } from "./linear.ts";
import { linearGeometry } from "../quantize.ts";
import { type Graph, inferShapes } from "../../nn/graph.ts";
import { TestRandom } from "./testdata/networks.ts";

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

Deno.test("convAccumulate: a dense layer is a 1x1 conv over a flat input; sizes are checked", () => {
  const g = { inShape: [1, 1, 3], outShape: [1, 1, 2], kernel: 1, stride: 1, padding: "valid" } as const;
  const out = Float64Array.of(10, 20);
  convAccumulate(Float64Array.of(1, 2, 3), Float64Array.of(1, -1, 2, 0, 0, 5), g, out);
  assert.deepEqual(Array.from(out), [10 + 1 + 4, 20 - 1 + 15]);
  assert.throws(
    () => convAccumulate(new Float64Array(2), new Float64Array(6), g, out),
    /input has 2 values, expected 3/,
  );
  assert.equal(maxFilterL1(Float64Array.of(1, -1, 2, 0, 0, 5), 2), 6);
});
