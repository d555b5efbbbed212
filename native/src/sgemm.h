// Single-precision matrix product for the engine's native kernels.
#pragma once
#include <cstddef>

namespace latentlab {

// C[m×n] = op(A)[m×k] · op(B)[k×n], all row-major and contiguous.
// op(A) = A (m×k, row stride k) or Aᵀ when transA (A stored k×m);
// op(B) = B (k×n) or Bᵀ when transB (B stored n×k). C is overwritten, or added
// to when `accumulate` (C += op(A)·op(B)).
void sgemm(bool transA, bool transB, int m, int n, int k, const float* A, const float* B, float* C, int threads, bool accumulate = false);

struct ConvGeometry;

// A convolution (NHWC) as one product whose patch matrix cols[P, K] is gathered
// from the image x block by block and never stored whole (P = n·ho·wo output
// positions, K = fh·fw·c taps):
//   forward     c[P, co] = cols · b, b = the filter as K×co;
//   filterGrad  c[K, co] = colsᵀ · b, b = dy as P×co.
void conv_gemm(const ConvGeometry& g, bool filterGrad, int co, const float* x, const float* b, float* c, int threads, bool accumulate = false);

// The input gradient of that convolution (a transposed convolution's forward):
// dx[n, h, w, c] from dy[n, ho, wo, co] and the filter w[fh, fw, c, co], any
// stride, one implicit product per phase of the stride.
void conv_input_grad(const ConvGeometry& g, int co, const float* dy, const float* w, float* dx, int threads);

// Which code path sgemm takes on this CPU ("avx2-fma" or "portable").
const char* sgemm_path();

}  // namespace latentlab
