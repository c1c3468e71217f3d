/**
 * Fixed-point form of a folded network for the two-party protocol, and the plaintext reference
 * forward pass over F_p that mirrors the protocol's arithmetic step by step.
 *
 * Scales. Every tensor of the protocol is held as integers (field elements) that equal its real
 * value times 2^bits times a pooling multiplier m:
 * - the input and every activation output: bits = f;
 * - a linear layer (conv + folded batch-norm, dense) multiplies an f-bit input by f-bit weights,
 *   so its output (and its bias) has bits = 2f; its activation truncates back to f;
 * - average pooling sums its window on each share (linear, local, free) and multiplies m by the
 *   window size; the next linear layer's float weights are divided by m before quantising
 *   (exact for power-of-two windows such as 2x2), so its output has m = 1 again;
 * - a residual add aligns an f-bit input to 2f by multiplying it by 2^f.
 *
 * Truncation. ReLU channels truncate 2f -> f exactly inside the garbled circuit:
 * ReLU(floor(y / 2^f)), so for ReLU-only plans the secure output equals this reference bit for
 * bit. Polynomial channels truncate on shares (lib/mpc/poly/layout.ts): the input shift and the
 * final shift each land on floor or floor + 1, so one polynomial output may differ from the
 * reference by one unit (2^-f) plus max|poly'| x 2^(1 - g) for the polynomial's input bits g;
 * later layers propagate that difference. Degree-0 channels output their constant exactly.
 * The final layer's output stays at 2f bits: the client decodes logits as value / 2^(2f).
 *
 * Choosing f. Rounding weights to f bits is the main error against float inference; each more
 * bit halves it, while values need 2f bits of fraction below p / 2 ~ 2^40. Measured on a CNN-7
 * checkpoint (61% top-1, 100 test images): f = 8 agrees with float on 93 classes (max logit
 * error 0.53), f = 9 on 100 (0.17), f = 10 on 99. CNN-7's largest value at f = 9 is ~2^22, far
 * from p / 2.
 *
 * Overflow. Signed values live in (-p/2, p/2), p ~ 2^41. Weights and biases are checked here;
 * every intermediate value is checked by the reference forward pass, which throws naming the
 * layer and the fix (fewer fractional bits) if a value would wrap mod p.
 *
 * @module
 */

import { createHash, createHmac } from "node:crypto";
import { Fp } from "./field.ts";
import { DEFAULT_FRAC_BITS } from "./fixed.ts";
import { type Graph, inferShapes, type Op, type Shape } from "../nn/graph.ts";
import type {
  ChannelFunction,
  FoldedActivation,
  FoldedConv,
  FoldedDense,
  FoldedNetwork,
} from "../nn/fold.ts";
import { convAccumulate, type LinearGeometry, linearGeometry, maxFilterL1, sumPool } from "../nn/linear.ts";
import type { LinearLayer, LinearOp, LinearWeights } from "./he/layer.ts";
import { polyReference } from "./poly/layout.ts";

/** How a tensor's integers relate to its real values: integer = real x 2^bits x multiplier. */
export interface TensorScale {
  /** Fractional bits: f or 2f. */
  readonly bits: number;
  /** Product of the average-pooling windows summed since the last linear layer (1 if none). */
  readonly multiplier: number;
}

/** A convolution or dense layer in fixed point. */
export interface QuantizedLinear {
  readonly kind: "linear";
  /** The op and its input shape, as the HE layer code takes them. */
  readonly layer: LinearLayer;
  readonly geometry: LinearGeometry;
  /** Signed integer weights round(w x 2^f / m) for the input's multiplier m, [k, k, cin, cout]. */
  readonly weights: Float64Array;
  /** Signed integer bias round(b x 2^2f), [cout]. */
  readonly bias: Float64Array;
  /** The same weights and bias as field elements. */
  readonly field: LinearWeights;
}

/** An activation site: its channel mask and (private) polynomial coefficients. */
export interface QuantizedActivation {
  readonly kind: "activation";
  /** Per channel: "relu" or a polynomial degree (public: part of the plan's shape). */
  readonly mask: readonly ChannelFunction[];
  /**
   * Per channel the ascending real coefficients; empty for ReLU. They stay real: the polynomial
   * protocol fixes its own integer layout (lib/mpc/poly/layout.ts).
   */
  readonly coefficients: readonly (readonly number[])[];
}

/** A fixed-point network: what the server holds. */
export interface QuantizedNetwork {
  readonly model: string;
  /** Fractional bits f. */
  readonly fracBits: number;
  /** Linear layers and activation sites by op id. */
  readonly ops: Readonly<Record<string, QuantizedLinear | QuantizedActivation>>;
  /** Scale of every op's output by op id. */
  readonly scales: ReadonlyMap<string, TensorScale>;
}

/** Options of {@link quantizeNetwork}. */
export interface QuantizeOptions {
  /** Fractional bits f (default DEFAULT_FRAC_BITS from fixed.ts). */
  readonly fracBits?: number;
}

/**
 * Scales of every op's output, checking that the graph fits the protocol: linear layers take
 * f-bit inputs, activations 2f-bit ones without a pending pooling multiplier, adds equal
 * multipliers. Throws naming the op otherwise.
 */
export function tensorScales(graph: Graph, fracBits: number): Map<string, TensorScale> {
  const scales = new Map<string, TensorScale>();
  const f = fracBits;
  const fail = (op: Op, why: string): never => {
    throw new Error(`graph ${graph.name}: op '${op.id}' (${op.kind}) cannot run in the protocol: ${why}`);
  };
  const shapes = inferShapes(graph);
  for (const op of graph.ops) {
    const inputs = op.inputs.map((id) => scales.get(id)!);
    let scale: TensorScale;
    switch (op.kind) {
      case "input":
        scale = { bits: f, multiplier: 1 };
        break;
      case "conv":
      case "dense":
        if (inputs[0].bits !== f) {
          fail(
            op,
            "its input is a linear layer's output (2f bits); put an activation between two linear layers",
          );
        }
        scale = { bits: 2 * f, multiplier: 1 };
        break;
      case "batchnorm":
      case "flatten":
        scale = inputs[0];
        break;
      case "activation":
        if (inputs[0].bits !== 2 * f || inputs[0].multiplier !== 1) {
          fail(
            op,
            "its input must come from a linear layer or residual add (2f bits, no pooling in between)",
          );
        }
        scale = { bits: f, multiplier: 1 };
        break;
      case "avgpool":
        scale = { bits: inputs[0].bits, multiplier: inputs[0].multiplier * op.size * op.size };
        break;
      case "globalavgpool": {
        const [h, w] = shapes.get(op.inputs[0])!;
        scale = { bits: inputs[0].bits, multiplier: inputs[0].multiplier * h * w };
        break;
      }
      case "add":
        if (inputs[0].multiplier !== inputs[1].multiplier) {
          fail(
            op,
            `its inputs carry different pooling multipliers (${inputs[0].multiplier}, ${
              inputs[1].multiplier
            })`,
          );
        }
        scale = { bits: Math.max(inputs[0].bits, inputs[1].bits), multiplier: inputs[0].multiplier };
        break;
    }
    scales.set(op.id, scale);
  }
  return scales;
}

/** Largest integer below which doubles add and multiply exactly. */
const EXACT_LIMIT = 2 ** 53;

/** Beyond this magnitude (or not finite) a value is no trained network's: e.g. random bytes as weights. */
const IMPLAUSIBLE = 2 ** 20;

function roundChecked(values: ArrayLike<number>, scale: number, what: string, weights = true): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = Math.round(values[i] * scale);
    if (!(Math.abs(v) <= Fp.half)) {
      if (weights && !(Math.abs(values[i]) < IMPLAUSIBLE)) {
        throw new RangeError(
          `${what}[${i}] = ${
            values[i]
          }: these are not the weights of a trained model (values out of range); ` +
            `check that the weights file is the one saved with its model.json`,
        );
      }
      throw new RangeError(
        `${what}[${i}] = ${values[i]} does not fit the field at this scale (x 2^${Math.log2(scale)}); ` +
          `use fewer fractional bits`,
      );
    }
    out[i] = v + 0;
  }
  return out;
}

/**
 * Turns a folded network into fixed point with f fractional bits: weights round(w 2^f / m),
 * biases round(b 2^2f); polynomial coefficients stay real. Checks the graph fits the protocol
 * (`tensorScales`), every op has its folded entry of the right size, and every value fits the
 * field.
 */
export function quantizeNetwork(
  folded: FoldedNetwork,
  graph: Graph,
  options: QuantizeOptions = {},
): QuantizedNetwork {
  const f = options.fracBits ?? DEFAULT_FRAC_BITS;
  if (!Number.isInteger(f) || f < 1 || 2 * f >= Fp.bits - 2) {
    throw new RangeError(
      `quantize: fracBits must be an integer in [1, ${Math.floor((Fp.bits - 3) / 2)}], got ${f}`,
    );
  }
  const scales = tensorScales(graph, f);
  const shapes = inferShapes(graph);
  const ops: Record<string, QuantizedLinear | QuantizedActivation> = {};
  for (const op of graph.ops) {
    const entry = folded.ops[op.id];
    if (op.kind === "conv" || op.kind === "dense") {
      if (entry?.kind !== op.kind) {
        throw new Error(`quantize: folded ${folded.model} has no ${op.kind} entry for '${op.id}'`);
      }
      const layer = entry as FoldedConv | FoldedDense;
      const geometry = linearGeometry(op, shapes);
      const m = scales.get(op.inputs[0])!.multiplier;
      const size = geometry.kernel ** 2 * geometry.inShape[2] * geometry.outShape[2];
      if (layer.kernel.length !== size) {
        throw new Error(`quantize: '${op.id}' has ${layer.kernel.length} weights, the graph needs ${size}`);
      }
      const weights = roundChecked(layer.kernel, 2 ** f / m, `weights of '${op.id}'`);
      const bias = roundChecked(layer.bias, 2 ** (2 * f), `bias of '${op.id}'`);
      ops[op.id] = {
        kind: "linear",
        layer: { op: op as LinearOp, inputShape: shapes.get(op.inputs[0])! },
        geometry,
        weights,
        bias,
        field: { kernel: Fp.fromSignedVec(weights), bias: Fp.fromSignedVec(bias) },
      };
    } else if (op.kind === "activation") {
      if (entry?.kind !== "activation") {
        throw new Error(`quantize: folded ${folded.model} has no activation entry for '${op.id}'`);
      }
      const act = entry as FoldedActivation;
      const channels = shapes.get(op.id)![2];
      if (act.mask.length !== channels) {
        throw new Error(
          `quantize: '${op.id}' has a mask of ${act.mask.length} channels, the graph has ${channels}`,
        );
      }
      ops[op.id] = {
        kind: "activation",
        mask: [...act.mask],
        coefficients: act.mask.map((fn, c) => {
          if (fn === "relu") return [];
          if (act.coefficients[c].length !== fn + 1) {
            throw new Error(
              `quantize: '${op.id}' channel ${c} is degree ${fn} but has ${
                act.coefficients[c].length
              } coefficients`,
            );
          }
          if (!act.coefficients[c].every(Number.isFinite)) {
            throw new Error(
              `quantize: '${op.id}' channel ${c} has non-finite coefficients ${act.coefficients[c]}`,
            );
          }
          return [...act.coefficients[c]];
        }),
      };
    }
  }
  return { model: graph.name, fracBits: f, ops, scales };
}

/**
 * SHA-256 (hex) of everything the server's answers depend on: f, weights, masks, coefficients.
 * Anyone holding a candidate checkpoint can compute it, so it never leaves the server: clients
 * see `weightsFingerprint`, inside a salted commitment (inference/public.ts).
 */
export function weightsHash(net: QuantizedNetwork): string {
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ model: net.model, fracBits: net.fracBits, p: Fp.p }));
  for (const [id, op] of Object.entries(net.ops).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    hash.update(id);
    if (op.kind === "linear") {
      hash.update(new Uint8Array(op.weights.buffer, op.weights.byteOffset, op.weights.byteLength));
      hash.update(new Uint8Array(op.bias.buffer, op.bias.byteOffset, op.bias.byteLength));
    } else {
      hash.update(JSON.stringify(op.mask));
      for (const c of op.coefficients) hash.update(new Uint8Array(Float64Array.from(c).buffer));
    }
  }
  return hash.digest("hex");
}

/**
 * HMAC-SHA256 (hex) of `weightsHash(net)` under `key`, a secret of the server: a client can
 * compare it with a value the server's operator gave it (`--expect-weights`), but cannot
 * compute it from a checkpoint it guesses the server runs.
 */
export function weightsFingerprint(net: QuantizedNetwork, key: Uint8Array): string {
  return createHmac("sha256", key).update(weightsHash(net)).digest("hex");
}

/**
 * One activation site on signed integers y at 2f bits, as the protocol computes it: ReLU
 * channels max(floor(y / 2^f), 0) (the garbled circuit's exact truncation), polynomial and
 * degree-0 channels by the polynomial protocol's reference (lib/mpc/poly/layout.ts), at f bits.
 */
export function activationReference(
  act: QuantizedActivation,
  y: Float64Array,
  fracBits: number,
): Float64Array {
  const channels = act.mask.length;
  const out = new Float64Array(y.length);
  const scale = 2 ** fracBits;
  for (let i = 0; i < y.length; i++) {
    if (act.mask[i % channels] === "relu") out[i] = Math.max(Math.floor(y[i] / scale), 0);
  }
  for (const degree of [0, 1, 2, 3] as const) {
    const indices: number[] = [];
    for (let i = 0; i < y.length; i++) if (act.mask[i % channels] === degree) indices.push(i);
    if (indices.length === 0) continue;
    const coefficients = Array.from(
      { length: degree + 1 },
      (_, k) => Float64Array.from(indices, (i) => act.coefficients[i % channels][k]),
    );
    const yField = Fp.fromSignedVec(indices.map((i) => y[i]));
    const z = polyReference(
      { degree, inFracBits: 2 * fracBits, outFracBits: fracBits },
      coefficients,
      yField,
    );
    indices.forEach((i, j) => (out[i] = Fp.toSigned(z[j])));
  }
  return out;
}

/** What the reference forward pass returns. */
export interface ReferenceResult {
  /** The network's output as signed integers (scale of the last op). */
  readonly output: Float64Array;
  /** The output decoded to reals: integer / (2^bits x multiplier). */
  readonly logits: Float64Array;
  /** Every op's output as signed integers, by op id. */
  readonly trace: ReadonlyMap<string, Float64Array>;
  /** log2 of the largest |value| of every op's output, by op id (the field allows up to ~40). */
  readonly magnitudeBits: ReadonlyMap<string, number>;
}

function maxAbs(v: Float64Array): number {
  let m = 0;
  for (let i = 0; i < v.length; i++) {
    const a = Math.abs(v[i]);
    if (a > m) m = a;
  }
  return m;
}

/** The window of an avgpool or globalavgpool op. */
export function poolWindow(op: Op, inShape: Shape): [number, number] {
  if (op.kind === "avgpool") return [op.size, op.size];
  if (op.kind === "globalavgpool") return [inShape[0], inShape[1]];
  throw new Error(`op '${op.id}' (${op.kind}) is not a pooling layer`);
}

/**
 * The plaintext fixed-point forward pass over F_p (as signed integers), step by step as the
 * protocol computes: input round(x 2^f); linear layers exact; ReLU channels
 * max(floor(y / 2^f), 0) as the garbled circuit; polynomial channels by `polyReference`
 * (floor truncations); degree-0 channels their constant; pooling sums; adds aligned to 2f.
 * Throws if a value would leave (-p/2, p/2) (it would wrap mod p in the protocol) or if a sum
 * could lose exactness in doubles, naming the layer and the fix.
 */
export function referenceForward(
  net: QuantizedNetwork,
  graph: Graph,
  image: ArrayLike<number>,
): ReferenceResult {
  const f = net.fracBits;
  const shapes = inferShapes(graph);
  const trace = new Map<string, Float64Array>();
  const magnitudeBits = new Map<string, number>();
  const overflow = (op: Op, value: number): never => {
    throw new RangeError(
      `fixed-point overflow at '${op.id}' (${op.kind}) with f = ${f}: |value| = ${value} exceeds (p - 1) / 2 = ` +
        `${Fp.half} and would wrap mod p; use fewer fractional bits`,
    );
  };
  for (const op of graph.ops) {
    const x = op.inputs.length ? trace.get(op.inputs[0])! : undefined;
    const inShape = op.inputs.length ? shapes.get(op.inputs[0])! : undefined;
    let y: Float64Array;
    switch (op.kind) {
      case "input": {
        const size = op.shape[0] * op.shape[1] * op.shape[2];
        if (image.length !== size) {
          throw new RangeError(
            `reference: input has ${image.length} values, ${graph.name} needs ${size} (HWC)`,
          );
        }
        y = roundChecked(image, 2 ** f, "input", false);
        break;
      }
      case "conv":
      case "dense": {
        const layer = net.ops[op.id] as QuantizedLinear;
        const cout = layer.geometry.outShape[2];
        const bound = maxAbs(x!) * maxFilterL1(layer.weights, cout) + maxAbs(layer.bias);
        if (!(bound < EXACT_LIMIT)) {
          throw new RangeError(
            `reference: '${op.id}' may exceed 2^53 (bound ${bound}); use fewer fractional bits`,
          );
        }
        y = new Float64Array(layer.geometry.outShape[0] * layer.geometry.outShape[1] * cout);
        for (let i = 0; i < y.length; i++) y[i] = layer.bias[i % cout];
        convAccumulate(x!, layer.weights, layer.geometry, y);
        break;
      }
      case "batchnorm":
      case "flatten":
        y = x!;
        break;
      case "activation":
        y = activationReference(net.ops[op.id] as QuantizedActivation, x!, f);
        break;
      case "avgpool":
      case "globalavgpool":
        y = sumPool(x!, inShape!, poolWindow(op, inShape!));
        break;
      case "add": {
        const [a, b] = op.inputs.map((id) => trace.get(id)!);
        const [sa, sb] = op.inputs.map((id) => net.scales.get(id)!.bits);
        const bits = Math.max(sa, sb);
        const ka = 2 ** (bits - sa), kb = 2 ** (bits - sb);
        y = new Float64Array(a.length);
        for (let i = 0; i < y.length; i++) y[i] = a[i] * ka + b[i] * kb;
        break;
      }
    }
    const m = maxAbs(y);
    if (m > Fp.half) overflow(op, m);
    trace.set(op.id, y);
    magnitudeBits.set(op.id, m > 0 ? Math.log2(m) : 0);
  }
  const last = graph.ops[graph.ops.length - 1].id;
  const output = trace.get(last)!;
  const scale = net.scales.get(last)!;
  const logits = output.map((v) => v / (2 ** scale.bits * scale.multiplier));
  return { output, logits, trace, magnitudeBits };
}
