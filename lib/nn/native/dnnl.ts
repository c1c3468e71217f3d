/**
 * oneDNN 2.x (Debian's libdnnl2) through `Deno.dlopen`: the handful of C-API calls the native
 * kernels need, and {@link Plan}, one primitive run on caller-owned buffers with the reorders its
 * chosen memory layouts require.
 *
 * Why no C shim: the 2.x C API passes every structure by pointer. Descriptors the library fills in
 * (memory and operation descriptors) are only passed back to it, so they are opaque byte buffers
 * here, allocated larger than their 2.6 sizes (696 and 5,976 bytes); what TypeScript writes itself
 * is int64 dims arrays and the 16-byte {int, pointer} execution arguments; handles are pointers;
 * enum values are fixed within the soname libdnnl.so.2 (3.x, with a different API, is .so.3), and
 * {@link Dnnl.open} checks the version it loaded. Nothing needs a compiler at setup time.
 *
 * Traps this module handles: oneDNN's OpenMP thread count is fixed when a primitive is created
 * (set here, on the calling thread, before any primitive exists); a primitive may choose blocked
 * layouts for any argument (every buffer is sized from the chosen memory descriptor, and reordered
 * from or to the caller's layout); internal buffers and scratchpads live in one per-thread arena
 * reused by every call, since calls on a thread run one after another.
 *
 * @module
 */

/** Enum values of the oneDNN 2.x C API (dnnl_types.h). */
export const DNNL = {
  f32: 3,
  tag: { any: 1, nhwc: 20, hwio: 30 },
  alg: { convolutionDirect: 1 },
  query: {
    implementation: 8,
    src: 129,
    diffSrc: 130,
    weights: 131,
    diffWeights: 132,
    dst: 133,
    diffDst: 134,
    scratchpad: 136,
  },
  arg: { src: 1, dst: 17, weights: 33, diffSrc: 129, diffDst: 145, diffWeights: 161, scratchpad: 80 },
} as const;

const STATUS = [
  "success",
  "out_of_memory",
  "invalid_arguments",
  "unimplemented",
  "iterator_ends",
  "runtime_error",
  "not_required",
];
const CPU_ENGINE = 1;
/** dnnl_forward_training: forward primitives can serve as backward hints. */
const TRAINING = 64;
const STREAM_DEFAULT_FLAGS = 1;
const SCRATCHPAD_USER = 1;
const RUNTIME = ["none", "sequential", "OpenMP", "TBB", "threadpool"];
const RUNTIME_OMP = 2;
/** Upper bounds of dnnl_memory_desc_t (696 bytes in 2.6) and dnnl_convolution_desc_t (5,976). */
const MD_BYTES = 1024;
const OP_DESC_BYTES = 8192;
/** Alignment of internal buffers in the arena (oneDNN's own allocations use 64). */
const ALIGN = 64;

const p = "pointer" as const, b = "buffer" as const, i32 = "i32" as const;
const SYMBOLS = {
  dnnl_version: { parameters: [], result: p },
  dnnl_engine_create: { parameters: [b, i32, "usize"], result: i32 },
  dnnl_stream_create: { parameters: [b, p, "u32"], result: i32 },
  dnnl_stream_wait: { parameters: [p], result: i32 },
  dnnl_memory_desc_init_by_tag: { parameters: [b, i32, b, i32, i32], result: i32 },
  dnnl_memory_desc_equal: { parameters: [p, p], result: i32 },
  dnnl_memory_desc_get_size: { parameters: [p], result: "usize" },
  dnnl_memory_create: { parameters: [b, p, p, p], result: i32 },
  dnnl_memory_set_data_handle: { parameters: [p, p], result: i32 },
  dnnl_primitive_attr_create: { parameters: [b], result: i32 },
  dnnl_primitive_attr_set_scratchpad_mode: { parameters: [p, i32], result: i32 },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [b, i32, i32, p, p, p, p, b, b, b, b],
    result: i32,
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: [b, i32, p, p, p, b, b, b, b],
    result: i32,
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: [b, i32, p, p, p, p, b, b, b, b],
    result: i32,
  },
  dnnl_primitive_desc_create: { parameters: [b, b, p, p, p], result: i32 },
  dnnl_reorder_primitive_desc_create: { parameters: [b, p, p, p, p, p], result: i32 },
  dnnl_primitive_desc_query: { parameters: [p, i32, i32, b], result: i32 },
  dnnl_primitive_desc_query_md: { parameters: [p, i32, i32], result: p },
  dnnl_primitive_desc_destroy: { parameters: [p], result: i32 },
  dnnl_primitive_create: { parameters: [b, p], result: i32 },
  dnnl_primitive_execute: { parameters: [p, p, i32, b], result: i32 },
  dnnl_sgemm: {
    parameters: ["i8", "i8", "i64", "i64", "i64", "f32", b, "i64", b, "i64", "f32", b, "i64"],
    result: i32,
  },
} as const;

type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
type Ptr = NonNullable<Deno.PointerValue>;

/** A memory descriptor: the library's own (a pointer into a primitive descriptor) or one made here. */
export type MemoryDesc = Ptr;

/** How a {@link Plan} argument maps to a caller buffer. */
export interface PlanArg {
  /** DNNL_ARG_* of the primitive. */
  arg: number;
  /** dnnl_query_*_md that gives the layout the primitive chose for it. */
  query: number;
  /** The caller's layout of the buffer. */
  user: MemoryDesc;
  /** Written by the primitive (reordered back to the caller's layout after it ran). */
  output?: boolean;
}

/** One primitive's execution: `prim` with its prebuilt argument list. */
interface Step {
  prim: Ptr;
  args: Uint8Array;
  nargs: number;
}

/** A memory object whose data lives at `offset` in the arena. */
interface Internal {
  mem: Ptr;
  offset: number;
}

/**
 * A primitive bound to caller buffers: {@link run} points the caller's memory objects at the given
 * views, reorders inputs into the primitive's layouts, runs it and reorders outputs back.
 */
export class Plan {
  readonly #steps: Step[];
  readonly #user: { mem: Ptr; bytes: number }[] = [];
  readonly #internal: Internal[] = [];
  readonly #arenaBytes: number;

  /** Builds the plan for `pd` (a primitive descriptor; destroyed here once the primitive exists). */
  constructor(readonly dnnl: Dnnl, pd: Ptr, args: PlanArg[]) {
    let bytes = 0;
    const internal = (md: MemoryDesc): Ptr => {
      const mem = dnnl.memory(md);
      this.#internal.push({ mem, offset: bytes });
      bytes += Math.ceil(dnnl.size(md) / ALIGN) * ALIGN;
      return mem;
    };
    const before: Step[] = [], after: Step[] = [];
    const mainArgs: [number, Ptr][] = [];
    for (const a of args) {
      const user = dnnl.memory(a.user);
      this.#user.push({ mem: user, bytes: dnnl.size(a.user) });
      const chosen = dnnl.queryMd(pd, a.query);
      if (dnnl.mdEqual(chosen, a.user)) {
        mainArgs.push([a.arg, user]);
        continue;
      }
      const mem = internal(chosen);
      mainArgs.push([a.arg, mem]);
      if (a.output) after.push(dnnl.reorder(chosen, a.user, mem, user, internal));
      else before.push(dnnl.reorder(a.user, chosen, user, mem, internal));
    }
    const scratch = dnnl.queryMd(pd, DNNL.query.scratchpad);
    if (dnnl.size(scratch) > 0) mainArgs.push([DNNL.arg.scratchpad, internal(scratch)]);
    const prim = dnnl.primitive(pd);
    dnnl.destroy(pd);
    this.#steps = [...before, { prim, ...execArgs(mainArgs) }, ...after];
    this.#arenaBytes = bytes;
  }

  /**
   * Runs the plan on `views`, one per constructor argument in the same order. Views over a
   * WebAssembly heap must be made right before this call: one made before the heap grew is
   * detached (rejected here).
   */
  run(views: ArrayBufferView[]): void {
    const { dnnl } = this;
    views.forEach((v, i) => {
      const { mem, bytes } = this.#user[i];
      // The library trusts the handle: a short buffer would be overrun, and a stale view over a
      // grown heap (detached, 0 bytes) would crash the process.
      if (v.byteLength < bytes) {
        throw new Error(`oneDNN plan argument ${i}: ${v.byteLength} bytes, needs ${bytes}`);
      }
      dnnl.setHandle(mem, Deno.UnsafePointer.of(v)!);
    });
    const base = dnnl.arena(this.#arenaBytes);
    for (const { mem, offset } of this.#internal) {
      dnnl.setHandle(mem, Deno.UnsafePointer.offset(base, offset)!);
    }
    for (const s of this.#steps) dnnl.execute(s);
    dnnl.wait();
  }
}

/** The packed dnnl_exec_arg_t array {int arg; dnnl_memory_t memory} for `args`. */
function execArgs(args: [number, Ptr][]): { args: Uint8Array; nargs: number } {
  const buf = new Uint8Array(16 * args.length);
  const view = new DataView(buf.buffer);
  args.forEach(([arg, mem], i) => {
    view.setInt32(16 * i, arg, true);
    view.setBigUint64(16 * i + 8, BigInt(Deno.UnsafePointer.value(mem)), true);
  });
  return { args: buf, nargs: args.length };
}

/** What {@link Dnnl.open} found. */
export interface DnnlVersion {
  major: number;
  minor: number;
  patch: number;
  runtime: string;
}

/**
 * An open libdnnl with a CPU engine and stream for the calling thread. Engines, primitives and the
 * arena are per thread: each Deno worker opens its own.
 */
export class Dnnl {
  readonly #lib: Symbols;
  readonly #engine: Ptr;
  readonly #stream: Ptr;
  readonly #attr: Ptr;
  // Descriptors made here stay referenced, so that their pointers stay valid.
  readonly #owned: Uint8Array[] = [];
  #arena = new ArrayBuffer(0);
  #arenaBase: Ptr | null = null;

  private constructor(lib: Symbols, readonly version: DnnlVersion, readonly threads: number) {
    this.#lib = lib;
    this.#engine = this.#out((o) => lib.dnnl_engine_create(o, CPU_ENGINE, 0n), "engine_create");
    this.#stream = this.#out(
      (o) => lib.dnnl_stream_create(o, this.#engine, STREAM_DEFAULT_FLAGS),
      "stream_create",
    );
    // User-managed scratchpads (in the per-thread arena): in its default mode this build shares
    // one scratchpad between all primitives, and two workers execute concurrently.
    this.#attr = this.#out((o) => lib.dnnl_primitive_attr_create(o), "primitive_attr_create");
    check(lib.dnnl_primitive_attr_set_scratchpad_mode(this.#attr, SCRATCHPAD_USER), "set_scratchpad_mode");
  }

  /**
   * Opens `path` (a libdnnl.so.2) and fixes the OpenMP thread count of the calling thread to
   * `threads` (libgomp's omp_set_num_threads: OMP_NUM_THREADS is read once per process, and each
   * worker thread must choose its own). Throws with the reason when the library cannot be used.
   */
  static open(path: string, threads: number): Dnnl {
    // libgomp reads this when it loads (with libdnnl). Its default spins idle team threads, which
    // on shared cores took the CPU from the thread with work: 2 threads trained CNN-7 at 60 img/s
    // spinning and 150 passive, on 2 loaded cores.
    if (threads > 1 && Deno.env.get("OMP_WAIT_POLICY") === undefined) {
      Deno.env.set("OMP_WAIT_POLICY", "passive");
    }
    const lib = Deno.dlopen(path, SYMBOLS).symbols;
    const v = new Deno.UnsafePointerView(lib.dnnl_version()!);
    const version = {
      major: v.getInt32(0),
      minor: v.getInt32(4),
      patch: v.getInt32(8),
      runtime: RUNTIME[v.getUint32(24)] ?? `runtime ${v.getUint32(24)}`,
    };
    if (version.major !== 2) {
      throw new Error(`${path} is oneDNN ${version.major}.x; the bindings are for 2.x`);
    }
    if (v.getUint32(24) !== RUNTIME_OMP) {
      throw new Error(`${path} uses the ${version.runtime} threading runtime; the bindings expect OpenMP`);
    }
    const gomp = Deno.dlopen("libgomp.so.1", {
      omp_set_num_threads: { parameters: [i32], result: "void" },
      omp_get_max_threads: { parameters: [], result: i32 },
    }).symbols;
    gomp.omp_set_num_threads(threads);
    return new Dnnl(lib, version, gomp.omp_get_max_threads());
  }

  /**
   * C = alpha op(A) op(B) + beta C on row-major matrices (oneDNN's BLAS-like sgemm, on this
   * thread's OpenMP threads): op(A) is M x K, op(B) K x N; `transA`/`transB` say whether A and B
   * are stored transposed.
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    [m, n, k]: [number, number, number],
    alpha: number,
    a: Float32Array,
    lda: number,
    b: Float32Array,
    ldb: number,
    beta: number,
    c: Float32Array,
    ldc: number,
  ): void {
    const flag = (t: boolean) => (t ? "T" : "N").charCodeAt(0);
    const dims = [m, n, k, lda, ldb, ldc].map(BigInt);
    check(
      this.#lib.dnnl_sgemm(
        flag(transA),
        flag(transB),
        dims[0],
        dims[1],
        dims[2],
        alpha,
        a,
        dims[3],
        b,
        dims[4],
        beta,
        c,
        dims[5],
      ),
      "sgemm",
    );
  }

  /** A plain f32 memory descriptor of `dims` (logical order) in layout `tag`. */
  md(dims: number[], tag: number): MemoryDesc {
    const md = new Uint8Array(MD_BYTES);
    check(
      this.#lib.dnnl_memory_desc_init_by_tag(md, dims.length, int64(dims), DNNL.f32, tag),
      "memory_desc_init",
    );
    return this.#own(md);
  }

  /**
   * A convolution primitive descriptor on memory descriptors in logical order (data [N, C, H, W],
   * weights [O, I, KH, KW]; for backward kinds, `src`, `weights` and `dst` describe the gradient
   * where the primitive computes one); `dilates` counts skipped taps (0 = dense). `hint`: the
   * forward primitive descriptor, required for the two backward kinds.
   */
  convolution(
    kind: "forward" | "backwardData" | "backwardWeights",
    mds: { src: MemoryDesc; weights: MemoryDesc; dst: MemoryDesc },
    g: { strides: number[]; dilates: number[]; padL: number[]; padR: number[] },
    hint: Ptr | null = null,
  ): Ptr {
    const lib = this.#lib, desc = new Uint8Array(OP_DESC_BYTES), alg = DNNL.alg.convolutionDirect;
    const geo = [g.strides, g.dilates, g.padL, g.padR].map(int64) as [Dims, Dims, Dims, Dims];
    const { src, weights: w, dst } = mds;
    const status = kind === "forward"
      ? lib.dnnl_dilated_convolution_forward_desc_init(desc, TRAINING, alg, src, w, null, dst, ...geo)
      : kind === "backwardData"
      ? lib.dnnl_dilated_convolution_backward_data_desc_init(desc, alg, src, w, dst, ...geo)
      : lib.dnnl_dilated_convolution_backward_weights_desc_init(desc, alg, src, w, null, dst, ...geo);
    check(status, `convolution ${kind} desc_init`);
    return this.#out(
      (o) => lib.dnnl_primitive_desc_create(o, desc, this.#attr, this.#engine, hint),
      `convolution ${kind} primitive_desc_create`,
    );
  }

  queryMd(pd: Ptr, what: number): MemoryDesc {
    const md = this.#lib.dnnl_primitive_desc_query_md(pd, what, 0);
    if (md === null) throw new Error(`oneDNN primitive_desc_query_md(${what}) failed`);
    return md;
  }

  /** The name of the implementation `pd` chose, e.g. "jit:avx512_core" or "gemm:jit". */
  implementation(pd: Ptr): string {
    const name = this.#out(
      (o) => this.#lib.dnnl_primitive_desc_query(pd, DNNL.query.implementation, 0, o),
      "primitive_desc_query(impl_info_str)",
    );
    return new Deno.UnsafePointerView(name).getCString();
  }

  mdEqual(a: MemoryDesc, b: MemoryDesc): boolean {
    return this.#lib.dnnl_memory_desc_equal(a, b) === 1;
  }

  size(md: MemoryDesc): number {
    return Number(this.#lib.dnnl_memory_desc_get_size(md));
  }

  /** A memory object of layout `md` without data (its handle is set before each run). */
  memory(md: MemoryDesc): Ptr {
    return this.#out((o) => this.#lib.dnnl_memory_create(o, md, this.#engine, null), "memory_create");
  }

  /** A step reordering `srcMem` (layout `src`) into `dstMem` (layout `dst`). */
  reorder(
    src: MemoryDesc,
    dst: MemoryDesc,
    srcMem: Ptr,
    dstMem: Ptr,
    scratch: (md: MemoryDesc) => Ptr,
  ): Step {
    const lib = this.#lib;
    const pd = this.#out(
      (o) => lib.dnnl_reorder_primitive_desc_create(o, src, this.#engine, dst, this.#engine, this.#attr),
      "reorder_primitive_desc_create",
    );
    const args: [number, Ptr][] = [[DNNL.arg.src, srcMem], [DNNL.arg.dst, dstMem]];
    const pad = this.queryMd(pd, DNNL.query.scratchpad);
    if (this.size(pad) > 0) args.push([DNNL.arg.scratchpad, scratch(pad)]);
    const prim = this.primitive(pd);
    this.destroy(pd);
    return { prim, ...execArgs(args) };
  }

  primitive(pd: Ptr): Ptr {
    return this.#out((o) => this.#lib.dnnl_primitive_create(o, pd), "primitive_create");
  }

  destroy(pd: Ptr): void {
    check(this.#lib.dnnl_primitive_desc_destroy(pd), "primitive_desc_destroy");
  }

  setHandle(mem: Ptr, data: Ptr): void {
    check(this.#lib.dnnl_memory_set_data_handle(mem, data), "memory_set_data_handle");
  }

  execute(s: Step): void {
    check(this.#lib.dnnl_primitive_execute(s.prim, this.#stream, s.nargs, s.args), "primitive_execute");
  }

  wait(): void {
    check(this.#lib.dnnl_stream_wait(this.#stream), "stream_wait");
  }

  /** The arena's base address, grown to at least `bytes` (plus slack for aligning the base). */
  arena(bytes: number): Ptr {
    if (this.#arena.byteLength < bytes + ALIGN) {
      this.#arena = new ArrayBuffer(bytes + ALIGN);
      const raw = Deno.UnsafePointer.of(this.#arena)!;
      const misalign = Number(BigInt(Deno.UnsafePointer.value(raw)) % BigInt(ALIGN));
      this.#arenaBase = Deno.UnsafePointer.offset(raw, misalign === 0 ? 0 : ALIGN - misalign);
    }
    return this.#arenaBase!;
  }

  #own(buf: Uint8Array): Ptr {
    this.#owned.push(buf);
    return Deno.UnsafePointer.of(buf)!;
  }

  /** Calls `f` with a one-pointer out-parameter and returns what it wrote. */
  #out(f: (out: BigUint64Array) => number, what: string): Ptr {
    const out = new BigUint64Array(1);
    check(f(out), what);
    const ptr = Deno.UnsafePointer.create(out[0]);
    if (ptr === null) throw new Error(`oneDNN ${what} returned a null handle`);
    return ptr;
  }
}

/** Throws a readable error for a non-success dnnl_status_t. */
function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`oneDNN ${what} failed: ${STATUS[status] ?? `status ${status}`}`);
}

type Dims = BigInt64Array;

/** A dnnl_dims_t (int64[12]) holding `dims`. */
function int64(dims: number[]): Dims {
  const out = new BigInt64Array(12);
  dims.forEach((d, i) => out[i] = BigInt(d));
  return out;
}
