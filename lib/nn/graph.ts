/**
 * A network as plain data: a small graph of operations with static shapes.
 *
 * This is the one description of an architecture that every part of the lab reads: the
 * TensorFlow.js model builder, neuron counting and plans, the cost model and the two-party
 * protocol. It holds no weights; weights travel separately, keyed by op id.
 *
 * Tensors are NHWC (TensorFlow.js layout); shapes here omit the batch dimension.
 *
 * @module
 */

/** Height, width, channels of one example's tensor. */
export type Shape = readonly [height: number, width: number, channels: number];

interface OpBase {
  /** Unique name; also the name of the TensorFlow.js layer built from it. */
  readonly id: string;
  /** Ids of the ops whose outputs feed this one (exactly one, except `add`). */
  readonly inputs: readonly string[];
}

export interface InputOp extends OpBase {
  readonly kind: "input";
  readonly shape: Shape;
}
export interface ConvOp extends OpBase {
  readonly kind: "conv";
  readonly filters: number;
  readonly kernel: number;
  readonly stride: number;
  /**
   * TensorFlow's rules: "same" gives ceil(in/stride) outputs, padding max((out-1)*stride + k - in, 0)
   * zeros in all, floor of half before and the rest after (a stride-2 3x3 conv on an even size
   * pads 0 before, 1 after); "valid" pads nothing.
   */
  readonly padding: "same" | "valid";
  readonly useBias: boolean;
}
/** Batch normalisation; for the protocol it folds into the preceding convolution. */
export interface BatchNormOp extends OpBase {
  readonly kind: "batchnorm";
}
/** An activation site: ReLU, or ReLU on some channels and polynomials on others (a plan). */
export interface ActivationOp extends OpBase {
  readonly kind: "activation";
  /**
   * The convolution (or dense layer) whose per-output-channel filter L1 norms rank this site's
   * channels (paper eq. 3). For an activation after a residual add it is the block's last conv.
   */
  readonly producer: string;
}
export interface AvgPoolOp extends OpBase {
  readonly kind: "avgpool";
  readonly size: number;
}
/** Global average pooling down to 1x1xC. */
export interface GlobalAvgPoolOp extends OpBase {
  readonly kind: "globalavgpool";
}
export interface FlattenOp extends OpBase {
  readonly kind: "flatten";
}
export interface DenseOp extends OpBase {
  readonly kind: "dense";
  readonly units: number;
}
/** Element-wise sum of two equal-shaped inputs (residual connection). */
export interface AddOp extends OpBase {
  readonly kind: "add";
}

export type Op =
  | InputOp
  | ConvOp
  | BatchNormOp
  | ActivationOp
  | AvgPoolOp
  | GlobalAvgPoolOp
  | FlattenOp
  | DenseOp
  | AddOp;

/** A network: ops in topological order; the last op is the output (logits). */
export interface Graph {
  readonly name: string;
  readonly ops: readonly Op[];
}

/** One place where an activation function runs, with its neuron count n_t. */
export interface ActivationSite {
  /** Position among the graph's activation sites, from the input. */
  readonly index: number;
  readonly id: string;
  readonly producer: string;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** n_t = channels x height x width. */
  readonly neurons: number;
}

/** A conv's output size along one axis of `size` inputs (TensorFlow's rules, see `ConvOp.padding`). */
export function outputSize(size: number, kernel: number, stride: number, padding: "same" | "valid"): number {
  return padding === "same" ? Math.ceil(size / stride) : Math.floor((size - kernel) / stride) + 1;
}

/** A conv's zero padding before the first row or column along one axis (see `ConvOp.padding`). */
export function paddingBefore(
  size: number,
  kernel: number,
  stride: number,
  padding: "same" | "valid",
): number {
  if (padding === "valid") return 0;
  const total = Math.max((outputSize(size, kernel, stride, padding) - 1) * stride + kernel - size, 0);
  return Math.floor(total / 2);
}

/**
 * Output shape of every op, checking that the graph is well formed: ids are unique, inputs
 * come earlier, arities are right and shapes agree. Throws naming the offending op.
 */
export function inferShapes(graph: Graph): Map<string, Shape> {
  const shapes = new Map<string, Shape>();
  const fail = (op: Op, why: string): never => {
    throw new Error(`graph ${graph.name}: op '${op.id}' (${op.kind}): ${why}`);
  };
  for (const op of graph.ops) {
    if (shapes.has(op.id)) fail(op, "duplicate id");
    const ins = op.inputs.map((id) => shapes.get(id) ?? fail(op, `input '${id}' is not defined before it`));
    const arity = op.kind === "input" ? 0 : op.kind === "add" ? 2 : 1;
    if (ins.length !== arity) fail(op, `expects ${arity} input(s), got ${ins.length}`);
    const [h, w, c] = ins[0] ?? [0, 0, 0];
    let out: Shape;
    switch (op.kind) {
      case "input":
        out = op.shape;
        break;
      case "conv": {
        const oh = outputSize(h, op.kernel, op.stride, op.padding);
        const ow = outputSize(w, op.kernel, op.stride, op.padding);
        if (oh < 1 || ow < 1) fail(op, `kernel ${op.kernel} does not fit input ${h}x${w}`);
        out = [oh, ow, op.filters];
        break;
      }
      case "avgpool":
        if (h % op.size || w % op.size) fail(op, `pool ${op.size} does not divide ${h}x${w}`);
        out = [h / op.size, w / op.size, c];
        break;
      case "globalavgpool":
        out = [1, 1, c];
        break;
      case "flatten":
        out = [1, 1, h * w * c];
        break;
      case "dense":
        if (h !== 1 || w !== 1) fail(op, `needs a flat input (1x1xC), got ${h}x${w}x${c}`);
        out = [1, 1, op.units];
        break;
      case "add":
        if (ins[0].join() !== ins[1].join()) fail(op, `shapes differ: ${ins[0]} vs ${ins[1]}`);
        out = ins[0];
        break;
      case "batchnorm":
      case "activation":
        out = ins[0];
        break;
    }
    shapes.set(op.id, out);
  }
  return shapes;
}

/** The graph's activation sites in order, each with its neuron count. */
export function activationSites(graph: Graph): ActivationSite[] {
  const shapes = inferShapes(graph);
  const producers = new Map<string, number>();
  for (const op of graph.ops) {
    if (op.kind === "conv") producers.set(op.id, op.filters);
    if (op.kind === "dense") producers.set(op.id, op.units);
  }
  const sites: ActivationSite[] = [];
  for (const op of graph.ops) {
    if (op.kind !== "activation") continue;
    const [height, width, channels] = shapes.get(op.id)!;
    const filters = producers.get(op.producer);
    if (filters === undefined) {
      throw new Error(
        `graph ${graph.name}: site '${op.id}' names producer '${op.producer}', not a conv or dense op`,
      );
    }
    if (filters !== channels) {
      throw new Error(
        `graph ${graph.name}: site '${op.id}' has ${channels} channels, producer has ${filters}`,
      );
    }
    sites.push({
      index: sites.length,
      id: op.id,
      producer: op.producer,
      height,
      width,
      channels,
      neurons: height * width * channels,
    });
  }
  return sites;
}

/**
 * Multiply-accumulates of one image's forward pass through the convolutions and dense layers
 * (the arithmetic that dominates both training and HE cost; batch-norm, pooling, activations
 * and additions are linear in the activations and left out).
 */
export function forwardMacs(graph: Graph): number {
  const shapes = inferShapes(graph);
  let macs = 0;
  for (const op of graph.ops) {
    if (op.kind !== "conv" && op.kind !== "dense") continue;
    const [h, w, c] = shapes.get(op.id)!;
    const [ih, iw, ic] = shapes.get(op.inputs[0])!;
    macs += op.kind === "conv" ? h * w * c * op.kernel * op.kernel * ic : c * ih * iw * ic;
  }
  return macs;
}
