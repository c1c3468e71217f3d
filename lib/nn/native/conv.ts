/**
 * Conv2D, Conv2DBackpropInput and Conv2DBackpropFilter for the wasm backend on oneDNN, reading
 * and writing tfjs tensors in place in the WebAssembly heap.
 *
 * tfjs keeps activations NHWC and filters [KH, KW, Ci, Co] (oneDNN's nhwc and hwio tags). A
 * primitive runs on tfjs' NHWC activations (filters in the layout oneDNN picks) where oneDNN does
 * so with its AVX-512 kernels (jit, brgconv): no reorders of activations around the call, and
 * measured on one thread at batch 32, 5-25% faster than on blocked layouts on most shapes of the
 * three networks (ResNet-32's 3x3 16->16 forward: 1.9 -> 1.4 ms). Everywhere else it runs on the
 * blocked layouts oneDNN picks ("any"), which {@link Plan} reorders around it: where oneDNN would
 * run NHWC with its AVX2 kernels (slower: ONEDNN_MAX_CPU_ISA=AVX2, four ResNet-32 and VGG-16
 * layers, 265 ms against 202 blocked), its im2col + GEMM or its reference code, and for forward
 * passes on at most {@link BLOCKED_FORWARD_MAX_POSITIONS} output positions (VGG-16's 512-channel
 * 4x4 forward: 23 ms NHWC, 17.5 blocked). Primitives are cached per geometry (shape, stride,
 * padding) and created on first use.
 *
 * Few output positions take GEMMs instead of oneDNN's primitives, which parallelise over too few
 * positions there: one GEMM over the batch per pair of input and output position a filter tap
 * links ({@link tapPairs}), so no work is spent on taps in the padding (5 of 9 at 2x2). Measured on
 * one thread at batch 32, 512 -> 512 channels, at 2x2 (VGG-16's last block): forward 2.6 ms against
 * oneDNN's 6.4, backward-data 3.9 against 7.3, backward-weights 3.0 against 5.9 for im2col and one
 * GEMM (itself 1.4-1.9x faster than oneDNN's primitive at 4x4 and 2x2). At 4x4 backward-weights by
 * pairs took 19-22 ms against 23.5 for im2col, while forward and backward-data stay oneDNN's
 * (backward-data by pairs: 27.5 ms against 19.4). {@link POSITION_GEMM_MAX} holds the limits. The
 * routes depend on the geometry (and, for the layouts, the library's kernels) alone, so results
 * do not depend on timing.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { DNNL, type Dnnl, type MemoryDesc, Plan, type PlanArg } from "./dnnl.ts";
import type { KernelOverride } from "../kernels/override.ts";

type Conv2DInfo = tf.backend_util.Conv2DInfo;
type Kind = "forward" | "backwardData" | "backwardWeights";
type Role = "src" | "weights" | "dst";
/** Activations as tfjs stores them (NHWC) or in the blocked layout oneDNN picks (reordered). */
export type Layout = "nhwc" | "blocked";
/** How a call ran: a oneDNN primitive on either layout, or a GEMM per linked pair of positions. */
export type Route = Layout | "positions";

/** A count of 0 per route. */
export function noCalls(): Record<Route, number> {
  return { nhwc: 0, blocked: 0, positions: 0 };
}

/** The parts of tfjs-backend-wasm's BackendWasm the kernels use. */
interface WasmBackend {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: tf.DataId): { memoryOffset: number } };
  makeOutput(shape: number[], dtype: "float32"): tf.TensorInfo;
}

/**
 * Per kind: the primitive's arguments as [DNNL_ARG, query, role]; the first two are the kernel's
 * two inputs in tfjs' order, the last is the output.
 */
const { arg, query } = DNNL;
const ARGS: Record<Kind, [number, number, Role][]> = {
  forward: [[arg.src, query.src, "src"], [arg.weights, query.weights, "weights"], [
    arg.dst,
    query.dst,
    "dst",
  ]],
  backwardData: [
    [arg.diffDst, query.diffDst, "dst"],
    [arg.weights, query.weights, "weights"],
    [arg.diffSrc, query.diffSrc, "src"],
  ],
  backwardWeights: [
    [arg.src, query.src, "src"],
    [arg.diffDst, query.diffDst, "dst"],
    [arg.diffWeights, query.diffWeights, "weights"],
  ],
};

/** The tfjs kernel of each kind and the names of its two inputs. */
const KERNELS: Record<Kind, { name: string; inputs: [string, string] }> = {
  forward: { name: tf.Conv2D, inputs: ["x", "filter"] },
  backwardData: { name: tf.Conv2DBackpropInput, inputs: ["dy", "filter"] },
  backwardWeights: { name: tf.Conv2DBackpropFilter, inputs: ["x", "dy"] },
};

/** Names of the kernels {@link ConvKernels} provides. */
export const NATIVE_CONV_KERNELS: readonly string[] = Object.values(KERNELS).map((k) => k.name);

/** Per kind, the most output positions (OH x OW) at which it runs as a GEMM per linked pair of positions. */
export const POSITION_GEMM_MAX: Readonly<Record<Kind, number>> = {
  forward: 4,
  backwardData: 4,
  backwardWeights: 16,
};

/** The forward pass runs on oneDNN's blocked layouts at most this many output positions. */
export const BLOCKED_FORWARD_MAX_POSITIONS = 16;

/** Which activation layout a primitive of `kind` with `positions` output positions asks for first. */
export function firstLayout(kind: Kind, positions: number): Layout {
  return kind === "forward" && positions <= BLOCKED_FORWARD_MAX_POSITIONS ? "blocked" : "nhwc";
}

/**
 * Whether oneDNN implementation `name` (chosen for NHWC activations) is one of its AVX-512 kernels,
 * which run NHWC at least as fast as blocked layouts; not its AVX2 kernels ("jit:avx2"), im2col +
 * GEMM ("gemm:jit") or reference code ("ref:any").
 */
export function isFastOnNhwc(name: string): boolean {
  return /avx512/.test(name) && !/^(gemm|ref)[:_]/.test(name);
}

/**
 * Every [input position, output position, filter tap] that the convolution of `info` links (taps
 * in the padding left out), positions as row-major indices into H x W, taps into KH x KW.
 */
export function tapPairs(info: Conv2DInfo): [number, number, number][] {
  const { inHeight: ih, inWidth: iw, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const pairs: [number, number, number][] = [];
  for (let y = 0; y < oh; y++) {
    for (let z = 0; z < ow; z++) {
      for (let u = 0; u < kh; u++) {
        const yy = y * sh - top + u * dh;
        if (yy < 0 || yy >= ih) continue;
        for (let v = 0; v < kw; v++) {
          const zz = z * sw - left + v * dw;
          if (zz >= 0 && zz < iw) pairs.push([yy * iw + zz, y * ow + z, u * kw + v]);
        }
      }
    }
  }
  return pairs;
}

/** One convolution geometry's three kernels: oneDNN primitives planned on first use, or GEMMs. */
class Convolution {
  /** Each planned kind's primitive and the activation layout it runs on. */
  readonly #plans = new Map<Kind, { plan: Plan; layout: Layout }>();
  readonly #user: Record<Role, MemoryDesc>;
  readonly #layouts: Record<Layout, Record<Role, MemoryDesc>>;
  readonly #geometry: { strides: number[]; dilates: number[]; padL: number[]; padR: number[] };
  /** {@link tapPairs} of this geometry (computed on first use). */
  #pairs: [number, number, number][] | undefined;

  constructor(readonly dnnl: Dnnl, readonly info: Conv2DInfo) {
    const dims: Record<Role, number[]> = {
      src: [info.batchSize, info.inChannels, info.inHeight, info.inWidth],
      weights: [info.outChannels, info.inChannels, info.filterHeight, info.filterWidth],
      dst: [info.batchSize, info.outChannels, info.outHeight, info.outWidth],
    };
    const tags: Record<Role, number> = { src: DNNL.tag.nhwc, weights: DNNL.tag.hwio, dst: DNNL.tag.nhwc };
    const roles: Role[] = ["src", "weights", "dst"];
    const mds = (tag?: number) =>
      Object.fromEntries(roles.map((r) => [r, dnnl.md(dims[r], tag ?? tags[r])])) as Record<Role, MemoryDesc>;
    this.#user = mds();
    const any = mds(DNNL.tag.any);
    this.#layouts = { nhwc: { ...this.#user, weights: any.weights }, blocked: any };
    const { top, left, bottom, right } = info.padInfo;
    this.#geometry = {
      strides: [info.strideHeight, info.strideWidth],
      dilates: [info.dilationHeight - 1, info.dilationWidth - 1],
      padL: [top, left],
      padR: [bottom, right],
    };
  }

  /**
   * Runs `kind` on `views` (its two inputs and its output, in tfjs' layouts, made right before
   * this call) by the route the module comment describes, and returns that route.
   */
  run(kind: Kind, views: Float32Array[]): Route {
    if (this.info.outHeight * this.info.outWidth <= POSITION_GEMM_MAX[kind]) {
      this.#byPositions(kind, views);
      return "positions";
    }
    const { plan, layout } = this.#plan(kind);
    plan.run(views);
    return layout;
  }

  #plan(kind: Kind): { plan: Plan; layout: Layout } {
    let planned = this.#plans.get(kind);
    if (planned === undefined) {
      const args: PlanArg[] = ARGS[kind].map(([a, q, role], i) => ({
        arg: a,
        query: q,
        user: this.#user[role],
        output: i === 2,
      }));
      const { pd, layout } = this.#primitiveDesc(kind);
      planned = { plan: new Plan(this.dnnl, pd, args), layout };
      this.#plans.set(kind, planned);
    }
    return planned;
  }

  /**
   * `kind` as a sum of GEMMs over the batch, one per linked [input position i, output position o,
   * tap t]: in NHWC, position p of every image is a matrix of N rows (row stride: one image), and
   * tap t of the HWIO filter a Ci x Co matrix. y[o] += x[i] W[t]; dx[i] += dy[o] W[t]^T;
   * dW[t] += x[i]^T dy[o].
   */
  #byPositions(kind: Kind, [a, b, out]: Float32Array[]): void {
    const { batchSize: n, inHeight, inWidth, outHeight, outWidth, inChannels: ci, outChannels: co } =
      this.info;
    const inRow = inHeight * inWidth * ci, outRow = outHeight * outWidth * co;
    // The input side (x or dx), the output side (y or dy) and the filter (W or dW) of this kind.
    const [input, output, filter] = kind === "forward"
      ? [a, out, b]
      : kind === "backwardData"
      ? [out, a, b]
      : [a, b, out];
    const x = (i: number) => input.subarray(i * ci), y = (o: number) => output.subarray(o * co);
    const w = (t: number) => filter.subarray(t * ci * co);
    const gemm = this.dnnl.sgemm.bind(this.dnnl);
    const accumulate: (i: number, o: number, t: number) => void = kind === "forward"
      ? (i, o, t) => gemm(false, false, [n, co, ci], 1, x(i), inRow, w(t), co, 1, y(o), outRow)
      : kind === "backwardData"
      ? (i, o, t) => gemm(false, true, [n, ci, co], 1, y(o), outRow, w(t), co, 1, x(i), inRow)
      : (i, o, t) => gemm(true, false, [ci, co, n], 1, x(i), inRow, y(o), outRow, 1, w(t), co);
    out.fill(0);
    for (const [i, o, t] of this.#pairs ??= tapPairs(this.info)) accumulate(i, o, t);
  }

  /** The primitive descriptor of `kind` on the layout the module comment describes, and that layout. */
  #primitiveDesc(kind: Kind): { pd: Deno.PointerObject; layout: Layout } {
    if (firstLayout(kind, this.info.outHeight * this.info.outWidth) === "nhwc") {
      const pd = this.#create(kind, this.#layouts.nhwc);
      if (isFastOnNhwc(this.dnnl.implementation(pd))) return { pd, layout: "nhwc" };
      this.dnnl.destroy(pd);
    }
    return { pd: this.#create(kind, this.#layouts.blocked), layout: "blocked" };
  }

  #create(kind: Kind, mds: Record<Role, MemoryDesc>) {
    const forward = () => this.dnnl.convolution("forward", mds, this.#geometry);
    if (kind === "forward") return forward();
    const hint = forward();
    try {
      return this.dnnl.convolution(kind, mds, this.#geometry, hint);
    } finally {
      this.dnnl.destroy(hint);
    }
  }
}

/** Attributes of the three kernels (the forward convolution's parameters). */
interface ConvAttrs {
  strides: [number, number] | number;
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  dilations?: [number, number] | number;
  inputShape?: number[];
  filterShape?: number[];
}

/** The forward convolution's geometry and the output shape of kernel `kind`. */
function geometry(kind: Kind, a: tf.TensorInfo, b: tf.TensorInfo, attrs: ConvAttrs) {
  const [xShape, filterShape] = kind === "forward"
    ? [a.shape, b.shape]
    : kind === "backwardData"
    ? [attrs.inputShape!, b.shape]
    : [a.shape, attrs.filterShape!];
  const info = tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
  const outShape = kind === "forward" ? info.outShape : kind === "backwardData" ? xShape : filterShape;
  return { info, outShape };
}

/** A Float32Array over `t`'s data in the wasm heap (valid until the heap next grows). */
function heapView(backend: WasmBackend, t: tf.TensorInfo): Float32Array {
  const offset = backend.dataIdMap.get(t.dataId).memoryOffset;
  return new Float32Array(backend.wasm.HEAPU8.buffer, offset, tf.util.sizeFromShape(t.shape));
}

/** The three convolution kernels on one open library, with their per-geometry primitive cache. */
export class ConvKernels {
  readonly #cache = new Map<string, Convolution>();
  /** Kernel calls run natively so far, by route. */
  readonly calls: Record<Route, number> = noCalls();

  constructor(readonly dnnl: Dnnl) {}

  /**
   * The kernels as overrides. Each runs natively on float32 NHWC tensors and otherwise calls
   * `fallbacks[kernelName]` (built from the stock kernel), or the stock kernel.
   */
  overrides(fallbacks: readonly KernelOverride[]): KernelOverride[] {
    return (Object.keys(KERNELS) as Kind[]).map((kind) => {
      const { name, inputs } = KERNELS[kind];
      const fallback = fallbacks.find((f) => f.kernelName === name);
      return {
        kernelName: name,
        make: (stock) => {
          const other = fallback?.make(stock) ?? stock;
          return (args) => {
            const [a, b] = inputs.map((n) => args.inputs[n] as tf.TensorInfo);
            const attrs = args.attrs as unknown as ConvAttrs;
            if (attrs.dataFormat !== "NHWC" || a.dtype !== "float32" || b.dtype !== "float32") {
              return other(args);
            }
            return this.#run(kind, a, b, attrs, args.backend as unknown as WasmBackend);
          };
        },
      };
    });
  }

  #run(
    kind: Kind,
    a: tf.TensorInfo,
    b: tf.TensorInfo,
    attrs: ConvAttrs,
    backend: WasmBackend,
  ): tf.TensorInfo {
    const { info, outShape } = geometry(kind, a, b, attrs);
    const key = [
      info.batchSize,
      info.inHeight,
      info.inWidth,
      info.inChannels,
      info.outChannels,
      info.filterHeight,
      info.filterWidth,
      info.strideHeight,
      info.strideWidth,
      info.dilationHeight,
      info.dilationWidth,
      info.padInfo.top,
      info.padInfo.left,
      info.padInfo.bottom,
      info.padInfo.right,
    ].join();
    let conv = this.#cache.get(key);
    if (conv === undefined) this.#cache.set(key, conv = new Convolution(this.dnnl, info));
    // Allocate first: makeOutput may grow the heap, which detaches older views.
    const out = backend.makeOutput(outShape, "float32");
    const views = [heapView(backend, a), heapView(backend, b), heapView(backend, out)];
    this.calls[conv.run(kind, views)]++;
    return out;
  }
}
