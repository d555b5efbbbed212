// A cache-blocked SGEMM (the Goto/BLIS loop structure): B is packed in KC×NR
// panels; A is read in place through its strides, or packed in MR×KC panels where
// that pays (Aᵀ feeding several B panels, a last partial panel); an MR×NR
// micro-kernel keeps the C tile in registers: 8×32 with AVX-512, 6×16 with
// AVX2+FMA (chosen at run time, so the binary stays portable;
// LATENTLAB_SGEMM=avx2|portable forces a narrower path), 6×16 plain C++
// otherwise. The pool's threads split the columns (or the rows when there are
// few columns) so each owns a disjoint part of C: no locks. The same loops run
// convolutions whose patch matrix A is gathered block by block (conv_gemm).
#include "sgemm.h"

#include "im2col.h"
#include "parallel.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LL_X86 1
#endif

namespace latentlab {
namespace {

constexpr int MR = 6;
constexpr int KC = 256;
constexpr int MC = 120;   // a multiple of every MR (6, 8)
constexpr int NC = 2048;  // multiple of every NR below

struct Operands {
  bool transA, transB, accumulate;
  int m, n, k;
  const float* A;
  const float* B;
  float* C;
  // Implicit A: the patch matrix of a convolution (cols, P×K; or colsᵀ when
  // transA), gathered from the image block by block, never stored whole.
  const ConvGeometry* conv = nullptr;
};

// A[ic:ic+mc, pc:pc+kc] of an implicit patch matrix into dst, laid out for the
// kernel's strides: row-major mc×kc (rsa = kc, csa = 1) for cols, or kc×mc
// (rsa = 1, csa = mc) for colsᵀ. Both are runs of one patch row.
void gather_a(const Operands& o, int ic, int mc, int pc, int kc, float* dst) {
  if (!o.transA)
    for (int r = 0; r < mc; r++) patch_segment(*o.conv, o.A, ic + r, pc, kc, dst + (size_t)r * kc);
  else
    for (int q = 0; q < kc; q++) patch_segment(*o.conv, o.A, pc + q, ic, mc, dst + (size_t)q * mc);
}

inline float a_at(const Operands& o, int i, int p) { return o.transA ? o.A[(size_t)p * o.m + i] : o.A[(size_t)i * o.k + p]; }
inline float b_at(const Operands& o, int p, int j) { return o.transB ? o.B[(size_t)j * o.k + p] : o.B[(size_t)p * o.n + j]; }

// B[pc:pc+kc, jc:jc+nc] → panels of NR columns, each kc×NR, zero-padded.
template <int NR>
void pack_b(const Operands& o, int pc, int kc, int jc, int nc, float* dst) {
  for (int j0 = 0; j0 < nc; j0 += NR) {
    const int w = std::min(NR, nc - j0);
    if (o.transB) {
      // Bᵀ: each column of the panel is a contiguous run of a row of B; read it
      // in order (the strided writes land in the panel, which stays in cache)
      for (int jj = 0; jj < w; jj++) {
        const float* src = o.B + (size_t)(jc + j0 + jj) * o.k + pc;
        for (int p = 0; p < kc; p++) dst[p * NR + jj] = src[p];
      }
      for (int jj = w; jj < NR; jj++)
        for (int p = 0; p < kc; p++) dst[p * NR + jj] = 0.f;
    } else {
      for (int p = 0; p < kc; p++) {
        float* d = dst + p * NR;
        if (w == NR) {
          std::memcpy(d, o.B + (size_t)(pc + p) * o.n + jc + j0, NR * sizeof(float));
        } else {
          for (int jj = 0; jj < w; jj++) d[jj] = b_at(o, pc + p, jc + j0 + jj);
          for (int jj = w; jj < NR; jj++) d[jj] = 0.f;
        }
      }
    }
    dst += (size_t)kc * NR;
  }
}

// A[ic:ic+mc, pc:pc+kc] → panels of MR rows, each kc×MR, zero-padded.
template <int MR>
void pack_a(const Operands& o, int ic, int mc, int pc, int kc, float* dst) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    const int h = std::min(MR, mc - i0);
    for (int p = 0; p < kc; p++) {
      float* d = dst + p * MR;
      for (int ii = 0; ii < h; ii++) d[ii] = a_at(o, ic + i0 + ii, pc + p);
      for (int ii = h; ii < MR; ii++) d[ii] = 0.f;
    }
    dst += (size_t)kc * MR;
  }
}

// Writes (or adds) a full MR×NR tile held in `tile` into C, clipped to h×w.
template <int NR>
inline void store_tile(const float* tile, float* C, int ldc, int h, int w, bool add) {  // h ≤ the tile's rows
  for (int r = 0; r < h; r++) {
    float* c = C + (size_t)r * ldc;
    const float* t = tile + r * NR;
    if (add)
      for (int j = 0; j < w; j++) c[j] += t[j];
    else
      for (int j = 0; j < w; j++) c[j] = t[j];
  }
}

constexpr int NR_PORTABLE = 16;
void kernel_portable(int kc, const float* A, int rsa, int csa, const float* Bp, float* C, int ldc, int h, int w, bool add) {
  constexpr int NR = NR_PORTABLE;
  float acc[MR * NR] = {0};
  for (int p = 0; p < kc; p++) {
    const float* b = Bp + p * NR;
    const float* a = A + (size_t)p * csa;
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r * NR + j] += a[(size_t)r * rsa] * b[j];
  }
  store_tile<NR>(acc, C, ldc, h, w, add);
}

#ifdef LL_X86
constexpr int NR_AVX2 = 16;
__attribute__((target("avx2,fma"))) void kernel_avx2(int kc, const float* A, int rsa, int csa, const float* Bp, float* C, int ldc, int h, int w, bool add) {
  constexpr int NR = NR_AVX2;
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  const size_t r1 = rsa, r2 = 2 * r1, r3 = 3 * r1, r4 = 4 * r1, r5 = 5 * r1;
  for (int p = 0; p < kc; p++) {
    const __m256 b0 = _mm256_loadu_ps(Bp + p * NR);
    const __m256 b1 = _mm256_loadu_ps(Bp + p * NR + 8);
    const float* a = A + (size_t)p * csa;
    __m256 x = _mm256_broadcast_ss(a);
    c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
    x = _mm256_broadcast_ss(a + r1);
    c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
    x = _mm256_broadcast_ss(a + r2);
    c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
    x = _mm256_broadcast_ss(a + r3);
    c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
    x = _mm256_broadcast_ss(a + r4);
    c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
    x = _mm256_broadcast_ss(a + r5);
    c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
  }
  const __m256 rows[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (h == MR && w == NR) {
    for (int r = 0; r < MR; r++) {
      float* c = C + (size_t)r * ldc;
      if (add) {
        _mm256_storeu_ps(c, _mm256_add_ps(_mm256_loadu_ps(c), rows[r][0]));
        _mm256_storeu_ps(c + 8, _mm256_add_ps(_mm256_loadu_ps(c + 8), rows[r][1]));
      } else {
        _mm256_storeu_ps(c, rows[r][0]);
        _mm256_storeu_ps(c + 8, rows[r][1]);
      }
    }
    return;
  }
  alignas(32) float tile[MR * NR];
  for (int r = 0; r < MR; r++) {
    _mm256_store_ps(tile + r * NR, rows[r][0]);
    _mm256_store_ps(tile + r * NR + 8, rows[r][1]);
  }
  store_tile<NR>(tile, C, ldc, h, w, add);
}

// An 8-row tile, 32 columns wide in two 16-float registers per row: 16
// accumulators of the 32 registers, and a batch of 128 is 16 whole panels.
constexpr int NR_AVX512 = 32;
constexpr int MR_AVX512 = 8;
__attribute__((target("avx512f"))) void kernel_avx512(int kc, const float* A, int rsa, int csa, const float* Bp, float* C, int ldc, int h, int w, bool add) {
  constexpr int NR = NR_AVX512;
  __m512 c[MR_AVX512][2];
  for (int r = 0; r < MR_AVX512; r++) c[r][0] = c[r][1] = _mm512_setzero_ps();
  size_t off[MR_AVX512];
  for (int r = 0; r < MR_AVX512; r++) off[r] = (size_t)r * rsa;
  for (int p = 0; p < kc; p++) {
    const __m512 b0 = _mm512_loadu_ps(Bp + p * NR);
    const __m512 b1 = _mm512_loadu_ps(Bp + p * NR + 16);
    const float* a = A + (size_t)p * csa;
    for (int r = 0; r < MR_AVX512; r++) {
      const __m512 x = _mm512_set1_ps(a[off[r]]);
      c[r][0] = _mm512_fmadd_ps(x, b0, c[r][0]);
      c[r][1] = _mm512_fmadd_ps(x, b1, c[r][1]);
    }
  }
  if (h == MR_AVX512 && w == NR) {
    for (int r = 0; r < MR_AVX512; r++) {
      float* out = C + (size_t)r * ldc;
      if (add) {
        _mm512_storeu_ps(out, _mm512_add_ps(_mm512_loadu_ps(out), c[r][0]));
        _mm512_storeu_ps(out + 16, _mm512_add_ps(_mm512_loadu_ps(out + 16), c[r][1]));
      } else {
        _mm512_storeu_ps(out, c[r][0]);
        _mm512_storeu_ps(out + 16, c[r][1]);
      }
    }
    return;
  }
  alignas(64) float tile[MR_AVX512 * NR];
  for (int r = 0; r < MR_AVX512; r++) {
    _mm512_store_ps(tile + r * NR, c[r][0]);
    _mm512_store_ps(tile + r * NR + 16, c[r][1]);
  }
  store_tile<NR>(tile, C, ldc, h, w, add);
}

bool has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f");
  return yes;
}

bool has_avx2() {
  static const bool yes = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return yes;
}
#endif

using Kernel = void (*)(int, const float*, int, int, const float*, float*, int, int, int, bool);

// Packing buffers that live as long as their thread and only grow: a fresh
// allocation per product is a fresh mapping from the OS for sizes like these,
// and its page faults cost ~0.2 ms per call on a VM.
float* scratch(std::vector<float>& buf, size_t n) {
  if (buf.size() < n) buf.resize(n);  // zero-filled once; rows a kernel reads past mc stay finite
  return buf.data();
}

// C[i0:i1, j0:j1] of the product, with its thread's packing buffers.
template <int MR, int NR, Kernel kernel>
void compute_block(const Operands& o, int i0, int i1, int j0, int j1) {
  static thread_local std::vector<float> bpBuf, apBuf;
  // packing writes every element of B's buffer it later reads
  const int ncMax = std::min(NC, ((j1 - j0 + NR - 1) / NR) * NR);
  float* bp = scratch(bpBuf, (size_t)KC * ncMax);
  // a gathered block of an implicit A is MC×KC (rows past mc are never stored)
  float* ap = scratch(apBuf, (size_t)KC * (MC + MR));  // MC is a multiple of every MR
  for (int jc = j0; jc < j1; jc += NC) {
    const int nc = std::min(NC, j1 - jc);
    // equal depth blocks (784 = 4 × 196, not 3 × 256 + 16): no short last block
    const int kBlock = (o.k + (o.k + KC - 1) / KC - 1) / ((o.k + KC - 1) / KC);
    for (int pc = 0; pc < o.k; pc += kBlock) {
      const int kc = std::min(kBlock, o.k - pc);
      pack_b<NR>(o, pc, kc, jc, nc, bp);
      // row blocks of equal height too, in whole MR panels (128 = 66 + 62, not 120 + 8)
      const int rows = i1 - i0, nBlocks = (rows + MC - 1) / MC;
      const int mBlock = std::min(MC, ((rows + nBlocks - 1) / nBlocks + MR - 1) / MR * MR);
      for (int ic = i0; ic < i1; ic += mBlock) {
        const int mc = std::min(mBlock, i1 - ic);
        // Full MR-row panels read A in place through its strides (a packed copy
        // would cost as much as the product when C is narrow); only a last
        // partial panel is packed, zero-padded, so the kernel never reads past A.
        const int full = o.conv ? 0 : (mc / MR) * MR;
        if (o.conv) {
          gather_a(o, ic, mc, pc, kc, ap);
          for (int jr = 0; jr < nc; jr += NR) {
            const float* bpanel = bp + (size_t)(jr / NR) * kc * NR;
            const int w = std::min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
              const float* a = o.transA ? ap + ir : ap + (size_t)ir * kc;
              kernel(kc, a, o.transA ? 1 : kc, o.transA ? mc : 1, bpanel, o.C + (size_t)(ic + ir) * o.n + jc + jr, o.n,
                     std::min(MR, mc - ir), w, pc > 0 || o.accumulate);
            }
          }
          continue;
        }
        if (o.transA && nc >= 4 * NR) {
          // Aᵀ read in place gives the kernel 6 floats of a cache line per step;
          // when each A panel serves several B panels, a packed copy (contiguous,
          // zero-padded) pays for itself (dW = Xᵀ·dY: 177 → 235 GFLOP/s)
          pack_a<MR>(o, ic, mc, pc, kc, ap);
          for (int jr = 0; jr < nc; jr += NR) {
            const float* bpanel = bp + (size_t)(jr / NR) * kc * NR;
            const int w = std::min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR)
              kernel(kc, ap + (size_t)(ir / MR) * kc * MR, 1, MR, bpanel, o.C + (size_t)(ic + ir) * o.n + jc + jr, o.n,
                     std::min(MR, mc - ir), w, pc > 0 || o.accumulate);
          }
          continue;
        }
        if (full < mc) pack_a<MR>(o, ic + full, mc - full, pc, kc, ap);
        for (int jr = 0; jr < nc; jr += NR) {
          const float* bpanel = bp + (size_t)(jr / NR) * kc * NR;
          const bool add = pc > 0 || o.accumulate;
          const int w = std::min(NR, nc - jr);
          for (int ir = 0; ir < full; ir += MR) {
            const int i = ic + ir;
            const float* a = o.transA ? o.A + (size_t)pc * o.m + i : o.A + (size_t)i * o.k + pc;
            kernel(kc, a, o.transA ? 1 : o.k, o.transA ? o.m : 1, bpanel, o.C + (size_t)i * o.n + jc + jr, o.n, MR, w, add);
          }
          if (full < mc) kernel(kc, ap, 1, MR, bpanel, o.C + (size_t)(ic + full) * o.n + jc + jr, o.n, mc - full, w, add);
        }
      }
    }
  }
}

// The widest code path this CPU runs, and its column-panel width.
struct Path {
  int mr, nr;
  void (*block)(const Operands&, int, int, int, int);
  const char* name;
};

Path pick_path() {
  if (const char* force = std::getenv("LATENTLAB_SGEMM")) {
    if (std::strcmp(force, "portable") == 0) return {MR, NR_PORTABLE, compute_block<MR, NR_PORTABLE, kernel_portable>, "portable"};
#ifdef LL_X86
    if (std::strcmp(force, "avx2") == 0 && has_avx2()) return {MR, NR_AVX2, compute_block<MR, NR_AVX2, kernel_avx2>, "avx2-fma"};
#endif
  }
#ifdef LL_X86
  if (has_avx512()) return {MR_AVX512, NR_AVX512, compute_block<MR_AVX512, NR_AVX512, kernel_avx512>, "avx512f"};
  if (has_avx2()) return {MR, NR_AVX2, compute_block<MR, NR_AVX2, kernel_avx2>, "avx2-fma"};
#endif
  return {MR, NR_PORTABLE, compute_block<MR, NR_PORTABLE, kernel_portable>, "portable"};
}

const Path& path() {
  static const Path p = pick_path();
  return p;
}

}  // namespace

const char* sgemm_path() { return path().name; }

namespace {

void run(const Operands& o, int threads) {
  const int m = o.m, n = o.n, k = o.k;
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!o.accumulate) std::fill(o.C, o.C + (size_t)m * n, 0.f);
    return;
  }
  const double flops = 2.0 * m * n * k;
  int t = std::max(1, threads);
  if (flops < 4e6) t = 1;  // a thread costs more than it saves on small products
  // split the columns in NR-wide panels when there are enough, else the rows
  const Path& p = path();
  const int NR = p.nr;
  const int colPanels = (n + NR - 1) / NR;
  const int MR = p.mr;
  const int rowPanels = (m + MR - 1) / MR;
  const bool byCols = colPanels >= 2 * t || colPanels >= rowPanels;
  const int panels = byCols ? colPanels : rowPanels;
  t = std::min(t, panels);
  if (t == 1) {
    p.block(o, 0, m, 0, n);
    return;
  }
  parallel_for(t, t, [&](int w) {
    const int p0 = (int)((long long)panels * w / t), p1 = (int)((long long)panels * (w + 1) / t);
    if (byCols) p.block(o, 0, m, p0 * NR, std::min(n, p1 * NR));
    else p.block(o, p0 * MR, std::min(m, p1 * MR), 0, n);
  });
}

}  // namespace

void sgemm(bool transA, bool transB, int m, int n, int k, const float* A, const float* B, float* C, int threads, bool accumulate) {
  run(Operands{transA, transB, accumulate, m, n, k, A, B, C}, threads);
}

void conv_gemm(const ConvGeometry& g, bool filterGrad, int co, const float* x, const float* b, float* c, int threads, bool accumulate) {
  const int P = g.n * g.ho * g.wo, K = g.fh * g.fw * g.c;
  Operands o = filterGrad ? Operands{true, false, accumulate, K, co, P, x, b, c} : Operands{false, false, accumulate, P, co, K, x, b, c};
  o.conv = &g;
  run(o, threads);
}

void conv_input_grad(const ConvGeometry& g, int co, const float* dy, const float* w, float* dx, int threads) {
  const int s_h = g.sh, s_w = g.sw, ci = g.c;
  // Each phase (y0, x0) of the input grid, y = y0 + sh·ty, x = x0 + sw·tx, is
  // reached only by the taps i ≡ (y0 + top) mod sh, j ≡ (x0 + left) mod sw: a
  // stride-1 convolution of dy with that sub-filter, turned 180° and with its
  // channels swapped (the sub-pixel view of a transposed convolution).
  static thread_local std::vector<float> turned, part;  // kept: no page faults per call
  for (int y0 = 0; y0 < std::min(s_h, g.h); y0++) {
    for (int x0 = 0; x0 < std::min(s_w, g.w); x0++) {
      const int hs = (g.h - y0 + s_h - 1) / s_h, ws = (g.w - x0 + s_w - 1) / s_w;
      const int i0 = (y0 + g.top) % s_h, j0 = (x0 + g.left) % s_w;
      const int A = i0 < g.fh ? (g.fh - i0 + s_h - 1) / s_h : 0;
      const int B = j0 < g.fw ? (g.fw - j0 + s_w - 1) / s_w : 0;
      // one phase (unit stride) is all of dx: the product writes there directly
      const bool whole = s_h == 1 && s_w == 1;
      const size_t cells = (size_t)g.n * hs * ws * ci;
      float* target = whole ? dx : (part.resize(cells), part.data());
      if (A == 0 || B == 0) std::fill(target, target + cells, 0.f);
      if (A > 0 && B > 0) {
        const int by = (y0 + g.top - i0) / s_h, bx = (x0 + g.left - j0) / s_w;
        turned.resize((size_t)A * B * co * ci);
        for (int a = 0; a < A; a++)
          for (int b = 0; b < B; b++) {
            const float* src = w + ((size_t)(i0 + s_h * (A - 1 - a)) * g.fw + (j0 + s_w * (B - 1 - b))) * ci * co;
            float* dst = turned.data() + ((size_t)a * B + b) * co * ci;
            for (int c = 0; c < ci; c++)
              for (int o = 0; o < co; o++) dst[(size_t)o * ci + c] = src[(size_t)c * co + o];
          }
        const ConvGeometry sub{g.n, g.ho, g.wo, co, A, B, 1, 1, A - 1 - by, B - 1 - bx, hs, ws};
        conv_gemm(sub, false, ci, dy, turned.data(), target, threads);
      }
      if (whole) continue;
      for (int n = 0; n < g.n; n++)
        for (int ty = 0; ty < hs; ty++)
          for (int tx = 0; tx < ws; tx++)
            std::memcpy(dx + (((size_t)n * g.h + y0 + s_h * ty) * g.w + x0 + s_w * tx) * ci,
                        part.data() + (((size_t)n * hs + ty) * ws + tx) * ci, sizeof(float) * ci);
    }
  }
}

}  // namespace latentlab
