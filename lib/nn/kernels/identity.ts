/**
 * Zero-copy Identity and same-dtype Cast for the wasm backend.
 *
 * tfjs clones every tensor it saves for backprop (engine.saveTensorsForBackwardMode -> Identity),
 * and the stock wasm Identity copies the whole buffer: a training step copied each activation
 * several times. The wasm backend reference-counts buffers (its Reshape shares them), and tfjs
 * never writes into an existing buffer, so sharing is safe; the cpu backend's Identity does the
 * same.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

interface RefCountingBackend {
  incRef(dataId: tf.DataId): void;
}

function share(x: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  (backend as RefCountingBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/** Identity sharing its input's buffer (strings keep the stock path). */
export const identityOverride: KernelOverride = {
  kernelName: "Identity",
  make: (stock) => (args) => {
    const x = args.inputs.x as tf.TensorInfo;
    return x.dtype === "string" ? stock(args) : share(x, args.backend);
  },
};

/**
 * Cast to the input's own dtype shares the buffer. Cast to bool is x != 0 (the stock wasm Cast
 * copies the numbers into the bool buffer, so 2 stays 2). Other conversions keep the stock path.
 */
export const castOverride: KernelOverride = {
  kernelName: "Cast",
  make: (stock) => (args) => {
    const x = args.inputs.x as tf.Tensor;
    const dtype = (args.attrs as { dtype: tf.DataType }).dtype;
    if (x.dtype === dtype && dtype !== "string") return share(x, args.backend);
    if (dtype === "bool" && (x.dtype === "float32" || x.dtype === "int32")) {
      return tf.notEqual(x, tf.scalar(0, x.dtype));
    }
    return stock(args);
  },
};
