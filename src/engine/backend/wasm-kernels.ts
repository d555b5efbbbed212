// Kernels we register for the wasm backend.
//
// tfjs-backend-wasm's BatchMatMul (XNNPACK) runs at ~30 GFLOP/s on this machine
// when neither operand is transposed, but at ~2.5 GFLOP/s when one is: the
// transposed paths fall back to a slow loop. Backpropagation through a dense
// layer needs exactly those (dX = dY·Wᵀ, dW = Xᵀ·dY), so training spent ~90% of
// each step there. We transpose the operand explicitly (a cheap O(n) copy) and
// call the fast untransposed kernel instead.
//
// wasm also has no Conv2DBackpropFilter, so convolutional models could not train
// on it at all, and its Conv2DBackpropInput is a slow loop: both are replaced by
// im2col / col2im around one matrix product on the fast kernel.
import {
  backend_util, getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs';

import { nativeKernels, nativeThreads, type NativeKernels } from './native';

interface Backend {
  disposeData(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

type Call = Parameters<KernelFunc>[0];

let installed = false;

/** Swaps the last two dimensions with the backend's own Transpose kernel. */
function transposeLast2(x: TensorInfo, backend: Call['backend']): TensorInfo {
  const transpose = getKernel('Transpose', 'wasm');
  if (!transpose) throw new Error('wasm backend has no Transpose kernel');
  const r = x.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
  return transpose.kernelFunc({ inputs: { x }, attrs: { perm }, backend }) as TensorInfo;
}

/** Wraps a matmul-like kernel (BatchMatMul, _FusedMatMul) so it never runs transposed. */
function untransposed(name: string): void {
  const original = getKernel(name, 'wasm');
  if (!original) return;
  const fast: KernelFunc = (call) => {
    const attrs = call.attrs as { transposeA?: boolean; transposeB?: boolean };
    if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(call);
    const inputs = { ...(call.inputs as Record<string, TensorInfo>) };
    const temps: TensorInfo[] = [];
    if (attrs.transposeA) temps.push((inputs.a = transposeLast2(inputs.a, call.backend)));
    if (attrs.transposeB) temps.push((inputs.b = transposeLast2(inputs.b, call.backend)));
    try {
      return original.kernelFunc({ ...call, inputs, attrs: { ...call.attrs, transposeA: false, transposeB: false } });
    } finally {
      for (const t of temps) (call.backend as unknown as Backend).disposeData(t.dataId);
    }
  };
  unregisterKernel(name, 'wasm');
  registerKernel({ ...(original as KernelConfig), kernelFunc: fast });
}

type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

function convInfo(inShape: number[], filterShape: number[], a: ConvAttrs, kernel: string): backend_util.Conv2DInfo {
  if (a.dataFormat === 'NCHW') throw new Error(`${kernel} on wasm supports NHWC only`);
  return backend_util.computeConv2DInfo(
    inShape as [number, number, number, number], filterShape as [number, number, number, number],
    a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
  );
}

/**
 * Walks every (output position p, filter tap i,j) pair whose input pixel lies
 * inside the image, with the offsets of its Ci-long runs: in the patch matrix
 * cols[p, (i,j,:)] and in the NHWC input x[n, iy, ix, :].
 */
function forEachTap(info: backend_util.Conv2DInfo, visit: (colOffset: number, inOffset: number) => void): void {
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const K = fh * fw * C;
  let p = 0;
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < Ho; y++) {
      for (let xo = 0; xo < Wo; xo++, p++) {
        for (let i = 0; i < fh; i++) {
          const iy = y * sh + i - top;
          if (iy < 0 || iy >= H) continue;
          const rowIn = (n * H + iy) * W;
          for (let j = 0; j < fw; j++) {
            const ix = xo * sw + j - left;
            if (ix < 0 || ix >= W) continue;
            visit(p * K + (i * fw + j) * C, (rowIn + ix) * C);
          }
        }
      }
    }
  }
}

/** P output positions × K filter taps (·channels) of the patch matrix, and Ci. */
function patchDims(info: backend_util.Conv2DInfo): { P: number; K: number; C: number } {
  const C = info.inChannels;
  return { P: info.batchSize * info.outHeight * info.outWidth, K: info.filterHeight * info.filterWidth * C, C };
}

const batchMatMul = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: Call['backend']) =>
  getKernel('BatchMatMul', 'wasm')!.kernelFunc({ inputs: { a, b }, attrs: { transposeA, transposeB }, backend }) as TensorInfo;

/**
 * dW = colsᵀ · dY (NHWC), where cols[p, (i,j,c)] = X[n, y·sh + i − top, x·sw + j − left, c]
 * for output position p = (n,y,x): im2col copying Ci-long runs, then one matrix product.
 */
const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { filterShape: [number, number, number, number] };
  const b = backend as unknown as Backend;
  const info = convInfo(x.shape, a.filterShape, a, 'Conv2DBackpropFilter');
  const fast = filterGradSameStride1(info, x, dy, backend);
  if (fast) return fast;
  const { P, K, C } = patchDims(info);
  const patches = b.makeOutput([1, P, K], 'float32');
  // views after the allocation: growing the heap detaches older views
  const xs = b.typedArrayFromHeap(x);
  const cols = b.typedArrayFromHeap(patches);
  cols.fill(0);
  forEachTap(info, (col, src) => {
    for (let c = 0; c < C; c++) cols[col + c] = xs[src + c];
  });
  const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, P, info.outChannels], dtype: dy.dtype };
  try {
    const out = batchMatMul(patches, dy3, true, false, backend);
    return { dataId: out.dataId, shape: a.filterShape, dtype: 'float32' };
  } finally {
    b.disposeData(patches.dataId);
  }
};

const wasmKernel = (backend: Call['backend']) => (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
  getKernel(name, 'wasm')!.kernelFunc({ inputs, attrs: attrs as never, backend }) as TensorInfo;

function isSameStride1(info: backend_util.Conv2DInfo): boolean {
  const { filterHeight: fh, filterWidth: fw, strideHeight, strideWidth, dilationHeight, dilationWidth, padInfo } = info;
  return strideHeight === 1 && strideWidth === 1 && dilationHeight === 1 && dilationWidth === 1 && fh % 2 === 1 && fw % 2 === 1 &&
    padInfo.top === (fh - 1) / 2 && padInfo.bottom === (fh - 1) / 2 && padInfo.left === (fw - 1) / 2 && padInfo.right === (fw - 1) / 2;
}

/**
 * For a stride-1 'same' convolution, dW is also a convolution: with the batch
 * moved into the channels, X' = X[c, h, w, n] convolved with the "kernel"
 * dY' = dY[y, x, n, o] (padded by the original padding) gives dW[c, i, j, o].
 * XNNPACK runs it without materializing the im2col matrix.
 */
function filterGradSameStride1(info: backend_util.Conv2DInfo, x: TensorInfo, dy: TensorInfo, backend: Call['backend']): TensorInfo | null {
  if (!isSameStride1(info)) return null;
  const b = backend as unknown as Backend;
  const kernel = wasmKernel(backend);
  const { top, bottom, left, right } = info.padInfo;
  const xT = kernel('Transpose', { x }, { perm: [3, 1, 2, 0] });
  const dyT = kernel('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  let conv: TensorInfo | null = null;
  try {
    conv = kernel('Conv2D', { x: xT, filter: dyT }, {
      strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined,
    });
    return kernel('Transpose', { x: conv }, { perm: [1, 2, 0, 3] });
  } finally {
    for (const t of [xT, dyT, conv]) if (t) b.disposeData(t.dataId);
  }
}

/**
 * For a stride-1 'same' convolution with an odd kernel, dX is itself a 'same'
 * convolution of dY with the kernel flipped in space and its channels swapped,
 * which XNNPACK's Conv2D does ~3× faster than the matrix product + col2im.
 */
function inputGradSameStride1(info: backend_util.Conv2DInfo, dy: TensorInfo, filter: TensorInfo, backend: Call['backend']): TensorInfo | null {
  if (!isSameStride1(info)) return null;
  const b = backend as unknown as Backend;
  const kernel = wasmKernel(backend);
  const flipped = kernel('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = kernel('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] });
  try {
    return kernel('Conv2D', { x: dy, filter: swapped }, { strides: [1, 1], pad: 'same', dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
  } finally {
    b.disposeData(flipped.dataId);
    b.disposeData(swapped.dataId);
  }
}

/**
 * dX = col2im(dY · Wᵀ): the gradient of a convolution with respect to its input,
 * which is also the forward pass of a transposed convolution. tfjs's wasm kernel
 * for it is a plain loop (60% of a conv VAE step); this is one matrix product on
 * the fast kernel and a scatter-add of Ci-long runs.
 */
const conv2dBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const a = attrs as unknown as ConvAttrs & { inputShape: [number, number, number, number] };
  const b = backend as unknown as Backend;
  const info = convInfo(a.inputShape, filter.shape, a, 'Conv2DBackpropInput');
  const fast = inputGradSameStride1(info, dy, filter, backend);
  if (fast) return fast;
  const { P, K, C } = patchDims(info);
  const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, P, info.outChannels], dtype: dy.dtype };
  const w3: TensorInfo = { dataId: filter.dataId, shape: [1, K, info.outChannels], dtype: filter.dtype };
  const patches = batchMatMul(dy3, w3, false, true, backend); // [1, P, K]
  try {
    const dx = b.makeOutput(a.inputShape, 'float32');
    const cols = b.typedArrayFromHeap(patches);
    const out = b.typedArrayFromHeap(dx);
    out.fill(0);
    forEachTap(info, (col, dst) => {
      for (let c = 0; c < C; c++) out[dst + c] += cols[col + c];
    });
    return dx;
  } finally {
    b.disposeData(patches.dataId);
  }
};

/**
 * BatchMatMul on the native SGEMM (native/src/sgemm.cc: AVX2, all cores), reading
 * and writing the wasm heap in place. Operands with different batch shapes
 * (broadcasting) and non-float32 data take the wasm path.
 */
function nativeMatMul(native: NativeKernels, fallback: KernelFunc): KernelFunc {
  const threads = nativeThreads(native);
  return (call) => {
    const { a, b } = call.inputs as { a: TensorInfo; b: TensorInfo };
    const { transposeA, transposeB } = call.attrs as { transposeA?: boolean; transposeB?: boolean };
    const ra = a.shape.length;
    const rb = b.shape.length;
    const batchA = a.shape.slice(0, -2);
    const batchB = b.shape.slice(0, -2);
    const sameBatch = batchA.length === batchB.length && batchA.every((d, i) => d === batchB[i]);
    if (a.dtype !== 'float32' || b.dtype !== 'float32' || !sameBatch) return fallback(call);
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
    if (k !== kb) return fallback(call); // let tfjs's kernel raise its usual shape error
    const batches = batchA.reduce((x, y) => x * y, 1);
    const wasm = call.backend as unknown as Backend;
    const out = wasm.makeOutput([...batchA, m, n], 'float32');
    // views after the allocation: growing the heap detaches older views
    const A = wasm.typedArrayFromHeap(a);
    const B = wasm.typedArrayFromHeap(b);
    const C = wasm.typedArrayFromHeap(out);
    for (let i = 0; i < batches; i++) {
      native.sgemm(!!transposeA, !!transposeB, m, n, k,
        A.subarray(i * m * k, (i + 1) * m * k), B.subarray(i * k * n, (i + 1) * k * n), C.subarray(i * m * n, (i + 1) * m * n), threads);
    }
    return out;
  };
}

const geometryOf = (i: backend_util.Conv2DInfo) => [
  i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.filterHeight, i.filterWidth,
  i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.outHeight, i.outWidth,
];

/**
 * The three convolution kernels on the native addon: im2col / col2im in C++ and
 * one SGEMM each, all on the wasm heap in place. NHWC float32 without dilation;
 * anything else goes to `fallback`.
 *   forward  Y[P, Co] = cols[P, K] · W[K, Co]
 *   dW       dW[K, Co] = colsᵀ · dY
 *   dX       dX = col2im(dY · Wᵀ)
 */
function nativeConv(native: NativeKernels, which: 'Conv2D' | 'Conv2DBackpropFilter' | 'Conv2DBackpropInput', fallback: KernelFunc): KernelFunc {
  const threads = nativeThreads(native);
  return (call) => {
    const attrs = call.attrs as unknown as ConvAttrs & {
      dilations?: number | [number, number]; filterShape?: [number, number, number, number]; inputShape?: [number, number, number, number];
    };
    const inputs = call.inputs as Record<string, TensorInfo>;
    const dil = attrs.dilations ?? 1;
    const undilated = Array.isArray(dil) ? dil.every((d) => d === 1) : dil === 1;
    if (attrs.dataFormat === 'NCHW' || !undilated || Object.values(inputs).some((t) => t.dtype !== 'float32')) return fallback(call);
    const wasm = call.backend as unknown as Backend;
    const inShape = which === 'Conv2DBackpropInput' ? attrs.inputShape! : inputs.x.shape;
    const filterShape = which === 'Conv2DBackpropFilter' ? attrs.filterShape! : inputs.filter.shape;
    const info = convInfo(inShape, filterShape, attrs, which);
    const { P, K } = patchDims(info);
    const Co = info.outChannels;
    const geometry = geometryOf(info);
    const scratch = wasm.makeOutput([P * K], 'float32');
    try {
      if (which === 'Conv2D') {
        const out = wasm.makeOutput([info.batchSize, info.outHeight, info.outWidth, Co], 'float32');
        const cols = wasm.typedArrayFromHeap(scratch);
        native.im2col(geometry, wasm.typedArrayFromHeap(inputs.x), cols);
        native.sgemm(false, false, P, Co, K, cols, wasm.typedArrayFromHeap(inputs.filter), wasm.typedArrayFromHeap(out), threads);
        return out;
      }
      if (which === 'Conv2DBackpropFilter') {
        const out = wasm.makeOutput(filterShape, 'float32');
        const cols = wasm.typedArrayFromHeap(scratch);
        native.im2col(geometry, wasm.typedArrayFromHeap(inputs.x), cols);
        native.sgemm(true, false, K, Co, P, cols, wasm.typedArrayFromHeap(inputs.dy), wasm.typedArrayFromHeap(out), threads);
        return out;
      }
      const out = wasm.makeOutput(inShape, 'float32');
      const cols = wasm.typedArrayFromHeap(scratch);
      native.sgemm(false, true, P, K, Co, wasm.typedArrayFromHeap(inputs.dy), wasm.typedArrayFromHeap(inputs.filter), cols, threads);
      native.col2im(geometry, cols, wasm.typedArrayFromHeap(out));
      return out;
    } finally {
      wasm.disposeData(scratch.dataId);
    }
  };
}

/** What runs the wasm backend's matrix products, for the backend detail line. */
export function wasmKernelsDetail(): string {
  if (process.env.LATENTLAB_WASM_KERNELS === 'off') return "tfjs's own wasm kernels (LATENTLAB_WASM_KERNELS=off)";
  const { kernels, why } = nativeKernels();
  if (!kernels) return why;
  const path = kernels.info().sgemm;
  return path === 'portable' ? 'no SIMD path for the native kernels on this CPU' : `native sgemm (${path}, ${nativeThreads(kernels)} threads)`;
}

/**
 * Sum over every axis but the last (a bias gradient: dY[N,H,W,C] → [C]) as one
 * pass over the heap. tfjs-wasm transposes the reduced axes to the back first,
 * which made these sums ~13 ms each in a PixelCNN step. Other sums: `fallback`.
 */
function sumLeadingAxes(fallback: KernelFunc): KernelFunc {
  return (call) => {
    const { x } = call.inputs as { x: TensorInfo };
    const { axis, keepDims } = call.attrs as { axis: number | number[]; keepDims: boolean };
    const r = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
    const leading = r >= 2 && axes.length === r - 1 && axes.every((a, i) => a === i);
    if (x.dtype !== 'float32' || !leading) return fallback(call);
    const wasm = call.backend as unknown as Backend;
    const C = x.shape[r - 1];
    const out = wasm.makeOutput(keepDims ? [...Array(r - 1).fill(1), C] : [C], 'float32');
    const xs = wasm.typedArrayFromHeap(x);
    const acc = new Float64Array(C);
    for (let i = 0; i < xs.length; i += C) for (let c = 0; c < C; c++) acc[c] += xs[i + c];
    wasm.typedArrayFromHeap(out).set(acc);
    return out;
  };
}

/** Installs our wasm kernels once per process; call after the wasm backend module has loaded. */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  // LATENTLAB_WASM_KERNELS=off measures tfjs's own wasm kernels (the bench's "before")
  if (process.env.LATENTLAB_WASM_KERNELS === 'off') return;
  untransposed('BatchMatMul');
  untransposed('_FusedMatMul');
  for (const [kernelName, kernelFunc] of [
    ['Conv2DBackpropFilter', conv2dBackpropFilter],
    ['Conv2DBackpropInput', conv2dBackpropInput],
  ] as const) {
    if (getKernel(kernelName, 'wasm')) unregisterKernel(kernelName, 'wasm');
    registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  const sum = getKernel('Sum', 'wasm')!;
  unregisterKernel('Sum', 'wasm');
  registerKernel({ ...sum, kernelFunc: sumLeadingAxes(sum.kernelFunc) });
  // the native addon, where it was built, takes over the products and convolutions;
  // its portable C++ path is slower than XNNPACK's SIMD, so only a vector path counts
  const { kernels } = nativeKernels();
  if (kernels && kernels.info().sgemm !== 'portable') {
    const wasmPath = getKernel('BatchMatMul', 'wasm')!;
    unregisterKernel('BatchMatMul', 'wasm');
    registerKernel({ ...wasmPath, kernelFunc: nativeMatMul(kernels, wasmPath.kernelFunc) });
    for (const name of ['Conv2D', 'Conv2DBackpropFilter', 'Conv2DBackpropInput'] as const) {
      const previous = getKernel(name, 'wasm')!;
      unregisterKernel(name, 'wasm');
      registerKernel({ ...previous, kernelFunc: nativeConv(kernels, name, previous.kernelFunc) });
    }
  }
}
