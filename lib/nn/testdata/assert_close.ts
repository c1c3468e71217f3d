import assert from "node:assert/strict";

/** Asserts equal lengths and |actual[i] - expected[i]| <= tol everywhere, naming the first miss. */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what = "") {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}
