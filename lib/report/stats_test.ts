import assert from "node:assert/strict";
import { argmax, median, roundTo } from "./stats.ts";

Deno.test("median: middle of an odd count, upper middle of an even one, unsorted input untouched", () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 3);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});

Deno.test("argmax: index of the largest entry, the first on ties, on any array-like", () => {
  assert.equal(argmax([0.1, -2, 3.5, 3.4]), 2);
  assert.equal(argmax(Float32Array.of(1, 7, 7, 0)), 1);
  assert.equal(argmax([-5]), 0);
});

Deno.test("roundTo: decimal places, negative values, whole numbers", () => {
  assert.equal(roundTo(0.23744, 4), 0.2374);
  assert.equal(roundTo(-1.23456, 2), -1.23);
  assert.equal(roundTo(7.6, 0), 8);
});
