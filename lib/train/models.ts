/**
 * A model to train, described as plain data (a {@link ModelRecipe}) so that data-parallel
 * workers, the final export and evaluation all build the very same model: architecture,
 * initialisation seed, optional starting weights and optional replacement plan.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { architecture, type ModelName } from "../nn/architectures.ts";
import { loadModel } from "../nn/io.ts";
import { buildModel } from "../nn/model.ts";
import { applyPlan } from "../nn/apply_plan.ts";
import type { Plan } from "../nn/plan.ts";
import type { ModelFactory } from "./parallel.ts";

/** Everything needed to build the model a run trains. Structured-cloneable. */
export interface ModelRecipe {
  model: ModelName;
  numClasses: number;
  /** Batch-norm after each convolution (default true). */
  batchNorm?: boolean;
  /** Initialiser seed. */
  seed: number;
  /** Directory saved by `saveModel` whose weights replace the initial ones. */
  init?: string;
  /** Replacement plan applied after the weights are set (masks follow their L1 norms). */
  plan?: Plan;
  /** Inputs (NHWC floats, `count` images) to fit the plan's polynomial coefficients on. */
  calibration?: { x: Float32Array; count: number };
}

/** Copies weights by name from `source` into `target`, failing on any missing or misshapen one. */
function copyWeights(source: tfl.LayersModel, target: tfl.LayersModel, from: string): void {
  const byName = new Map(source.weights.map((w) => [w.originalName, w]));
  const values = target.weights.map((w) => {
    const s = byName.get(w.originalName);
    if (!s || s.shape.join() !== w.shape.join()) {
      throw new Error(
        `${from}: weight '${w.originalName}' [${w.shape}] is ` +
          (s ? `[${s.shape}] there` : "missing there") +
          `; the saved model is another architecture (check --model, --dataset and --init)`,
      );
    }
    return s.read();
  });
  target.setWeights(values);
}

/** Builds the model of a recipe (on the active tfjs backend). */
export async function recipeModel(recipe: ModelRecipe): Promise<tfl.LayersModel> {
  const graph = architecture(recipe.model, {
    numClasses: recipe.numClasses,
    batchNorm: recipe.batchNorm ?? true,
  });
  const model = buildModel(graph, { seed: recipe.seed });
  if (recipe.init) {
    const saved = await loadModel(recipe.init);
    try {
      copyWeights(saved, model, recipe.init);
    } finally {
      saved.dispose();
    }
  }
  if (recipe.plan) {
    const calib = recipe.calibration;
    const x = calib ? tf.tensor4d(calib.x, [calib.count, ...inputShape(graph)]) : undefined;
    try {
      applyPlan(model, graph, recipe.plan, x);
    } finally {
      x?.dispose();
    }
  }
  return model;
}

function inputShape(graph: ReturnType<typeof architecture>): [number, number, number] {
  const op = graph.ops[0];
  if (op.kind !== "input") throw new Error(`graph ${graph.name}: first op is not the input`);
  return [...op.shape];
}

/** The worker factory (see parallel.ts) that builds `recipe` with {@link recipeModel}. */
export function recipeFactory(recipe: ModelRecipe): ModelFactory {
  return { module: import.meta.url, exportName: "recipeModel", args: [recipe] };
}
