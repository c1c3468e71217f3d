import assert from "node:assert/strict";
import { convAccumulate, maxFilterL1 } from "./linear.ts";

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
