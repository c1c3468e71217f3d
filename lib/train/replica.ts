/**
 * One copy of a model with its optimiser: computes gradients on a batch, applies (possibly
 * averaged) gradients, evaluates, and moves weights, batch-norm statistics and momentum in and
 * out as flat Float32Arrays. Both the in-process engine and each data-parallel worker wrap one.
 *
 * Batch-norm moving statistics: tfjs-layers' BatchNormalization updates its moving mean and
 * variance imperatively inside `call` when `training` is true, so `model.apply(x, {training:
 * true})` inside `tf.variableGrads` keeps them current (checked in replica_test.ts). They are the
 * only "statistics" ({@link Replica.stats}): the other non-trainable weights, the masked
 * activations' masks, belong to the plan and are never averaged between workers.
 *
 * Fine-tuning under polynomial activations (options of {@link ReplicaOptions}, used by the search's
 * trials): a product of degree-2 or 3 polynomials over seven layers sends a few inputs (crops with
 * padded borders, natural outliers) to 1e8 and beyond. In training mode batch-norm then normalises
 * the whole batch by statistics those few inputs dominate, so a network that classifies 75-80% of
 * images in inference mode scores near chance in training mode and SGD diverges within a few
 * dozen steps, at any learning rate (measured on CNN-7 with 80% of channels replaced). Three
 * remedies, together: `freezeBatchNorm` trains with the moving statistics (inference-mode
 * batch-norm, scale and shift still trained), so training sees the function the protocol computes;
 * `clipGradientNorm` bounds each step's global L2 norm; and a step whose loss or gradient is not
 * finite is skipped and counted ({@link Replica.skippedSteps}), as mixed-precision trainers skip
 * overflowed steps.
 *
 * Knowledge distillation (optional, per call of {@link Replica.gradients}): loss = (1 - w) CE +
 * w T^2 KL(softmax(teacher / T) || softmax(student / T)), Hinton et al.'s form, with the
 * teacher's logits computed in inference mode on the same batch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { assign, flatten, flattenInto, SgdMomentum, type SgdOptions } from "./sgd.ts";

/** Training hyper-parameters a replica needs. */
export interface ReplicaOptions extends SgdOptions {
  /** Label smoothing epsilon for the cross-entropy; default 0. */
  labelSmoothing?: number;
  /** Train with batch-norm's moving statistics, leaving them fixed (see the module comment); default false. */
  freezeBatchNorm?: boolean;
  /** Scale each step's gradient down to at most this global L2 norm; default none. */
  clipGradientNorm?: number;
}

/** Knowledge distillation from a teacher network (see the module comment). */
export interface Distillation {
  /** The teacher (inference mode), e.g. the all-ReLU network. */
  teacher: tfl.LayersModel;
  /** w in [0, 1]: the KL term's share of the loss. */
  weight: number;
  /** T > 0: the softmax temperature of both networks in the KL term. */
  temperature: number;
}

/** Whether a non-trainable weight is a batch-norm moving statistic (and not, e.g., a mask). */
export function isMovingStatistic(name: string): boolean {
  return /(^|\/)moving_(mean|variance)$/.test(name);
}

/** Sums over the examples of one batch (or part of one). */
export interface BatchResult {
  /** Sum of per-example cross-entropy (with label smoothing when training). */
  lossSum: number;
  /** Examples whose arg-max logit is the label. */
  correct: number;
  count: number;
}

/** A batch's result plus the gradient of its mean loss, flattened in trainable-variable order. */
export interface GradientResult extends BatchResult {
  grads: Float32Array;
}

/** Name and shape of one model weight, to check that flat arrays fit a model. */
export interface WeightInfo {
  name: string;
  shape: number[];
}

/** Whether a weight gets L2 decay: convolution and dense kernels only, never BN or biases. */
export function decays(name: string): boolean {
  return /(^|\/)(depthwise_)?kernel$/.test(name);
}

/** A model plus its momentum-SGD state. */
export class Replica {
  readonly model: tfl.LayersModel;
  readonly #trainable: tf.Variable[];
  readonly #stats: tf.Variable[];
  readonly #all: tf.Variable[];
  readonly #sgd: SgdMomentum;
  readonly #smoothing: number;
  readonly #freezeBatchNorm: boolean;
  readonly #clipNorm: number;
  #skipped = 0;
  readonly #inputShape: number[];
  readonly #numClasses: number;

  constructor(model: tfl.LayersModel, options: ReplicaOptions = {}) {
    this.model = model;
    // LayerVariable.read() returns its backing tf.Variable (typed as Tensor).
    const variable = (w: tfl.LayerVariable) => w.read() as tf.Variable;
    this.#trainable = model.trainableWeights.map(variable);
    this.#stats = model.nonTrainableWeights.filter((w) => isMovingStatistic(w.originalName)).map(variable);
    this.#all = model.weights.map(variable);
    const decay = model.trainableWeights.map((w) => decays(w.originalName));
    this.#sgd = new SgdMomentum(this.#trainable, decay, options);
    this.#smoothing = options.labelSmoothing ?? 0;
    this.#freezeBatchNorm = options.freezeBatchNorm ?? false;
    this.#clipNorm = options.clipGradientNorm ?? Infinity;
    if (!(this.#clipNorm > 0)) {
      throw new Error(`Replica: clipGradientNorm must be positive, got ${options.clipGradientNorm}`);
    }
    const [, ...shape] = model.inputs[0].shape;
    const out = model.outputs[0].shape;
    if (shape.some((d) => d == null) || out.length !== 2 || out[1] == null) {
      throw new Error(
        `Replica: model needs a fixed input shape and 2-d logits, got ${model.inputs[0].shape} -> ${out}`,
      );
    }
    this.#inputShape = shape as number[];
    this.#numClasses = out[1];
  }

  /** Names and shapes of all weights (trainable and not), in {@link weights} order. */
  weightInfo(): WeightInfo[] {
    return this.model.weights.map((w) => ({ name: w.originalName, shape: [...w.shape] as number[] }));
  }

  /** Number of trainable values, the length of a gradient array. */
  get trainableSize(): number {
    return this.#trainable.reduce((n, v) => n + v.size, 0);
  }

  #inputs(x: Float32Array, count: number): tf.Tensor {
    const per = this.#inputShape.reduce((a, b) => a * b, 1);
    if (x.length < count * per) {
      throw new Error(`Replica: batch of ${count} needs ${count * per} input values, got ${x.length}`);
    }
    return tf.tensor(x.subarray(0, count * per), [count, ...this.#inputShape], "float32");
  }

  #labels(y: ArrayLike<number>, count: number): tf.Tensor1D {
    return tf.tensor1d(Int32Array.from({ length: count }, (_, i) => y[i]), "int32");
  }

  /** Per-example cross-entropy with label smoothing eps: targets (1-eps)*onehot + eps/K. */
  #losses(logits: tf.Tensor, labels: tf.Tensor1D, smoothing: number): tf.Tensor1D {
    const logp = tf.logSoftmax(logits);
    let target = tf.cast(tf.oneHot(labels, this.#numClasses), "float32");
    if (smoothing > 0) target = tf.add(tf.mul(target, 1 - smoothing), smoothing / this.#numClasses);
    return tf.neg(tf.sum(tf.mul(target, logp), -1)) as tf.Tensor1D;
  }

  #correct(logits: tf.Tensor, labels: tf.Tensor1D): number {
    return tf.sum(tf.cast(tf.equal(tf.argMax(logits, -1), labels), "int32")).dataSync()[0];
  }

  /**
   * The teacher's tempered log-probabilities on `input` (inference mode, computed outside the
   * gradient tape: nothing flows back into the teacher).
   */
  #teacherLogProbs(input: tf.Tensor, d: Distillation): tf.Tensor {
    const logits = d.teacher.apply(input, { training: false }) as tf.Tensor;
    return tf.logSoftmax(tf.div(logits, d.temperature));
  }

  /**
   * Forward and backward in training mode (BN uses batch statistics and updates its moving ones);
   * with `distillation`, the loss mixes in the teacher's (see the module comment).
   */
  gradients(
    x: Float32Array,
    y: ArrayLike<number>,
    count: number,
    distillation?: Distillation,
    into?: Float32Array,
  ): GradientResult {
    let result: GradientResult | undefined;
    // The result leaves the tidy by assignment: a returned value is walked element by element
    // in search of tensors, which costs ~8% of a step for a CNN-7 gradient array.
    tf.tidy(() => {
      const input = this.#inputs(x, count);
      const labels = this.#labels(y, count);
      const distill = distillation && distillation.weight > 0 ? distillation : undefined;
      const teacher = distill ? this.#teacherLogProbs(input, distill) : undefined;
      let correct = 0;
      const { value, grads } = tf.variableGrads(() => {
        const logits = this.model.apply(input, { training: !this.#freezeBatchNorm }) as tf.Tensor;
        correct = this.#correct(logits, labels);
        const ce = tf.mean(this.#losses(logits, labels, this.#smoothing));
        if (!distill || !teacher) return ce as tf.Scalar;
        // KL(p_t || p_s) = sum p_t (log p_t - log p_s), per example, at temperature T.
        const student = tf.logSoftmax(tf.div(logits, distill.temperature));
        const kl = tf.mean(tf.sum(tf.mul(tf.exp(teacher), tf.sub(teacher, student)), -1));
        const { weight, temperature } = distill;
        return tf.add(tf.mul(ce, 1 - weight), tf.mul(kl, weight * temperature ** 2)) as tf.Scalar;
      }, this.#trainable);
      // Variables off the loss's path (e.g. the coefficients of an all-ReLU site) get no entry.
      const all = this.#trainable.map((v) => grads[v.name] ?? tf.zerosLike(v));
      const flat = into ? flattenInto(all, into.subarray(0, this.trainableSize)) : flatten(all);
      result = { grads: flat, lossSum: value.dataSync()[0] * count, correct, count };
    });
    return result!;
  }

  /**
   * Applies a flat gradient (as from {@link gradients}, possibly averaged) with rate `lr`, clipped
   * to the global norm of the options (`squaredNorm`: its squared norm, when the caller has it).
   * A gradient with a value that is not finite is not applied: returns false and counts the step
   * in {@link skippedSteps}.
   */
  applyGradients(flat: Float32Array, lr: number, squaredNorm?: number): boolean {
    if (flat.length !== this.trainableSize) {
      throw new Error(
        `Replica: gradient has ${flat.length} values, model has ${this.trainableSize} trainable`,
      );
    }
    const squares = squaredNorm ?? sumOfSquares(flat);
    if (!Number.isFinite(squares)) {
      this.#skipped++;
      return false;
    }
    const norm = Math.sqrt(squares);
    const scale = norm > this.#clipNorm ? this.#clipNorm / norm : 1;
    tf.tidy(() => {
      let at = 0;
      const grads = this.#trainable.map((v) => {
        const g = tf.tensor(flat.subarray(at, at + v.size), v.shape, "float32");
        at += v.size;
        return g;
      });
      this.#sgd.apply(grads, lr, scale);
    });
    return true;
  }

  /** Steps {@link applyGradients} skipped for a gradient that was not finite, since construction. */
  get skippedSteps(): number {
    return this.#skipped;
  }

  /** Inference-mode loss (no smoothing) and accuracy on a batch. */
  evaluate(x: Float32Array, y: ArrayLike<number>, count: number): BatchResult {
    return tf.tidy(() => {
      const labels = this.#labels(y, count);
      const logits = this.model.apply(this.#inputs(x, count), { training: false }) as tf.Tensor;
      const lossSum = tf.sum(this.#losses(logits, labels, 0)).dataSync()[0];
      return { lossSum, correct: this.#correct(logits, labels), count };
    });
  }

  /** All weights (trainable and moving statistics), flattened in `model.weights` order. */
  weights(): Float32Array {
    return flatten(this.#all);
  }

  /** Restores weights written by {@link weights}. */
  setWeights(flat: Float32Array): void {
    assign(this.#all, flat, "model weights");
  }

  /** Non-trainable weights (batch-norm moving mean and variance), flattened (into `out` if given). */
  stats(out?: Float32Array): Float32Array {
    return out ? flattenInto(this.#stats, out) : flatten(this.#stats);
  }

  /** Number of batch-norm statistics values, the length of {@link stats}. */
  get statsSize(): number {
    return this.#stats.reduce((n, v) => n + v.size, 0);
  }

  /** Restores statistics written by {@link stats}. */
  setStats(flat: Float32Array): void {
    assign(this.#stats, flat, "batch-norm statistics");
  }

  /** Sets the SGD momentum coefficient for later updates (buffers kept). */
  setMomentum(mu: number): void {
    this.#sgd.momentum = mu;
  }

  /** Momentum buffers, flattened in trainable order. */
  optimizerState(): Float32Array {
    return this.#sgd.state();
  }

  /** Restores momentum written by {@link optimizerState}. */
  setOptimizerState(flat: Float32Array): void {
    this.#sgd.setState(flat);
  }

  /** Frees the optimiser's buffers (the model is the caller's). */
  dispose(): void {
    this.#sgd.dispose();
  }
}

function sumOfSquares(values: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i] * values[i];
  return sum;
}
