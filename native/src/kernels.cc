// The engine's native kernels as a Node-API addon (ABI-stable: the same build
// loads in Node and in Electron). The engine hands it typed arrays that view
// the wasm backend's heap, so no data is copied.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <thread>

#include "elementwise.h"
#include "im2col.h"
#include "parallel.h"
#include "sgemm.h"

namespace {

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "latentlab_kernels: " #call);   \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

bool float_array(napi_env env, napi_value v, float** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_float32_array) return false;
  *data = static_cast<float*>(ptr);
  return true;
}

// sgemm(transA, transB, m, n, k, a, b, c, threads[, accumulate]): c = op(a) · op(b)
// (or c += … when accumulate), row-major.
napi_value Sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 9 && argc != 10) {
    napi_throw_type_error(env, nullptr, "sgemm(transA, transB, m, n, k, a, b, c, threads[, accumulate])");
    return nullptr;
  }
  bool accumulate = false;
  if (argc == 10) CHECK(napi_get_value_bool(env, argv[9], &accumulate));
  bool transA, transB;
  int32_t m, n, k, threads;
  CHECK(napi_get_value_bool(env, argv[0], &transA));
  CHECK(napi_get_value_bool(env, argv[1], &transB));
  CHECK(napi_get_value_int32(env, argv[2], &m));
  CHECK(napi_get_value_int32(env, argv[3], &n));
  CHECK(napi_get_value_int32(env, argv[4], &k));
  CHECK(napi_get_value_int32(env, argv[8], &threads));
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!float_array(env, argv[5], &a, &la) || !float_array(env, argv[6], &b, &lb) || !float_array(env, argv[7], &c, &lc)) {
    napi_throw_type_error(env, nullptr, "sgemm: a, b and c must be Float32Arrays");
    return nullptr;
  }
  if (m < 0 || n < 0 || k < 0 || la < (size_t)m * k || lb < (size_t)k * n || lc < (size_t)m * n) {
    napi_throw_range_error(env, nullptr, "sgemm: array too short for the given m, n, k");
    return nullptr;
  }
  latentlab::sgemm(transA, transB, m, n, k, a, b, c, threads, accumulate);
  return nullptr;
}

bool byte_array(napi_env env, napi_value v, uint8_t** data, size_t* length) {
  bool is = false;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  void* ptr = nullptr;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, nullptr, nullptr) != napi_ok) return false;
  if (type != napi_uint8_array) return false;
  *data = static_cast<uint8_t*>(ptr);
  return true;
}

bool int_arg(napi_env env, napi_value v, int32_t* out) { return napi_get_value_int32(env, v, out) == napi_ok; }

// unary(op, x, out, alpha, threads): out = f(x) elementwise (elementwise.h's Unary order).
napi_value UnaryOp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t op, threads;
  double alpha;
  float *x, *out;
  size_t lx, lo;
  if (argc != 5 || !int_arg(env, argv[0], &op) || op < 0 || op > (int)latentlab::Unary::Abs || !float_array(env, argv[1], &x, &lx) ||
      !float_array(env, argv[2], &out, &lo) || napi_get_value_double(env, argv[3], &alpha) != napi_ok || !int_arg(env, argv[4], &threads)) {
    napi_throw_type_error(env, nullptr, "unary(op, x, out: Float32Array, alpha, threads)");
    return nullptr;
  }
  if (lo < lx) {
    napi_throw_range_error(env, nullptr, "unary: out shorter than x");
    return nullptr;
  }
  latentlab::unary((latentlab::Unary)op, x, out, lx, (float)alpha, threads);
  return nullptr;
}

// binary(op, a, b, out, swap, threads): out = a ∘ b, b repeating along a (see elementwise.h).
napi_value BinaryOp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t op, threads;
  bool swap;
  float *a, *b, *out;
  size_t la, lb, lo;
  if (argc != 6 || !int_arg(env, argv[0], &op) || op < 0 || op > (int)latentlab::Binary::SquaredDiff || !float_array(env, argv[1], &a, &la) ||
      !float_array(env, argv[2], &b, &lb) || !float_array(env, argv[3], &out, &lo) || napi_get_value_bool(env, argv[4], &swap) != napi_ok ||
      !int_arg(env, argv[5], &threads)) {
    napi_throw_type_error(env, nullptr, "binary(op, a, b, out: Float32Array, swap, threads)");
    return nullptr;
  }
  if (lb == 0 || la % lb != 0 || lo < la) {
    napi_throw_range_error(env, nullptr, "binary: b must repeat a whole number of times along a, and out be as long as a");
    return nullptr;
  }
  latentlab::binary((latentlab::Binary)op, a, b, out, la, lb, swap, threads);
  return nullptr;
}

// activationGrad(op, dy, v, out, alpha, threads): elementwise.h's activation_grad.
napi_value ActivationGradOp(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t op, threads;
  double alpha;
  float *dy, *v, *out;
  size_t ld, lv, lo;
  if (argc != 6 || !int_arg(env, argv[0], &op) || op < 0 || op > (int)latentlab::ActivationGrad::Tanh || !float_array(env, argv[1], &dy, &ld) ||
      !float_array(env, argv[2], &v, &lv) || !float_array(env, argv[3], &out, &lo) || napi_get_value_double(env, argv[4], &alpha) != napi_ok ||
      !int_arg(env, argv[5], &threads)) {
    napi_throw_type_error(env, nullptr, "activationGrad(op, dy, v, out: Float32Array, alpha, threads)");
    return nullptr;
  }
  if (lv != ld || lo < ld) {
    napi_throw_range_error(env, nullptr, "activationGrad: dy and v must have one length, out at least as long");
    return nullptr;
  }
  latentlab::activation_grad((latentlab::ActivationGrad)op, dy, v, out, ld, (float)alpha, threads);
  return nullptr;
}

// random(dist, seed, out, p | null, threads): elementwise.h's random.
napi_value RandomOp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t dist, threads;
  uint32_t seed;
  float *out, *p = nullptr;
  size_t lo, lp = 0;
  bool ok = argc == 5 && int_arg(env, argv[0], &dist) && dist >= 0 && dist <= (int)latentlab::Distribution::Bernoulli &&
            napi_get_value_uint32(env, argv[1], &seed) == napi_ok && float_array(env, argv[2], &out, &lo) && int_arg(env, argv[4], &threads);
  if (ok && dist == (int)latentlab::Distribution::Bernoulli) ok = float_array(env, argv[3], &p, &lp) && lp == lo;
  if (!ok) {
    napi_throw_type_error(env, nullptr, "random(dist, seed, out: Float32Array, p: Float32Array (Bernoulli, as long as out) | null, threads)");
    return nullptr;
  }
  latentlab::random((latentlab::Distribution)dist, seed, out, lo, p, threads);
  return nullptr;
}

// copyRows(src, srcStride, dst, dstStride, rows, cols, threads): elementwise.h's copy_rows.
napi_value CopyRows(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *src, *dst;
  size_t ls, ld;
  int32_t ss, ds, rows, cols, threads;
  if (argc != 7 || !float_array(env, argv[0], &src, &ls) || !int_arg(env, argv[1], &ss) || !float_array(env, argv[2], &dst, &ld) ||
      !int_arg(env, argv[3], &ds) || !int_arg(env, argv[4], &rows) || !int_arg(env, argv[5], &cols) || !int_arg(env, argv[6], &threads) ||
      ss < 0 || ds < 0 || rows < 0 || cols < 0) {
    napi_throw_type_error(env, nullptr, "copyRows(src, srcStride, dst, dstStride, rows, cols, threads)");
    return nullptr;
  }
  if (rows > 0 && cols > 0 && ((size_t)(rows - 1) * ss + cols > ls || (size_t)(rows - 1) * ds + cols > ld)) {
    napi_throw_range_error(env, nullptr, "copyRows: array too short for the rows");
    return nullptr;
  }
  if (rows > 0 && cols > 0) latentlab::copy_rows(src, ss, dst, ds, rows, cols, threads);
  return nullptr;
}

// greater(a, b, out: Uint8Array, swap, threads)
napi_value GreaterOp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t threads;
  bool swap;
  float *a, *b;
  uint8_t* out;
  size_t la, lb, lo;
  if (argc != 5 || !float_array(env, argv[0], &a, &la) || !float_array(env, argv[1], &b, &lb) || !byte_array(env, argv[2], &out, &lo) ||
      napi_get_value_bool(env, argv[3], &swap) != napi_ok || !int_arg(env, argv[4], &threads)) {
    napi_throw_type_error(env, nullptr, "greater(a, b: Float32Array, out: Uint8Array, swap, threads)");
    return nullptr;
  }
  if (lb == 0 || la % lb != 0 || lo < la) {
    napi_throw_range_error(env, nullptr, "greater: b must repeat a whole number of times along a, and out be as long as a");
    return nullptr;
  }
  latentlab::greater(a, b, out, la, lb, swap, threads);
  return nullptr;
}

// select(cond: Uint8Array, a, b, out, threads)
napi_value SelectOp(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t threads;
  uint8_t* cond;
  float *a, *b, *out;
  size_t lc, la, lb, lo;
  if (argc != 5 || !byte_array(env, argv[0], &cond, &lc) || !float_array(env, argv[1], &a, &la) || !float_array(env, argv[2], &b, &lb) ||
      !float_array(env, argv[3], &out, &lo) || !int_arg(env, argv[4], &threads)) {
    napi_throw_type_error(env, nullptr, "select(cond: Uint8Array, a, b, out: Float32Array, threads)");
    return nullptr;
  }
  if (la != lc || lb != lc || lo < lc) {
    napi_throw_range_error(env, nullptr, "select: cond, a and b must have one length, out at least as long");
    return nullptr;
  }
  latentlab::select(cond, a, b, out, lc, threads);
  return nullptr;
}

// sumRows(x, cols, out, threads): out[c] = Σ_r x[r·cols + c]
napi_value SumRows(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t cols, threads;
  float *x, *out;
  size_t lx, lo;
  if (argc != 4 || !float_array(env, argv[0], &x, &lx) || !int_arg(env, argv[1], &cols) || cols <= 0 || !float_array(env, argv[2], &out, &lo) ||
      !int_arg(env, argv[3], &threads)) {
    napi_throw_type_error(env, nullptr, "sumRows(x: Float32Array, cols > 0, out: Float32Array, threads)");
    return nullptr;
  }
  if (lx % cols != 0 || lo < (size_t)cols) {
    napi_throw_range_error(env, nullptr, "sumRows: x must hold whole rows of cols, and out cols elements");
    return nullptr;
  }
  latentlab::sum_rows(x, lx / cols, cols, out, threads);
  return nullptr;
}

// Reads the 12 geometry numbers [n,h,w,c, fh,fw, sh,sw, top,left, ho,wo].
bool geometry(napi_env env, napi_value v, latentlab::ConvGeometry* g) {
  int32_t a[12];
  for (uint32_t i = 0; i < 12; i++) {
    napi_value e;
    if (napi_get_element(env, v, i, &e) != napi_ok || napi_get_value_int32(env, e, &a[i]) != napi_ok) return false;
  }
  *g = {a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11]};
  return g->n > 0 && g->h > 0 && g->w > 0 && g->c > 0 && g->fh > 0 && g->fw > 0 && g->sh > 0 && g->sw > 0 && g->ho > 0 && g->wo > 0;
}

// im2col(geometry, x, cols) or col2im(geometry, cols, dx), chosen by `forward`.
napi_value Patches(napi_env env, napi_callback_info info, bool forward) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  latentlab::ConvGeometry g;
  float *src, *dst;
  size_t ls, ld;
  if (argc != 3 || !geometry(env, argv[0], &g) || !float_array(env, argv[1], &src, &ls) || !float_array(env, argv[2], &dst, &ld)) {
    napi_throw_type_error(env, nullptr, "im2col/col2im(geometry[12], Float32Array, Float32Array)");
    return nullptr;
  }
  const size_t image = (size_t)g.n * g.h * g.w * g.c;
  const size_t cols = (size_t)g.n * g.ho * g.wo * g.fh * g.fw * g.c;
  if ((forward && (ls < image || ld < cols)) || (!forward && (ls < cols || ld < image))) {
    napi_throw_range_error(env, nullptr, "im2col/col2im: array too short for the geometry");
    return nullptr;
  }
  if (forward) latentlab::im2col(g, src, dst);
  else latentlab::col2im(g, src, dst);
  return nullptr;
}

// conv(geometry, filterGrad, co, x, b, c, threads[, accumulate]): the implicit-GEMM
// convolution of sgemm.h's conv_gemm (forward: b = filter K×co, c = y P×co;
// filterGrad: b = dy P×co, c = dW K×co).
napi_value Conv(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  latentlab::ConvGeometry g;
  bool filterGrad = false, accumulate = false;
  int32_t co = 0, threads = 1;
  float *x, *b, *c;
  size_t lx, lb, lc;
  const bool ok = (argc == 7 || argc == 8) && geometry(env, argv[0], &g) && napi_get_value_bool(env, argv[1], &filterGrad) == napi_ok &&
                  napi_get_value_int32(env, argv[2], &co) == napi_ok && co > 0 && float_array(env, argv[3], &x, &lx) &&
                  float_array(env, argv[4], &b, &lb) && float_array(env, argv[5], &c, &lc) &&
                  napi_get_value_int32(env, argv[6], &threads) == napi_ok && (argc == 7 || napi_get_value_bool(env, argv[7], &accumulate) == napi_ok);
  if (!ok) {
    napi_throw_type_error(env, nullptr, "conv(geometry[12], filterGrad, co, x, b, c: Float32Array, threads[, accumulate])");
    return nullptr;
  }
  const size_t P = (size_t)g.n * g.ho * g.wo, K = (size_t)g.fh * g.fw * g.c, image = (size_t)g.n * g.h * g.w * g.c;
  const size_t needB = filterGrad ? P * co : K * co, needC = filterGrad ? K * co : P * co;
  if (lx < image || lb < needB || lc < needC) {
    napi_throw_range_error(env, nullptr, "conv: array too short for the geometry");
    return nullptr;
  }
  latentlab::conv_gemm(g, filterGrad, co, x, b, c, threads, accumulate);
  return nullptr;
}

// convInputGrad(geometry, co, dy, w, dx, threads): sgemm.h's conv_input_grad.
napi_value ConvInputGrad(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  latentlab::ConvGeometry g;
  int32_t co = 0, threads = 1;
  float *dy, *w, *dx;
  size_t ly, lw, lx;
  const bool ok = argc == 6 && geometry(env, argv[0], &g) && napi_get_value_int32(env, argv[1], &co) == napi_ok && co > 0 &&
                  float_array(env, argv[2], &dy, &ly) && float_array(env, argv[3], &w, &lw) && float_array(env, argv[4], &dx, &lx) &&
                  napi_get_value_int32(env, argv[5], &threads) == napi_ok;
  if (!ok) {
    napi_throw_type_error(env, nullptr, "convInputGrad(geometry[12], co, dy, w, dx: Float32Array, threads)");
    return nullptr;
  }
  if (ly < (size_t)g.n * g.ho * g.wo * co || lw < (size_t)g.fh * g.fw * g.c * co || lx < (size_t)g.n * g.h * g.w * g.c) {
    napi_throw_range_error(env, nullptr, "convInputGrad: array too short for the geometry");
    return nullptr;
  }
  latentlab::conv_input_grad(g, co, dy, w, dx, threads);
  return nullptr;
}

napi_value Im2col(napi_env env, napi_callback_info info) { return Patches(env, info, true); }
napi_value Col2im(napi_env env, napi_callback_info info) { return Patches(env, info, false); }

// adam(w, g, m, v, out, [lr, beta1, beta2, epsilon, c1, c2][, threads]): one Adam step for
// one variable; m and v are updated in place, the new weights go to `out`.
// c1 = 1 − beta1^t and c2 = 1 − beta2^t are the bias corrections.
napi_value Adam(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float* a[5];
  size_t len[5];
  bool ok = argc == 6 || argc == 7;
  const bool argc7 = argc == 7;
  napi_value argv7 = argc7 ? argv[6] : nullptr;
  for (int i = 0; ok && i < 5; i++) ok = float_array(env, argv[i], &a[i], &len[i]);
  double h[6];
  for (uint32_t i = 0; ok && i < 6; i++) {
    napi_value e;
    ok = napi_get_element(env, argv[5], i, &e) == napi_ok && napi_get_value_double(env, e, &h[i]) == napi_ok;
  }
  if (!ok) {
    napi_throw_type_error(env, nullptr, "adam(w, g, m, v, out: Float32Array, [lr, beta1, beta2, epsilon, c1, c2])");
    return nullptr;
  }
  const size_t n = len[0];
  for (int i = 1; i < 5; i++) {
    if (len[i] != n) {
      napi_throw_range_error(env, nullptr, "adam: arrays of different lengths");
      return nullptr;
    }
  }
  const float lr = (float)h[0], b1 = (float)h[1], b2 = (float)h[2], eps = (float)h[3];
  const float ic1 = (float)(1.0 / h[4]), ic2 = (float)(1.0 / h[5]);
  const float *w = a[0], *g = a[1];
  float *m = a[2], *v = a[3], *out = a[4];
  int32_t threads = 1;
  if (argc7 && napi_get_value_int32(env, argv7, &threads) != napi_ok) threads = 1;
  // five arrays of every weight: memory-bound, so both cores help on big layers
  constexpr size_t GRAIN = 1 << 15;
  const int tasks = (int)((n + GRAIN - 1) / GRAIN);
  latentlab::parallel_for(tasks, n >= 2 * GRAIN ? threads : 1, [&](int t) {
    const size_t i1 = std::min(n, (size_t)(t + 1) * GRAIN);
    for (size_t i = (size_t)t * GRAIN; i < i1; i++) {
      const float mi = b1 * m[i] + (1.f - b1) * g[i];
      const float vi = b2 * v[i] + (1.f - b2) * g[i] * g[i];
      m[i] = mi;
      v[i] = vi;
      out[i] = w[i] - lr * (mi * ic1) / (std::sqrt(vi * ic2) + eps);
    }
  });
  return nullptr;
}

napi_value Info(napi_env env, napi_callback_info) {
  napi_value out, path, cores;
  CHECK(napi_create_object(env, &out));
  CHECK(napi_create_string_utf8(env, latentlab::sgemm_path(), NAPI_AUTO_LENGTH, &path));
  CHECK(napi_create_uint32(env, std::thread::hardware_concurrency(), &cores));
  CHECK(napi_set_named_property(env, out, "sgemm", path));
  CHECK(napi_set_named_property(env, out, "cores", cores));
  return out;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", nullptr, Sgemm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"im2col", nullptr, Im2col, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv", nullptr, Conv, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, UnaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, BinaryOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"activationGrad", nullptr, ActivationGradOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"random", nullptr, RandomOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"copyRows", nullptr, CopyRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"greater", nullptr, GreaterOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"select", nullptr, SelectOp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"convInputGrad", nullptr, ConvInputGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"col2im", nullptr, Col2im, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adam", nullptr, Adam, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
