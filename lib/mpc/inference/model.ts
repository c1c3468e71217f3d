/**
 * The server's preparation of a network for secure inference: load trained weights (or build a
 * seeded random model, for timing runs before weights exist), apply the plan, fold batch-norm,
 * quantise. Imports TensorFlow.js, so only the server and tools load it; the client does not.
 *
 * @module
 */

import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../nn/backend.ts";
import { type ChannelStats, CIFAR10_STATS, normalize } from "../../data/augment.ts";
import { loadCifar } from "../../data/cifar.ts";
import { IMAGE_BYTES } from "../../data/dataset.ts";
import {
  architecture,
  type ArchitectureOptions,
  MODEL_NAMES,
  type ModelName,
} from "../../nn/architectures.ts";
import { type FoldedNetwork, foldNetwork } from "../../nn/fold.ts";
import { loadModel } from "../../nn/io.ts";
import { activationLayers, buildModel } from "../../nn/model.ts";
import type { Graph, InputOp } from "../../nn/graph.ts";
import { applyPlan } from "../../nn/apply_plan.ts";
import { allReluPlan, type Plan, validatePlan } from "../../nn/plan.ts";
import { quantizeNetwork } from "../quantize.ts";
import type { ServedNetwork } from "./server.ts";

/** `--weights random` or `random:<seed>`: a seeded, untrained model (timing only). */
export const RANDOM_WEIGHTS = /^random(?::(\d+))?$/;

/** Options of {@link prepareNetwork}. */
export interface PrepareOptions {
  /** The architecture; default: the one the weights' training.json names. */
  readonly model?: ModelName;
  /** A model directory (model.json + weights.bin), or "random[:seed]". */
  readonly weights: string;
  /** The plan; default the one the weights were trained with (training.json), else all-ReLU. */
  readonly plan?: Plan;
  /** Fractional bits (default DEFAULT_FRAC_BITS). */
  readonly fracBits?: number;
  /**
   * How many CIFAR-10 training images (the first ones, normalised as the weights expect) to fit
   * polynomial coefficients on when the plan is applied here (see `applyPlan`). Default 0:
   * new polynomial channels get the default coefficients, which on untrained weights let
   * values grow without bound.
   */
  readonly calibrationImages?: number;
}

/** A prepared network plus notes for the operator. */
export interface PreparedNetwork extends ServedNetwork {
  /** The float network the quantized one came from (for comparisons with plaintext inference). */
  readonly folded: FoldedNetwork;
  /** Input normalisation the weights were trained with (public; sent to the client). */
  readonly normalize: ChannelStats;
  /** Where the weights came from, for printing. */
  readonly source: string;
  /** Things the operator should know (e.g. the plan was applied to weights trained for another). */
  readonly warnings: readonly string[];
}

/** Reads a plan file (validated against the graph by `prepareNetwork`). */
export async function readPlan(path: string): Promise<Plan> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`cannot read plan ${path}: ${(error as Error).message}`);
  }
}

/** What `training.json` beside trained weights (tools/train.ts) says about the architecture and inputs. */
interface TrainingRecord {
  recipe?: { model?: string; batchNorm?: boolean; numClasses?: number; plan?: Plan };
  config?: { normalize?: ChannelStats };
}

async function readTrainingRecord(dir: string): Promise<TrainingRecord> {
  try {
    return JSON.parse(await Deno.readTextFile(`${dir}/training.json`));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return {};
    throw new Error(`cannot read ${dir}/training.json: ${(error as Error).message}`);
  }
}

/** The first `count` training images as an NHWC tensor, normalised with `stats`. */
async function calibrationBatch(graph: Graph, count: number, stats: ChannelStats): Promise<tf.Tensor4D> {
  const train = await loadCifar({ dataset: "cifar10", split: "train" });
  const [h, w, c] = (graph.ops[0] as InputOp).shape;
  return tf.tensor4d(normalize(train.images.subarray(0, count * IMAGE_BYTES), stats), [count, h, w, c]);
}

/**
 * Loads or builds the model, applies the plan unless the weights already carry it (then their
 * trained masks and coefficients are kept), folds and quantises. A `training.json` beside the
 * weights gives the architecture options (batch-norm, classes) and the input normalisation;
 * without one: batch-norm, 10 classes, CIFAR-10 statistics.
 */
export async function prepareNetwork(options: PrepareOptions): Promise<PreparedNetwork> {
  await initBackend("wasm");
  const random = RANDOM_WEIGHTS.exec(options.weights);
  const record = random ? {} : await readTrainingRecord(options.weights);
  const trainedAs = record.recipe?.model;
  const modelName = options.model ?? trainedAs;
  if (!(MODEL_NAMES as readonly (string | undefined)[]).includes(modelName)) {
    throw new Error(
      modelName === undefined
        ? `${options.weights} names no model (${
          random ? "random weights" : "no training.json beside them"
        }): ` +
          `pass --model`
        : `${options.weights}/training.json names the model "${modelName}", which is not one of ${
          MODEL_NAMES.join(", ")
        }: pass --model`,
    );
  }
  if (trainedAs !== undefined && trainedAs !== modelName) {
    throw new Error(
      `the weights in ${options.weights} are a ${trainedAs} model (training.json), not ${options.model}: ` +
        `pass --model ${trainedAs}, or weights of a ${options.model}`,
    );
  }
  const archOptions: ArchitectureOptions = {
    batchNorm: record.recipe?.batchNorm ?? true,
    numClasses: record.recipe?.numClasses ?? 10,
  };
  const graph = architecture(modelName as ModelName, archOptions);
  const normalizeStats = record.config?.normalize ?? CIFAR10_STATS;
  const plan = options.plan ?? record.recipe?.plan ?? allReluPlan(graph);
  validatePlan(graph, plan);
  const model = random
    ? buildModel(graph, { seed: Number(random[1] ?? 0) })
    : await loadModel(options.weights);
  const warnings: string[] = [];
  try {
    const layers = activationLayers(model, graph);
    const carries = layers.every((l, i) =>
      l.alpha === plan.sites[i].alpha && l.degree === plan.sites[i].beta
    );
    if (!carries) {
      const trainedWithPlan = layers.some((l) => l.alpha > 0);
      const calibration = options.calibrationImages
        ? await calibrationBatch(graph, options.calibrationImages, normalizeStats)
        : undefined;
      try {
        applyPlan(model, graph, plan, calibration);
      } finally {
        calibration?.dispose();
      }
      if (!random && trainedWithPlan) {
        warnings.push(
          `the weights were trained for another plan: masks re-chosen by L1 norm and coefficients ${
            calibration ? `fitted on ${options.calibrationImages} training images` : "reset to defaults"
          }; expect lower accuracy (serve the plan the weights were trained with)`,
        );
      } else if (!random && plan.sites.some((s) => s.alpha > 0)) {
        warnings.push(
          `the weights were trained all-ReLU: polynomial coefficients are ${
            calibration ? "fitted" : "the defaults"
          }, not fine-tuned`,
        );
      }
    }
    const folded = foldNetwork(model, graph, plan);
    const net = quantizeNetwork(folded, graph, { fracBits: options.fracBits });
    const source = random ? `random weights (seed ${random[1] ?? 0}; timing only)` : options.weights;
    return {
      graph,
      net,
      folded,
      plan,
      source,
      warnings,
      normalize: record.config?.normalize ?? CIFAR10_STATS,
    };
  } finally {
    model.dispose();
  }
}
