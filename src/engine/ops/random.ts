// The engine's random draws: uniform, normal and Bernoulli tensors from a seed.
//
// tfjs's own random ops fill their tensors in JavaScript one value at a time
// (~5–25 ns each), which was a sixth of an RBM's training step. These are
// counter-based instead: element i is a hash of (seed, i) (murmur3's finalizer),
// so they run natively over both cores on the wasm backend, and in plain JS with
// the very same numbers anywhere else. Same seed, same draws, on every backend.
import * as tf from '@tensorflow/tfjs';
import { nativeKernels, nativeThreads } from '../backend/native';
import type { Backend } from '../backend/wasm-heap';
import { webgpuRandom } from '../backend/webgpu-kernels';

const KERNEL = 'LatentlabRandom';
const DIST = { uniform: 0, normal: 1, bernoulli: 2 } as const;
type Dist = keyof typeof DIST;

const fmix32 = (h: number) => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};
const draw = (key: number, i: number) => fmix32((Math.imul(i, 0x9e3779b9) ^ key) >>> 0);
const keyOf = (seed: number) => fmix32((seed ^ 0x5bd1e995) >>> 0);

/** The draws in JS, as native/src/elementwise.cc's random() makes them. */
function drawJs(dist: Dist, seed: number, n: number, p?: Float32Array | Int32Array | Uint8Array): Float32Array {
  const key = keyOf(seed >>> 0);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    if (dist === 'normal') {
      const j = i & ~1;
      const u1 = ((draw(key, j) >>> 8) + 1) / 16777216;
      const u2 = (draw(key, j + 1) >>> 8) / 16777216;
      const r = Math.sqrt(-2 * Math.log(u1));
      out[i] = r * (i & 1 ? Math.sin(2 * Math.PI * u2) : Math.cos(2 * Math.PI * u2));
    } else {
      const u = Math.fround((draw(key, i) >>> 8) / 16777216);
      out[i] = dist === 'uniform' ? u : u < p![i] ? 1 : 0;
    }
  }
  return out;
}

let webgpuRegistered = false;
function webgpuReady(): boolean {
  if (tf.getBackend() !== 'webgpu' || process.env.LATENTLAB_WEBGPU_KERNELS === 'off') return false;
  if (!webgpuRegistered) {
    webgpuRegistered = true;
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: 'webgpu',
      kernelFunc: (call) => {
        const { dist, seed, shape } = call.attrs as unknown as { dist: Dist; seed: number; shape: number[] };
        const p = (call.inputs as { p?: tf.TensorInfo }).p;
        return webgpuRandom(call.backend, dist, keyOf(seed >>> 0), shape, p);
      },
    });
    if (!registered) tf.registerGradient({ kernelName: KERNEL, inputsToSave: [], gradFunc: (dy) => ({ p: () => tf.zerosLike(dy as tf.Tensor) }) });
    registered = true;
  }
  return true;
}

let registered = false;
let wasmRegistered = false;
function nativeReady(): boolean {
  if (webgpuReady()) return true;
  if (tf.getBackend() !== 'wasm') return false;
  const native = nativeKernels().kernels;
  if (!native) return false;
  if (!wasmRegistered) {
    wasmRegistered = true;
    const threads = nativeThreads(native);
    tf.registerKernel({
      kernelName: KERNEL,
      backendName: 'wasm',
      kernelFunc: (call) => {
        const { dist, seed, shape } = call.attrs as unknown as { dist: Dist; seed: number; shape: number[] };
        const p = (call.inputs as { p?: tf.TensorInfo }).p;
        const wasm = call.backend as unknown as Backend;
        const out = wasm.makeOutput(shape, 'float32');
        native.random(DIST[dist], seed >>> 0, wasm.typedArrayFromHeap(out), p ? wasm.typedArrayFromHeap(p) : null, threads);
        return out;
      },
    });
    // a draw has no gradient with respect to its probabilities
    if (!registered) tf.registerGradient({ kernelName: KERNEL, inputsToSave: [], gradFunc: (dy) => ({ p: () => tf.zerosLike(dy as tf.Tensor) }) });
    registered = true;
  }
  return true;
}

/**
 * The numbers `uniform([n], seed)` holds, as a plain array: for draws the host side
 * needs (sampling banks, index picks) without reading a tensor back from a GPU.
 */
export function uniformValues(seed: number, n: number): Float32Array {
  return drawJs('uniform', seed, n);
}

/** Uniform draws in [lo, hi). */
export function uniform(shape: number[], seed: number, lo = 0, hi = 1): tf.Tensor {
  const u = nativeReady() ? (tf.engine().runKernel(KERNEL, {}, { dist: 'uniform', seed, shape }) as tf.Tensor) : tf.tensor(drawJs('uniform', seed, shape.reduce((a, b) => a * b, 1)), shape);
  if (lo === 0 && hi === 1) return u;
  return tf.tidy(() => tf.add(tf.mul(u, hi - lo), lo));
}

/** Normal draws with the given mean and standard deviation. */
export function normal(shape: number[], seed: number, mean = 0, std = 1): tf.Tensor {
  const z = nativeReady() ? (tf.engine().runKernel(KERNEL, {}, { dist: 'normal', seed, shape }) as tf.Tensor) : tf.tensor(drawJs('normal', seed, shape.reduce((a, b) => a * b, 1)), shape);
  if (mean === 0 && std === 1) return z;
  return tf.tidy(() => tf.add(tf.mul(z, std), mean));
}

/** 1 with probability p (elementwise), else 0: a binary sample of p's shape, float32. */
export function bernoulli(p: tf.Tensor, seed: number): tf.Tensor {
  if (p.dtype === 'float32' && nativeReady()) return tf.engine().runKernel(KERNEL, { p }, { dist: 'bernoulli', seed, shape: p.shape }) as tf.Tensor;
  // the same uniform draws, compared where p lives
  return tf.tidy(() => tf.cast(tf.less(uniform(p.shape, seed), p), 'float32'));
}
