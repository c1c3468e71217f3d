/**
 * A runner that answers a search from another run's recorded calls (of a SimulatedRunner), for
 * tests that a searcher is a deterministic function of its seed and the runner's answers: the
 * lead's runner resumes an interrupted search this way. Throws at the first call that differs.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { TrialConfig, TrialId, TrialRunner } from "../types.ts";
import type { RunnerCall } from "./simulated_runner.ts";

/** Replays `calls`; `budget` is the recorded run's starting budget. */
export class ReplayRunner implements TrialRunner {
  #next = 0;
  #left: number;

  constructor(readonly calls: readonly RunnerCall[], budget: number) {
    this.#left = budget;
  }

  /** Whether every recorded call was replayed. */
  get done(): boolean {
    return this.#next === this.calls.length;
  }

  #expect<K extends RunnerCall["kind"]>(kind: K): Extract<RunnerCall, { kind: K }> {
    const call = this.calls[this.#next++];
    assert.equal(call?.kind, kind, `call ${this.#next - 1}`);
    return call as Extract<RunnerCall, { kind: K }>;
  }

  start(stage: string, configs: readonly TrialConfig[], from?: TrialId): Promise<TrialId[]> {
    const call = this.#expect("start");
    assert.deepEqual([stage, configs, from], [call.stage, call.configs, call.from]);
    return Promise.resolve(call.trials);
  }

  train(trials: readonly TrialId[], images: number): Promise<number[]> {
    const call = this.#expect("train");
    assert.deepEqual([trials, images], [call.trials, call.images]);
    this.#left -= trials.length * images;
    return Promise.resolve(call.accuracies);
  }

  exploit(target: TrialId, source: TrialId, config: TrialConfig): Promise<void> {
    const call = this.#expect("exploit");
    assert.deepEqual([target, source, config], [call.target, call.source, call.config]);
    return Promise.resolve();
  }

  stop(trials: readonly TrialId[]): Promise<void> {
    assert.deepEqual(trials, this.#expect("stop").trials);
    return Promise.resolve();
  }

  budgetLeft(): number {
    return this.#left;
  }
}
