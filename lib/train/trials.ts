/**
 * Trials as a library: a trial is a model's state under a replacement plan — flat weights
 * (batch-norm statistics, masks and coefficients included), momentum buffers, the plan those
 * weights were trained under, and how far it has trained — that any worker can load, train for
 * some images, evaluate and hand back. {@link TrialPool} runs such jobs on persistent workers
 * (one tfjs instance per core, started once: starting tfjs is expensive), one job per worker at a
 * time, population-parallel: each trial trains whole on one worker, so nothing is averaged and a
 * job's result does not depend on which worker ran it or what that worker ran before.
 *
 * How a job moves through a worker (trial_worker.ts): the worker's model is put back under the
 * plan the state was trained with, the state's weights and momentum are loaded, then the job's
 * plan is applied. A site's plan state (alpha, degree, mask, coefficients) travels with the
 * weights and has one owner, the trial: where the job's setting of a site equals the state's, the
 * site keeps it; where it differs (an exploit with an explored config, a new stage), the mask is
 * re-derived from the loaded weights' L1 norms through the new setting (never the old mask), the
 * coefficients of channels already approximated at the same degree are kept, and new ones fitted
 * on the calibration batch (or, for Delphi's planner, set to Delphi's quadratic). Then it
 * trains on `images` augmented training images in an order seeded by the job, optionally
 * distilling from the all-ReLU teacher, evaluates on the fixed validation subset and returns the
 * new state.
 *
 * @module
 */
import type { ChannelStats } from "../data/augment.ts";
import type { LabeledImages } from "../data/cifar.ts";
import type { BackendName } from "../nn/backend.ts";
import type { ModelName } from "../nn/architectures.ts";
import type { Plan } from "../nn/plan.ts";
import { type Channel, expectReply, type ModelFactory, startWorkers } from "./parallel.ts";
import type { ReplicaOptions, WeightInfo } from "./replica.ts";

/** A trial's state: what a checkpoint of it holds. Structured-cloneable. */
export interface TrialState {
  /** The plan the weights were last trained under (their masks and coefficients belong to it). */
  readonly plan: Plan;
  /** All model weights in the model's order (trainable, batch-norm statistics, masks). */
  readonly weights: Float32Array;
  /** Momentum buffers, trainable order. */
  readonly optimizer: Float32Array;
  /** Training images this state has seen since it left the pretrained network. */
  readonly imagesTrained: number;
  /** Training jobs this state has gone through: the position of its data stream. */
  readonly trainCalls: number;
}

/** How coefficients of newly approximated channels are set. */
export type CoefficientPolicy =
  /** Least squares to ReLU on the calibration batch (SAFENet's searchers). */
  | "fit"
  /** Delphi's quadratic 0.1992 + 0.5002 x + 0.1997 x^2 (Delphi's planner; degree-2 sites only). */
  | "delphi";

/** Knowledge distillation settings of a job (the teacher is the worker's). */
export interface DistillationSettings {
  /** Share w of the KL term, in [0, 1]; 0 turns distillation off. */
  readonly weight: number;
  /** Softmax temperature T > 0. */
  readonly temperature: number;
}

/** One job: load `state`, apply `plan`, train `images` images, evaluate. */
export interface TrialJob {
  readonly state: TrialState;
  /** The plan to train under. */
  readonly plan: Plan;
  readonly lr: number;
  readonly momentum: number;
  /** Training images (0: evaluate only). */
  readonly images: number;
  /** Seed of the job's batch order and augmentation. */
  readonly seed: number;
  readonly coefficients: CoefficientPolicy;
  readonly distillation?: DistillationSettings;
  /** Evaluate on these images instead of the worker's validation subset (e.g. the test set). */
  readonly evaluateOn?: LabeledImages;
}

/** What a job returns. */
export interface TrialOutcome {
  readonly state: TrialState;
  /** Mean training loss (the distillation mix when on) and accuracy over the job's applied steps. */
  readonly trainLoss: number;
  readonly trainAccuracy: number;
  /** Steps not applied because their gradient was not finite (see replica.ts). */
  readonly skippedSteps: number;
  /** Inference-mode results on the evaluation images. */
  readonly evalLoss: number;
  readonly evalCorrect: number;
  readonly evalCount: number;
  readonly evalAccuracy: number;
  /** Wall seconds the worker spent on the job. */
  readonly seconds: number;
}

/** What every worker of a pool holds for the whole search. Structured-cloneable. */
export interface TrialSetup {
  readonly model: ModelName;
  readonly numClasses: number;
  readonly batchNorm: boolean;
  readonly train: LabeledImages;
  /** The fixed validation subset every job evaluates on. */
  readonly validation: LabeledImages;
  /** Normalised, unaugmented inputs for fitting coefficients. */
  readonly calibration: { readonly x: Float32Array; readonly count: number };
  readonly normalize: ChannelStats;
  readonly batchSize: number;
  /** Random crop and flip on training batches. */
  readonly augment: boolean;
  /** Directory of the distillation teacher (saved by `saveModel`); absent: no distillation. */
  readonly teacher?: string;
}

/** Options of {@link TrialPool.create}. */
export interface TrialPoolOptions {
  readonly workers: number;
  /** Default "wasm". */
  readonly backend?: BackendName;
  /** Builds each worker's model (the trials' architecture; its weights are the initial state's). */
  readonly factory: ModelFactory;
  /** Optimiser and loss options besides momentum and rate (weight decay, label smoothing). */
  readonly replica?: ReplicaOptions;
  readonly setup: TrialSetup;
  /** oneDNN threads of each worker's native kernels (default: the cores divided among the workers). */
  readonly nativeThreads?: number;
}

/** Persistent workers that run {@link TrialJob}s, as many at once as there are workers. */
export class TrialPool {
  readonly weightInfo: readonly WeightInfo[];
  readonly #channels: Channel[];

  private constructor(channels: Channel[], weightInfo: WeightInfo[]) {
    this.#channels = channels;
    this.weightInfo = weightInfo;
  }

  /** Starts the workers; each builds its model and loads the setup (data, teacher). */
  static async create(options: TrialPoolOptions): Promise<TrialPool> {
    const { channels, ready } = await startWorkers("TrialPool", options.workers, {
      type: "init",
      backend: options.backend ?? "wasm",
      factory: options.factory,
      replica: options.replica ?? {},
      trials: options.setup,
      nativeThreads: options.nativeThreads,
    });
    return new TrialPool(channels, ready.weightInfo);
  }

  /** Number of workers (jobs run at once). */
  get workers(): number {
    return this.#channels.length;
  }

  /**
   * The state of the factory's model as built (e.g. the pretrained network): its weights, zero
   * momentum, untrained, under `plan` (the plan its layers were built with).
   */
  async initialState(plan: Plan): Promise<TrialState> {
    const [weights, optimizer] = await Promise.all(
      (["weights", "optimizer"] as const).map(async (what) =>
        expectReply(await this.#channels[0].call({ type: "get", what }), "data").data
      ),
    );
    return { plan, weights, optimizer: optimizer.fill(0), imagesTrained: 0, trainCalls: 0 };
  }

  /**
   * Runs the jobs, each on the next free worker; resolves to their outcomes in job order. The
   * outcome of a job depends on the job alone (every worker loads the whole state it needs).
   */
  async run(jobs: readonly TrialJob[]): Promise<TrialOutcome[]> {
    const outcomes: TrialOutcome[] = new Array(jobs.length);
    let next = 0;
    await Promise.all(this.#channels.map(async (channel) => {
      while (next < jobs.length) {
        const i = next++;
        outcomes[i] = expectReply(await channel.call({ type: "trial", job: jobs[i] }), "trial").outcome;
      }
    }));
    return outcomes;
  }

  /** Stops the workers. */
  close(): Promise<void> {
    for (const c of this.#channels) c.terminate();
    return Promise.resolve();
  }
}
