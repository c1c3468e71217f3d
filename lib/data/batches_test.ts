import assert from "node:assert/strict";
import { CIFAR10_STATS, cropFlip, normalize } from "./augment.ts";
import { batchCount, batches } from "./batches.ts";
import type { LabeledImages } from "./cifar.ts";
import { IMAGE_BYTES } from "./dataset.ts";
import { Rng } from "./random.ts";

function data(count: number): LabeledImages {
  const r = new Rng(8);
  const images = new Uint8Array(count * IMAGE_BYTES).map(() => 1 + r.int(255));
  const labels = Uint8Array.from({ length: count }, (_, i) => i % 10);
  return { images, labels, count, numClasses: 10 };
}

/** Which source image a non-augmented batch entry is (by comparing normalised pixels). */
function sourceOf(d: LabeledImages, x: Float32Array, k: number): number {
  const want = x.subarray(k * IMAGE_BYTES, (k + 1) * IMAGE_BYTES);
  for (let j = 0; j < d.count; j++) {
    const src = normalize(d.images.subarray(j * IMAGE_BYTES, (j + 1) * IMAGE_BYTES), CIFAR10_STATS);
    if (src.every((v, i) => v === want[i])) return j;
  }
  return -1;
}

const d = data(150);

Deno.test("batches: an epoch visits every image once, labels match, last batch partial", () => {
  const seen: number[] = [];
  const got = [...batches(d, { batchSize: 64, seed: 1, normalize: CIFAR10_STATS })];
  assert.deepEqual(got.map((b) => b.count), [64, 64, 22]);
  assert.deepEqual(got.map((b) => b.index), [0, 1, 2]);
  assert.equal(batchCount(150, 64), 3);
  for (const b of got) {
    assert.equal(b.x.length, b.count * IMAGE_BYTES);
    assert.deepEqual(b.shape, [b.count, 32, 32, 3]);
    assert.ok(b.y instanceof Int32Array);
    for (let k = 0; k < b.count; k++) {
      const j = sourceOf(d, b.x, k);
      assert.ok(j >= 0);
      assert.equal(b.y[k], d.labels[j]);
      seen.push(j);
    }
  }
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 150 }, (_, i) => i));
  assert.notDeepEqual(seen, Array.from({ length: 150 }, (_, i) => i), "shuffled");
  assert.deepEqual([...batches(d, { batchSize: 64, dropLast: true })].map((b) => b.count), [64, 64]);
});

Deno.test("batches: deterministic in (seed, epoch); epochs and seeds differ; resuming at a batch matches", () => {
  const run = (
    seed: number,
    epoch: number,
    startBatch = 0,
  ) => [...batches(d, { batchSize: 32, seed, epoch, augment: true, normalize: CIFAR10_STATS, startBatch })];
  const a = run(5, 2);
  const b = run(5, 2);
  assert.deepEqual(a.map((x) => [x.x, x.y]), b.map((x) => [x.x, x.y]));
  assert.notDeepEqual(run(5, 3)[0].y, a[0].y);
  assert.notDeepEqual(run(6, 2)[0].y, a[0].y);
  const resumed = run(5, 2, 3);
  assert.deepEqual(resumed.map((x) => x.index), [3, 4]);
  assert.deepEqual(resumed.map((x) => [x.x, x.y]), a.slice(3).map((x) => [x.x, x.y]));
});

Deno.test("batches: shuffle false keeps order; unit scale by default; augmented images are crops/flips of the right source", () => {
  const [first] = batches(d, { batchSize: 4, shuffle: false });
  assert.deepEqual([...first.y], [0, 1, 2, 3]);
  for (let i = 0; i < 4 * IMAGE_BYTES; i += 101) assert.ok(Math.abs(first.x[i] - d.images[i] / 255) < 1e-7);

  const [plain] = batches(d, { batchSize: 16, seed: 2, normalize: CIFAR10_STATS });
  const [aug] = batches(d, { batchSize: 16, seed: 2, augment: true, normalize: CIFAR10_STATS });
  assert.deepEqual(aug.y, plain.y, "augmentation does not change the order");
  let changed = 0;
  for (let k = 0; k < 16; k++) {
    const j = sourceOf(d, plain.x, k);
    const want = aug.x.subarray(k * IMAGE_BYTES, (k + 1) * IMAGE_BYTES);
    const out = new Uint8Array(IMAGE_BYTES);
    let match = false;
    for (let dy = 0; dy <= 8 && !match; dy++) {
      for (let dx = 0; dx <= 8 && !match; dx++) {
        for (const flip of [false, true]) {
          cropFlip(d.images, j, out, 0, { dx, dy, flip });
          if (normalize(out, CIFAR10_STATS).every((v, i) => v === want[i])) {
            match = true;
            if (dx !== 4 || dy !== 4 || flip) changed++;
            break;
          }
        }
      }
    }
    assert.ok(match, `batch entry ${k} is not a crop/flip of image ${j}`);
  }
  assert.ok(changed >= 12, `only ${changed} of 16 images were changed by augmentation`);
});
