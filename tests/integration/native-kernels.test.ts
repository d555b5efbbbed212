// The native SGEMM addon (native/), built by `npm install`. Where a C++ compiler
// exists it must have been built and loaded; without one the engine falls back
// to its wasm kernels and these tests say why they are skipped.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeKernels } from '../../src/engine/backend/native';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const { kernels, why } = nativeKernels();
const hasCompiler = spawnSync('sh', ['-c', 'command -v c++ || command -v g++ || command -v clang++'], { encoding: 'utf8' }).status === 0;
const noKernels = kernels ? null : `the native addon is not loaded: ${why}${hasCompiler ? '' : ' (no C++ compiler on this machine)'}`;

function reference(tA: boolean, tB: boolean, m: number, n: number, k: number, A: Float32Array, B: Float32Array): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (tA ? A[p * m + i] : A[i * k + p]) * (tB ? B[j * k + p] : B[p * n + j]);
      C[i * n + j] = s;
    }
  return C;
}

describe('native kernels', () => {
  it('are built wherever a C++ compiler is', () => {
    if (hasCompiler) expect(kernels, why).not.toBeNull();
  });

  it('sgemm matches a float64 reference: edge tiles, transposes, 1 and 2 threads', (ctx) => {
    skipWhen(ctx, noKernels);
    const sizes = [[1, 1, 1], [7, 5, 3], [6, 16, 256], [13, 37, 300], [100, 33, 517], [130, 70, 260], [300, 20, 40]];
    for (const [m, n, k] of sizes) {
      for (const tA of [false, true]) {
        for (const tB of [false, true]) {
          for (const threads of [1, 2]) {
            const A = Float32Array.from({ length: m * k }, (_, i) => Math.sin(i * 0.7));
            const B = Float32Array.from({ length: k * n }, (_, i) => Math.cos(i * 0.3));
            const C = new Float32Array(m * n).fill(123); // overwritten, never accumulated into
            kernels!.sgemm(tA, tB, m, n, k, A, B, C, threads);
            const R = reference(tA, tB, m, n, k, A, B);
            for (let i = 0; i < m * n; i++) expect(Math.abs(C[i] - R[i])).toBeLessThan(1e-4 * (1 + Math.abs(R[i])));
          }
        }
      }
    }
  });

  it('refuses arrays too short for the shapes instead of reading past them', (ctx) => {
    skipWhen(ctx, noKernels);
    const a = new Float32Array(4);
    expect(() => kernels!.sgemm(false, false, 3, 3, 3, a, new Float32Array(9), new Float32Array(9), 1)).toThrow(/too short/);
    expect(() => kernels!.sgemm(false, false, 1, 1, 1, [1] as unknown as Float32Array, a, a, 1)).toThrow(/Float32Array/);
  });

  it('every code path this CPU has gives the same numbers (LATENTLAB_SGEMM forces a narrower one)', (ctx) => {
    skipWhen(ctx, noKernels);
    // each path is fixed per process, so each runs in a child
    const addon = require.resolve(join(root, 'native', 'build', 'Release', 'latentlab_kernels.node'));
    const check = `
      const k = require(${JSON.stringify(addon)});
      let worst = 0;
      for (const [m, n, kk] of [[13, 37, 300], [130, 70, 260], [6, 100, 5]]) for (const tA of [false, true]) for (const tB of [false, true]) {
        const A = Float32Array.from({ length: m * kk }, (_, i) => Math.sin(i * 0.7));
        const B = Float32Array.from({ length: kk * n }, (_, i) => Math.cos(i * 0.3));
        const C = new Float32Array(m * n); k.sgemm(tA, tB, m, n, kk, A, B, C, 2);
        for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
          let s = 0; for (let p = 0; p < kk; p++) s += (tA ? A[p * m + i] : A[i * kk + p]) * (tB ? B[j * kk + p] : B[p * n + j]);
          worst = Math.max(worst, Math.abs(C[i * n + j] - s) / (1 + Math.abs(s)));
        }
      }
      console.log(JSON.stringify({ path: k.info().sgemm, worst }));`;
    for (const force of ['', 'avx2', 'portable']) {
      const r = spawnSync(process.execPath, ['-e', check], { env: { ...process.env, LATENTLAB_SGEMM: force }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { path: string; worst: number };
      if (force === 'portable') expect(out.path).toBe('portable');
      expect(out.worst).toBeLessThan(1e-5);
    }
  });

  it('the implicit-GEMM convolution and its filter gradient match a direct loop on every code path', (ctx) => {
    skipWhen(ctx, noKernels);
    const addon = require.resolve(join(root, 'native', 'build', 'Release', 'latentlab_kernels.node'));
    // [n, h, w, c, fh, fw, sh, sw, top, left, ho, wo], co: unit and double strides,
    // padding on one side only, one channel, more rows than one block
    const check = `
      const k = require(${JSON.stringify(addon)});
      const cases = [[[2, 7, 6, 3, 3, 3, 1, 1, 1, 1, 7, 6], 5], [[1, 9, 9, 1, 7, 7, 1, 1, 3, 3, 9, 9], 4],
        [[3, 8, 8, 4, 4, 4, 2, 2, 1, 1, 4, 4], 7], [[2, 6, 7, 2, 4, 2, 1, 1, 1, 0, 6, 7], 3], [[4, 12, 12, 9, 3, 3, 1, 1, 0, 0, 10, 10], 33]];
      let worst = 0;
      for (const [g, co] of cases) {
        const [n, h, w, c, fh, fw, sh, sw, top, left, ho, wo] = g;
        const P = n * ho * wo, K = fh * fw * c;
        const x = Float32Array.from({ length: n * h * w * c }, (_, i) => Math.sin(i * 0.37));
        const f = Float32Array.from({ length: K * co }, (_, i) => Math.cos(i * 0.11));
        const dy = Float32Array.from({ length: P * co }, (_, i) => Math.sin(i * 0.05 + 1));
        const patch = (p, q) => {
          const ox = p % wo, oy = Math.floor(p / wo) % ho, b = Math.floor(p / (wo * ho));
          const ch = q % c, j = Math.floor(q / c) % fw, i = Math.floor(q / (c * fw));
          const iy = oy * sh + i - top, ix = ox * sw + j - left;
          return iy < 0 || iy >= h || ix < 0 || ix >= w ? 0 : x[((b * h + iy) * w + ix) * c + ch];
        };
        for (const threads of [1, 2]) {
          const y = new Float32Array(P * co), dw = new Float32Array(K * co).fill(1);
          k.conv(g, false, co, x, f, y, threads);
          k.conv(g, true, co, x, dy, dw, threads, true); // accumulates onto the ones
          for (let p = 0; p < P; p++) for (let o = 0; o < co; o++) {
            let s = 0; for (let q = 0; q < K; q++) s += patch(p, q) * f[q * co + o];
            worst = Math.max(worst, Math.abs(y[p * co + o] - s) / (1 + Math.abs(s)));
          }
          for (let q = 0; q < K; q++) for (let o = 0; o < co; o++) {
            let s = 1; for (let p = 0; p < P; p++) s += patch(p, q) * dy[p * co + o];
            worst = Math.max(worst, Math.abs(dw[q * co + o] - s) / (1 + Math.abs(s)));
          }
        }
      }
      console.log(JSON.stringify({ worst }));`;
    for (const force of ['', 'avx2', 'portable']) {
      const r = spawnSync(process.execPath, ['-e', check], { env: { ...process.env, LATENTLAB_SGEMM: force }, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect((JSON.parse(r.stdout) as { worst: number }).worst).toBeLessThan(1e-5);
    }
    expect(() => kernels!.conv([1, 4, 4, 1, 3, 3, 1, 1, 1, 1, 4, 4], false, 2, new Float32Array(16), new Float32Array(18), new Float32Array(31), 1)).toThrow(/too short/);
  });
});
