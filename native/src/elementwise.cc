#include "elementwise.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "parallel.h"

namespace latentlab {
namespace {

// Elements per task: big enough that a task outweighs its hand-off, small
// enough that both cores get several.
constexpr size_t GRAIN = 1 << 15;
constexpr size_t PARALLEL_MIN = 1 << 16;

template <typename F>
void chunks(size_t n, int threads, F f) {
  if (n < PARALLEL_MIN || threads <= 1) {
    f(0, n);
    return;
  }
  const int tasks = (int)((n + GRAIN - 1) / GRAIN);
  parallel_for(tasks, threads, [&](int t) { f((size_t)t * GRAIN, std::min(n, (size_t)(t + 1) * GRAIN)); });
}

// exp and log written with arithmetic and bit moves only, so that the loops
// around them vectorize (libm's are scalar calls). Both are within a few ulp of
// float32's exact result; the tests hold them to the cpu backend.
inline float bits_to_float(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}
inline int32_t float_to_bits(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}

// e^x = 2^k · e^r with k = round(x / ln 2) and |r| ≤ ln 2 / 2; e^r by its
// Taylor series to r⁷ (truncation error < 2e-8 relative)
inline float vexp(float x) {
  // past 88.73 e^x overflows float32; below −103.98 it underflows to 0
  const float c = std::min(88.7228394f, std::max(-103.972084f, x));
  const float t = c * 1.44269504088896341f;
  const int32_t k = (int32_t)(t + (t >= 0.f ? 0.5f : -0.5f));
  const float kf = (float)k;
  const float r = (c - kf * 0.693359375f) + kf * 2.12194440e-4f;  // ln 2 in two parts
  float p = 1.f / 5040.f;
  p = p * r + 1.f / 720.f;
  p = p * r + 1.f / 120.f;
  p = p * r + 1.f / 24.f;
  p = p * r + 1.f / 6.f;
  p = p * r + 0.5f;
  p = p * r + 1.f;
  p = p * r + 1.f;
  // 2^k as two normal factors, so k may reach 128 (overflow) or −150 (subnormal)
  const int32_t k1 = k >> 1, k2 = k - k1;
  const float y = (p * bits_to_float((k1 + 127) << 23)) * bits_to_float((k2 + 127) << 23);
  return x != x ? x : (x < -103.972084f ? 0.f : (x > 88.7228394f ? INFINITY : y));
}

// ln z for z > 0 (normal): z = m · 2^e with m in [√½, √2), ln m = ln(1 + f) by
// the classic minimax polynomial in f
inline float vlog(float z) {
  int32_t bits = float_to_bits(z);
  int32_t e = ((bits >> 23) & 0xff) - 127;
  float m = bits_to_float((bits & 0x007fffff) | 0x3f800000);  // [1, 2)
  const bool high = m > 1.41421356f;
  m = high ? m * 0.5f : m;
  e = high ? e + 1 : e;
  const float f = m - 1.f, f2 = f * f;
  float p = 7.0376836292e-2f;
  p = p * f - 1.1514610310e-1f;
  p = p * f + 1.1676998740e-1f;
  p = p * f - 1.2420140846e-1f;
  p = p * f + 1.4249322787e-1f;
  p = p * f - 1.6668057665e-1f;
  p = p * f + 2.0000714765e-1f;
  p = p * f - 2.4999993993e-1f;
  p = p * f + 3.3333331174e-1f;
  const float ef = (float)e;
  float y = p * f * f2 - 2.12194440e-4f * ef - 0.5f * f2;
  return f + y + 0.693359375f * ef;
}

// ln(1 + u) for u in [0, 1], exact to float rounding even where 1 + u rounds to 1
inline float vlog1p(float u) {
  const float z = 1.f + u;
  const float d = z - 1.f;
  return d == 0.f ? u : vlog(z) * (u / d);
}

// tanh: the odd Taylor series to x¹¹ below 0.3 (error < 1e-8), else
// 1 − 2 / (e^{2|x|} + 1) with the sign put back
inline float vtanh(float x) {
  const float a = std::fabs(x);
  const float x2 = x * x;
  float p = -1382.f / 155925.f;
  p = p * x2 + 62.f / 2835.f;
  p = p * x2 - 17.f / 315.f;
  p = p * x2 + 2.f / 15.f;
  p = p * x2 - 1.f / 3.f;
  const float small = x + x * x2 * p;
  const float big = 1.f - 2.f / (vexp(2.f * a) + 1.f);
  return x != x ? x : (a < 0.3f ? small : (x < 0.f ? -big : big));
}

// softplus(x) = max(x, 0) + ln(1 + e^−|x|): no overflow, no cancellation
inline float softplus(float x) { return x != x ? x : std::max(x, 0.f) + vlog1p(vexp(-std::fabs(x))); }

template <typename F>
void map(const float* x, float* out, size_t n, int threads, F f) {
  chunks(n, threads, [&](size_t i0, size_t i1) {
    const F g = f;  // a local copy: stores to out cannot alias its captures, so the loop vectorizes
    for (size_t i = i0; i < i1; i++) out[i] = g(x[i]);
  });
}

template <typename F>
void zip(const float* a, const float* b, float* out, size_t n, size_t nb, bool swap, int threads, F fn) {
  if (nb == n) {
    chunks(n, threads, [&](size_t i0, size_t i1) {
      const F f = fn;
      if (swap)
        for (size_t i = i0; i < i1; i++) out[i] = f(b[i], a[i]);
      else
        for (size_t i = i0; i < i1; i++) out[i] = f(a[i], b[i]);
    });
  } else if (nb == 1) {
    const float s = b[0];
    chunks(n, threads, [&](size_t i0, size_t i1) {
      const F f = fn;
      if (swap)
        for (size_t i = i0; i < i1; i++) out[i] = f(s, a[i]);
      else
        for (size_t i = i0; i < i1; i++) out[i] = f(a[i], s);
    });
  } else {
    // rows of nb: whole rows per task
    const size_t rows = n / nb;
    const size_t per = std::max<size_t>(1, GRAIN / nb);
    auto rowRange = [&](size_t r0, size_t r1) {
      const F f = fn;
      for (size_t r = r0; r < r1; r++) {
        const float* ar = a + r * nb;
        float* o = out + r * nb;
        if (swap)
          for (size_t j = 0; j < nb; j++) o[j] = f(b[j], ar[j]);
        else
          for (size_t j = 0; j < nb; j++) o[j] = f(ar[j], b[j]);
      }
    };
    if (n < PARALLEL_MIN || threads <= 1) {
      rowRange(0, rows);
      return;
    }
    const int tasks = (int)((rows + per - 1) / per);
    parallel_for(tasks, threads, [&](int t) { rowRange((size_t)t * per, std::min(rows, (size_t)(t + 1) * per)); });
  }
}

}  // namespace

void unary(Unary op, const float* x, float* out, size_t n, float alpha, int threads) {
  switch (op) {
    case Unary::Relu: return map(x, out, n, threads, [](float v) { return v > 0.f ? v : (v == v ? 0.f : v); });
    case Unary::Step: return map(x, out, n, threads, [alpha](float v) { return v > 0.f ? 1.f : (v == v ? alpha : v); });
    case Unary::LeakyRelu: return map(x, out, n, threads, [alpha](float v) { return v < 0.f ? alpha * v : v; });
    case Unary::Neg: return map(x, out, n, threads, [](float v) { return -v; });
    case Unary::Square: return map(x, out, n, threads, [](float v) { return v * v; });
    case Unary::Sigmoid: return map(x, out, n, threads, [](float v) { return 1.f / (1.f + vexp(-v)); });
    case Unary::Tanh: return map(x, out, n, threads, [](float v) { return vtanh(v); });
    case Unary::Exp: return map(x, out, n, threads, [](float v) { return vexp(v); });
    case Unary::Softplus: return map(x, out, n, threads, [](float v) { return softplus(v); });
    case Unary::Log: return map(x, out, n, threads, [](float v) { return std::log(v); });
    case Unary::Sqrt: return map(x, out, n, threads, [](float v) { return std::sqrt(v); });
    case Unary::Abs: return map(x, out, n, threads, [](float v) { return std::fabs(v); });
  }
}

void binary(Binary op, const float* a, const float* b, float* out, size_t n, size_t nb, bool swap, int threads) {
  switch (op) {
    case Binary::Add: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x + y; });
    case Binary::Sub: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x - y; });
    case Binary::Mul: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x * y; });
    case Binary::Div: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x / y; });
    // NaN wins, as in tfjs
    case Binary::Max: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x != x || y != y ? NAN : std::max(x, y); });
    case Binary::Min: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return x != x || y != y ? NAN : std::min(x, y); });
    case Binary::SquaredDiff: return zip(a, b, out, n, nb, swap, threads, [](float x, float y) { return (x - y) * (x - y); });
  }
}

void activation_grad(ActivationGrad op, const float* dy, const float* v, float* out, size_t n, float alpha, int threads) {
  // the same values as tfjs's own gradients: relu's mask is step(x), NaN for
  // NaN; leaky relu's is x > 0, false for NaN
  switch (op) {
    case ActivationGrad::Relu:
      return zip(dy, v, out, n, n, false, threads, [](float g, float x) { return x > 0.f ? g : (x == x ? 0.f * g : x); });
    case ActivationGrad::LeakyRelu:
      return zip(dy, v, out, n, n, false, threads, [alpha](float g, float x) { return x > 0.f ? g : g * alpha; });
    case ActivationGrad::Sigmoid:
      return zip(dy, v, out, n, n, false, threads, [](float g, float y) { return g * (y * (1.f - y)); });
    case ActivationGrad::Tanh:
      return zip(dy, v, out, n, n, false, threads, [](float g, float y) { return (1.f - y * y) * g; });
  }
}

namespace {
inline uint32_t fmix32(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}
inline uint32_t draw(uint32_t key, uint32_t i) { return fmix32((i * 0x9e3779b9u) ^ key); }
inline float unit(uint32_t bits) { return (float)(bits >> 8) * (1.f / 16777216.f); }
}  // namespace

void random(Distribution d, uint32_t seed, float* out, size_t n, const float* p, int threads) {
  const uint32_t key = fmix32(seed ^ 0x5bd1e995u);
  chunks(n, threads, [&](size_t i0, size_t i1) {
    switch (d) {
      case Distribution::Uniform:
        for (size_t i = i0; i < i1; i++) out[i] = unit(draw(key, (uint32_t)i));
        break;
      case Distribution::Bernoulli:
        for (size_t i = i0; i < i1; i++) out[i] = unit(draw(key, (uint32_t)i)) < p[i] ? 1.f : 0.f;
        break;
      case Distribution::Normal:
        for (size_t i = i0; i < i1; i++) {
          const uint32_t j = (uint32_t)(i & ~(size_t)1);
          const double u1 = ((draw(key, j) >> 8) + 1) * (1.0 / 16777216.0);  // (0, 1]
          const double u2 = (draw(key, j + 1) >> 8) * (1.0 / 16777216.0);
          const double r = std::sqrt(-2.0 * std::log(u1)), a = 6.283185307179586 * u2;
          out[i] = (float)(r * ((i & 1) ? std::sin(a) : std::cos(a)));
        }
        break;
    }
  });
}

void copy_rows(const float* src, size_t srcStride, float* dst, size_t dstStride, size_t rows, size_t cols, int threads) {
  const size_t per = std::max<size_t>(1, GRAIN / std::max<size_t>(1, cols));
  auto run = [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; r++) std::memcpy(dst + r * dstStride, src + r * srcStride, cols * sizeof(float));
  };
  if (rows * cols < PARALLEL_MIN || threads <= 1 || rows < 2) {
    run(0, rows);
    return;
  }
  const int tasks = (int)((rows + per - 1) / per);
  parallel_for(tasks, threads, [&](int t) { run((size_t)t * per, std::min(rows, (size_t)(t + 1) * per)); });
}

void sum_rows(const float* x, size_t rows, size_t cols, float* out, int threads) {
  // each task sums a band of rows into its own partial row (double, as the
  // JS path did), then the partials are added in task order: the same result
  // whatever the thread count
  const size_t band = std::max<size_t>(1, GRAIN / std::max<size_t>(1, cols));
  const int tasks = (int)((rows + band - 1) / band);
  std::vector<double> partial((size_t)tasks * cols, 0.0);
  auto run = [&](int t) {
    double* acc = partial.data() + (size_t)t * cols;
    const size_t r1 = std::min(rows, (size_t)(t + 1) * band);
    for (size_t r = (size_t)t * band; r < r1; r++) {
      const float* row = x + r * cols;
      for (size_t c = 0; c < cols; c++) acc[c] += row[c];
    }
  };
  if (rows * cols < PARALLEL_MIN || threads <= 1)
    for (int t = 0; t < tasks; t++) run(t);
  else
    parallel_for(tasks, threads, run);
  for (size_t c = 0; c < cols; c++) {
    double s = 0;
    for (int t = 0; t < tasks; t++) s += partial[(size_t)t * cols + c];
    out[c] = (float)s;
  }
}

void select(const uint8_t* cond, const float* a, const float* b, float* out, size_t n, int threads) {
  chunks(n, threads, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) out[i] = cond[i] ? a[i] : b[i];
  });
}

void greater(const float* a, const float* b, uint8_t* out, size_t n, size_t nb, bool swap, int threads) {
  chunks(n, threads, [&](size_t i0, size_t i1) {
    for (size_t i = i0; i < i1; i++) {
      const float x = a[i], y = b[nb == n ? i : i % nb];
      out[i] = swap ? (y > x) : (x > y);
    }
  });
}

}  // namespace latentlab
