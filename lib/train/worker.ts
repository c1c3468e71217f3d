/**
 * Entry point of a training worker: one {@link Replica} on its own tfjs backend, driven by
 * messages that it handles strictly in arrival order. A data-parallel worker (parallel.ts) computes
 * the gradient of its batch slice, averages it with the others' in shared memory
 * (shared_average.ts) and applies the average; a trial worker (trials.ts, initialised
 * with a trial setup) runs whole trial jobs (trial_worker.ts).
 *
 * @module
 */
import type { BackendName } from "../nn/backend.ts";
import type { NativeInfo } from "../nn/native/mod.ts";
import type { ModelFactory } from "./parallel.ts";
import { SharedAverage, type SharedAverageLayout } from "./shared_average.ts";
import type { ReplicaOptions, WeightInfo } from "./replica.ts";
import type { Replica as ReplicaType } from "./replica.ts";
import type { TrialJob, TrialOutcome, TrialSetup } from "./trials.ts";
import type { TrialWorker } from "./trial_worker.ts";

/** Messages from the main thread. */
export type Request =
  | {
    type: "init";
    backend: BackendName;
    factory: ModelFactory;
    replica: ReplicaOptions;
    /** Makes this a trial worker holding the setup. */
    trials?: TrialSetup;
    /** oneDNN threads of this worker's native kernels (default 1). */
    nativeThreads?: number;
  }
  | { type: "trial"; job: TrialJob }
  /** Makes this data-parallel worker `index` of the averaging in `buffer` (shared_average.ts). */
  | { type: "share"; buffer: SharedArrayBuffer; layout: SharedAverageLayout; index: number }
  /**
   * One data-parallel step: the gradient of this slice (none when `count` is 0), averaged with the
   * other workers' by `weights` (one per worker), then applied with rate `lr`.
   */
  | { type: "step"; x: Float32Array; y: Int32Array; count: number; weights: number[]; lr: number }
  | { type: "eval"; x: Float32Array; y: Int32Array; count: number }
  | { type: "get"; what: "weights" | "optimizer" }
  | { type: "set"; what: "weights" | "optimizer"; data: Float32Array };

/** Replies, one per request. */
export type Reply =
  | {
    type: "ready";
    weightInfo: WeightInfo[];
    inputSize: number;
    /** Values of a gradient and of the batch-norm statistics. */
    trainableSize: number;
    statsSize: number;
    /** The worker's native kernels, absent when it runs the wasm ones alone. */
    native?: NativeInfo;
  }
  | { type: "result"; lossSum: number; correct: number; count: number }
  | { type: "data"; data: Float32Array }
  | { type: "trial"; outcome: TrialOutcome }
  | { type: "ack" }
  | { type: "error"; message: string };

declare const self: {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: Reply, transfer?: Transferable[]): void;
};

let replica: ReplicaType | undefined;
let shared: { average: SharedAverage; index: number } | undefined;
let trials: TrialWorker | undefined;
let failed: string | undefined;

async function handle(msg: Request): Promise<void> {
  if (msg.type === "init") {
    // Imported here so a worker loads tfjs only once it knows it is one.
    const { initBackend } = await import("../nn/backend.ts");
    const { Replica } = await import("./replica.ts");
    const backend = await initBackend(msg.backend, { nativeThreads: msg.nativeThreads });
    const mod = await import(msg.factory.module);
    const build = mod[msg.factory.exportName];
    if (typeof build !== "function") {
      throw new Error(
        `model factory: ${msg.factory.module} has no exported function '${msg.factory.exportName}'`,
      );
    }
    replica = new Replica(await build(...msg.factory.args), msg.replica);
    if (msg.trials) {
      const { TrialWorker } = await import("./trial_worker.ts");
      trials = await TrialWorker.create(replica, msg.trials);
    }
    const [, ...shape] = replica.model.inputs[0].shape as number[];
    self.postMessage({
      type: "ready",
      weightInfo: replica.weightInfo(),
      inputSize: shape.reduce((a, b) => a * b, 1),
      trainableSize: replica.trainableSize,
      statsSize: replica.statsSize,
      ...(backend.native ? { native: backend.native } : {}),
    });
    return;
  }
  if (!replica) throw new Error(`'${msg.type}' before 'init'`);
  switch (msg.type) {
    case "share":
      shared = { average: new SharedAverage(msg.buffer, msg.layout), index: msg.index };
      self.postMessage({ type: "ack" });
      return;
    case "step": {
      if (!shared) throw new Error("'step' before 'share'");
      const { average, index } = shared;
      const slot = average.slot(index);
      const trainable = replica.trainableSize;
      let result = { lossSum: 0, correct: 0, count: 0 };
      try {
        if (msg.count > 0) {
          const { grads: _, ...r } = replica.gradients(msg.x, msg.y, msg.count, undefined, slot);
          replica.stats(slot.subarray(trainable));
          result = r;
        }
      } catch (e) {
        // The other workers would wait for this one's slot: release them.
        average.abort();
        throw e;
      }
      const { result: mean, squares } = average.average(index, msg.weights);
      replica.applyGradients(mean.subarray(0, trainable), msg.lr, squares);
      replica.setStats(mean.subarray(trainable));
      self.postMessage({ type: "result", ...result });
      return;
    }
    case "eval":
      self.postMessage({ type: "result", ...replica.evaluate(msg.x, msg.y, msg.count) });
      return;
    case "get": {
      const data = msg.what === "weights" ? replica.weights() : replica.optimizerState();
      self.postMessage({ type: "data", data }, [data.buffer as ArrayBuffer]);
      return;
    }
    case "trial": {
      if (!trials) throw new Error("'trial' to a worker initialised without a trial setup");
      const outcome = trials.run(msg.job);
      self.postMessage({ type: "trial", outcome }, [
        outcome.state.weights.buffer as ArrayBuffer,
        outcome.state.optimizer.buffer as ArrayBuffer,
      ]);
      return;
    }
    case "set":
      if (msg.what === "weights") replica.setWeights(msg.data);
      else replica.setOptimizerState(msg.data);
      self.postMessage({ type: "ack" });
      return;
  }
}

let queue = Promise.resolve();
self.onmessage = (e: MessageEvent<Request>) => {
  const msg = e.data;
  queue = queue.then(async () => {
    // After a failed step the replicas may differ: every later request reports that failure.
    if (failed) {
      self.postMessage({ type: "error", message: failed });
      return;
    }
    try {
      await handle(msg);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (msg.type === "step") failed = `a training step failed: ${message}`;
      self.postMessage({ type: "error", message });
    }
  });
};
