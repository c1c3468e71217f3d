/**
 * Float32 views of tensors for the project's own kernels on the cpu and wasm backends, so that a
 * kernel written as loops (or calling C through FFI) reads and writes the tensors in place.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** The parts of the cpu and wasm backends the views need. */
type Backend = {
  // wasm: tensors live in the module's heap.
  makeOutput?(shape: number[], dtype: "float32"): tf.TensorInfo;
  typedArrayFromHeap?(t: tf.TensorInfo): Float32Array;
  // cpu: tensors are JS typed arrays.
  data?: { get(id: tf.DataId): { values: Float32Array } };
  makeTensorInfo?(shape: number[], dtype: "float32", values: Float32Array): tf.TensorInfo;
};

/**
 * Runs `body` on float32 views of the inputs and of freshly allocated outputs (not zeroed: `body`
 * writes every element), without copies on either backend. Outputs are allocated first: a wasm
 * allocation may grow (and detach) the heap, so views made before it would be stale.
 */
export function withViews(
  backend: unknown,
  inputs: tf.TensorInfo[],
  outputShapes: number[][],
  body: (ins: Float32Array[], outs: Float32Array[]) => void,
): tf.TensorInfo[] {
  const b = backend as Backend;
  if (b.makeOutput && b.typedArrayFromHeap) {
    const outs = outputShapes.map((shape) => b.makeOutput!(shape, "float32"));
    const view = (t: tf.TensorInfo) => b.typedArrayFromHeap!(t);
    body(inputs.map(view), outs.map(view));
    return outs;
  }
  const values = outputShapes.map((shape) => new Float32Array(shape.reduce((x, y) => x * y, 1)));
  body(inputs.map((t) => b.data!.get(t.dataId).values), values);
  return outputShapes.map((shape, i) => b.makeTensorInfo!(shape, "float32", values[i]));
}

/** Registers kernels written with {@link withViews} under their names on the cpu and wasm backends. */
export function registerViewKernels(kernels: Record<string, tf.KernelFunc>): void {
  for (const backendName of ["cpu", "wasm"]) {
    for (const [kernelName, kernelFunc] of Object.entries(kernels)) {
      tf.registerKernel({ kernelName, backendName, kernelFunc });
    }
  }
}

/**
 * A float32 tensor's values without a copy where the backend allows (cpu, wasm): a view that is
 * valid until the backend next allocates (a wasm heap may grow and detach it), so copy out of it
 * at once. Other backends: a copy.
 */
export function floatView(t: tf.Tensor): Float32Array {
  const b = tf.backend() as unknown as Backend;
  if (b.typedArrayFromHeap) return b.typedArrayFromHeap(t);
  const values = b.data?.get(t.dataId)?.values;
  return values instanceof Float32Array ? values : t.dataSync() as Float32Array;
}
