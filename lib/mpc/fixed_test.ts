import assert from "node:assert/strict";
import { decodeFixed, DEFAULT_FRAC_BITS, encodeFixed } from "./fixed.ts";

Deno.test("fixed: encode/decode round-trips within half an ulp", () => {
  const xs = [0, 1, -1, 0.5, -0.25, 3.14159, -2.71828, 1000.123, -1e-4, 9e5];
  for (const f of [0, 8, 15, 20]) {
    const back = decodeFixed(encodeFixed(xs, f), f);
    xs.forEach((x, i) => assert.ok(Math.abs(back[i] - x) <= 2 ** -(f + 1), `f=${f} x=${x} got ${back[i]}`));
  }
  assert.equal(DEFAULT_FRAC_BITS, 9);
  assert.deepEqual(Array.from(encodeFixed([-0.0001])), [0]);
});

Deno.test("fixed: encode rejects values that do not fit and non-finite values", () => {
  assert.throws(() => encodeFixed([2 ** 33], 8), /does not fit/);
  assert.throws(() => encodeFixed([NaN]), /value \[0\] = NaN/);
  assert.throws(() => encodeFixed([1], 40), /bit count/);
});
