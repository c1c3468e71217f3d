/*
 * Batch normalisation with batch statistics (lib/nn/kernels/batch_norm.ts, batchNormTraining),
 * forward and gradient, on float32 tensors in NHWC layout: `positions` rows of `channels`
 * values, optionally followed by a ReLU. Two passes each way where the tfjs-op version takes
 * about four forward and eight back, each a separate kernel call. Built and called like
 * masked_activation.c (native/c_kernels.ts).
 *
 * Forward: mean and biased variance per channel (E[x^2] - E[x]^2, clamped at 0), then
 *   y = act(x * scale + shift), scale = gamma / sqrt(var + eps), shift = beta - mean * scale.
 * Gradient, with gy = dy [y > 0] after a ReLU (else dy), m = positions, rstd = 1 / sqrt(var + eps):
 *   dbeta = sum gy,  dgamma = rstd (sum gy x - mean dbeta),
 *   dx = scale gy + bx x + c,  bx = -scale rstd dgamma / m,  c = -(scale dbeta / m + bx mean).
 * Per-channel sums are accumulated in float over blocks of BLOCK positions and added into
 * double, so the inner loops vectorise and the totals keep double precision.
 */
#include <math.h>
#include <stdint.h>

#define BLOCK 32
/* Widest layer the stack accumulators hold. */
#define MAX_CHANNELS 4096

/* sums[c] += sum x, sums[channels + c] += sum x^2, over all positions. */
static void channel_sums(const float *restrict x, double *restrict sums, int64_t positions,
                         int32_t channels) {
  float acc[2 * MAX_CHANNELS];
  float *s0 = acc, *s1 = acc + channels;
  for (int64_t p0 = 0; p0 < positions; p0 += BLOCK) {
    for (int32_t k = 0; k < 2 * channels; k++) acc[k] = 0.f;
    int64_t end = p0 + BLOCK < positions ? p0 + BLOCK : positions;
    for (int64_t p = p0; p < end; p++) {
      const float *xv = x + p * channels;
      for (int32_t c = 0; c < channels; c++) {
        s0[c] += xv[c];
        s1[c] += xv[c] * xv[c];
      }
    }
    for (int32_t k = 0; k < 2 * channels; k++) sums[k] += acc[k];
  }
}

/* stats: mean, var, rstd, scale (4 x channels floats, written). Returns -1 if too wide. */
int32_t safenet_bn_forward(const float *restrict x, float *restrict y, float *restrict stats,
                           int64_t positions, int32_t channels, const float *restrict gamma,
                           const float *restrict beta, float epsilon, int32_t relu) {
  if (channels > MAX_CHANNELS) return -1;
  double sums[2 * MAX_CHANNELS];
  for (int32_t k = 0; k < 2 * channels; k++) sums[k] = 0.0;
  channel_sums(x, sums, positions, channels);
  float *mean = stats, *var = stats + channels, *rstd = stats + 2 * channels, *scale = stats + 3 * channels;
  float shift[MAX_CHANNELS];
  for (int32_t c = 0; c < channels; c++) {
    double mu = sums[c] / (double)positions;
    double v = sums[channels + c] / (double)positions - mu * mu;
    if (v < 0.0) v = 0.0;
    mean[c] = (float)mu;
    var[c] = (float)v;
    rstd[c] = (float)(1.0 / sqrt(v + (double)epsilon));
    scale[c] = gamma[c] * rstd[c];
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  for (int64_t p = 0; p < positions; p++) {
    const float *xv = x + p * channels;
    float *yv = y + p * channels;
    if (relu) {
      for (int32_t c = 0; c < channels; c++) {
        float v = xv[c] * scale[c] + shift[c];
        yv[c] = v > 0.f ? v : 0.f;
      }
    } else {
      for (int32_t c = 0; c < channels; c++) yv[c] = xv[c] * scale[c] + shift[c];
    }
  }
  return 0;
}

/* Both backward passes; `relu` is a constant at each call site, so each loop compiles without it. */
static inline __attribute__((always_inline)) void backward(
    const float *restrict x, const float *restrict y, const float *restrict dy, float *restrict dx,
    float *restrict dgamma, float *restrict dbeta, int64_t positions, int32_t channels,
    const float *restrict stats, const int relu) {
  const float *mean = stats, *rstd = stats + 2 * channels, *scale = stats + 3 * channels;
  float acc[2 * MAX_CHANNELS];
  float *s0 = acc, *s1 = acc + channels;
  double sums[2 * MAX_CHANNELS];
  for (int32_t k = 0; k < 2 * channels; k++) sums[k] = 0.0;
  for (int64_t p0 = 0; p0 < positions; p0 += BLOCK) {
    for (int32_t k = 0; k < 2 * channels; k++) acc[k] = 0.f;
    int64_t end = p0 + BLOCK < positions ? p0 + BLOCK : positions;
    for (int64_t p = p0; p < end; p++) {
      const float *xv = x + p * channels, *yv = y + p * channels, *dv = dy + p * channels;
      for (int32_t c = 0; c < channels; c++) {
        float g = relu ? (yv[c] > 0.f ? dv[c] : 0.f) : dv[c];
        s0[c] += g;
        s1[c] += g * xv[c];
      }
    }
    for (int32_t k = 0; k < 2 * channels; k++) sums[k] += acc[k];
  }
  float bx[MAX_CHANNELS], cc[MAX_CHANNELS];
  for (int32_t c = 0; c < channels; c++) {
    double db = sums[c];
    double dg = rstd[c] * (sums[channels + c] - mean[c] * db);
    dbeta[c] = (float)db;
    dgamma[c] = (float)dg;
    double b = -(double)scale[c] * rstd[c] * dg / (double)positions;
    bx[c] = (float)b;
    cc[c] = (float)(-((double)scale[c] * db / (double)positions + b * mean[c]));
  }
  for (int64_t p = 0; p < positions; p++) {
    const float *xv = x + p * channels, *yv = y + p * channels, *dv = dy + p * channels;
    float *out = dx + p * channels;
    for (int32_t c = 0; c < channels; c++) {
      float g = relu ? (yv[c] > 0.f ? dv[c] : 0.f) : dv[c];
      out[c] = scale[c] * g + bx[c] * xv[c] + cc[c];
    }
  }
}

/* stats as the forward wrote them; y is the forward's output (read only after a ReLU). */
int32_t safenet_bn_backward(const float *restrict x, const float *restrict y, const float *restrict dy,
                            float *restrict dx, float *restrict dgamma, float *restrict dbeta,
                            int64_t positions, int32_t channels, const float *restrict stats,
                            int32_t relu) {
  if (channels > MAX_CHANNELS) return -1;
  if (relu) {
    backward(x, y, dy, dx, dgamma, dbeta, positions, channels, stats, 1);
  } else {
    backward(x, y, dy, dx, dgamma, dbeta, positions, channels, stats, 0);
  }
  return 0;
}
