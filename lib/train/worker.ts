/**
 * Entry point of a training worker: one {@link Replica} on its own tfjs backend, driven by
 * messages that it handles strictly in arrival order. A data-parallel worker (parallel.ts) computes
 * gradients of batch slices and applies averaged updates; a trial worker (trials.ts, initialised
 * with a trial setup) runs whole trial jobs (trial_worker.ts).
 *
 * @module
 */
import type { BackendName } from "../nn/backend.ts";
import type { NativeInfo } from "../nn/native/mod.ts";
import type { ModelFactory } from "./parallel.ts";
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
  | { type: "grads"; x: Float32Array; y: Int32Array; count: number }
  | { type: "apply"; grads: Float32Array; stats: Float32Array; lr: number }
  | { type: "eval"; x: Float32Array; y: Int32Array; count: number }
  | { type: "get"; what: "weights" | "optimizer" }
  | { type: "set"; what: "weights" | "optimizer"; data: Float32Array };

/** Replies, one per request except "apply". */
export type Reply =
  | {
    type: "ready";
    weightInfo: WeightInfo[];
    inputSize: number;
    /** The worker's native kernels, absent when it runs the wasm ones alone. */
    native?: NativeInfo;
  }
  | {
    type: "grads";
    grads: Float32Array;
    stats: Float32Array;
    lossSum: number;
    correct: number;
    count: number;
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
      ...(backend.native ? { native: backend.native } : {}),
    });
    return;
  }
  if (!replica) throw new Error(`'${msg.type}' before 'init'`);
  switch (msg.type) {
    case "grads": {
      const r = replica.gradients(msg.x, msg.y, msg.count);
      const stats = replica.stats();
      self.postMessage({ type: "grads", ...r, stats }, [
        r.grads.buffer as ArrayBuffer,
        stats.buffer as ArrayBuffer,
      ]);
      return;
    }
    case "apply":
      replica.applyGradients(msg.grads, msg.lr);
      replica.setStats(msg.stats);
      return;
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
    // After a failed "apply" (which has no reply) every later request reports that failure.
    if (failed) {
      if (msg.type !== "apply") self.postMessage({ type: "error", message: failed });
      return;
    }
    try {
      await handle(msg);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (msg.type === "apply") failed = `applying an update failed: ${message}`;
      else self.postMessage({ type: "error", message });
    }
  });
};
