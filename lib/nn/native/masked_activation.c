/*
 * SAFENet's masked activation (lib/nn/masked_activation.ts), forward and gradient, on float32
 * tensors in NHWC layout: `positions` rows of `channels` values. Compiled on first use by
 * masked.ts (gcc -O3 -march=native) and called through Deno FFI on the tfjs tensors in place.
 *
 * Per channel c, with keep[c] = 1 - mask[c] and a_k[c] = coefficient k x mask[c]:
 *   y  = keep relu(x) + a0 + a1 x + a2 x^2 + a3 x^3
 *   dx = dy (keep [x > 0] + a1 + 2 a2 x + 3 a3 x^2)
 *   sums[k][c] += sum over positions of dy x^k   (k = 0..3; the caller masks them)
 * The sums are accumulated in float over blocks of BLOCK positions and added into double, so
 * the inner loop vectorises and the totals keep double precision across blocks.
 */
#include <stdint.h>

#define BLOCK 32
/* Widest activation site the gradient's stack accumulators hold (VGG-16: 512). */
#define MAX_CHANNELS 4096

/* tables: a0, a1, a2, a3, keep / 2, each `channels` floats. */
void safenet_masked_forward(const float *restrict x, float *restrict y, int64_t positions,
                            int32_t channels, const float *restrict tables) {
  const float *a0 = tables, *a1 = a0 + channels, *a2 = a1 + channels, *a3 = a2 + channels;
  const float *half_keep = a3 + channels;
  for (int64_t p = 0; p < positions; p++) {
    const float *xv = x + p * channels;
    float *yv = y + p * channels;
    for (int32_t c = 0; c < channels; c++) {
      float v = xv[c];
      float absv = v < 0.f ? -v : v;
      yv[c] = half_keep[c] * (v + absv) + (((a3[c] * v + a2[c]) * v + a1[c]) * v + a0[c]);
    }
  }
}

/* tables: a1, a2, a3, keep, each `channels` floats; sums: 4 x channels doubles, added to. */
int32_t safenet_masked_grad(const float *restrict x, const float *restrict dy, float *restrict dx,
                            double *restrict sums, int64_t positions, int32_t channels,
                            const float *restrict tables) {
  if (channels > MAX_CHANNELS) return -1;
  const float *a1 = tables, *a2 = a1 + channels, *a3 = a2 + channels, *keep = a3 + channels;
  float acc[4 * MAX_CHANNELS];
  float *s0 = acc, *s1 = acc + channels, *s2 = acc + 2 * channels, *s3 = acc + 3 * channels;
  for (int64_t p0 = 0; p0 < positions; p0 += BLOCK) {
    for (int32_t k = 0; k < 4 * channels; k++) acc[k] = 0.f;
    int64_t end = p0 + BLOCK < positions ? p0 + BLOCK : positions;
    for (int64_t p = p0; p < end; p++) {
      const float *xv = x + p * channels, *gv = dy + p * channels;
      float *out = dx + p * channels;
      for (int32_t c = 0; c < channels; c++) {
        float v = xv[c], g = gv[c];
        float step = v > 0.f ? 1.f : 0.f;
        out[c] = g * (keep[c] * step + ((3.f * a3[c] * v + 2.f * a2[c]) * v + a1[c]));
        float gv1 = g * v, gv2 = gv1 * v;
        s0[c] += g;
        s1[c] += gv1;
        s2[c] += gv2;
        s3[c] += gv2 * v;
      }
    }
    for (int32_t k = 0; k < 4 * channels; k++) sums[k] += acc[k];
  }
  return 0;
}

/*
 * ReLU's input gradient, dx = dy step(x), in one pass where tfjs makes two (Step, then Multiply):
 * step is 1 above 0, 0 at or below, NaN at NaN, exactly as tfjs' Step, so dx is bit-identical.
 */
void safenet_relu_grad(const float *restrict x, const float *restrict dy, float *restrict dx,
                       int64_t n) {
  for (int64_t i = 0; i < n; i++) {
    float v = x[i];
    float step = v > 0.f ? 1.f : 0.f;
    dx[i] = dy[i] * (v != v ? v : step);
  }
}
