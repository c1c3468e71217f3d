/**
 * Data-parallel training over Deno Workers, each with its own tfjs instance (on this machine:
 * one wasm module per core).
 *
 * Scheme (synchronous data parallelism with replicated optimisers): every worker holds the same
 * weights and momentum. Per step the main thread splits the batch into contiguous slices and posts
 * one to each worker; the workers compute their slice's gradient and batch-norm moving statistics,
 * average them among themselves in shared memory (weighted by slice size, in a fixed order:
 * shared_average.ts), and each applies the same momentum-SGD update to the same average.
 * Identical inputs to identical code keep the replicas bit-identical without ever shipping weights;
 * per step the main thread sends each worker its share of the batch and gets back its loss.
 *
 * Batch-norm uses each worker's slice statistics in the forward pass (as PyTorch DDP without
 * SyncBatchNorm); averaging the updated moving statistics equals an EMA of the slices' mean
 * batch means, so the inference statistics stay those of the whole batch's samples.
 *
 * @module
 */
import type { Batch, Engine } from "./engine.ts";
import { splitRows } from "./engine.ts";
import type { BatchResult, ReplicaOptions, WeightInfo } from "./replica.ts";
import type { BackendName } from "../nn/backend.ts";
import type { NativeInfo } from "../nn/native/mod.ts";
import type { Reply, Request } from "./worker.ts";
import { SharedAverage } from "./shared_average.ts";

/**
 * How a worker builds its model: `module` (a URL) exports `exportName`, a function called with
 * `args` (structured-cloneable) that returns a LayersModel or a promise of one. Functions cannot
 * be posted to workers, so the builder is named instead.
 */
export interface ModelFactory {
  module: string;
  exportName: string;
  args: unknown[];
}

/**
 * Starts `count` training workers and sends each `init`; resolves with their channels and the
 * first one's "ready" reply. If any fails, all are terminated and the error is thrown.
 */
export async function startWorkers(
  who: string,
  count: number,
  init: Extract<Request, { type: "init" }>,
): Promise<{ channels: Channel[]; ready: Extract<Reply, { type: "ready" }> }> {
  if (!(Number.isInteger(count) && count >= 1)) {
    throw new Error(`${who}: workers must be a positive integer, got ${count}`);
  }
  const channels = Array.from({ length: count }, (_, i) => new Channel(i));
  // Unless set, the cores divided among the workers: a lone worker's kernels use both cores here.
  const nativeThreads = init.nativeThreads ?? Math.max(1, Math.floor(navigator.hardwareConcurrency / count));
  try {
    const ready = (await Promise.all(channels.map((c) => c.call({ ...init, nativeThreads }))))
      .map((r) => expectReply(r, "ready"));
    return { channels, ready: ready[0] };
  } catch (e) {
    for (const c of channels) c.terminate();
    throw e;
  }
}

/** Options of {@link WorkerEngine.create}. */
export interface WorkerEngineOptions {
  /** Number of workers (data-parallel replicas). */
  workers: number;
  /** tfjs backend each worker initialises; default "wasm". */
  backend?: BackendName;
  factory: ModelFactory;
  replica?: ReplicaOptions;
  /**
   * oneDNN threads of each worker's native kernels; default this machine's cores divided among the
   * workers (fewer leaves cores to another job: oversubscribed cores slow both).
   */
  nativeThreads?: number;
}

type Pending = { resolve: (r: Reply) => void; reject: (e: Error) => void };

/** One worker and the FIFO of its unanswered requests (it answers in order). */
export class Channel {
  readonly #worker: Worker;
  readonly #pending: Pending[] = [];
  #failure: Error | undefined;

  constructor(readonly index: number) {
    this.#worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module" });
    this.#worker.onmessage = (e: MessageEvent<Reply>) => {
      const p = this.#pending.shift();
      if (!p) return;
      if (e.data.type === "error") p.reject(new Error(`training worker ${index}: ${e.data.message}`));
      else p.resolve(e.data);
    };
    this.#worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#fail(new Error(`training worker ${index} crashed: ${e.message}`));
    };
  }

  #fail(error: Error): void {
    this.#failure = error;
    for (const p of this.#pending.splice(0)) p.reject(error);
  }

  /** Posts a request that the worker answers. */
  call(request: Request, transfer: Transferable[] = []): Promise<Reply> {
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#worker.postMessage(request, transfer);
    });
  }

  terminate(): void {
    this.#worker.terminate();
    this.#fail(new Error(`training worker ${this.index} was closed`));
  }
}

/** The reply as the type the request expects; throws on any other. */
export function expectReply<T extends Reply["type"]>(reply: Reply, type: T): Extract<Reply, { type: T }> {
  if (reply.type !== type) {
    throw new Error(`training worker: expected a '${type}' reply, got '${reply.type}'`);
  }
  return reply as Extract<Reply, { type: T }>;
}

/** A data-parallel {@link Engine} over Deno Workers. */
export class WorkerEngine implements Engine {
  readonly replicas: number;
  readonly weightInfo: readonly WeightInfo[];
  /** Each worker's native kernels (library and oneDNN threads), absent when they run wasm alone. */
  readonly native: NativeInfo | undefined;
  readonly #channels: Channel[];
  readonly #inputSize: number;

  readonly #shared: SharedAverage;

  private constructor(channels: Channel[], ready: Extract<Reply, { type: "ready" }>) {
    this.#channels = channels;
    this.#shared = SharedAverage.create({
      replicas: channels.length,
      length: ready.trainableSize + ready.statsSize,
      gradientLength: ready.trainableSize,
    });
    this.replicas = channels.length;
    this.weightInfo = ready.weightInfo;
    this.#inputSize = ready.inputSize;
    this.native = ready.native;
  }

  /** Starts the workers, builds a model in each and makes their weights equal to worker 0's. */
  static async create(options: WorkerEngineOptions): Promise<WorkerEngine> {
    const { channels, ready } = await startWorkers("WorkerEngine", options.workers, {
      type: "init",
      backend: options.backend ?? "wasm",
      factory: options.factory,
      replica: options.replica ?? {},
      nativeThreads: options.nativeThreads,
    });
    try {
      const engine = new WorkerEngine(channels, ready);
      await engine.#share();
      if (channels.length > 1) await engine.setWeights(await engine.weights());
      return engine;
    } catch (e) {
      for (const c of channels) c.terminate();
      throw e;
    }
  }

  /** Hands every worker the averaging buffer and its index in it. */
  async #share(): Promise<void> {
    const { buffer, layout } = this.#shared;
    const replies = await Promise.all(
      this.#channels.map((c, index) => c.call({ type: "share", buffer, layout, index })),
    );
    for (const r of replies) expectReply(r, "ack");
  }

  /** One slice per worker (empty ones too: every worker takes part in each step's averaging). */
  #slices(batch: Batch): Array<{ channel: Channel; x: Float32Array; y: Int32Array; count: number }> {
    return splitRows(batch.count, this.replicas)
      .map(([start, end], i) => ({
        channel: this.#channels[i],
        x: batch.x.slice(start * this.#inputSize, end * this.#inputSize),
        y: Int32Array.from({ length: end - start }, (_, j) => batch.y[start + j]),
        count: end - start,
      }));
  }

  async step(batch: Batch, lr: number): Promise<BatchResult> {
    const slices = this.#slices(batch);
    // Weighted by slice size so the result is the gradient of the whole batch's mean loss.
    const weights = slices.map((s) => s.count / batch.count);
    try {
      const replies = await Promise.all(
        slices.map((s) =>
          s.channel.call({ type: "step", x: s.x, y: s.y, count: s.count, weights, lr }, [
            s.x.buffer as ArrayBuffer,
            s.y.buffer as ArrayBuffer,
          ])
        ),
      );
      return sumResults(replies.map((r) => expectReply(r, "result")), batch.count);
    } catch (e) {
      // A worker that died cannot release the others from the averaging's wait.
      this.#shared.abort();
      throw e;
    }
  }

  async evaluate(batch: Batch): Promise<BatchResult> {
    const replies = await Promise.all(
      this.#slices(batch).filter((s) => s.count > 0).map((s) =>
        s.channel.call({ type: "eval", x: s.x, y: s.y, count: s.count }, [
          s.x.buffer as ArrayBuffer,
          s.y.buffer as ArrayBuffer,
        ])
      ),
    );
    return sumResults(replies.map((r) => expectReply(r, "result")), batch.count);
  }

  async weights(): Promise<Float32Array> {
    return expectReply(await this.#channels[0].call({ type: "get", what: "weights" }), "data").data;
  }

  async setWeights(flat: Float32Array): Promise<void> {
    await Promise.all(this.#channels.map((c) => c.call({ type: "set", what: "weights", data: flat })));
  }

  async optimizerState(): Promise<Float32Array> {
    return expectReply(await this.#channels[0].call({ type: "get", what: "optimizer" }), "data").data;
  }

  async setOptimizerState(flat: Float32Array): Promise<void> {
    await Promise.all(this.#channels.map((c) => c.call({ type: "set", what: "optimizer", data: flat })));
  }

  /** Every replica's weights, to check that they stay identical. */
  async allWeights(): Promise<Float32Array[]> {
    const replies = await Promise.all(this.#channels.map((c) => c.call({ type: "get", what: "weights" })));
    return replies.map((r) => expectReply(r, "data").data);
  }

  close(): Promise<void> {
    for (const c of this.#channels) c.terminate();
    return Promise.resolve();
  }
}

function sumResults(parts: BatchResult[], count: number): BatchResult {
  return {
    lossSum: parts.reduce((s, p) => s + p.lossSum, 0),
    correct: parts.reduce((s, p) => s + p.correct, 0),
    count,
  };
}
