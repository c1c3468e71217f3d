/**
 * Native (oneDNN) kernels under the wasm backend: convolution forward, backward-data and
 * backward-weights run in oneDNN, on the tfjs tensors in place; everything else stays in wasm
 * (except batch norm in training, the masked activation and the SGD update, which call the
 * project's own C kernels: c_kernels.ts; so does the data-parallel workers' gradient average).
 *
 * Environment (read once per thread, when the kernels are first registered):
 * - `SAFENET_NATIVE=0` keeps the wasm kernels;
 * - `SAFENET_NATIVE_THREADS`: oneDNN threads per tfjs instance, overriding the caller's choice
 *   (training workers: the cores divided among the workers; elsewhere 1). Data-parallel workers
 *   each have their own; workers x threads must not exceed the cores (an extra runnable thread
 *   stalls every multi-threaded kernel);
 * - `SAFENET_DNNL_LIBRARY` (default `libdnnl.so.2`, Debian's libdnnl2): the library to open.
 *
 * Where the library cannot be used (not installed, another OS, no --allow-ffi, a bad setting) the
 * wasm kernels stay, with a one-line notice (one per worker); they compute the same results within
 * float tolerance.
 *
 * @module
 */
import { ConvKernels, NATIVE_CONV_KERNELS, noCalls, type Route } from "./conv.ts";
import { batchNormNative } from "./batch_norm.ts";
import { maskedNative } from "./masked.ts";
import { sgdNative } from "./sgd.ts";
import { weightedAverageNative } from "./weighted_average.ts";
import { Dnnl } from "./dnnl.ts";
import { registerOverride } from "../kernels/override.ts";
import { WASM_TRAINING_KERNELS } from "../kernels/mod.ts";

/** The native kernels in use. */
export interface NativeInfo {
  /** e.g. "oneDNN 2.6.3 (OpenMP)". */
  library: string;
  /** oneDNN threads of this tfjs instance. */
  threads: number;
  kernels: string[];
  /** The project's own C kernels in use (c_kernels.ts; one thread each). */
  cKernels: string[];
}

let opened: { kernels: ConvKernels; info: NativeInfo } | null | undefined;

/**
 * Opens the library once per thread with `threads` oneDNN threads (unless SAFENET_NATIVE_THREADS
 * says otherwise); null (after a one-line notice) when it cannot be used.
 */
function open(threads = 1): typeof opened {
  if (opened !== undefined) return opened;
  opened = null;
  // Inside the try: without env or ffi permission the wasm kernels run too.
  try {
    if (Deno.env.get("SAFENET_NATIVE") === "0") return opened;
    const path = Deno.env.get("SAFENET_DNNL_LIBRARY") ?? "libdnnl.so.2";
    const threadsVar = Deno.env.get("SAFENET_NATIVE_THREADS") ?? String(threads);
    const count = Number(threadsVar);
    if (!Number.isInteger(count) || count < 1) {
      throw new Error(`SAFENET_NATIVE_THREADS must be a positive integer, got '${threadsVar}'`);
    }
    const dnnl = Dnnl.open(path, count);
    const { major, minor, patch, runtime } = dnnl.version;
    opened = {
      kernels: new ConvKernels(dnnl),
      info: {
        library: `oneDNN ${major}.${minor}.${patch} (${runtime})`,
        threads: dnnl.threads,
        kernels: [...NATIVE_CONV_KERNELS],
        cKernels: [
          ...(maskedNative() ? ["masked activation"] : []),
          ...(batchNormNative() ? ["batch norm (training)"] : []),
          ...(sgdNative() ? ["SGD update"] : []),
          ...(weightedAverageNative() ? ["data-parallel gradient average"] : []),
        ],
      },
    };
  } catch (e) {
    console.error(
      `native kernels off (${(e as Error).message.split("\n")[0]}); using the wasm kernels ` +
        `(install libdnnl2, or set SAFENET_NATIVE=0 to silence this)`,
    );
  }
  return opened;
}

/**
 * Registers the native kernels on the wasm backend over the project's wasm kernels (which stay as
 * their fallback for cases the native ones do not cover) and returns what is in use, or undefined
 * when the wasm kernels stay. Call after `registerTrainingKernels` (kernels/mod.ts); idempotent
 * (the first call fixes the thread count: oneDNN fixes it when a primitive is created).
 */
export function registerNativeKernels(threads = 1): NativeInfo | undefined {
  const native = open(threads);
  if (!native) return undefined;
  for (const k of native.kernels.overrides(WASM_TRAINING_KERNELS)) registerOverride(k, "wasm");
  return native.info;
}

/** Kernel calls run natively so far in this thread, by route (conv.ts; all 0 when the native kernels are off). */
export function nativeCalls(): Record<Route, number> {
  return { ...(open()?.kernels.calls ?? noCalls()) };
}
