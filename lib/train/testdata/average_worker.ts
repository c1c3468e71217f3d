/**
 * A worker for shared_average_test.ts: joins a SharedAverage as `index`, fills its slot with
 * `values` (or fails before averaging when `fail` is set) and posts what averaging returned.
 */
import { SharedAverage, type SharedAverageLayout } from "../shared_average.ts";

interface Job {
  buffer: SharedArrayBuffer;
  layout: SharedAverageLayout;
  index: number;
  values: number[];
  weights: number[];
  fail?: boolean;
}

declare const self: { onmessage: ((e: MessageEvent<Job>) => void) | null; postMessage(m: unknown): void };

self.onmessage = (e: MessageEvent<Job>) => {
  const job = e.data;
  const average = new SharedAverage(job.buffer, job.layout);
  try {
    if (job.fail) {
      average.abort();
      throw new Error("this worker failed on purpose");
    }
    average.slot(job.index).set(job.values);
    const { result, squares } = average.average(job.index, job.weights);
    self.postMessage({ result: Array.from(result), squares });
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
