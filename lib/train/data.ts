/**
 * The data a training run or a plan search uses: CIFAR's training set split into the seeded,
 * class-stratified train and validation parts (the pretrained networks were trained on the same
 * split, so search and model selection never see their validation images or the test set), the
 * test set, the input normalisation, and the calibration batch that fits a plan's polynomial
 * coefficients.
 *
 * @module
 */
import { type ChannelStats, channelStats, CIFAR10_STATS } from "../data/augment.ts";
import { batches } from "../data/batches.ts";
import { type LabeledImages, loadCifar } from "../data/cifar.ts";
import type { DatasetName } from "../data/dataset.ts";
import { subset, trainValidationSplit } from "../data/split.ts";

/** Seed of the train/validation split every run and search uses. */
export const SPLIT_SEED = 0;

/** Images held out of CIFAR's training set for validation by default (the pretrained networks' split). */
export const VALIDATION_SIZE = 5000;

/** Images the calibration batch holds (fitting a plan's coefficients). */
export const CALIBRATION_IMAGES = 256;

/** Options of {@link loadTrainingData}. */
export interface TrainingDataOptions {
  readonly dataset: DatasetName;
  /** Images held out of the training set for validation (seeded by {@link SPLIT_SEED}, stratified). */
  readonly validationSize: number;
  /** Train on the first this many images of the training part only (smoke runs). */
  readonly subset?: number;
}

/** A run's data. */
export interface TrainingData {
  readonly train: LabeledImages;
  readonly validation: LabeledImages;
  readonly test: LabeledImages;
  /** CIFAR-10's published statistics, or (CIFAR-100) those of the training part. */
  readonly normalize: ChannelStats;
  readonly numClasses: number;
}

/** Loads and splits a dataset (checked against the manifest on load). */
export async function loadTrainingData(options: TrainingDataOptions): Promise<TrainingData> {
  const full = await loadCifar({ dataset: options.dataset, split: "train" });
  const split = trainValidationSplit(full, { validationSize: options.validationSize, seed: SPLIT_SEED });
  const train = options.subset === undefined
    ? split.train
    : subset(split.train, Array.from({ length: options.subset }, (_, i) => i));
  const test = await loadCifar({ dataset: options.dataset, split: "test" });
  const normalize = options.dataset === "cifar10" ? CIFAR10_STATS : channelStats(train.images);
  return { train, validation: split.validation, test, normalize, numClasses: full.numClasses };
}

/** The first `images` training images, unaugmented and normalised: a plan's calibration batch. */
export function calibrationBatch(
  train: LabeledImages,
  normalize: ChannelStats,
  images = CALIBRATION_IMAGES,
): { x: Float32Array; count: number } {
  const first = batches(train, { batchSize: images, shuffle: false, normalize }).next().value;
  if (!first) throw new Error("calibrationBatch: the training set is empty");
  return { x: first.x, count: first.count };
}

/**
 * A class-stratified subset of `size` images of `data` (seeded): a search's fixed validation
 * subset, drawn from the held-out validation part.
 */
export function stratifiedSubset(data: LabeledImages, size: number, seed: number): LabeledImages {
  return size === data.count ? data : trainValidationSplit(data, { validationSize: size, seed }).validation;
}
