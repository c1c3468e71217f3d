/*
 * The data-parallel workers' averaging loop (lib/train/shared_average.ts) over one worker's range
 * of the slots: 15 M values per VGG-16 step. With the JavaScript loop (the fallback) a worker's
 * averaging, barrier waits included, took 80-118 ms of a ~650 ms step; with this one 13-30 ms.
 * Built and called like masked_activation.c (native/c_kernels.ts).
 *
 * out[j] = (float) sum over workers k with weights[k] != 0, in worker order, of weights[k] * slot_k[j],
 * accumulated in double; returns the sum over the range's gradient part (j < gradient_length) of
 * out[j]^2 in double. No contraction into fused multiply-adds: the results are bit-identical to
 * the JavaScript loop's (double products and sums, each rounded as written).
 */
#include <stdint.h>

__attribute__((optimize("fp-contract=off")))
double safenet_weighted_average(const float *slots, int64_t length, int32_t replicas,
                                const double *weights, float *out, int32_t write_out, int64_t lo,
                                int64_t hi, int64_t gradient_length) {
  double squares = 0;
  for (int64_t j = lo; j < hi; j++) {
    double acc = 0;
    for (int32_t k = 0; k < replicas; k++) {
      if (weights[k] != 0) acc += weights[k] * (double)slots[k * length + j];
    }
    float value = (float)acc;
    if (write_out) out[j] = value;
    if (j < gradient_length) squares += (double)value * (double)value;
  }
  return squares;
}
