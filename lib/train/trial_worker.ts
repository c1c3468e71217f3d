/**
 * The worker side of trials (see trials.ts): a {@link TrialWorker} owns one worker's replica and
 * runs {@link TrialJob}s on it — load a state, apply the job's plan, train, evaluate, hand the
 * new state back. Loaded only inside workers (it needs tfjs).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { batches } from "../data/batches.ts";
import type { LabeledImages } from "../data/cifar.ts";
import { architecture } from "../nn/architectures.ts";
import { applyPlan } from "../nn/apply_plan.ts";
import type { Graph } from "../nn/graph.ts";
import { loadModel } from "../nn/io.ts";
import type { MaskedActivation } from "../nn/masked_activation.ts";
import { activationLayers } from "../nn/model.ts";
import { type Plan, validatePlan } from "../nn/plan.ts";
import type { Distillation, Replica } from "./replica.ts";
import type { CoefficientPolicy, TrialJob, TrialOutcome, TrialSetup, TrialState } from "./trials.ts";

/** Delphi's quadratic approximation of ReLU, ascending coefficients (mc2-project/delphi). */
export const DELPHI_QUADRATIC: readonly number[] = [0.1992, 0.5002, 0.1997];

/** Batch size of evaluation passes (no effect on results, only on speed and memory). */
const EVAL_BATCH = 250;

/** Runs trial jobs on one replica (one per worker). */
export class TrialWorker {
  readonly #replica: Replica;
  readonly #graph: Graph;
  readonly #layers: MaskedActivation[];
  readonly #setup: TrialSetup;
  readonly #teacher: tfl.LayersModel | undefined;

  private constructor(replica: Replica, graph: Graph, setup: TrialSetup, teacher?: tfl.LayersModel) {
    this.#replica = replica;
    this.#graph = graph;
    this.#layers = activationLayers(replica.model, graph);
    this.#setup = setup;
    this.#teacher = teacher;
  }

  /** A trial worker over `replica` (whose model is `setup`'s architecture); loads the teacher. */
  static async create(replica: Replica, setup: TrialSetup): Promise<TrialWorker> {
    const graph = architecture(setup.model, { numClasses: setup.numClasses, batchNorm: setup.batchNorm });
    const teacher = setup.teacher ? await loadModel(setup.teacher) : undefined;
    return new TrialWorker(replica, graph, setup, teacher);
  }

  /** Loads the job's state under its plan, trains, evaluates; returns the new state and figures. */
  run(job: TrialJob): TrialOutcome {
    const started = performance.now();
    this.load(job.state, job.plan, job.coefficients);
    this.#replica.setMomentum(job.momentum);
    const trained = this.#train(job);
    const evaluated = this.#evaluate(job.evaluateOn ?? this.#setup.validation);
    const state: TrialState = {
      plan: job.plan,
      weights: this.#replica.weights(),
      optimizer: this.#replica.optimizerState(),
      imagesTrained: job.state.imagesTrained + job.images,
      trainCalls: job.state.trainCalls + (job.images > 0 ? 1 : 0),
    };
    return { state, ...trained, ...evaluated, seconds: (performance.now() - started) / 1000 };
  }

  /**
   * Puts `state` into the replica under `plan`. The layers are first put back to the degrees of
   * the state's own plan, so that applying `plan` compares degrees with the state's (not with
   * whatever trial this worker ran last), and the state's weights and momentum are loaded. A site
   * whose setting (alpha, beta) is the state's keeps its plan state as it travelled with the
   * weights (mask and coefficients). Every other site gets its mask re-derived from the loaded
   * weights' L1 norms (eq. 3; never the stored mask of the state's plan); its coefficients are
   * kept for channels that were approximated at the same degree before and set by `policy` for
   * the others.
   */
  load(state: TrialState, plan: Plan, policy: CoefficientPolicy): void {
    validatePlan(this.#graph, state.plan);
    validatePlan(this.#graph, plan);
    // alpha 0 (an all-zero mask is valid) until the masks are set below.
    this.#layers.forEach((layer, i) =>
      layer.setPlan(0, state.plan.sites[i].beta, new Float32Array(layer.channels))
    );
    this.#replica.setWeights(state.weights);
    this.#replica.setOptimizerState(state.optimizer);
    const trained = this.#layers.map((layer) => layer.getMask());
    applyPlan(this.#replica.model, this.#graph, plan);
    plan.sites.forEach(({ alpha, beta }, i) => {
      const before = state.plan.sites[i];
      if (alpha === before.alpha && beta === before.beta) this.#layers[i].setPlan(alpha, beta, trained[i]);
    });
    const fresh = this.#layers.map((layer, i) => {
      const sameDegree = plan.sites[i].beta === state.plan.sites[i].beta;
      return Array.from(layer.getMask(), (m, c) => m === 1 && !(sameDegree && trained[i][c] === 1));
    });
    const sites = fresh.flatMap((f, i) => f.some(Boolean) ? [i] : []);
    if (sites.length === 0) return;
    const kept = new Map(sites.map((i) => [i, this.#layers[i].getCoefficients()]));
    if (policy === "fit") this.#fitCoefficients(sites);
    for (const i of sites) {
      const layer = this.#layers[i];
      if (policy === "delphi" && layer.degree !== 2) {
        throw new Error(`Delphi's quadratic needs degree 2, but site ${i} has degree ${layer.degree}`);
      }
      const now = policy === "fit" ? layer.getCoefficients() : undefined;
      layer.writeCoefficients(
        kept.get(i)!.map((old, c) => fresh[i][c] ? (now ? now[c] : [...DELPHI_QUADRATIC]) : old),
      );
    }
  }

  /**
   * Fits the given sites' coefficients (all channels) on the calibration batch in one inference
   * pass; the caller keeps the trained channels' values. A later site is fitted on inputs that the
   * earlier sites computed with fitted coefficients on all their channels: close to the trained
   * ones, which also approximate ReLU on the same inputs.
   */
  #fitCoefficients(sites: readonly number[]): void {
    const { x, count } = this.#setup.calibration;
    for (const i of sites) this.#layers[i].calibrateOnNextCall();
    tf.tidy(() => {
      const [, ...shape] = this.#replica.model.inputs[0].shape as number[];
      // apply, not predict: predict splits the batch, and calibration must see all of it at once.
      this.#replica.model.apply(tf.tensor(x, [count, ...shape]), { training: false });
    });
  }

  #distillation(job: TrialJob): Distillation | undefined {
    if (!job.distillation || job.distillation.weight === 0) return undefined;
    if (!this.#teacher) throw new Error("a job asks for distillation, but the trial setup has no teacher");
    return { teacher: this.#teacher, ...job.distillation };
  }

  /** `job.images` training images in batches seeded by the job (epochs of the training set as needed). */
  #train(job: TrialJob): { trainLoss: number; trainAccuracy: number; skippedSteps: number } {
    const { train, batchSize, augment, normalize } = this.#setup;
    const distillation = this.#distillation(job);
    let left = job.images, lossSum = 0, correct = 0, applied = 0, skippedSteps = 0;
    for (let epoch = 0; left > 0; epoch++) {
      for (const batch of batches(train, { batchSize, seed: job.seed, epoch, augment, normalize })) {
        const count = Math.min(batch.count, left);
        const r = this.#replica.gradients(batch.x, batch.y, count, distillation);
        // A skipped step (a gradient that is not finite) leaves its loss out of the mean.
        if (this.#replica.applyGradients(r.grads, job.lr)) {
          lossSum += r.lossSum;
          correct += r.correct;
          applied += count;
        } else {
          skippedSteps++;
        }
        left -= count;
        if (left === 0) break;
      }
    }
    const n = Math.max(1, applied);
    return { trainLoss: lossSum / n, trainAccuracy: correct / n, skippedSteps };
  }

  #evaluate(
    data: LabeledImages,
  ): { evalLoss: number; evalCorrect: number; evalCount: number; evalAccuracy: number } {
    let lossSum = 0, correct = 0;
    for (
      const b of batches(data, { batchSize: EVAL_BATCH, shuffle: false, normalize: this.#setup.normalize })
    ) {
      const r = this.#replica.evaluate(b.x, b.y, b.count);
      lossSum += r.lossSum;
      correct += r.correct;
    }
    const count = Math.max(1, data.count);
    return {
      evalLoss: lossSum / count,
      evalCorrect: correct,
      evalCount: data.count,
      evalAccuracy: correct / count,
    };
  }
}
