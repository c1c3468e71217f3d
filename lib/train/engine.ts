/**
 * The training loop's view of "something that trains a model": an {@link Engine} takes a batch
 * and a learning rate, does one optimisation step, evaluates batches, and hands out and accepts
 * weights and optimiser state for checkpoints. {@link LocalEngine} runs in this thread;
 * `WorkerEngine` (parallel.ts) spreads each batch over data-parallel workers.
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { type BatchResult, Replica, type ReplicaOptions, type WeightInfo } from "./replica.ts";

/** A batch of normalised NHWC images and their labels; only the first `count` rows count. */
export interface Batch {
  x: Float32Array;
  y: ArrayLike<number>;
  count: number;
}

/** One optimisation step per call; weights and state out and in for checkpoints. */
export interface Engine {
  /** Number of data-parallel replicas (1 for the local engine). */
  readonly replicas: number;
  /** Names and shapes of the model's weights, in the order of {@link weights}. */
  readonly weightInfo: readonly WeightInfo[];
  /** Trains on the batch with learning rate `lr`; returns the batch's training loss and hits. */
  step(batch: Batch, lr: number): Promise<BatchResult>;
  /** Inference-mode loss and hits on the batch. */
  evaluate(batch: Batch): Promise<BatchResult>;
  /** All model weights (including batch-norm statistics), flat. */
  weights(): Promise<Float32Array>;
  setWeights(flat: Float32Array): Promise<void>;
  /** Optimiser state (momentum buffers), flat. */
  optimizerState(): Promise<Float32Array>;
  setOptimizerState(flat: Float32Array): Promise<void>;
  /** Releases workers and buffers. */
  close(): Promise<void>;
}

/** An engine over one {@link Replica} in the calling thread (on whatever tfjs backend is active). */
export class LocalEngine implements Engine {
  readonly replicas = 1;
  readonly weightInfo: readonly WeightInfo[];
  readonly replica: Replica;

  constructor(model: tfl.LayersModel, options: ReplicaOptions = {}) {
    this.replica = new Replica(model, options);
    this.weightInfo = this.replica.weightInfo();
  }

  step(batch: Batch, lr: number): Promise<BatchResult> {
    const { grads, ...result } = this.replica.gradients(batch.x, batch.y, batch.count);
    this.replica.applyGradients(grads, lr);
    return Promise.resolve(result);
  }

  evaluate(batch: Batch): Promise<BatchResult> {
    return Promise.resolve(this.replica.evaluate(batch.x, batch.y, batch.count));
  }

  weights(): Promise<Float32Array> {
    return Promise.resolve(this.replica.weights());
  }

  setWeights(flat: Float32Array): Promise<void> {
    this.replica.setWeights(flat);
    return Promise.resolve();
  }

  optimizerState(): Promise<Float32Array> {
    return Promise.resolve(this.replica.optimizerState());
  }

  setOptimizerState(flat: Float32Array): Promise<void> {
    this.replica.setOptimizerState(flat);
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.replica.dispose();
    return Promise.resolve();
  }
}

/** Splits `count` rows into `parts` contiguous ranges whose sizes differ by at most one. */
export function splitRows(count: number, parts: number): Array<[start: number, end: number]> {
  const ranges: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < parts; i++) {
    const size = Math.floor(count / parts) + (i < count % parts ? 1 : 0);
    ranges.push([start, start + size]);
    start += size;
  }
  return ranges;
}
