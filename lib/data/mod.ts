/**
 * The data layer of SAFENet Lab: CIFAR-10/100 readers for the official binary layout, dataset
 * lookup and verification against `data/datasets.json`, download of the official archives,
 * and preprocessing (normalisation, seeded shuffles, augmentation, validation split, batches).
 *
 * @example
 * ```ts
 * import { batches, CIFAR10_STATS, loadCifar, trainValidationSplit } from "./lib/data/mod.ts";
 * const full = await loadCifar({ dataset: "cifar10", split: "train" });
 * const { train, validation } = trainValidationSplit(full, { seed: 1 });
 * for (const { x, y, shape } of batches(train, { batchSize: 64, seed: 1, epoch: 0, augment: true, normalize: CIFAR10_STATS })) {
 *   // tf.tensor4d(x, shape), tf.tensor1d(y, "int32") ...
 * }
 * ```
 *
 * @module
 */

export * from "./atomic.ts";
export * from "./dataset.ts";
export * from "./locate.ts";
export * from "./verify.ts";
export * from "./cifar.ts";
export * from "./tar.ts";
export * from "./download.ts";
export * from "./random.ts";
export * from "./augment.ts";
export * from "./split.ts";
export * from "./batches.ts";
