/**
 * Applying a replacement plan (plan.ts) to a TensorFlow.js model: masks chosen from the model's
 * current weights, coefficients fitted on a calibration batch.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type * as tfl from "@tensorflow/tfjs-layers";
import { activationSites, type Graph } from "./graph.ts";
import { l1Importance, selectApproximated } from "./approximation.ts";
import { activationLayers, findLayer } from "./model.ts";
import { type Plan, validatePlan } from "./plan.ts";

/**
 * Per-channel importance of a site's channels: L1 norms of its producer's kernel (conv filter
 * or dense column) in the model's current weights.
 */
function siteImportance(model: tfl.LayersModel, producer: string): Float64Array {
  const layer = findLayer(model, producer);
  const kernel = layer.weights.find((w) => w.originalName.endsWith("/kernel"));
  if (!kernel) throw new Error(`model ${model.name}: producer '${producer}' has no kernel weight`);
  return l1Importance(kernel.read().dataSync(), kernel.shape[kernel.shape.length - 1]!);
}

/**
 * Applies a plan: each site's mask is chosen from the current weights' L1 norms (eq. 3) and its
 * alpha and degree set. Given a calibration batch (NHWC inputs), every site's coefficients are
 * then fitted by least squares to ReLU on the inputs it sees, in one inference pass; without
 * one, coefficients are kept where the degree is unchanged and reset to defaults where it changes.
 */
export function applyPlan(model: tfl.LayersModel, graph: Graph, plan: Plan, calibration?: tf.Tensor): void {
  validatePlan(graph, plan);
  const layers = activationLayers(model, graph);
  activationSites(graph).forEach((site, i) => {
    const { alpha, beta } = plan.sites[i];
    layers[i].setPlan(alpha, beta, selectApproximated(siteImportance(model, site.producer), alpha));
  });
  if (calibration) {
    for (const layer of layers) layer.calibrateOnNextCall();
    // apply, not predict: predict splits the batch, and calibration must see all of it at once.
    tf.dispose(tf.tidy(() => model.apply(calibration, { training: false }) as tf.Tensor));
  }
}
