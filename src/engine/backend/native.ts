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
  /** the adjoint of im2col: sums patch rows back into the image (dx is overwritten) */
  col2im(geometry: number[], cols: Float32Array, dx: Float32Array): void;
  /** one Adam step: m, v in place, new weights into out; hyper = [lr, beta1, beta2, epsilon, 1 − beta1^t, 1 − beta2^t] */
  adam(w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array, hyper: number[]): void;
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
export function nativeThreads(k: NativeKernels): number {
  const env = Number(process.env.LATENTLAB_THREADS);
  return Number.isInteger(env) && env > 0 ? env : Math.max(1, k.info().cores);
}
