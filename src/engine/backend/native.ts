// The engine's native kernels (native/, a Node-API addon built at npm install).
// Optional: where the build failed or the platform has no compiler, the engine
// keeps tfjs's wasm kernels and says so in the backend detail.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { nodeRequire } from '../util/node-require';

export interface NativeKernels {
  /** c = op(a) · op(b) (or c += … when accumulate), row-major, in place (arrays may view the wasm heap) */
  sgemm(transA: boolean, transB: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array, c: Float32Array, threads: number, accumulate?: boolean): void;
  info(): { sgemm: string; cores: number };
  /** geometry = [n, h, w, c, fh, fw, sh, sw, top, left, ho, wo]; NHWC patches, row per output position */
  im2col(geometry: number[], x: Float32Array, cols: Float32Array): void;
  /**
   * Implicit-GEMM convolution: forward c[P, co] = cols(x) · b (b = filter K×co), or
   * filterGrad c[K, co] = cols(x)ᵀ · b (b = dy P×co); cols is never stored.
   */
  conv(geometry: number[], filterGrad: boolean, co: number, x: Float32Array, b: Float32Array, c: Float32Array, threads: number, accumulate?: boolean): void;
  /** dx of conv(x, w) with geometry g (any stride) from dy [n, ho, wo, co] and w [fh, fw, c, co] */
  convInputGrad(geometry: number[], co: number, dy: Float32Array, w: Float32Array, dx: Float32Array, threads: number): void;
  /** out = f(x) elementwise; op: elementwise.h's Unary (Relu, Step, LeakyRelu, Neg, Square, Sigmoid, Tanh, Exp, Softplus, Log, Sqrt, Abs) */
  unary(op: number, x: Float32Array, out: Float32Array, alpha: number, threads: number): void;
  /** out = a ∘ b (b ∘ a when swap), b repeating along a; op: Add, Sub, Mul, Div, Max, Min, SquaredDiff */
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array, swap: boolean, threads: number): void;
  /** out = dy · f′ (op: Relu, LeakyRelu from x; Sigmoid, Tanh from y) */
  activationGrad(op: number, dy: Float32Array, v: Float32Array, out: Float32Array, alpha: number, threads: number): void;
  /** counter-based draws (dist 0 uniform [0,1), 1 normal, 2 Bernoulli(p)); element i depends only on (seed, i) */
  random(dist: number, seed: number, out: Float32Array, p: Float32Array | null, threads: number): void;
  /** rows × cols block copy between strided row-major views */
  copyRows(src: Float32Array, srcStride: number, dst: Float32Array, dstStride: number, rows: number, cols: number, threads: number): void;
  greater(a: Float32Array, b: Float32Array, out: Uint8Array, swap: boolean, threads: number): void;
  select(cond: Uint8Array, a: Float32Array, b: Float32Array, out: Float32Array, threads: number): void;
  /** out[c] = Σ_r x[r·cols + c] */
  sumRows(x: Float32Array, cols: number, out: Float32Array, threads: number): void;
  /** the adjoint of im2col: sums patch rows back into the image (dx is overwritten) */
  col2im(geometry: number[], cols: Float32Array, dx: Float32Array): void;
  /** one Adam step: m, v in place, new weights into out; hyper = [lr, beta1, beta2, epsilon, 1 − beta1^t, 1 − beta2^t] */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, hyper: number[], threads?: number): void;
}

const ADDON = join('native', 'build', 'Release', 'latentlab_kernels.node');

let cached: { kernels: NativeKernels | null; why: string } | null = null;

/** The addon, found by walking up from this file (src/engine/backend or out/main). */
export function nativeKernels(): { kernels: NativeKernels | null; why: string } {
  if (cached) return cached;
  if (process.env.LATENTLAB_NATIVE === 'off') return (cached = { kernels: null, why: 'native kernels off (LATENTLAB_NATIVE=off)' });
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const file = join(dir, ADDON);
    if (existsSync(file)) {
      try {
        return (cached = { kernels: nodeRequire()(file) as NativeKernels, why: '' });
      } catch (e) {
        return (cached = { kernels: null, why: `native kernels failed to load: ${String((e as Error).message).split('\n')[0]}` });
      }
    }
    dir = dirname(dir);
  }
  return (cached = { kernels: null, why: 'native kernels not built (npm install builds them; see scripts/build-native.js)' });
}

/** Threads for the native kernels: LATENTLAB_THREADS, else every core. */
let threads: number | null = null;
export function nativeThreads(k: NativeKernels): number {
  // once per process: kernels on the hot path (bias sums, Adam per variable) ask every call
  if (threads === null) {
    const env = Number(process.env.LATENTLAB_THREADS);
    threads = Number.isInteger(env) && env > 0 ? env : Math.max(1, k.info().cores);
  }
  return threads;
}
