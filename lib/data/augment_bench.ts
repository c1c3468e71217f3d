/**
 * Per-batch preprocessing cost (batch of 64): gather + augment, normalise, and a whole epoch
 * of `batches` (divide by 79 for the cost per batch). Run with `deno bench lib/data/augment_bench.ts`.
 *
 * @module
 */

import { augmentImages, CIFAR10_STATS, normalize } from "./augment.ts";
import { batches } from "./batches.ts";
import { IMAGE_BYTES } from "./dataset.ts";
import { permutation, Rng } from "./random.ts";

const count = 5000;
const rng = new Rng(1);
const data = {
  images: new Uint8Array(count * IMAGE_BYTES).map(() => rng.int(256)),
  labels: Uint8Array.from({ length: count }, (_, i) => i % 10),
  count,
  numClasses: 10,
};
const indices = permutation(count, new Rng(2)).subarray(0, 64);
const pixels = new Uint8Array(64 * IMAGE_BYTES);
const floats = new Float32Array(64 * IMAGE_BYTES);

Deno.bench("augment 64 images (gather, pad-crop, flip)", () => {
  augmentImages(data.images, indices, rng, pixels);
});

Deno.bench("normalize 64 images to float32", () => {
  normalize(pixels, CIFAR10_STATS, floats);
});

Deno.bench("batches: an epoch of 5000 images, augmented and normalised (79 batches of 64)", () => {
  for (const _ of batches(data, { batchSize: 64, seed: 3, augment: true, normalize: CIFAR10_STATS })) {
    // consume
  }
});
