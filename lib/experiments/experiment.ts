/**
 * The one shape every experiment (a paper figure or table) has, so that notebooks and
 * `deno task reproduce` drive them alike: `run(config)` computes a plain result object,
 * `write(result)` saves it as results/<name>.json plus figures/<name>.* where it has a chart.
 *
 * @module
 */
import type { ProfileName } from "./profiles.ts";

/** Settings every experiment takes; experiments extend it with their own fields. */
export interface ExperimentConfig {
  /** Named size of the run (lib/experiments/profiles.ts): "smoke", "quick" or "paper". */
  readonly profile: ProfileName;
  readonly seed: number;
}

/** Where {@link Experiment.write} puts its files; defaults to the repository's directories. */
export interface WriteOptions {
  readonly resultsDir?: string;
  readonly figuresDir?: string;
}

/** A registry entry: what reproduce lists and runs. */
export interface Experiment<C extends ExperimentConfig = ExperimentConfig, R = unknown> {
  /** File stem of its outputs, e.g. "fig2_relu_distribution". */
  readonly name: string;
  /** Human title, e.g. "Figure 2: ReLU units per activation layer". */
  readonly title: string;
  /** Computes the result; pure apart from reading data and checkpoints. */
  run(config: C): R | Promise<R>;
  /** Writes the result's files and returns their paths. */
  write(result: R, options?: WriteOptions): Promise<string[]>;
}
