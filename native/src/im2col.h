// Patch matrices for convolutions (NHWC), the native side of the conv kernels.
#pragma once

namespace latentlab {

struct ConvGeometry {
  int n, h, w, c;        // input
  int fh, fw;            // filter taps
  int sh, sw;            // strides
  int top, left;         // padding before the first row / column
  int ho, wo;            // output
};

// cols[(n,y,x), (i,j,ch)] = x[n, y·sh + i − top, x·sw + j − left, ch], 0 outside the image.
void im2col(const ConvGeometry& g, const float* x, float* cols);

// cols[p, k0 : k0 + len] (one patch row's segment) into dst, without the rest.
void patch_segment(const ConvGeometry& g, const float* x, long p, int k0, int len, float* dst);

// The adjoint: dx[n, iy, ix, ch] = Σ cols[(n,y,x), (i,j,ch)] over the taps that read it.
void col2im(const ConvGeometry& g, const float* cols, float* dx);

}  // namespace latentlab
