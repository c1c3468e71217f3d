/**
 * The training layer of SAFENet Lab: momentum SGD with kernel-only weight decay, learning-rate
 * schedules, a resumable training loop with checkpoints, a JSONL log and a progress line, and
 * engines that run it in this thread ({@link LocalEngine}) or data-parallel over Deno Workers
 * ({@link WorkerEngine}, one tfjs wasm instance per core); trials that a plan search drives
 * ({@link TrialPool}: load a state and a plan, train, evaluate, hand the state back, on persistent
 * workers); the data split, calibration batch and model export that runs and searches share.
 *
 * @example
 * ```ts
 * import { CIFAR10_STATS, loadCifar, trainValidationSplit } from "../data/mod.ts";
 * import { DEFAULT_CONFIG, recipeFactory, replicaOptions, train, type TrainConfig, WorkerEngine } from "./mod.ts";
 * const { train: trainSet, validation } = trainValidationSplit(await loadCifar({ dataset: "cifar10", split: "train" }));
 * const config: TrainConfig = { ...DEFAULT_CONFIG, epochs: 40, normalize: CIFAR10_STATS,
 *   schedule: { kind: "cosine", peak: 0.05, warmupEpochs: 2 } };
 * const engine = await WorkerEngine.create({ workers: 2,
 *   factory: recipeFactory({ model: "cnn7", numClasses: 10, seed: 1 }), replica: replicaOptions(config) });
 * const result = await train(config, { runDir: "/tmp/run", engine, train: trainSet, validation });
 * await engine.close();
 * ```
 *
 * @module
 */

export * from "./schedule.ts";
export * from "./sgd.ts";
export * from "./replica.ts";
export * from "./engine.ts";
export * from "./parallel.ts";
export * from "./models.ts";
export * from "./checkpoint.ts";
export * from "./progress.ts";
export * from "./loop.ts";
export * from "./data.ts";
export * from "./export.ts";
export * from "./trials.ts";
