/**
 * UnsortedSegmentSum, which the wasm backend lacks (tf.gather's gradient needs it). Rows of x are
 * added into their segment's row; ids outside [0, numSegments) are dropped, as in TensorFlow.
 * A plain loop over the data: no network in this project puts it on a hot path.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { KernelOverride } from "./override.ts";

/** UnsortedSegmentSum for float32 and int32 data. */
export const unsortedSegmentSumOverride: KernelOverride = {
  kernelName: "UnsortedSegmentSum",
  make: (stock) => (args) => {
    const { x, segmentIds } = args.inputs as { x: tf.Tensor; segmentIds: tf.Tensor };
    const { numSegments } = args.attrs as unknown as { numSegments: number };
    if (x.dtype !== "float32" && x.dtype !== "int32") return stock(args);
    const ids = segmentIds.dataSync();
    const values = x.dataSync();
    // segmentIds covers the leading segmentIds.rank axes of x; each id owns a row of `row` values.
    const row = x.size / Math.max(segmentIds.size, 1);
    const out = x.dtype === "int32" ? new Int32Array(numSegments * row) : new Float32Array(numSegments * row);
    ids.forEach((id, i) => {
      if (id < 0 || id >= numSegments) return;
      for (let j = 0; j < row; j++) out[id * row + j] += values[i * row + j];
    });
    return tf.tensor(out, [numSegments, ...x.shape.slice(segmentIds.rank)], x.dtype);
  },
};
