#include "im2col.h"

#include <cstring>

namespace latentlab {

void im2col(const ConvGeometry& g, const float* x, float* cols) {
  const int K = g.fh * g.fw * g.c;
  for (int n = 0; n < g.n; n++) {
    for (int y = 0; y < g.ho; y++) {
      for (int xo = 0; xo < g.wo; xo++) {
        float* row = cols + ((size_t)(n * g.ho + y) * g.wo + xo) * K;
        for (int i = 0; i < g.fh; i++) {
          const int iy = y * g.sh + i - g.top;
          float* dst = row + (size_t)i * g.fw * g.c;
          if (iy < 0 || iy >= g.h) {
            std::memset(dst, 0, sizeof(float) * g.fw * g.c);
            continue;
          }
          for (int j = 0; j < g.fw; j++) {
            const int ix = xo * g.sw + j - g.left;
            float* d = dst + j * g.c;
            if (ix < 0 || ix >= g.w) {
              for (int ch = 0; ch < g.c; ch++) d[ch] = 0.f;
            } else {
              const float* s = x + ((size_t)(n * g.h + iy) * g.w + ix) * g.c;
              // a loop, not memcpy: runs of a few channels (a first layer's 1) are the common case
              for (int ch = 0; ch < g.c; ch++) d[ch] = s[ch];
            }
          }
        }
      }
    }
  }
}

void col2im(const ConvGeometry& g, const float* cols, float* dx) {
  const int K = g.fh * g.fw * g.c;
  std::memset(dx, 0, sizeof(float) * (size_t)g.n * g.h * g.w * g.c);
  for (int n = 0; n < g.n; n++) {
    for (int y = 0; y < g.ho; y++) {
      for (int xo = 0; xo < g.wo; xo++) {
        const float* row = cols + ((size_t)(n * g.ho + y) * g.wo + xo) * K;
        for (int i = 0; i < g.fh; i++) {
          const int iy = y * g.sh + i - g.top;
          if (iy < 0 || iy >= g.h) continue;
          for (int j = 0; j < g.fw; j++) {
            const int ix = xo * g.sw + j - g.left;
            if (ix < 0 || ix >= g.w) continue;
            float* d = dx + ((size_t)(n * g.h + iy) * g.w + ix) * g.c;
            const float* s = row + (i * g.fw + j) * g.c;
            for (int ch = 0; ch < g.c; ch++) d[ch] += s[ch];
          }
        }
      }
    }
  }
}

}  // namespace latentlab
