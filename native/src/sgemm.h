// Single-precision matrix product for the engine's native kernels.
#pragma once
#include <cstddef>

namespace latentlab {

// C[m×n] = op(A)[m×k] · op(B)[k×n], all row-major and contiguous.
// op(A) = A (m×k, row stride k) or Aᵀ when transA (A stored k×m);
// op(B) = B (k×n) or Bᵀ when transB (B stored n×k). C is overwritten, or added
// to when `accumulate` (C += op(A)·op(B)).
void sgemm(bool transA, bool transB, int m, int n, int k, const float* A, const float* B, float* C, int threads, bool accumulate = false);

// Which code path sgemm takes on this CPU ("avx2-fma" or "portable").
const char* sgemm_path();

}  // namespace latentlab
