// Convolution gradients for the wasm backend in TypeScript: wasm has no
// Conv2DBackpropFilter, and its Conv2DBackpropInput is a slow loop. Both become
// im2col / col2im around one matrix product, or, for stride-1 'same' kernels,
// XNNPACK convolutions. The portable path where the native addon is not built.
import { backend_util, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { batchMatMul, wasmKernel, type Backend, type Call } from './wasm-heap';

export type ConvAttrs = {
  strides: [number, number] | number;
  pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
};

export function convInfo(inShape: number[], filterShape: number[], a: ConvAttrs, kernel: string): backend_util.Conv2DInfo {
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
export function patchDims(info: backend_util.Conv2DInfo): { P: number; K: number; C: number } {
  const C = info.inChannels;
  return { P: info.batchSize * info.outHeight * info.outWidth, K: info.filterHeight * info.filterWidth * C, C };
}

/**
 * dW = colsᵀ · dY (NHWC), where cols[p, (i,j,c)] = X[n, y·sh + i − top, x·sw + j − left, c]
 * for output position p = (n,y,x): im2col copying Ci-long runs, then one matrix product.
 */
export const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
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
export const conv2dBackpropInput: KernelFunc = ({ inputs, attrs, backend }) => {
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


/** The 12 numbers the native im2col / col2im take. */
export const geometryOf = (i: backend_util.Conv2DInfo) => [
  i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.filterHeight, i.filterWidth,
  i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.outHeight, i.outWidth,
];
