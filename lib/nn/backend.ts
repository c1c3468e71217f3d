/**
 * TensorFlow.js backend setup for training and inference under Deno.
 *
 * The wasm backend (XNNPACK, SIMD) is the fast one here; tfjs-node cannot be installed and there is
 * no GPU. It finds its .wasm binaries beside its own script in node_modules (emscripten's Node
 * path, which Deno takes because it defines `process.versions.node`), so no `setWasmPaths` is
 * needed. The project's training kernels ({@link registerTrainingKernels}) are registered on it, so
 * call {@link initBackend} rather than `tf.setBackend("wasm")`: without them conv training throws
 * (no Conv2DBackpropFilter) or crawls. Where oneDNN is installed, the convolutions run natively
 * over them ({@link registerNativeKernels}).
 *
 * Threads stay off: tfjs treats Node-like runtimes as thread-less, and forcing its threaded build
 * under Deno fails (its pthread workers are blob URLs, assign the read-only `location` global and
 * rebuild the module from a Blob). Two training processes use the two cores instead.
 *
 * Importing only tfjs-core's Node bundle gives no chained ops: write `tf.add(x, y)`, not
 * `x.add(y)`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
// tfjs-core's Node bundle registers no gradients; tfjs-layers' bundle registers them all.
import "@tensorflow/tfjs-layers";
import { registerTrainingKernels } from "./kernels/mod.ts";
import { type NativeInfo, registerNativeKernels } from "./native/mod.ts";

/** Backends this project can run on. */
export type BackendName = "wasm" | "cpu";

/** What {@link initBackend} set up. */
export interface BackendInfo {
  /** The active tfjs backend. */
  backend: BackendName;
  /** wasm: whether the SIMD build is loaded (always false for cpu). */
  simd: boolean;
  /** wasm: worker threads used by XNNPACK (1 = single-threaded; cpu: 1). */
  threads: number;
  /** Kernels this project registered over or beside the stock ones. */
  customKernels: string[];
  /** wasm: the native kernels registered over those (absent when the wasm kernels run alone). */
  native?: NativeInfo;
}

let active: BackendInfo | undefined;

/**
 * Makes `name` the active tfjs backend and registers the project's training kernels on it, the
 * native ones with `nativeThreads` oneDNN threads (default 1). Idempotent; calling it with another
 * name switches backends.
 */
export async function initBackend(
  name: BackendName = "wasm",
  options: { readonly nativeThreads?: number } = {},
): Promise<BackendInfo> {
  if (active?.backend === name && tf.getBackend() === name) return active;
  const customKernels = name === "wasm" ? registerTrainingKernels() : [];
  const native = name === "wasm" ? registerNativeKernels(options.nativeThreads) : undefined;
  if (!(await tf.setBackend(name))) {
    throw new Error(
      `tfjs backend '${name}' failed to initialise; check that @tensorflow/tfjs-backend-${name} is installed`,
    );
  }
  await tf.ready();
  // The cpu backend prints an "install tfjs-node" banner at its first write under Node-like
  // runtimes; tfjs-node cannot be installed here, so the advice is noise.
  if (name === "cpu") (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  const simd = name === "wasm" && (await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) === true;
  active = {
    backend: name,
    simd,
    threads: name === "wasm" ? wasmThreads() : 1,
    customKernels,
    ...(native ? { native } : {}),
  };
  return active;
}

/** The backend set up by {@link initBackend}, or undefined before it ran. */
export function backendInfo(): BackendInfo | undefined {
  return active;
}

/** Threads of the initialised wasm module (1 when the single-threaded build is loaded). */
function wasmThreads(): number {
  const wasm = (tf.backend() as unknown as { wasm: { _get_threads_count?: () => number } }).wasm;
  return wasm._get_threads_count?.() ?? 1;
}
