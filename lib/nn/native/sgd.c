/*
 * One momentum-SGD update (lib/train/sgd.ts, PyTorch's formulation) of one variable in a single
 * pass, where the tfjs-op version makes six passes over the variable (VGG-16: 15 M values per
 * step per worker). Built and called like masked_activation.c (native/c_kernels.ts).
 *
 *   d = scale g + wd w,   v' = mu v + d,   w' = w - lr (nesterov ? d + mu v' : v')
 */
#include <stdint.h>

void safenet_sgd_momentum(const float *restrict w, const float *restrict v, const float *restrict g,
                          float *restrict w_out, float *restrict v_out, int64_t n, float lr, float mu,
                          float wd, float scale, int32_t nesterov) {
  if (nesterov) {
    for (int64_t i = 0; i < n; i++) {
      float d = scale * g[i] + wd * w[i];
      float vv = mu * v[i] + d;
      v_out[i] = vv;
      w_out[i] = w[i] - lr * (d + mu * vv);
    }
  } else {
    for (int64_t i = 0; i < n; i++) {
      float d = scale * g[i] + wd * w[i];
      float vv = mu * v[i] + d;
      v_out[i] = vv;
      w_out[i] = w[i] - lr * vv;
    }
  }
}
