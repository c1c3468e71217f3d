import assert from "node:assert/strict";
import { median } from "./stats.ts";

Deno.test("median: middle of an odd count, upper middle of an even one, unsorted input untouched", () => {
  const xs = [5, 1, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 3]);
  assert.equal(median([4, 1, 3, 2]), 3);
  assert.equal(median([7]), 7);
  assert.ok(Number.isNaN(median([])));
});
