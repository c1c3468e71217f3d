/**
 * The data-parallel workers' averaging step in shared memory, done by the workers themselves: each
 * writes its flat vector (gradient, then batch-norm statistics) into its own slot of one
 * SharedArrayBuffer, waits for the others, averages its own range of every slot into the result
 * region (weighted by slice size, accumulated in double precision in worker order, so every
 * worker's result is bit-identical), waits again, and applies the result.
 *
 * The loop runs in C where it builds (lib/nn/native/weighted_average.c: a VGG-16 worker's averaging,
 * barrier waits included, 80-118 ms -> 13-30 ms per step), else in JavaScript
 * ({@link weightedAverage}), with bit-identical results.
 *
 * Why not the main thread: a VGG-16 gradient is 60 MB, and averaging it there meant a copy out of
 * each worker, a single-threaded loop, a structured-clone copy back and a copy into each worker's
 * heap per step, while both workers sat idle (~18% of a VGG-16 step). Here the average runs on both
 * cores, half each, and nothing is cloned.
 *
 * The result has its own region, so a worker may start its next step (writing its slot) while the
 * other still uploads the result: no third wait per step. A worker that fails raises a flag that
 * releases the others with an error instead of leaving them waiting; so does the main thread when
 * a worker dies (see {@link SharedAverage.abort}).
 *
 * @module
 */

import { type WeightedAverage, weightedAverageNative } from "../nn/native/weighted_average.ts";

/** Int32 control words at the start of the buffer. */
const ARRIVED = 0, GENERATION = 1, FAILED = 2;
const CONTROL_BYTES = 16;
/** How long one wait lasts before the failure flag is checked again (ms). */
const WAIT_SLICE_MS = 500;

/** Sizes that fix the buffer's layout (plain data: posted to each worker with the buffer). */
export interface SharedAverageLayout {
  readonly replicas: number;
  /** Values per worker: trainable gradient, then statistics. */
  readonly length: number;
  /** The first `gradientLength` values are the gradient (its squared norm is summed). */
  readonly gradientLength: number;
}

/** One party's handle on the shared buffer: a worker's (`index` >= 0) or the main thread's. */
export class SharedAverage {
  readonly layout: SharedAverageLayout;
  readonly #control: Int32Array;
  /** Each worker's partial sum of squares of its range of the averaged gradient. */
  readonly #squares: Float64Array;
  readonly #slots: Float32Array[];
  /** Every slot, one after another (the averaging loop's input). */
  readonly #allSlots: Float32Array;
  readonly #result: Float32Array;

  constructor(readonly buffer: SharedArrayBuffer, layout: SharedAverageLayout) {
    const { replicas, length, gradientLength } = layout;
    if (!(Number.isInteger(replicas) && replicas >= 1 && gradientLength <= length)) {
      throw new Error(`SharedAverage: bad layout ${JSON.stringify(layout)}`);
    }
    if (buffer.byteLength !== SharedAverage.byteLength(layout)) {
      throw new Error(
        `SharedAverage: buffer of ${buffer.byteLength} bytes does not fit ${JSON.stringify(layout)}`,
      );
    }
    this.layout = layout;
    this.#control = new Int32Array(buffer, 0, CONTROL_BYTES / 4);
    this.#squares = new Float64Array(buffer, CONTROL_BYTES, replicas);
    const floats = CONTROL_BYTES + 8 * replicas;
    // A single worker's slot is the result: nothing to average.
    const regions = replicas === 1 ? 1 : replicas + 1;
    const views = Array.from(
      { length: regions },
      (_, i) => new Float32Array(buffer, floats + 4 * i * length, length),
    );
    this.#slots = views.slice(0, replicas);
    this.#allSlots = new Float32Array(buffer, floats, replicas * length);
    this.#result = views[regions - 1];
  }

  /** Bytes of the buffer for `layout`. */
  static byteLength({ replicas, length }: SharedAverageLayout): number {
    return CONTROL_BYTES + 8 * replicas + 4 * length * (replicas === 1 ? 1 : replicas + 1);
  }

  /** A fresh buffer and the main thread's handle on it. */
  static create(layout: SharedAverageLayout): SharedAverage {
    return new SharedAverage(new SharedArrayBuffer(SharedAverage.byteLength(layout)), layout);
  }

  /** Worker `index`'s slot, where it writes its gradient and statistics. */
  slot(index: number): Float32Array {
    return this.#slots[index];
  }

  /**
   * Worker `index`'s part of one step, after it wrote its slot: waits for every worker, averages
   * its range with `weights` (one per worker; weight 0: the worker had no slice, its slot is not
   * read), waits again, and returns the averaged vector (valid until this worker's next call)
   * and the averaged gradient's squared norm. Throws if any party failed or aborted.
   */
  average(index: number, weights: readonly number[]): { result: Float32Array; squares: number } {
    const { replicas, length, gradientLength } = this.layout;
    if (weights.length !== replicas) {
      throw new Error(`SharedAverage: ${weights.length} weights for ${replicas} workers`);
    }
    this.#wait();
    const lo = Math.floor(length * index / replicas), hi = Math.floor(length * (index + 1) / replicas);
    const average = weightedAverageNative() ?? weightedAverage;
    const squares = average(
      this.#allSlots,
      length,
      Float64Array.from(weights),
      this.#result,
      replicas > 1,
      [lo, hi],
      gradientLength,
    );
    this.#squares[index] = squares;
    this.#wait();
    let total = 0;
    for (let i = 0; i < replicas; i++) total += this.#squares[i];
    return { result: this.#result, squares: total };
  }

  /** Raises the failure flag and wakes every waiting worker (which then throws). */
  abort(): void {
    Atomics.store(this.#control, FAILED, 1);
    Atomics.add(this.#control, GENERATION, 1);
    Atomics.notify(this.#control, GENERATION);
  }

  /** A barrier over the workers (generation counting), released early by {@link abort}. */
  #wait(): void {
    const c = this.#control;
    this.#checkFailed();
    const generation = Atomics.load(c, GENERATION);
    if (Atomics.add(c, ARRIVED, 1) === this.layout.replicas - 1) {
      Atomics.store(c, ARRIVED, 0);
      Atomics.add(c, GENERATION, 1);
      Atomics.notify(c, GENERATION);
    } else {
      while (Atomics.load(c, GENERATION) === generation && !Atomics.load(c, FAILED)) {
        Atomics.wait(c, GENERATION, generation, WAIT_SLICE_MS);
      }
    }
    this.#checkFailed();
  }

  #checkFailed(): void {
    if (Atomics.load(this.#control, FAILED)) {
      throw new Error("another training worker failed during this step (its own error says why)");
    }
  }
}

/** The averaging loop in JavaScript: the C kernel's fallback and reference ({@link WeightedAverage}). */
export const weightedAverage: WeightedAverage = (
  slots,
  length,
  weights,
  out,
  writeOut,
  [lo, hi],
  gradientLength,
) => {
  const read: Float32Array[] = [], ws: number[] = [];
  weights.forEach((w, k) => {
    if (w === 0) return;
    read.push(slots.subarray(k * length, (k + 1) * length));
    ws.push(w);
  });
  let squares = 0;
  for (let j = lo; j < hi; j++) {
    let acc = 0;
    for (let k = 0; k < read.length; k++) acc += ws[k] * read[k][j];
    if (writeOut) out[j] = acc;
    if (j < gradientLength) {
      const v = Math.fround(acc);
      squares += v * v;
    }
  }
  return squares;
};
