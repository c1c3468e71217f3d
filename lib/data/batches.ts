/**
 * Mini-batches for training and evaluation: seeded order per epoch, optional augmentation,
 * normalisation to Float32 NHWC.
 *
 * Batch `b` of epoch `e` depends only on (data, seed, e, b, options): the order comes from a
 * generator seeded by (seed, epoch) and each batch's augmentation from one seeded by (seed,
 * epoch, b), so a run resumed at any batch sees exactly the data it would have seen.
 *
 * @module
 */

import { augmentImages, type ChannelStats, normalize, UNIT_SCALE } from "./augment.ts";
import type { LabeledImages } from "./cifar.ts";
import { IMAGE_BYTES, IMAGE_CHANNELS, IMAGE_HEIGHT, IMAGE_WIDTH } from "./dataset.ts";
import { mixSeeds, permutation, Rng } from "./random.ts";

/** Options of {@link batches}. */
export interface BatchOptions {
  readonly batchSize: number;
  /** Seed of order and augmentation (default 0). */
  readonly seed?: number;
  /** Epoch number; each epoch has its own order (default 0). */
  readonly epoch?: number;
  /** Shuffle the order (default true); false keeps the data's order (evaluation). */
  readonly shuffle?: boolean;
  /** Random 4-pixel-pad crop and horizontal flip per image (default false). */
  readonly augment?: boolean;
  /** Channel statistics for `(x/255 - mean)/std` (default: scale to [0, 1] only). */
  readonly normalize?: ChannelStats;
  /** Skip a last batch smaller than `batchSize` (default false). */
  readonly dropLast?: boolean;
  /** Start at this batch of the epoch (to resume; default 0). */
  readonly startBatch?: number;
}

/** One mini-batch. */
export interface Batch {
  /** count * 32 * 32 * 3 floats, NHWC. */
  readonly x: Float32Array;
  /** count labels (int32, as TensorFlow.js wants for one-hot and sparse losses). */
  readonly y: Int32Array;
  readonly count: number;
  /** [count, 32, 32, 3], for `tf.tensor4d(x, shape)`. */
  readonly shape: readonly [number, number, number, number];
  /** Position of the batch in its epoch. */
  readonly index: number;
}

/** Number of batches an epoch of `count` images yields. */
export function batchCount(count: number, batchSize: number, dropLast = false): number {
  return dropLast ? Math.floor(count / batchSize) : Math.ceil(count / batchSize);
}

/**
 * Yields the mini-batches of one epoch (fresh arrays each time, safe to keep). See the module
 * doc for the determinism guarantee.
 */
export function* batches(data: LabeledImages, options: BatchOptions): Generator<Batch> {
  const { batchSize } = options;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`batchSize ${batchSize} must be >= 1`);
  }
  const seed = options.seed ?? 0;
  const epoch = options.epoch ?? 0;
  const order = options.shuffle ?? true
    ? permutation(data.count, new Rng(mixSeeds(seed, epoch, 0)))
    : Uint32Array.from({ length: data.count }, (_, i) => i);
  const stats = options.normalize ?? UNIT_SCALE;
  const n = batchCount(data.count, batchSize, options.dropLast);
  for (let b = options.startBatch ?? 0; b < n; b++) {
    const indices = order.subarray(b * batchSize, Math.min(data.count, (b + 1) * batchSize));
    const count = indices.length;
    let pixels: Uint8Array;
    if (options.augment) {
      pixels = augmentImages(data.images, indices, new Rng(mixSeeds(seed, epoch, 1, b)));
    } else {
      pixels = new Uint8Array(count * IMAGE_BYTES);
      indices.forEach((j, i) =>
        pixels.set(data.images.subarray(j * IMAGE_BYTES, (j + 1) * IMAGE_BYTES), i * IMAGE_BYTES)
      );
    }
    const y = new Int32Array(count);
    indices.forEach((j, i) => y[i] = data.labels[j]);
    yield {
      x: normalize(pixels, stats),
      y,
      count,
      shape: [count, IMAGE_HEIGHT, IMAGE_WIDTH, IMAGE_CHANNELS],
      index: b,
    };
  }
}
