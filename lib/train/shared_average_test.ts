import assert from "node:assert/strict";
import { SharedAverage, type SharedAverageLayout, weightedAverage } from "./shared_average.ts";
import { weightedAverageNative } from "../nn/native/weighted_average.ts";

type Answer = { result?: number[]; squares?: number; error?: string };

/** Runs one averaging step over `values.length` workers; each answers with what it got. */
async function averageInWorkers(
  layout: SharedAverageLayout,
  values: number[][],
  weights: number[],
  failing?: number,
): Promise<Answer[]> {
  const shared = SharedAverage.create(layout);
  const workers = values.map(() =>
    new Worker(new URL("./testdata/average_worker.ts", import.meta.url), { type: "module" })
  );
  try {
    return await Promise.all(workers.map((w, index) =>
      new Promise<Answer>((resolve) => {
        w.onmessage = (e) => resolve(e.data);
        w.postMessage({
          buffer: shared.buffer,
          layout,
          index,
          values: values[index],
          weights,
          fail: index === failing,
        });
      })
    ));
  } finally {
    for (const w of workers) w.terminate();
  }
}

Deno.test("shared average: three workers get the same weighted mean, accumulated in double precision in worker order, and the gradient's squared norm", async () => {
  const layout = { replicas: 3, length: 7, gradientLength: 5 };
  const values = [
    [1, 2, 3, 4, 5, 6, 7],
    [0.1, -2, 3e-8, 4, 1e7, -6, 0],
    [9, 9, 9, 9, 9, 9, 9],
  ];
  const weights = [0.5, 0.25, 0.25];
  const expected = Array.from(
    { length: 7 },
    (_, j) => Math.fround(values.reduce((acc, v, i) => acc + weights[i] * Math.fround(v[j]), 0)),
  );
  const squares = expected.slice(0, 5).reduce((s, v) => s + v * v, 0);
  const answers = await averageInWorkers(layout, values, weights);
  for (const a of answers) {
    assert.deepEqual(a.result, expected);
    assert.ok(Math.abs(a.squares! - squares) <= 1e-12 * squares, `${a.squares} vs ${squares}`);
  }
  // All three summed the same partials in the same order.
  assert.equal(new Set(answers.map((a) => a.squares)).size, 1);
});

Deno.test("shared average: a worker with weight 0 (an empty slice) is not read, even if its slot holds NaN", async () => {
  const answers = await averageInWorkers(
    { replicas: 2, length: 3, gradientLength: 3 },
    [[1, 2, 3], [NaN, NaN, NaN]],
    [1, 0],
  );
  for (const a of answers) assert.deepEqual(a.result, [1, 2, 3]);
});

Deno.test("shared average: a worker that fails releases the others with an error instead of a hang", async () => {
  const answers = await averageInWorkers(
    { replicas: 3, length: 4, gradientLength: 4 },
    [[1, 1, 1, 1], [2, 2, 2, 2], [3, 3, 3, 3]],
    [1 / 3, 1 / 3, 1 / 3],
    1,
  );
  assert.equal(answers[1].error, "this worker failed on purpose");
  for (const i of [0, 2]) assert.match(answers[i].error!, /another training worker failed during this step/);
});

Deno.test("shared average: one worker's slot is its result; a buffer of the wrong size is refused", () => {
  const layout = { replicas: 1, length: 3, gradientLength: 2 };
  const one = SharedAverage.create(layout);
  one.slot(0).set([3, 4, 100]);
  const { result, squares } = one.average(0, [1]);
  assert.deepEqual(Array.from(result), [3, 4, 100]);
  assert.equal(squares, 25);
  assert.throws(
    () => new SharedAverage(new SharedArrayBuffer(8), layout),
    /SharedAverage: buffer of 8 bytes does not fit/,
  );
});

Deno.test("shared average: the C loop and the JavaScript loop give bit-identical means and squared norms", () => {
  const native = weightedAverageNative();
  assert.ok(native, "the C kernel did not build (install gcc)");
  const length = 10_007, replicas = 3;
  const all = new Float32Array(replicas * length);
  let seed = 7;
  for (let i = 0; i < all.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    all[i] = (seed / 2 ** 32 - 0.5) * 10 ** ((seed % 13) - 6);
  }
  for (const weights of [[0.5, 0.3, 0.2], [0.6, 0, 0.4]].map((w) => Float64Array.from(w))) {
    for (const range of [[0, length], [3_001, 9_999]] as [number, number][]) {
      const js = new Float32Array(length), c = new Float32Array(length);
      const jsSquares = weightedAverage(all, length, weights, js, true, range, 7_000);
      const cSquares = native(all, length, weights, c, true, range, 7_000);
      assert.deepEqual(c, js, `${weights} ${range}: means`);
      assert.equal(cSquares, jsSquares, `${weights} ${range}: squared norm`);
    }
  }
});
