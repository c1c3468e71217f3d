/**
 * TensorFlow.js models built from a {@link Graph}: one layer per op, named by the op's id, so
 * weights, plans and the folded protocol export all address layers by op id.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as tfl from "@tensorflow/tfjs-layers";
import { type Graph, inferShapes } from "./graph.ts";
import { batchNormTraining } from "./kernels/mod.ts";
import { MaskedActivation } from "./masked_activation.ts";

/** Options of {@link buildModel}. */
export interface BuildOptions {
  /**
   * Seed of the weight initialisers; each layer derives its own seed from it and its position,
   * so equal-shaped layers do not start equal. Default 0: building is deterministic.
   */
  seed?: number;
}

/** Batch-norm settings (PyTorch's defaults: they settle running statistics in short runs). */
export const BATCH_NORM = { momentum: 0.9, epsilon: 1e-5 } as const;

/** The class behind a tfjs-layers factory: the package exports factories, not the layer classes. */
function layerClass<A, L>(factory: (args: A) => L, sample: NoInfer<A>): new (args: A) => L {
  return Object.getPrototypeOf(factory(sample)).constructor;
}

type Kwargs = Parameters<tfl.layers.Layer["call"]>[1];

const StockConv2D = layerClass(tfl.layers.conv2d, { filters: 1, kernelSize: 1 });

/**
 * tfjs-layers' Conv2D computing a bias-free, linear convolution with `tf.conv2d` instead of
 * `tf.fused.conv2d`. The fused op's gradient computes the input and filter gradients together,
 * so the first layer paid for an input gradient nobody uses (~2% of a CNN-7 step); the plain
 * op's gradient computes only what is asked for. Same weights, output, class name and config as
 * the stock layer (saved models load as stock Conv2D); other configurations run the stock path.
 */
export class TrainingConv2D extends StockConv2D {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const c = this.getConfig() as {
      useBias: boolean;
      activation: string;
      dataFormat: string;
      strides: [number, number];
      padding: string;
      dilationRate: [number, number];
    };
    if (c.useBias || c.activation !== "linear" || c.dataFormat !== "channelsLast" || x.rank !== 4) {
      return super.call(inputs, kwargs);
    }
    const pad = c.padding === "same" ? "same" : "valid";
    return tf.conv2d(
      x as tf.Tensor4D,
      this.weights[0].read() as tf.Tensor4D,
      c.strides,
      pad,
      "NHWC",
      c.dilationRate,
    );
  }
}

const StockBatchNormalization = layerClass(tfl.layers.batchNormalization, {});

/**
 * tfjs-layers' BatchNormalization whose training-mode pass is {@link batchNormTraining}: one
 * closed-form gradient instead of differentiating tf.moments + tf.batchNorm through the tape
 * (a dozen full-size tensors per layer). Everything else is the stock layer's: the same weights
 * in the same order (gamma, beta, moving_mean, moving_variance), the same moving-average update
 * `m - (m - batch) * (1 - momentum)` with the biased batch variance, the same inference path,
 * and the same class name and config, so saved models load as stock BatchNormalization.
 */
export class TrainingBatchNormalization extends StockBatchNormalization {
  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor | tf.Tensor[] {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const c = this.getConfig() as {
      axis: number;
      momentum: number;
      epsilon: number;
      center: boolean;
      scale: boolean;
    };
    const lastAxis = c.axis === -1 || c.axis === x.rank - 1;
    if (!kwargs["training"] || !lastAxis || !c.center || !c.scale || x.dtype !== "float32") {
      return super.call(inputs, kwargs);
    }
    const [gamma, beta, movingMean, movingVariance] = this.weights;
    return tf.tidy(() => {
      const { y, mean, variance } = batchNormTraining(
        x,
        gamma.read() as tf.Tensor1D,
        beta.read() as tf.Tensor1D,
        c.epsilon,
      );
      const decay = 1 - c.momentum;
      for (const [moving, batch] of [[movingMean, mean], [movingVariance, variance]] as const) {
        const old = moving.read();
        moving.write(tf.sub(old, tf.mul(tf.sub(old, batch), decay)));
      }
      tf.dispose([mean, variance]);
      return y;
    });
  }
}

/**
 * A functional model computing the graph's logits (no softmax). Convolutions and dense layers
 * use seeded He-normal kernels and zero biases; every activation site is a
 * {@link MaskedActivation} with alpha 0 (plain ReLU) until a plan is applied.
 */
export function buildModel(graph: Graph, options: BuildOptions = {}): tfl.LayersModel {
  const shapes = inferShapes(graph);
  const seed = options.seed ?? 0;
  const tensors = new Map<string, tfl.SymbolicTensor>();
  let input: tfl.SymbolicTensor | undefined;
  const kernelInitializer = (index: number) => tfl.initializers.heNormal({ seed: seed * 7919 + index });
  graph.ops.forEach((op, index) => {
    const ins = op.inputs.map((id) => tensors.get(id)!);
    const apply = (layer: tfl.layers.Layer) =>
      layer.apply(ins.length === 1 ? ins[0] : ins) as tfl.SymbolicTensor;
    const name = op.id;
    let out: tfl.SymbolicTensor;
    switch (op.kind) {
      case "input":
        out = input = tfl.input({ shape: [...op.shape], name });
        break;
      case "conv":
        out = apply(
          new TrainingConv2D({
            name,
            filters: op.filters,
            kernelSize: op.kernel,
            strides: op.stride,
            padding: op.padding,
            useBias: op.useBias,
            kernelInitializer: kernelInitializer(index),
          }),
        );
        break;
      case "batchnorm":
        out = apply(new TrainingBatchNormalization({ name, axis: -1, ...BATCH_NORM }));
        break;
      case "activation":
        out = apply(new MaskedActivation({ name }));
        break;
      case "avgpool":
        out = apply(
          tfl.layers.averagePooling2d({ name, poolSize: op.size, strides: op.size, padding: "valid" }),
        );
        break;
      case "globalavgpool": {
        // A full-size average pool keeps the graph's 1x1xC shape (tfjs's global pool drops the axes).
        const [h, w] = shapes.get(op.inputs[0])!;
        out = apply(
          tfl.layers.averagePooling2d({ name, poolSize: [h, w], strides: [h, w], padding: "valid" }),
        );
        break;
      }
      case "flatten":
        out = apply(tfl.layers.flatten({ name }));
        break;
      case "dense":
        out = apply(tfl.layers.dense({ name, units: op.units, kernelInitializer: kernelInitializer(index) }));
        break;
      case "add":
        out = apply(tfl.layers.add({ name }));
        break;
    }
    tensors.set(op.id, out);
  });
  if (!input) throw new Error(`graph ${graph.name} has no input op`);
  const output = tensors.get(graph.ops[graph.ops.length - 1].id)!;
  return tfl.model({ inputs: input, outputs: output, name: graph.name });
}

/** The model's masked activation layers in graph order, checked against the graph's sites. */
export function activationLayers(model: tfl.LayersModel, graph: Graph): MaskedActivation[] {
  return graph.ops.filter((op) => op.kind === "activation").map((op) => {
    const layer = findLayer(model, op.id);
    if (!(layer instanceof MaskedActivation)) {
      throw new Error(
        `model ${model.name}: layer '${op.id}' is a ${layer.getClassName()}, not a MaskedActivation; ` +
          `build the model with buildModel() or load one saved from it`,
      );
    }
    return layer;
  });
}

/** A layer by op id, with an error that says which model and graph disagree. */
export function findLayer(model: tfl.LayersModel, id: string): tfl.layers.Layer {
  const layer = model.layers.find((l) => l.name === id);
  if (!layer) {
    throw new Error(`model ${model.name} has no layer '${id}': was it built from a different graph?`);
  }
  return layer;
}
