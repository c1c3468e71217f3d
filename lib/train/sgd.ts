/**
 * SGD with momentum and decoupled-from-the-loss L2 weight decay, PyTorch's formulation:
 * d = g + wd * w (wd only on kernels), v = mu * v + d, w = w - lr * v.
 *
 * Written out instead of `tf.train.momentum` because the decay must skip batch-norm and bias
 * parameters and because the momentum buffers are checkpointed and restored exactly. On the cpu
 * and wasm backends each variable's update is one pass of a C kernel (native/sgd.ts) where it
 * builds, else six tfjs ops.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { floatView, registerViewKernels, withViews } from "../nn/kernels/views.ts";
import { sgdNative, type SgdStep } from "../nn/native/sgd.ts";

/** Name of the fused update kernel (cpu and wasm backends, where the C kernel builds). */
const SGD_KERNEL = "SafenetSgdMomentum";

const sgdKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { w, v, g } = inputs as Record<string, tf.TensorInfo>;
  return withViews(backend, [w, v, g], [w.shape, w.shape], ([ws, vs, gs], [wOut, vOut]) => {
    sgdNative()!(ws, vs, gs, wOut, vOut, attrs as unknown as SgdStep);
  });
};

registerViewKernels({ [SGD_KERNEL]: sgdKernel });

/** Hyper-parameters of {@link SgdMomentum}. */
export interface SgdOptions {
  /** Momentum coefficient mu; default 0.9. */
  momentum?: number;
  /** L2 coefficient applied to variables flagged in `decay`; default 0. */
  weightDecay?: number;
  /** Nesterov momentum: step along g + mu * v instead of v; default false. */
  nesterov?: boolean;
}

/** Momentum SGD over a fixed list of variables. */
export class SgdMomentum {
  readonly #vars: readonly tf.Variable[];
  readonly #decay: readonly boolean[];
  readonly #buffers: tf.Variable[];
  #momentum: number;
  readonly #weightDecay: number;
  readonly #nesterov: boolean;

  /** `decay[i]` says whether variable i receives weight decay. */
  constructor(vars: readonly tf.Variable[], decay: readonly boolean[], options: SgdOptions = {}) {
    if (decay.length !== vars.length) {
      throw new Error(`SgdMomentum: ${vars.length} variables but ${decay.length} decay flags`);
    }
    this.#vars = vars;
    this.#decay = decay;
    this.#momentum = options.momentum ?? 0.9;
    this.#weightDecay = options.weightDecay ?? 0;
    this.#nesterov = options.nesterov ?? false;
    this.#buffers = vars.map((v) => tf.variable(tf.zerosLike(v), false));
  }

  /** The momentum coefficient mu. */
  get momentum(): number {
    return this.#momentum;
  }

  /**
   * Changes mu for later updates (a trial's explored momentum); the buffers are kept. Values of 1
   * or more are allowed: Ray Tune's explore multiplies without clamping, and such a trial simply
   * diverges and loses its population's ranking.
   */
  set momentum(mu: number) {
    if (!(mu >= 0 && Number.isFinite(mu))) throw new Error(`SgdMomentum: momentum must be >= 0, got ${mu}`);
    this.#momentum = mu;
  }

  /**
   * One update with learning rate `lr`; `grads[i]` matches variable i in shape and is scaled by
   * `scale` (gradient clipping) first.
   */
  apply(grads: readonly tf.Tensor[], lr: number, scale = 1): void {
    const fused = tf.getKernel(SGD_KERNEL, tf.getBackend()) !== undefined && sgdNative() !== null;
    tf.tidy(() => {
      const mu = tf.scalar(this.#momentum);
      const wd = tf.scalar(this.#weightDecay);
      const rate = tf.scalar(lr);
      this.#vars.forEach((w, i) => {
        const weightDecay = this.#decay[i] ? this.#weightDecay : 0;
        if (fused && w.dtype === "float32") {
          const step: SgdStep = {
            lr,
            momentum: this.#momentum,
            weightDecay,
            scale,
            nesterov: this.#nesterov,
          };
          const [wNew, vNew] = tf.engine().runKernel(
            SGD_KERNEL,
            { w, v: this.#buffers[i], g: grads[i] },
            step as unknown as tf.NamedAttrMap,
          ) as tf.Tensor[];
          this.#buffers[i].assign(vNew);
          w.assign(wNew);
          return;
        }
        let d = scale === 1 ? grads[i] : tf.mul(grads[i], scale);
        if (weightDecay !== 0) d = tf.add(d, tf.mul(wd, w));
        const v = tf.add(tf.mul(mu, this.#buffers[i]), d);
        this.#buffers[i].assign(v);
        const stepDir = this.#nesterov ? tf.add(d, tf.mul(mu, v)) : v;
        w.assign(tf.sub(w, tf.mul(rate, stepDir)));
      });
    });
  }

  /** Momentum buffers, flattened in variable order. */
  state(): Float32Array {
    return flatten(this.#buffers);
  }

  /** Restores buffers written by {@link state}. */
  setState(flat: Float32Array): void {
    assign(this.#buffers, flat, "momentum state");
  }

  /** Frees the buffers. */
  dispose(): void {
    for (const b of this.#buffers) b.dispose();
  }
}

/** Concatenates the values of tensors into one Float32Array. */
export function flatten(tensors: readonly tf.Tensor[]): Float32Array {
  return flattenInto(tensors, new Float32Array(tensors.reduce((n, t) => n + t.size, 0)));
}

/** {@link flatten} into `out` (at least as long), read in place where the backend allows. */
export function flattenInto(tensors: readonly tf.Tensor[], out: Float32Array): Float32Array {
  let at = 0;
  for (const t of tensors) {
    out.set(floatView(t), at);
    at += t.size;
  }
  return out;
}

/** Writes a flat array written by {@link flatten} back into variables of the same shapes. */
export function assign(vars: readonly tf.Variable[], flat: Float32Array, what: string): void {
  const total = vars.reduce((n, v) => n + v.size, 0);
  if (flat.length !== total) {
    throw new Error(
      `${what}: expected ${total} values for ${vars.length} variables, got ${flat.length} (different model?)`,
    );
  }
  let at = 0;
  tf.tidy(() => {
    for (const v of vars) {
      // slice, not subarray: a backend may keep the array it is given, and callers reuse theirs.
      v.assign(tf.tensor(flat.slice(at, at + v.size), v.shape, "float32"));
      at += v.size;
    }
  });
}
