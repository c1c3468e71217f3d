/**
 * The paper's three networks as {@link Graph}s: CNN-7 (MiniONN/Delphi's CIFAR-10 network),
 * VGG-16 (CIFAR variant) and ResNet-32 (CIFAR, real residual shortcuts).
 *
 * Pooling is average pooling throughout: max pooling needs comparisons, which the Delphi protocol
 * would have to garble like ReLUs, and the paper's networks count only ReLUs as non-linear.
 *
 * @module
 */
import type { Graph, Op, Shape } from "./graph.ts";

export type ModelName = "cnn7" | "vgg16" | "resnet32";
export const MODEL_NAMES: readonly ModelName[] = ["cnn7", "vgg16", "resnet32"];

export interface ArchitectureOptions {
  /** Number of classes of the final dense layer (10 for CIFAR-10, 100 for CIFAR-100). */
  numClasses?: number;
  /**
   * Batch normalisation after each convolution. It folds into the convolution for the protocol;
   * CNN-7 has none in MiniONN, and the option lets it be trained either way. Default true.
   */
  batchNorm?: boolean;
  inputShape?: Shape;
}

/** Appends ops one after another, tracking the current tip of the chain. */
class GraphBuilder {
  readonly ops: Op[] = [];
  tip: string;
  private counters = new Map<string, number>();

  constructor(shape: Shape, private readonly batchNorm: boolean) {
    this.ops.push({ kind: "input", id: "input", inputs: [], shape });
    this.tip = "input";
  }

  private nextId(prefix: string): string {
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    return `${prefix}${n}`;
  }

  private push(op: Op): string {
    this.ops.push(op);
    this.tip = op.id;
    return op.id;
  }

  /** conv (+ batch-norm); returns the conv's id. Does not add an activation. */
  conv(filters: number, kernel: number, stride = 1, from = this.tip): string {
    const id = this.push({
      kind: "conv",
      id: this.nextId("conv"),
      inputs: [from],
      filters,
      kernel,
      stride,
      padding: "same",
      useBias: !this.batchNorm,
    });
    if (this.batchNorm) this.push({ kind: "batchnorm", id: `${id}_bn`, inputs: [id] });
    return id;
  }

  activation(producer: string): string {
    return this.push({ kind: "activation", id: this.nextId("act"), inputs: [this.tip], producer });
  }

  convAct(filters: number, kernel: number, stride = 1): string {
    const conv = this.conv(filters, kernel, stride);
    this.activation(conv);
    return conv;
  }

  avgPool(size: number): string {
    return this.push({ kind: "avgpool", id: this.nextId("pool"), inputs: [this.tip], size });
  }

  globalAvgPool(): string {
    return this.push({ kind: "globalavgpool", id: "gap", inputs: [this.tip] });
  }

  flatten(): string {
    return this.push({ kind: "flatten", id: "flatten", inputs: [this.tip] });
  }

  dense(units: number): string {
    return this.push({ kind: "dense", id: this.nextId("dense"), inputs: [this.tip], units });
  }

  add(a: string, b: string): string {
    return this.push({ kind: "add", id: this.nextId("add"), inputs: [a, b] });
  }

  graph(name: string): Graph {
    return { name, ops: this.ops };
  }
}

const CIFAR_SHAPE: Shape = [32, 32, 3];

/**
 * CNN-7 as in MiniONN and Delphi: 3x3 conv 64, 3x3 conv 64, avg-pool, 3x3 conv 64, 3x3 conv 64,
 * avg-pool, 3x3 conv 64, 1x1 conv 64, 1x1 conv 16, dense 10; a ReLU after each conv ("same"
 * padding, so 7 sites of 65,536, 65,536, 16,384, 16,384, 4,096, 4,096, 1,024 neurons).
 */
export function cnn7(options: ArchitectureOptions = {}): Graph {
  const b = new GraphBuilder(options.inputShape ?? CIFAR_SHAPE, options.batchNorm ?? true);
  b.convAct(64, 3);
  b.convAct(64, 3);
  b.avgPool(2);
  b.convAct(64, 3);
  b.convAct(64, 3);
  b.avgPool(2);
  b.convAct(64, 3);
  b.convAct(64, 1);
  b.convAct(16, 1);
  b.flatten();
  b.dense(options.numClasses ?? 10);
  return b.graph("cnn7");
}

/**
 * VGG-16 for CIFAR (Geifman's variant): 13 3x3 convs with batch-norm in five blocks
 * (64x2, 128x2, 256x3, 512x3, 512x3), each block closed by 2x2 pooling, then dense 512 with
 * batch-free ReLU and dense to the classes: 14 activation sites.
 */
export function vgg16(options: ArchitectureOptions = {}): Graph {
  const b = new GraphBuilder(options.inputShape ?? CIFAR_SHAPE, options.batchNorm ?? true);
  for (const [filters, convs] of [[64, 2], [128, 2], [256, 3], [512, 3], [512, 3]]) {
    for (let i = 0; i < convs; i++) b.convAct(filters, 3);
    b.avgPool(2);
  }
  b.flatten();
  const hidden = b.dense(512);
  b.activation(hidden);
  b.dense(options.numClasses ?? 10);
  return b.graph("vgg16");
}

/**
 * ResNet-32 for CIFAR (He et al. 2016): a 3x3 conv 16, then three stages of five basic blocks
 * (16, 32, 64 channels; stride 2 entering stages 2 and 3 with a 1x1 conv + batch-norm shortcut),
 * global average pooling and a dense layer: 31 activation sites, 303,104 ReLUs as in Delphi.
 */
export function resnet32(options: ArchitectureOptions = {}): Graph {
  const b = new GraphBuilder(options.inputShape ?? CIFAR_SHAPE, options.batchNorm ?? true);
  b.convAct(16, 3);
  for (const [stage, filters] of [16, 32, 64].entries()) {
    for (let block = 0; block < 5; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const blockInput = b.tip;
      b.convAct(filters, 3, stride);
      const last = b.conv(filters, 3);
      const residual = b.tip;
      const shortcut = stride === 1 ? blockInput : (b.conv(filters, 1, stride, blockInput), b.tip);
      b.add(residual, shortcut);
      b.activation(last);
    }
  }
  b.globalAvgPool();
  b.flatten();
  b.dense(options.numClasses ?? 10);
  return b.graph("resnet32");
}

/** The graph of a named architecture. */
export function architecture(name: ModelName, options: ArchitectureOptions = {}): Graph {
  switch (name) {
    case "cnn7":
      return cnn7(options);
    case "vgg16":
      return vgg16(options);
    case "resnet32":
      return resnet32(options);
    default:
      throw new Error(`unknown model '${name}': expected one of ${MODEL_NAMES.join(", ")}`);
  }
}
