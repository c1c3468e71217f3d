/**
 * Exporting a trained model: the model rebuilt from its recipe in this thread, the trained flat
 * weights assigned to it and saved (`model.json` + `weights.bin`), and the typed record of how it
 * was trained (`training.json`) beside it.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { writeFileAtomic } from "../data/atomic.ts";
import { initBackend } from "../nn/backend.ts";
import { saveModel, type WeightStorage } from "../nn/io.ts";
import { median } from "../report/stats.ts";
import type { EpochRecord, TrainConfig } from "./loop.ts";
import { type ModelRecipe, recipeModel } from "./models.ts";
import type { ModelFactory } from "./parallel.ts";
import type { WeightInfo } from "./replica.ts";
import { assign } from "./sgd.ts";

/** The file beside an exported model that says how it was trained. */
export const TRAINING_RECORD = "training.json";

/** A model's recipe as recorded: plain data, its starting weights' directory or null. */
export type RecordedRecipe = Omit<ModelRecipe, "calibration" | "init"> & { init: string | null };

/** `training.json`: what was trained, how, from which commit, and how well. */
export interface TrainingRecord {
  model: string;
  dataset: string;
  /** The command that trained it, as typed. */
  command: string;
  recipe: RecordedRecipe;
  /** The run's configuration without the recipe (recorded above). */
  config: TrainConfig;
  /** Test accuracy of the model as stored (`storage`), which is what is shipped. */
  testAccuracy?: number;
  testLoss?: number;
  /** How the weights are stored, when not float32; then the trained float32 model's test accuracy. */
  storage?: WeightStorage;
  trainedTestAccuracy?: number;
  validationAccuracy?: number;
  epochs: number;
  /** Wall-clock throughput of the whole loop (data, steps, checkpoints), median over epochs. */
  medianImagesPerSecond: number;
  run: string;
  workers: number;
  /** Short git commit, or "" outside a repository. */
  commit: string;
  /** Time of the last epoch. */
  finished: string;
}

/** Fields of a {@link TrainingRecord} that come from the run rather than from its history. */
export type TrainingRecordInput = Omit<
  TrainingRecord,
  | "testAccuracy"
  | "testLoss"
  | "validationAccuracy"
  | "epochs"
  | "medianImagesPerSecond"
  | "commit"
  | "finished"
>;

/** The record of a finished run with `history` (its last epoch holds the final accuracies). */
export async function trainingRecord(input: TrainingRecordInput, history: readonly EpochRecord[]): Promise<
  TrainingRecord
> {
  const last = history.at(-1);
  if (!last) throw new Error("trainingRecord: the run has no finished epoch");
  // Keys in the order training.json has always had.
  return {
    model: input.model,
    dataset: input.dataset,
    command: input.command,
    recipe: input.recipe,
    config: input.config,
    testAccuracy: last.testAccuracy,
    testLoss: last.testLoss,
    validationAccuracy: last.valAccuracy,
    epochs: history.length,
    medianImagesPerSecond: median(history.map((h) => h.imagesPerSecond)),
    run: input.run,
    workers: input.workers,
    commit: await shortCommit(),
    finished: last.time,
  };
}

/** `git rev-parse --short HEAD`, or "" when git or the repository is missing. */
export async function shortCommit(): Promise<string> {
  return await new Deno.Command("git", {
    args: ["rev-parse", "--short", "HEAD"],
    stdout: "piped",
    stderr: "null",
  })
    .output().then((o) => new TextDecoder().decode(o.stdout).trim()).catch(() => "");
}

/**
 * Saves the model of `recipe` with `weights` (flat, in `weightInfo` order, as an engine or a trial
 * holds them) to `out`. The model is rebuilt on the cpu backend (no training here), after its
 * plan's alpha and degrees are set, so the saved masks and coefficients are the trained ones.
 * `storage` "float16" stores the float weights as half floats (lib/nn/io.ts).
 */
export async function exportModel(
  recipe: Omit<ModelRecipe, "calibration">,
  weights: Float32Array,
  weightInfo: readonly WeightInfo[],
  out: string,
  storage: WeightStorage = "float32",
): Promise<void> {
  await initBackend("cpu");
  const model = await recipeModel(recipe);
  const names = model.weights.map((w) => w.originalName).join();
  if (names !== weightInfo.map((w) => w.name).join()) {
    throw new Error("exportModel: the exported model's weights differ from the trained one's");
  }
  assign(model.weights.map((w) => w.read() as tf.Variable), weights, "final weights");
  await saveModel(model, out, storage);
  model.dispose();
}

/** How engines build the model saved in `dir` (as `deno task eval` and the float16 check load it). */
export function savedModelFactory(dir: string): ModelFactory {
  return { module: new URL("../nn/io.ts", import.meta.url).href, exportName: "loadModel", args: [dir] };
}

/** Writes `training.json` into `out`. */
export async function writeTrainingRecord(out: string, record: TrainingRecord): Promise<void> {
  await writeFileAtomic(join(out, TRAINING_RECORD), JSON.stringify(record, null, 2) + "\n");
}
