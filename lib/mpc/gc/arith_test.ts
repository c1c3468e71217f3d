import assert from "node:assert/strict";
import { CircuitBuilder, evaluatePlain } from "./circuit.ts";
import { add, bitLength, constWord, geConst, modAddPlusOne, subConst } from "./arith.ts";
import { fromBitMatrix, toBitMatrix } from "./relu.ts";

/** Evaluates a two-word function of x (garbler) and y (evaluator) on all given pairs. */
function run(
  width: number,
  xs: number[],
  ys: number[],
  f: (b: CircuitBuilder, x: number[], y: number[]) => number[],
): { values: Float64Array; ands: number } {
  const b = new CircuitBuilder();
  const x = b.garblerWord(width), y = b.evaluatorWord(width);
  const out = f(b, x, y);
  out.forEach((bit) => b.output(bit));
  const c = b.build();
  const n = xs.length;
  const bits = evaluatePlain(
    c,
    n,
    toBitMatrix(Float64Array.from(xs), width),
    toBitMatrix(Float64Array.from(ys), width),
  );
  return { values: fromBitMatrix(bits, out.length, n), ands: c.ands };
}

function allPairs(limit: number): [number[], number[]] {
  const xs: number[] = [], ys: number[] = [];
  for (let x = 0; x < limit; x++) for (let y = 0; y < limit; y++) xs.push(x), ys.push(y);
  return [xs, ys];
}

Deno.test("constWord and bitLength", () => {
  assert.deepEqual(constWord(6, 4), [0, 1, 1, 0]);
  assert.throws(() => constWord(16, 4), /not an integer/);
  assert.deepEqual([0, 1, 2, 255, 256, 2 ** 41].map(bitLength), [0, 1, 2, 8, 9, 42]);
});

Deno.test("add: exhaustive on 5 bits, one AND per carry, with carry-in and truncation", () => {
  const [xs, ys] = allPairs(32);
  const full = run(5, xs, ys, (b, x, y) => add(b, x, y));
  assert.equal(full.ands, 5);
  xs.forEach((x, i) => assert.equal(full.values[i], x + ys[i]));
  const plusOne = run(5, xs, ys, (b, x, y) => add(b, x, y, 1, 5));
  xs.forEach((x, i) => assert.equal(plusOne.values[i], (x + ys[i] + 1) % 32));
});

Deno.test("geConst and subConst against constants: exhaustive on 6 bits; free low zero bits", () => {
  const xs = Array.from({ length: 64 }, (_, i) => i);
  for (const k of [0, 1, 13, 32, 48, 63]) {
    const ge = run(6, xs, xs, (b, x) => [geConst(b, x, k)]);
    xs.forEach((x) => assert.equal(ge.values[x], x >= k ? 1 : 0, `${x} >= ${k}`));
    const sub = run(6, xs, xs, (b, x) => subConst(b, x, k));
    xs.forEach((x) => x >= k && assert.equal(sub.values[x], x - k));
  }
  // 48 = 0b110000: the 4 low zero bits cost nothing, the top two one AND each.
  assert.equal(run(6, [0], [0], (b, x) => [geConst(b, x, 48)]).ands, 1);
});

Deno.test("modAddPlusOne: exhaustive for small odd moduli", () => {
  for (const p of [3, 5, 11, 13, 17, 31, 33]) {
    const w = bitLength(p);
    const [xs, ys] = allPairs(p);
    const r = run(w, xs, ys, (b, x, y) => modAddPlusOne(b, x, y, p));
    xs.forEach((x, i) => assert.equal(r.values[i], (x + ys[i] + 1) % p, `p=${p}: ${x}+${ys[i]}+1`));
  }
});

Deno.test("modAddPlusOne for Delphi's p: 85 ANDs, exact at the wrap-around", () => {
  const p = 2061584302081;
  const edges = [0, 1, 2, p - 2, p - 1, 2 ** 37, 15 * 2 ** 37, 2 ** 40, (p - 1) / 2];
  const xs: number[] = [], ys: number[] = [];
  for (const x of edges) for (const y of edges) xs.push(x), ys.push(y);
  const r = run(41, xs, ys, (b, x, y) => modAddPlusOne(b, x, y, p));
  assert.equal(r.ands, 85);
  xs.forEach((x, i) => assert.equal(r.values[i], (x + ys[i] + 1) % p, `${x}+${ys[i]}+1`));
  assert.throws(() => run(42, [0], [0], (b, x, y) => modAddPlusOne(b, x, y, p)), /wider/);
});
