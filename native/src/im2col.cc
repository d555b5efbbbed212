#include "im2col.h"

#include <algorithm>
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

void patch_segment(const ConvGeometry& g, const float* x, long p, int k0, int len, float* dst) {
  const int ox = (int)(p % g.wo);
  const long t = p / g.wo;
  const int oy = (int)(t % g.ho);
  const int n = (int)(t / g.ho);
  int ch = k0 % g.c;
  const int tap = k0 / g.c;
  int j = tap % g.fw, i = tap / g.fw;
  const float* image = x + (size_t)n * g.h * g.w * g.c;
  while (len > 0) {
    const int iy = oy * g.sh + i - g.top, ix = ox * g.sw + j - g.left;
    int run;
    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) {
      run = std::min(g.c - ch, len);
      for (int q = 0; q < run; q++) dst[q] = 0.f;
    } else {
      // with unit stride, the taps j, j+1, … of one filter row that stay inside
      // the image are one contiguous run of the input row
      const int jEnd = g.sw == 1 ? std::min(g.fw, g.w + g.left - ox * g.sw) : j + 1;
      run = std::min((jEnd - j) * g.c - ch, len);
      const float* s = image + ((size_t)iy * g.w + ix) * g.c + ch;
      for (int q = 0; q < run; q++) dst[q] = s[q];
    }
    dst += run;
    len -= run;
    const int offset = ch + run;
    j += offset / g.c;
    ch = offset % g.c;
    if (j >= g.fw) {
      j -= g.fw;
      i++;
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
