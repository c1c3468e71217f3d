/**
 * Registering a kernel over a backend's stock one while keeping the stock one callable, for the
 * cases an override does not handle.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** A kernel that replaces (or adds) `kernelName`, built from the stock kernel if there is one. */
export interface KernelOverride {
  kernelName: string;
  /** Builds the kernel function; `stock` runs the backend's own kernel (throws if it has none). */
  make(stock: tf.KernelFunc): tf.KernelFunc;
}

// Stock configs captured before the first override, so re-registering never wraps an override.
const stockConfigs = new Map<string, tf.KernelConfig | null>();

function stockKernel(kernelName: string, backendName: string): tf.KernelConfig | null {
  const key = `${backendName}/${kernelName}`;
  if (!stockConfigs.has(key)) stockConfigs.set(key, tf.getKernel(kernelName, backendName) ?? null);
  return stockConfigs.get(key)!;
}

/**
 * Registers `override` on `backendName` in place of any stock kernel. The stock kernel's setupFunc
 * (wasm kernels bind their C++ entry points there) is carried over so that the stock kernel stays
 * usable as a fallback. Idempotent.
 */
export function registerOverride(override: KernelOverride, backendName: string): void {
  const stock = stockKernel(override.kernelName, backendName);
  const stockFunc: tf.KernelFunc = stock?.kernelFunc ?? (() => {
    throw new Error(`${override.kernelName}: no stock kernel on backend '${backendName}' for this case`);
  });
  if (tf.getKernel(override.kernelName, backendName) != null) {
    tf.unregisterKernel(override.kernelName, backendName);
  }
  tf.registerKernel({
    kernelName: override.kernelName,
    backendName,
    kernelFunc: override.make(stockFunc),
    setupFunc: stock?.setupFunc,
    disposeFunc: stock?.disposeFunc,
  });
}
