/**
 * The training loop: epochs of deterministic mini-batches through an {@link Engine}, a
 * learning-rate schedule, evaluation on validation (every epoch) and test (every `testEvery`
 * epochs and after the last), a progress line, a JSONL log, and checkpoints that make a run
 * resumable by running the same command again.
 *
 * A run directory holds `config.json`, `checkpoint.bin` (weights, momentum, position, history)
 * and `log.jsonl` (one record per finished epoch, rewritten from the checkpoint's history so it
 * never disagrees with it). A checkpoint is written after every epoch and, mid-epoch, every
 * `checkpointSeconds` (and every `checkpointSteps` steps if set). Batches depend only on (seed,
 * epoch, batch index), so a resumed run skips the steps already done and continues with exactly
 * the data, rates and state the interrupted run would have used.
 *
 * Training drops an epoch's last partial batch (tiny batches make batch-norm statistics noisy).
 *
 * @module
 */
import { basename, join } from "node:path";
import { writeFileAtomic } from "../data/atomic.ts";
import { acquireRunLock } from "../data/run_lock.ts";
import { type ChannelStats, UNIT_SCALE } from "../data/augment.ts";
import { batchCount, batches } from "../data/batches.ts";
import type { LabeledImages } from "../data/cifar.ts";
import { checkWeightInfo, loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import type { Engine } from "./engine.ts";
import { formatDuration, Progress, type ProgressOptions } from "./progress.ts";
import type { ReplicaOptions } from "./replica.ts";
import { learningRate, type Schedule } from "./schedule.ts";

/** A run's configuration: recorded in the run directory and required to match on resume. */
export interface TrainConfig {
  epochs: number;
  batchSize: number;
  /** Seed of data order and augmentation. */
  seed: number;
  schedule: Schedule;
  momentum: number;
  weightDecay: number;
  nesterov: boolean;
  labelSmoothing: number;
  /** Random crop and flip on training batches. */
  augment: boolean;
  /** Channel statistics for input normalisation. */
  normalize: ChannelStats;
  /** Test evaluation every this many epochs and after the last; 0: after the last only. */
  testEvery: number;
  /**
   * Train with batch-norm's moving statistics and clip gradients to this global norm (both off
   * when absent): fine-tuning under polynomial activations needs them (lib/train/replica.ts).
   */
  freezeBatchNorm?: boolean;
  clipGradientNorm?: number;
  /** Anything else that defines the run (model recipe, data set, split), checked on resume too. */
  meta: Record<string, unknown>;
}

/** Defaults for the optional parts of a config. */
export const DEFAULT_CONFIG: Omit<TrainConfig, "epochs" | "schedule"> = {
  batchSize: 64,
  seed: 0,
  momentum: 0.9,
  weightDecay: 5e-4,
  nesterov: false,
  labelSmoothing: 0,
  augment: true,
  normalize: UNIT_SCALE,
  testEvery: 0,
  meta: {},
};

/** The replica (optimiser and loss) options a config implies. */
export function replicaOptions(config: TrainConfig): ReplicaOptions {
  return {
    momentum: config.momentum,
    weightDecay: config.weightDecay,
    nesterov: config.nesterov,
    labelSmoothing: config.labelSmoothing,
    ...(config.freezeBatchNorm ? { freezeBatchNorm: true } : {}),
    ...(config.clipGradientNorm !== undefined ? { clipGradientNorm: config.clipGradientNorm } : {}),
  };
}

/** One line of `log.jsonl`: a finished epoch. */
export interface EpochRecord {
  /** 1-based epoch number. */
  epoch: number;
  /** Optimisation steps done so far. */
  step: number;
  /** Learning rate of the epoch's last step. */
  lr: number;
  trainLoss: number;
  trainAccuracy: number;
  valLoss?: number;
  valAccuracy?: number;
  testLoss?: number;
  testAccuracy?: number;
  /** Wall seconds of the epoch's training steps (summed over interruptions). */
  trainSeconds: number;
  /** Training images per second over the epoch. */
  imagesPerSecond: number;
  evalSeconds: number;
  /** Data-parallel replicas of the (last) process that trained this epoch. */
  replicas: number;
  time: string;
}

/** Where a run stands; stored in each checkpoint. */
export interface Position {
  /** Epoch in progress (0-based); equals `epochs` when the run is complete. */
  epoch: number;
  /** Steps of that epoch already done. */
  step: number;
  globalStep: number;
  lossSum: number;
  correct: number;
  seen: number;
  trainSeconds: number;
  history: EpochRecord[];
}

/** Inputs of {@link train} besides the config. */
export interface TrainOptions {
  runDir: string;
  engine: Engine;
  train: LabeledImages;
  validation?: LabeledImages;
  test?: LabeledImages;
  /** Mid-epoch checkpoint interval in seconds; default 120. */
  checkpointSeconds?: number;
  /** Also checkpoint every this many steps (0 or absent: off). */
  checkpointSteps?: number;
  /** Batch size for evaluation; default 250. */
  evalBatchSize?: number;
  progress?: ProgressOptions;
  /** Called after every optimisation step with the global step count. */
  onStep?: (globalStep: number) => void;
  /** Receives status messages; default `console.error`. */
  say?: (line: string) => void;
}

/** What a finished (or already complete) run returns. */
export interface TrainResult {
  history: EpochRecord[];
  /** The last epoch's record (it carries the final test accuracy when a test set was given). */
  last: EpochRecord;
  /** Where this invocation started, if it resumed a checkpoint. */
  resumedFrom?: { epoch: number; step: number };
}

/** Loss and accuracy of an evaluation. */
export interface Evaluation {
  loss: number;
  accuracy: number;
  count: number;
}

/** File names inside a run directory. */
export const RUN_FILES = { checkpoint: "checkpoint.bin", config: "config.json", log: "log.jsonl" } as const;

/** JSON with object keys sorted, so equal configs compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(
    value,
    (_k, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]))
        : v,
  );
}

/** Top-level keys (and meta keys) whose values differ between two configs. */
function configDifferences(a: TrainConfig, b: TrainConfig): string[] {
  const diff = (x: Record<string, unknown>, y: Record<string, unknown>, prefix: string) =>
    [...new Set([...Object.keys(x), ...Object.keys(y)])]
      .filter((k) => canonicalJson(x[k]) !== canonicalJson(y[k]))
      .map((k) => `${prefix}${k}: ${canonicalJson(x[k])} -> ${canonicalJson(y[k])}`);
  const { meta: ma, ...ra } = a, { meta: mb, ...rb } = b;
  return [...diff(ra, rb, ""), ...diff(ma ?? {}, mb ?? {}, "meta.")];
}

/** Inference-mode loss and accuracy of the engine's model on a whole data set. */
export async function evaluate(
  engine: Engine,
  data: LabeledImages,
  options: { batchSize?: number; normalize?: ChannelStats } = {},
): Promise<Evaluation> {
  let lossSum = 0, correct = 0, count = 0;
  const it = batches(data, {
    batchSize: options.batchSize ?? 250,
    shuffle: false,
    normalize: options.normalize,
  });
  let next = it.next();
  while (!next.done) {
    const pending = engine.evaluate(next.value);
    next = it.next(); // prepare the next batch while the engine works
    const r = await pending;
    lossSum += r.lossSum;
    correct += r.correct;
    count += r.count;
  }
  return { loss: lossSum / Math.max(1, count), accuracy: correct / Math.max(1, count), count };
}

/** Trains (or resumes, or finds complete) the run in `options.runDir`; one process per run at a time. */
export async function train(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const lock = await acquireRunLock(options.runDir, `training run ${basename(options.runDir)}`);
  try {
    return await trainLocked(config, options);
  } finally {
    await lock.release();
  }
}

async function trainLocked(config: TrainConfig, options: TrainOptions): Promise<TrainResult> {
  const { engine, runDir } = options;
  const say = options.say ?? ((line: string) => console.error(line));
  const ckptPath = join(runDir, RUN_FILES.checkpoint);
  const stepsPerEpoch = batchCount(options.train.count, config.batchSize, true);
  if (stepsPerEpoch < 1) {
    throw new Error(
      `train: ${options.train.count} training images make no full batch of ${config.batchSize}`,
    );
  }
  const totalSteps = stepsPerEpoch * config.epochs;

  let pos: Position = {
    epoch: 0,
    step: 0,
    globalStep: 0,
    lossSum: 0,
    correct: 0,
    seen: 0,
    trainSeconds: 0,
    history: [],
  };
  let resumedFrom: TrainResult["resumedFrom"];
  const ckpt = await loadCheckpoint(ckptPath);
  if (ckpt) {
    const differences = configDifferences(ckpt.header.config as TrainConfig, config);
    if (differences.length) {
      throw new Error(
        `run directory ${runDir} holds a run with another configuration (${differences.join("; ")}). ` +
          `Use another run name, or delete that directory to start over.`,
      );
    }
    checkWeightInfo(ckpt, engine.weightInfo, ckptPath);
    await engine.setWeights(ckpt.weights);
    await engine.setOptimizerState(ckpt.optimizer);
    pos = ckpt.header.progress as Position;
    resumedFrom = { epoch: pos.epoch, step: pos.step };
    if (pos.epoch < config.epochs) {
      const where = `epoch ${pos.epoch + 1}, step ${pos.step}/${stepsPerEpoch}`;
      say(`resuming ${runDir} at ${where} (global step ${pos.globalStep})`);
    }
  } else {
    await writeFileAtomic(join(runDir, RUN_FILES.config), JSON.stringify(config, null, 2) + "\n");
  }

  let lastSave = performance.now();
  const save = async () => {
    await saveCheckpoint(ckptPath, {
      header: {
        config,
        progress: pos,
        weightInfo: [...engine.weightInfo],
        savedAt: new Date().toISOString(),
      },
      weights: await engine.weights(),
      optimizer: await engine.optimizerState(),
    });
    lastSave = performance.now();
  };
  const checkpointMs = (options.checkpointSeconds ?? 120) * 1000;
  const everySteps = options.checkpointSteps ?? 0;
  const evalOptions = { batchSize: options.evalBatchSize, normalize: config.normalize };

  while (pos.epoch < config.epochs) {
    const epoch = pos.epoch;
    const progress = new Progress(
      `epoch ${epoch + 1}/${config.epochs}`,
      stepsPerEpoch,
      options.progress,
      pos.step,
    );
    const it = batches(options.train, {
      batchSize: config.batchSize,
      seed: config.seed,
      epoch,
      augment: config.augment,
      normalize: config.normalize,
      dropLast: true,
      startBatch: pos.step,
    });
    let lr = NaN;
    let next = it.next();
    while (!next.done) {
      lr = learningRate(config.schedule, pos.globalStep, stepsPerEpoch, totalSteps);
      const started = performance.now();
      const pending = engine.step(next.value, lr);
      next = it.next(); // prepare the next batch while the engine works
      const r = await pending;
      pos = {
        ...pos,
        step: pos.step + 1,
        globalStep: pos.globalStep + 1,
        lossSum: pos.lossSum + r.lossSum,
        correct: pos.correct + r.correct,
        seen: pos.seen + r.count,
        trainSeconds: pos.trainSeconds + (performance.now() - started) / 1000,
      };
      progress.update(pos.step, {
        loss: pos.lossSum / pos.seen,
        accuracy: pos.correct / pos.seen,
        rate: pos.seen / Math.max(1e-9, pos.trainSeconds),
        note: `lr ${lr.toPrecision(3)}`,
      });
      options.onStep?.(pos.globalStep);
      const due = (everySteps > 0 && pos.step % everySteps === 0) ||
        performance.now() - lastSave >= checkpointMs;
      if (due && pos.step < stepsPerEpoch) await save();
    }
    progress.finish();

    const evalStart = performance.now();
    const last = epoch + 1 === config.epochs;
    const val = options.validation ? await evaluate(engine, options.validation, evalOptions) : undefined;
    const wantTest = last || (config.testEvery > 0 && (epoch + 1) % config.testEvery === 0);
    const test = options.test && wantTest ? await evaluate(engine, options.test, evalOptions) : undefined;
    const record: EpochRecord = {
      epoch: epoch + 1,
      step: pos.globalStep,
      lr,
      trainLoss: pos.lossSum / pos.seen,
      trainAccuracy: pos.correct / pos.seen,
      ...(val ? { valLoss: val.loss, valAccuracy: val.accuracy } : {}),
      ...(test ? { testLoss: test.loss, testAccuracy: test.accuracy } : {}),
      trainSeconds: pos.trainSeconds,
      imagesPerSecond: pos.seen / Math.max(1e-9, pos.trainSeconds),
      evalSeconds: (performance.now() - evalStart) / 1000,
      replicas: engine.replicas,
      time: new Date().toISOString(),
    };
    const history = [...pos.history, record];
    pos = { ...pos, epoch: epoch + 1, step: 0, lossSum: 0, correct: 0, seen: 0, trainSeconds: 0, history };
    await save();
    await writeFileAtomic(join(runDir, RUN_FILES.log), history.map((h) => JSON.stringify(h) + "\n").join(""));
    say(describeEpoch(record, config.epochs));
  }
  const last = pos.history.at(-1);
  if (!last) throw new Error(`train: run ${runDir} finished without any epoch (epochs = ${config.epochs})`);
  return { history: pos.history, last, ...(resumedFrom ? { resumedFrom } : {}) };
}

/** A one-line summary of an epoch for the console. */
function describeEpoch(r: EpochRecord, epochs: number): string {
  const pct = (v: number | undefined) => (v === undefined ? "" : `${(100 * v).toFixed(2)}%`);
  const parts = [
    `epoch ${r.epoch}/${epochs}`,
    `train loss ${r.trainLoss.toFixed(4)} acc ${pct(r.trainAccuracy)}`,
    r.valAccuracy !== undefined ? `val loss ${r.valLoss!.toFixed(4)} acc ${pct(r.valAccuracy)}` : "",
    r.testAccuracy !== undefined ? `test acc ${pct(r.testAccuracy)}` : "",
    `${r.imagesPerSecond.toFixed(1)} img/s x${r.replicas}`,
    `train ${formatDuration(r.trainSeconds)} eval ${formatDuration(r.evalSeconds)}`,
  ];
  return parts.filter(Boolean).join(" | ");
}
