/**
 * Export of a trained model for the two-party protocol: float weights per op id with batch-norm
 * folded into the layer before it, and per activation site the channel mask and coefficients;
 * plus a plain-loop float reference forward pass over that form.
 *
 * Layouts (row-major, as TensorFlow.js stores them): conv kernel [kh, kw, cin, cout], dense
 * kernel [in, out], activations HWC. "same" padding follows TensorFlow: the total padding
 * max((out - 1) x stride + k - in, 0) is split with floor(total / 2) before and the rest after
 * (so a stride-2 3x3 conv on an even size pads 0 before and 1 after).
 *
 * @module
 */
import type * as tfl from "@tensorflow/tfjs-layers";
import { type Graph, inferShapes, type Op } from "./graph.ts";
import { convAccumulate, linearGeometry, sumPool } from "./linear.ts";
import type { Degree } from "./approximation.ts";
import { activationLayers, findLayer } from "./model.ts";
import { type Plan, validatePlan } from "./plan.ts";

/** A convolution with any following batch-norm folded in. */
export interface FoldedConv {
  kind: "conv";
  /** [kh, kw, cin, cout] row-major. */
  kernel: Float32Array;
  kernelShape: [number, number, number, number];
  /** [cout]; zeros when the conv had no bias and no batch-norm. */
  bias: Float32Array;
  stride: number;
  padding: "same" | "valid";
}

/** A dense layer (batch-norm folded in, if one followed). */
export interface FoldedDense {
  kind: "dense";
  /** [in, out] row-major. */
  kernel: Float32Array;
  kernelShape: [number, number];
  bias: Float32Array;
}

/** A channel's function at an activation site: ReLU, or a polynomial of the given degree. */
export type ChannelFunction = "relu" | Degree;

/** An activation site: per channel its function and its ascending coefficients. */
export interface FoldedActivation {
  kind: "activation";
  alpha: number;
  degree: Degree;
  /** Per channel: "relu" (garbled circuit) or the polynomial degree (Beaver triples). */
  mask: ChannelFunction[];
  /** Per channel ascending coefficients c0 + c1 x + ...; empty for ReLU channels. */
  coefficients: number[][];
}

/** A batch-norm that now lives inside the layer that feeds it. */
export interface FoldedAway {
  kind: "folded";
  into: string;
}

/** The exported network: weights by op id (ops without weights have no entry). */
export interface FoldedNetwork {
  model: string;
  ops: Record<string, FoldedConv | FoldedDense | FoldedActivation | FoldedAway>;
}

function weightOf(layer: tfl.layers.Layer, suffix: string): Float32Array | undefined {
  const w = layer.weights.find((v) => v.originalName.endsWith(`/${suffix}`));
  return w ? Float32Array.from(w.read().dataSync()) : undefined;
}

/**
 * Folds a trained model (plan already applied, see `applyPlan`) into protocol form. Batch-norm
 * after a conv or dense layer becomes w' = w g / sqrt(v + eps), b' = (b - m) g / sqrt(v + eps) + beta.
 */
export function foldNetwork(model: tfl.LayersModel, graph: Graph, plan: Plan): FoldedNetwork {
  validatePlan(graph, plan);
  const shapes = inferShapes(graph);
  const ops: FoldedNetwork["ops"] = {};
  const layers = activationLayers(model, graph);
  const consumers = (id: string) => graph.ops.filter((o) => o.inputs.includes(id));
  let site = 0;
  for (const op of graph.ops) {
    const layer = op.kind === "input" ? undefined : findLayer(model, op.id);
    if (op.kind === "conv" || op.kind === "dense") {
      const kernel = weightOf(layer!, "kernel")!;
      const outputs = op.kind === "conv" ? op.filters : op.units;
      const bias = weightOf(layer!, "bias") ?? new Float32Array(outputs);
      if (op.kind === "conv") {
        const cin = shapes.get(op.inputs[0])![2];
        ops[op.id] = {
          kind: "conv",
          kernel,
          kernelShape: [op.kernel, op.kernel, cin, op.filters],
          bias,
          stride: op.stride,
          padding: op.padding,
        };
      } else {
        ops[op.id] = { kind: "dense", kernel, kernelShape: [kernel.length / outputs, outputs], bias };
      }
    } else if (op.kind === "batchnorm") {
      const into = op.inputs[0];
      const target = ops[into];
      if (!target || (target.kind !== "conv" && target.kind !== "dense") || consumers(into).length !== 1) {
        throw new Error(
          `cannot fold batch-norm '${op.id}': its input '${into}' must be a conv or dense layer that feeds ` +
            `only this batch-norm`,
        );
      }
      const gamma = weightOf(layer!, "gamma");
      const beta = weightOf(layer!, "beta");
      const mean = weightOf(layer!, "moving_mean")!;
      const variance = weightOf(layer!, "moving_variance")!;
      const eps = layer!.getConfig().epsilon as number;
      const outputs = target.bias.length;
      const scale = Array.from(
        { length: outputs },
        (_, c) => (gamma?.[c] ?? 1) / Math.sqrt(variance[c] + eps),
      );
      for (let i = 0; i < target.kernel.length; i++) target.kernel[i] *= scale[i % outputs];
      for (let c = 0; c < outputs; c++) {
        target.bias[c] = (target.bias[c] - mean[c]) * scale[c] + (beta?.[c] ?? 0);
      }
      ops[op.id] = { kind: "folded", into };
    } else if (op.kind === "activation") {
      const act = layers[site];
      const want = plan.sites[site++];
      if (act.alpha !== want.alpha || act.degree !== want.beta) {
        throw new Error(
          `site '${op.id}' runs alpha ${act.alpha}, degree ${act.degree} but the plan says alpha ${want.alpha}, ` +
            `beta ${want.beta}: applyPlan(model, graph, plan) before folding`,
        );
      }
      const mask = act.getMask();
      const coefficients = act.getCoefficients();
      ops[op.id] = {
        kind: "activation",
        alpha: act.alpha,
        degree: act.degree,
        mask: Array.from(mask, (m) => (m ? act.degree : "relu")),
        coefficients: coefficients.map((c, i) => (mask[i] ? c : [])),
      };
    }
  }
  return { model: graph.name, ops };
}

function weights<K extends string>(folded: FoldedNetwork, op: Op, kind: K) {
  const entry = folded.ops[op.id];
  if (entry?.kind !== kind) throw new Error(`folded ${folded.model}: op '${op.id}' needs a '${kind}' entry`);
  return entry as Extract<FoldedNetwork["ops"][string], { kind: K }>;
}

/**
 * Every op's output for one example (HWC float input), by op id, computed in float64 plain loops
 * from the folded form; a batch-norm's entry repeats the folded layer's output.
 */
export function foldedTrace(
  folded: FoldedNetwork,
  graph: Graph,
  x: ArrayLike<number>,
): Map<string, Float64Array> {
  const shapes = inferShapes(graph);
  const out = new Map<string, Float64Array>();
  for (const op of graph.ops) {
    const inShape = op.inputs.length ? shapes.get(op.inputs[0])! : undefined;
    const a = op.inputs.length ? out.get(op.inputs[0])! : undefined;
    const [h, w, c] = inShape ?? [0, 0, 0];
    let y: Float64Array;
    switch (op.kind) {
      case "input": {
        const size = op.shape[0] * op.shape[1] * op.shape[2];
        if (x.length !== size) {
          throw new Error(`foldedForward: input has ${x.length} values, ${graph.name} needs ${size} (HWC)`);
        }
        y = Float64Array.from(x);
        break;
      }
      case "conv":
      case "dense": {
        const f = weights(folded, op, op.kind);
        const cout = f.bias.length;
        y = new Float64Array(shapes.get(op.id)!.reduce((n, d) => n * d, 1));
        for (let i = 0; i < y.length; i++) y[i] = f.bias[i % cout];
        convAccumulate(a!, f.kernel, linearGeometry(op, shapes), y);
        break;
      }
      case "batchnorm":
        weights(folded, op, "folded");
        y = a!;
        break;
      case "activation": {
        const f = weights(folded, op, "activation");
        y = a!.map((v, i) => {
          const coeffs = f.coefficients[i % c];
          if (f.mask[i % c] === "relu") return Math.max(v, 0);
          let p = 0;
          for (let k = coeffs.length - 1; k >= 0; k--) p = p * v + coeffs[k];
          return p;
        });
        break;
      }
      case "avgpool":
      case "globalavgpool": {
        const [sh, sw] = op.kind === "avgpool" ? [op.size, op.size] : [h, w];
        y = sumPool(a!, [h, w, c], [sh, sw]).map((v) => v / (sh * sw));
        break;
      }
      case "flatten":
        y = a!;
        break;
      case "add": {
        const b = out.get(op.inputs[1])!;
        y = a!.map((v, i) => v + b[i]);
        break;
      }
    }
    out.set(op.id, y);
  }
  return out;
}

/** The logits of one example (HWC float input) by the folded reference forward pass. */
export function foldedForward(folded: FoldedNetwork, graph: Graph, x: ArrayLike<number>): Float64Array {
  return foldedTrace(folded, graph, x).get(graph.ops[graph.ops.length - 1].id)!;
}
