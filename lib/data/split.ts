/**
 * A seeded validation split held out from the training set, so that search and model selection
 * never see the test set.
 *
 * @module
 */

import type { LabeledImages } from "./cifar.ts";
import { IMAGE_BYTES } from "./dataset.ts";
import { mixSeeds, Rng, shuffle } from "./random.ts";

/** Options of {@link trainValidationSplit}. */
export interface SplitOptions {
  /** Images held out for validation (default 5000). */
  readonly validationSize?: number;
  /** Seed of the draw (default 0). */
  readonly seed?: number;
  /**
   * Stratified by class (default true): each class gives its share of the validation set,
   * `validationSize * classCount / count` rounded by largest remainder (500 per class for
   * CIFAR-10's 5000 of 50,000). False draws a plain seeded sample.
   */
  readonly stratified?: boolean;
}

/** The two parts of a split, and which source images each holds (ascending indices). */
export interface TrainValidation {
  readonly train: LabeledImages;
  readonly validation: LabeledImages;
  readonly trainIndices: Uint32Array;
  readonly validationIndices: Uint32Array;
}

/** Copies the images and labels at `indices` (in that order) into a new set. */
export function subset(data: LabeledImages, indices: ArrayLike<number>): LabeledImages {
  const images = new Uint8Array(indices.length * IMAGE_BYTES);
  const labels = new Uint8Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const j = indices[i];
    if (!(j >= 0 && j < data.count)) throw new RangeError(`subset: index ${j} outside 0..${data.count - 1}`);
    images.set(data.images.subarray(j * IMAGE_BYTES, (j + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
    labels[i] = data.labels[j];
  }
  return { images, labels, count: indices.length, numClasses: data.numClasses };
}

/** How many validation images each class gives: proportional, rounded by largest remainder (ties: lower class). */
function classQuotas(counts: readonly number[], total: number, size: number): number[] {
  const exact = counts.map((c) => (c * size) / total);
  const quotas = exact.map(Math.floor);
  let left = size - quotas.reduce((a, b) => a + b, 0);
  const order = exact.map((_, c) => c).sort((a, b) => (exact[b] % 1) - (exact[a] % 1) || a - b);
  for (const c of order) {
    if (left === 0) break;
    quotas[c]++;
    left--;
  }
  return quotas;
}

/**
 * Splits a training set into train and validation parts, deterministically from `seed`.
 * Both parts keep the source order; they are disjoint and together cover the source.
 */
export function trainValidationSplit(data: LabeledImages, options: SplitOptions = {}): TrainValidation {
  const size = options.validationSize ?? 5000;
  if (!Number.isInteger(size) || size < 0 || size > data.count) {
    throw new RangeError(`validationSize ${size} must be an integer in 0..${data.count}`);
  }
  const rng = new Rng(mixSeeds(options.seed ?? 0, 0x5eed));
  const held = new Uint8Array(data.count);
  if (options.stratified ?? true) {
    const byClass: number[][] = Array.from({ length: data.numClasses }, () => []);
    for (let i = 0; i < data.count; i++) byClass[data.labels[i]].push(i);
    const quotas = classQuotas(byClass.map((c) => c.length), data.count, size);
    byClass.forEach((members, c) => shuffle(members, rng).slice(0, quotas[c]).forEach((i) => held[i] = 1));
  } else {
    const all = Array.from({ length: data.count }, (_, i) => i);
    shuffle(all, rng).slice(0, size).forEach((i) => held[i] = 1);
  }
  const validationIndices = new Uint32Array(size);
  const trainIndices = new Uint32Array(data.count - size);
  for (let i = 0, v = 0, t = 0; i < data.count; i++) {
    if (held[i]) validationIndices[v++] = i;
    else trainIndices[t++] = i;
  }
  return {
    train: subset(data, trainIndices),
    validation: subset(data, validationIndices),
    trainIndices,
    validationIndices,
  };
}
