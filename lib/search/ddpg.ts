/**
 * DDPG as HAQ uses it (mit-han-lab/haq, lib/rl/ddpg.py), in plain TypeScript on Float64Array:
 * small dense networks with hand-written backpropagation, Adam, a replay buffer, target networks.
 *
 * Actor: state -> hidden -> hidden -> action, ReLU between, sigmoid at the end. Critic: ReLU(W_s
 * state + W_a action) -> hidden -> 1. Initialisation as HAQ's: hidden-layer weights U(+-1 /
 * sqrt(size[0])) of the PyTorch weight, i.e. of the layer's outputs (HAQ's `fanin_init`), the
 * last layer's weights U(+-0.003), biases PyTorch's default U(+-1 / sqrt(inputs)). An update
 * (HAQ's `update_policy`): sample a batch; subtract from its rewards a moving average of batch
 * mean rewards (weight 0.5); critic to r + discount x (1 - done) x Q'(s', mu'(s')) by mean squared
 * error; actor to maximise Q(s, mu(s)); soft target updates with tau.
 *
 * @module
 */
import type { SearchRng } from "./rng.ts";

/** A fully connected layer, weights row-major [outputs][inputs], with gradient buffers. */
class Dense {
  readonly weight: Float64Array;
  readonly bias: Float64Array;
  readonly gradWeight: Float64Array;
  readonly gradBias: Float64Array;

  constructor(readonly inputs: number, readonly outputs: number, rng: SearchRng, weightBound: number) {
    this.weight = uniform(inputs * outputs, weightBound, rng);
    this.bias = uniform(outputs, 1 / Math.sqrt(inputs), rng);
    this.gradWeight = new Float64Array(inputs * outputs);
    this.gradBias = new Float64Array(outputs);
  }

  /** y = x W^T + b for `n` rows of x. */
  forward(x: Float64Array, n: number): Float64Array {
    const { inputs, outputs, weight, bias } = this;
    const y = new Float64Array(n * outputs);
    for (let r = 0; r < n; r++) {
      const xo = r * inputs;
      for (let o = 0; o < outputs; o++) {
        const wo = o * inputs;
        let s = bias[o];
        for (let i = 0; i < inputs; i++) s += weight[wo + i] * x[xo + i];
        y[r * outputs + o] = s;
      }
    }
    return y;
  }

  /**
   * Given dL/dy for the rows of x, adds dL/dW and dL/db to the gradient buffers (unless
   * `parameters` is false) and returns dL/dx.
   */
  backward(x: Float64Array, dy: Float64Array, n: number, parameters = true): Float64Array {
    const { inputs, outputs, weight, gradWeight, gradBias } = this;
    const dx = new Float64Array(n * inputs);
    for (let r = 0; r < n; r++) {
      const xo = r * inputs;
      for (let o = 0; o < outputs; o++) {
        const g = dy[r * outputs + o];
        if (g === 0) continue; // ReLU zeroes most of them
        const wo = o * inputs;
        if (parameters) {
          gradBias[o] += g;
          for (let i = 0; i < inputs; i++) gradWeight[wo + i] += g * x[xo + i];
        }
        for (let i = 0; i < inputs; i++) dx[xo + i] += g * weight[wo + i];
      }
    }
    return dx;
  }

  params(): Float64Array[] {
    return [this.weight, this.bias];
  }

  grads(): Float64Array[] {
    return [this.gradWeight, this.gradBias];
  }
}

function uniform(n: number, bound: number, rng: SearchRng): Float64Array {
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = (2 * rng.float() - 1) * bound;
  return a;
}

function relu(x: Float64Array): Float64Array {
  return x.map((v) => v > 0 ? v : 0);
}

/** dL/dx of a ReLU given its output y and dL/dy (in place on dy). */
function reluBackward(y: Float64Array, dy: Float64Array): Float64Array {
  for (let i = 0; i < dy.length; i++) if (y[i] <= 0) dy[i] = 0;
  return dy;
}

/** HAQ's final-layer initialisation bound. */
const FINAL_INIT = 0.003;

/** A network of Dense layers with Adam state; subclasses define forward and backward. */
abstract class Network {
  abstract readonly layers: readonly Dense[];

  params(): Float64Array[] {
    return this.layers.flatMap((l) => l.params());
  }

  grads(): Float64Array[] {
    return this.layers.flatMap((l) => l.grads());
  }

  zeroGrad(): void {
    for (const g of this.grads()) g.fill(0);
  }

  /** Copies (tau 1) or moves towards (tau < 1) another network's parameters. */
  softUpdate(source: Network, tau: number): void {
    const from = source.params();
    this.params().forEach((p, k) => {
      for (let i = 0; i < p.length; i++) p[i] = (1 - tau) * p[i] + tau * from[k][i];
    });
  }
}

/** HAQ's actor: sigmoid(W3 relu(W2 relu(W1 s))). */
class Actor extends Network {
  readonly layers: readonly [Dense, Dense, Dense];

  constructor(states: number, actions: number, hidden: number, rng: SearchRng) {
    super();
    this.layers = [
      new Dense(states, hidden, rng, 1 / Math.sqrt(hidden)),
      new Dense(hidden, hidden, rng, 1 / Math.sqrt(hidden)),
      new Dense(hidden, actions, rng, FINAL_INIT),
    ];
  }

  forward(s: Float64Array, n: number) {
    const [l1, l2, l3] = this.layers;
    const h1 = relu(l1.forward(s, n));
    const h2 = relu(l2.forward(h1, n));
    const a = l3.forward(h2, n).map((z) => 1 / (1 + Math.exp(-z)));
    return { h1, h2, a };
  }

  /** Accumulates parameter gradients of a loss with dL/da = `da` at the given forward pass. */
  backward(s: Float64Array, pass: ReturnType<Actor["forward"]>, da: Float64Array, n: number): void {
    const [l1, l2, l3] = this.layers;
    const dz = da.map((g, i) => g * pass.a[i] * (1 - pass.a[i]));
    const dh2 = reluBackward(pass.h2, l3.backward(pass.h2, dz, n));
    const dh1 = reluBackward(pass.h1, l2.backward(pass.h1, dh2, n));
    l1.backward(s, dh1, n);
  }
}

/** HAQ's critic: W3 relu(W2 relu(W11 s + W12 a)). */
class Critic extends Network {
  readonly layers: readonly [Dense, Dense, Dense, Dense];

  constructor(states: number, actions: number, hidden: number, rng: SearchRng) {
    super();
    this.layers = [
      new Dense(states, hidden, rng, 1 / Math.sqrt(hidden)),
      new Dense(actions, hidden, rng, 1 / Math.sqrt(hidden)),
      new Dense(hidden, hidden, rng, 1 / Math.sqrt(hidden)),
      new Dense(hidden, 1, rng, FINAL_INIT),
    ];
  }

  forward(s: Float64Array, a: Float64Array, n: number) {
    const [l11, l12, l2, l3] = this.layers;
    const hs = l11.forward(s, n);
    const ha = l12.forward(a, n);
    const h1 = relu(hs.map((v, i) => v + ha[i]));
    const h2 = relu(l2.forward(h1, n));
    const q = l3.forward(h2, n);
    return { h1, h2, q };
  }

  /**
   * Backpropagates dL/dq; accumulates parameter gradients if `parameters`, and returns dL/da.
   */
  backward(
    s: Float64Array,
    a: Float64Array,
    pass: ReturnType<Critic["forward"]>,
    dq: Float64Array,
    n: number,
    parameters: boolean,
  ): Float64Array {
    const [l11, l12, l2, l3] = this.layers;
    const dh2 = reluBackward(pass.h2, l3.backward(pass.h2, dq, n, parameters));
    const dh1 = reluBackward(pass.h1, l2.backward(pass.h1, dh2, n, parameters));
    if (parameters) l11.backward(s, dh1, n);
    return l12.backward(a, dh1, n, parameters);
  }
}

/** Adam (PyTorch's: bias-corrected, eps outside the square root, no weight decay). */
class Adam {
  #m: Float64Array[];
  #v: Float64Array[];
  #t = 0;

  constructor(readonly params: Float64Array[], readonly grads: Float64Array[], readonly lr: number) {
    this.#m = params.map((p) => new Float64Array(p.length));
    this.#v = params.map((p) => new Float64Array(p.length));
  }

  step(beta1 = 0.9, beta2 = 0.999, eps = 1e-8): void {
    this.#t++;
    const c1 = 1 - beta1 ** this.#t;
    const c2 = 1 - beta2 ** this.#t;
    this.params.forEach((p, k) => {
      const g = this.grads[k], m = this.#m[k], v = this.#v[k];
      for (let i = 0; i < p.length; i++) {
        m[i] = beta1 * m[i] + (1 - beta1) * g[i];
        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i];
        p[i] -= this.lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + eps);
      }
    });
  }
}

/** One step of an episode. */
export interface Transition {
  readonly state: Float64Array;
  readonly action: Float64Array;
  readonly reward: number;
  readonly next: Float64Array;
  readonly done: boolean;
}

/** DDPG hyperparameters (HAQ's defaults in {@link HAQ_DDPG}). */
export interface DdpgSettings {
  readonly hidden: number;
  readonly actorLr: number;
  readonly criticLr: number;
  readonly tau: number;
  readonly batchSize: number;
  readonly discount: number;
  readonly bufferSize: number;
  /** Weight of a batch's mean reward in the moving-average baseline. */
  readonly baselineWeight: number;
}

/** HAQ's settings (buffer size is 128 x layers, so it is set per network). */
export const HAQ_DDPG: Omit<DdpgSettings, "bufferSize"> = {
  hidden: 300,
  actorLr: 1e-4,
  criticLr: 1e-3,
  tau: 0.01,
  batchSize: 64,
  discount: 1,
  baselineWeight: 0.5,
};

/** A DDPG agent: actor, critic, their targets, Adam, and a replay buffer. */
export class Ddpg {
  readonly #actor: Actor;
  readonly #critic: Critic;
  readonly #actorTarget: Actor;
  readonly #criticTarget: Critic;
  readonly #actorOptim: Adam;
  readonly #criticOptim: Adam;
  readonly #buffer: Transition[] = [];
  #next = 0;
  #baseline: number | null = null;

  constructor(
    readonly states: number,
    readonly actions: number,
    readonly settings: DdpgSettings,
    rng: SearchRng,
  ) {
    const { hidden } = settings;
    this.#actor = new Actor(states, actions, hidden, rng);
    this.#critic = new Critic(states, actions, hidden, rng);
    this.#actorTarget = new Actor(states, actions, hidden, rng);
    this.#criticTarget = new Critic(states, actions, hidden, rng);
    this.#actorTarget.softUpdate(this.#actor, 1);
    this.#criticTarget.softUpdate(this.#critic, 1);
    this.#actorOptim = new Adam(this.#actor.params(), this.#actor.grads(), settings.actorLr);
    this.#criticOptim = new Adam(this.#critic.params(), this.#critic.grads(), settings.criticLr);
  }

  /** The actor's action for one state, in (0, 1) per dimension. */
  act(state: Float64Array): Float64Array {
    return this.#actor.forward(state, 1).a;
  }

  /** Q(state, action) by the critic (for tests and diagnostics). */
  value(state: Float64Array, action: Float64Array): number {
    return this.#critic.forward(state, action, 1).q[0];
  }

  /** Stores a transition, overwriting the oldest once the buffer is full. */
  observe(t: Transition): void {
    if (this.#buffer.length < this.settings.bufferSize) this.#buffer.push(t);
    else this.#buffer[this.#next] = t;
    this.#next = (this.#next + 1) % this.settings.bufferSize;
  }

  /** Transitions stored. */
  get size(): number {
    return this.#buffer.length;
  }

  /** One update of critic, actor and targets from a sampled batch (HAQ's `update_policy`). */
  update(rng: SearchRng): void {
    if (this.#buffer.length === 0) throw new Error("DDPG: update with an empty replay buffer");
    const batch = this.#sample(rng);
    const n = batch.length;
    const { states: S, actions: A, settings } = this;
    const s = stack(batch.map((t) => t.state), S);
    const a = stack(batch.map((t) => t.action), A);
    const next = stack(batch.map((t) => t.next), S);
    const mean = batch.reduce((x, t) => x + t.reward, 0) / n;
    this.#baseline = this.#baseline === null
      ? mean
      : this.#baseline + settings.baselineWeight * (mean - this.#baseline);

    // Critic: regress Q(s, a) on the baselined reward plus the discounted target value.
    const nextQ = this.#criticTarget.forward(next, this.#actorTarget.forward(next, n).a, n).q;
    const target = batch.map((t, i) =>
      t.reward - this.#baseline! + settings.discount * (t.done ? 0 : 1) * nextQ[i]
    );
    this.#critic.zeroGrad();
    const pass = this.#critic.forward(s, a, n);
    const dq = pass.q.map((q, i) => 2 * (q - target[i]) / n);
    this.#critic.backward(s, a, pass, dq, n, true);
    this.#criticOptim.step();

    // Actor: ascend Q(s, mu(s)); the critic's parameters are left alone.
    this.#actor.zeroGrad();
    const actorPass = this.#actor.forward(s, n);
    const criticPass = this.#critic.forward(s, actorPass.a, n);
    const da = this.#critic.backward(s, actorPass.a, criticPass, new Float64Array(n).fill(-1 / n), n, false);
    this.#actor.backward(s, actorPass, da, n);
    this.#actorOptim.step();

    this.#actorTarget.softUpdate(this.#actor, settings.tau);
    this.#criticTarget.softUpdate(this.#critic, settings.tau);
  }

  /** A batch: distinct transitions if the buffer holds enough, else drawn with replacement (keras-rl's memory). */
  #sample(rng: SearchRng): Transition[] {
    const size = this.#buffer.length;
    const k = this.settings.batchSize;
    if (size < k) return Array.from({ length: k }, () => this.#buffer[rng.int(size)]);
    return rng.sampleIndices(size, k).map((i) => this.#buffer[i]);
  }
}

function stack(rows: readonly Float64Array[], width: number): Float64Array {
  const out = new Float64Array(rows.length * width);
  rows.forEach((r, i) => out.set(r, i * width));
  return out;
}

/** Exposed for the gradient checks in ddpg_test.ts. */
export const internals = { Actor, Critic, Dense };
