import assert from "node:assert/strict";
import { convAccumulate, maxFilterL1, sumPool } from "./linear.ts";

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

Deno.test("sumPool: window sums, plain (signed) or reduced mod a modulus", () => {
  // 2x2x2 input, channel-interleaved: channel 0 holds 1..4, channel 1 holds -1..-4.
  const x = Float64Array.of(1, -1, 2, -2, 3, -3, 4, -4);
  assert.deepEqual(Array.from(sumPool(x, [2, 2, 2], [2, 2])), [10, -10]);
  assert.deepEqual(Array.from(sumPool(x, [2, 2, 2], [1, 2])), [3, -3, 7, -7]);
  // Mod 7 on [0, 7): 6 + 5 + 4 + 3 = 18 = 4 (mod 7), every partial sum stays in [0, 7).
  assert.deepEqual(Array.from(sumPool(Float64Array.of(6, 5, 4, 3), [2, 2, 1], [2, 2], 7)), [4]);
});
