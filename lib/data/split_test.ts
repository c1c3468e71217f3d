import assert from "node:assert/strict";
import type { LabeledImages } from "./cifar.ts";
import { IMAGE_BYTES } from "./dataset.ts";
import { subset, trainValidationSplit } from "./split.ts";

/** `count` images whose first two bytes encode their index; labels from `label(i)`. */
function indexed(count: number, numClasses: number, label: (i: number) => number): LabeledImages {
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    images[i * IMAGE_BYTES] = i & 255;
    images[i * IMAGE_BYTES + 1] = i >> 8;
    labels[i] = label(i);
  }
  return { images, labels, count, numClasses };
}
const idOf = (d: LabeledImages, k: number) => d.images[k * IMAGE_BYTES] + 256 * d.images[k * IMAGE_BYTES + 1];

Deno.test("trainValidationSplit: disjoint, covering, order-keeping, images follow indices", () => {
  const data = indexed(2000, 10, (i) => (i * 7) % 10);
  const s = trainValidationSplit(data, { validationSize: 200, seed: 3 });
  assert.equal(s.validation.count, 200);
  assert.equal(s.train.count, 1800);
  const all = [...s.trainIndices, ...s.validationIndices].sort((a, b) => a - b);
  assert.deepEqual(all, Array.from({ length: 2000 }, (_, i) => i));
  for (const idx of [s.trainIndices, s.validationIndices]) {
    for (let k = 1; k < idx.length; k++) assert.ok(idx[k] > idx[k - 1]);
  }
  for (let k = 0; k < s.validation.count; k++) {
    assert.equal(idOf(s.validation, k), s.validationIndices[k]);
    assert.equal(s.validation.labels[k], data.labels[s.validationIndices[k]]);
  }
  assert.equal(idOf(s.train, 1799), s.trainIndices[1799]);
});

Deno.test("trainValidationSplit: deterministic per seed, different seeds hold out different images", () => {
  const data = indexed(2000, 10, (i) => i % 10);
  const a = trainValidationSplit(data, { validationSize: 200, seed: 1 });
  assert.deepEqual(
    trainValidationSplit(data, { validationSize: 200, seed: 1 }).validationIndices,
    a.validationIndices,
  );
  const b = trainValidationSplit(data, { validationSize: 200, seed: 2 }).validationIndices;
  const overlap = [...b].filter((i) => a.validationIndices.includes(i)).length;
  assert.ok(overlap < 60, `overlap ${overlap} (about 20 expected by chance)`);
});

Deno.test("stratified split: each class gives its share (largest remainder); plain split just draws", () => {
  const balanced = indexed(50000, 10, (i) => i % 10);
  const s = trainValidationSplit(balanced); // defaults: 5000, stratified
  const per = new Array(10).fill(0);
  for (const l of s.validation.labels) per[l]++;
  assert.deepEqual(per, new Array(10).fill(500));

  // Classes of 500, 300, 200 images; 101 held out: exact shares 50.5, 30.3, 20.2 -> 51, 30, 20.
  const skewed = indexed(1000, 3, (i) => (i < 500 ? 0 : i < 800 ? 1 : 2));
  const k = trainValidationSplit(skewed, { validationSize: 101, seed: 4 });
  const got = [0, 0, 0];
  for (const l of k.validation.labels) got[l]++;
  assert.deepEqual(got, [51, 30, 20]);

  const plain = trainValidationSplit(skewed, { validationSize: 101, seed: 4, stratified: false });
  assert.equal(plain.validation.count, 101);
  assert.throws(() => trainValidationSplit(skewed, { validationSize: 1001 }), /validationSize 1001/);
});

Deno.test("subset copies the images and labels at the given indices", () => {
  const data = indexed(50, 5, (i) => i % 5);
  const s = subset(data, [7, 3, 7]);
  assert.deepEqual([0, 1, 2].map((k) => idOf(s, k)), [7, 3, 7]);
  assert.deepEqual([...s.labels], [2, 3, 2]);
  assert.throws(() => subset(data, [50]), /index 50 outside 0\.\.49/);
});
