import assert from "node:assert/strict";
import { mixSeeds, permutation, Rng, shuffle } from "./random.ts";

const draw = (seed: number, n: number) => {
  const r = new Rng(seed);
  return Array.from({ length: n }, () => r.uint32());
};

Deno.test("Rng: a pure function of its seed, different seeds differ, outputs are uint32", () => {
  assert.deepEqual(draw(42, 100), draw(42, 100));
  assert.notDeepEqual(draw(42, 100), draw(43, 100));
  assert.deepEqual(draw(2 ** 32 + 5, 10), draw(5, 10));
  for (const v of draw(7, 1000)) assert.ok(Number.isInteger(v) && v >= 0 && v < 2 ** 32);
});

Deno.test("Rng: float in [0,1), int(n) in range and roughly uniform", () => {
  const r = new Rng(1);
  const counts = new Array(10).fill(0);
  const n = 100_000;
  for (let i = 0; i < n; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    counts[r.int(10)]++;
  }
  // Chi-square with 9 degrees of freedom: 27.9 is the 0.999 quantile.
  const chi = counts.reduce((s, c) => s + (c - n / 10) ** 2 / (n / 10), 0);
  assert.ok(chi < 27.9, `chi-square ${chi}`);
});

Deno.test("mixSeeds: order-sensitive, spreads neighbouring tuples", () => {
  const seen = new Set<number>();
  for (let a = 0; a < 20; a++) for (let b = 0; b < 20; b++) seen.add(mixSeeds(7, a, b));
  assert.equal(seen.size, 400);
  assert.notEqual(mixSeeds(1, 2), mixSeeds(2, 1));
  assert.notEqual(mixSeeds(1), mixSeeds(1, 0));
  assert.equal(mixSeeds(3, 4, 5), mixSeeds(3, 4, 5));
});

Deno.test("shuffle and permutation: deterministic permutations, all orders reachable", () => {
  const p = permutation(1000, new Rng(9));
  assert.deepEqual([...p].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  assert.deepEqual(permutation(1000, new Rng(9)), p);
  assert.notDeepEqual(permutation(1000, new Rng(10)), p);
  const orders = new Map<string, number>();
  const r = new Rng(3);
  for (let i = 0; i < 6000; i++) {
    const key = shuffle(["a", "b", "c"], r).join("");
    orders.set(key, (orders.get(key) ?? 0) + 1);
  }
  assert.equal(orders.size, 6);
  for (const c of orders.values()) assert.ok(c > 850 && c < 1150, `order count ${c}`);
});
