// Elementwise kernels and the bias-gradient sum for the wasm backend's heap:
// memory-bound loops, split over the cores for large tensors.
#pragma once
#include <cstddef>
#include <cstdint>

namespace latentlab {

enum class Unary { Relu, Step, LeakyRelu, Neg, Square, Sigmoid, Tanh, Exp, Softplus, Log, Sqrt, Abs };
enum class Binary { Add, Sub, Mul, Div, Max, Min, SquaredDiff };

// out[i] = f(x[i]) (alpha: Step's value for x ≤ 0, LeakyRelu's slope).
void unary(Unary op, const float* x, float* out, size_t n, float alpha, int threads);

// out[i] = a[i] ∘ b[i]; with nb < n, b repeats every nb elements (a trailing
// broadcast, nb = 1 for a scalar); `swap` computes b ∘ a instead (the broadcast
// operand was on the left).
void binary(Binary op, const float* a, const float* b, float* out, size_t n, size_t nb, bool swap, int threads);

enum class ActivationGrad { Relu, LeakyRelu, Sigmoid, Tanh };

// The gradient through an activation in one pass: out = dy · f′, where v is the
// activation's input x (Relu, LeakyRelu) or its output y (Sigmoid, Tanh).
void activation_grad(ActivationGrad op, const float* dy, const float* v, float* out, size_t n, float alpha, int threads);

enum class Distribution { Uniform, Normal, Bernoulli };

// Counter-based random draws: element i depends only on (seed, i), so the
// numbers do not depend on the thread count, and src/engine/ops/random.ts makes
// the same ones in JS. Uniform in [0, 1); Normal(0, 1) by Box–Muller on pairs;
// Bernoulli(p[i]) as 1 where the uniform draw is below p[i].
void random(Distribution d, uint32_t seed, float* out, size_t n, const float* p, int threads);

// rows × cols block copy between strided row-major views (split and concat).
void copy_rows(const float* src, size_t srcStride, float* dst, size_t dstStride, size_t rows, size_t cols, int threads);

// out[c] = Σ_r x[r·cols + c]: a bias gradient (every axis but the last).
void sum_rows(const float* x, size_t rows, size_t cols, float* out, int threads);

// out[i] = cond[i] ? a[i] : b[i]
void select(const uint8_t* cond, const float* a, const float* b, float* out, size_t n, int threads);

// out[i] = a[i] > b[i] (b broadcast as in `binary`; `swap`: b > a)
void greater(const float* a, const float* b, uint8_t* out, size_t n, size_t nb, bool swap, int threads);

}  // namespace latentlab
