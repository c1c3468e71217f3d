import assert from "node:assert/strict";
import { SearchRng } from "./rng.ts";

const draws = (rng: SearchRng, n: number) => Array.from({ length: n }, () => rng.uint32());

Deno.test("SearchRng: a pure function of its seed; restore continues the same sequence", () => {
  assert.deepEqual(draws(new SearchRng(7), 50), draws(new SearchRng(7), 50));
  assert.notDeepEqual(draws(new SearchRng(7), 50), draws(new SearchRng(8), 50));
  const a = new SearchRng(7);
  draws(a, 13);
  const saved = JSON.parse(JSON.stringify(a.state));
  assert.deepEqual(draws(SearchRng.restore(saved), 20), draws(a, 20));
  assert.throws(() => new SearchRng(1, -1), /draws must be a non-negative integer/);
});

Deno.test("SearchRng: float, int, choice, sampleIndices in range; normal has mean 0 and variance 1", () => {
  const rng = new SearchRng(3);
  const n = 20_000;
  let sum = 0, squares = 0;
  for (let i = 0; i < n; i++) {
    const f = rng.float();
    assert.ok(f >= 0 && f < 1);
    const k = rng.int(5);
    assert.ok(Number.isInteger(k) && k >= 0 && k < 5);
    const z = rng.normal();
    sum += z;
    squares += z * z;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(squares / n - 1) < 0.05, `variance ${squares / n}`);
  const picked = rng.sampleIndices(10, 6);
  assert.equal(new Set(picked).size, 6);
  assert.ok(picked.every((i) => i >= 0 && i < 10));
  assert.throws(() => rng.sampleIndices(3, 4), /0 <= k <= n/);
  assert.throws(() => rng.int(0), /positive integer/);
  assert.throws(() => rng.choice([]), /empty/);
});

Deno.test("SearchRng.truncatedNormal: samples stay in the interval and centre on the mean inside it", () => {
  const rng = new SearchRng(11);
  let sum = 0;
  for (let i = 0; i < 5000; i++) {
    const x = rng.truncatedNormal(0.5, 0.1, 0, 1);
    assert.ok(x >= 0 && x <= 1);
    sum += x;
  }
  assert.ok(Math.abs(sum / 5000 - 0.5) < 0.01);
  for (let i = 0; i < 1000; i++) {
    const x = rng.truncatedNormal(1, 0.5, 0, 1);
    assert.ok(x >= 0 && x <= 1);
  }
  assert.throws(() => rng.truncatedNormal(0.5, 0, 0, 1), /sigma > 0/);
});
