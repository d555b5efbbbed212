// The wasm backend's matrix products and convolutions on the native addon
// (native/: SGEMM, im2col, col2im), reading and writing the wasm heap in place.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { nativeThreads, type NativeKernels } from './native';
import { convInfo, geometryOf, patchDims, type ConvAttrs } from './wasm-conv';
import type { Backend } from './wasm-heap';

/**
 * BatchMatMul on the native SGEMM (native/src/sgemm.cc: AVX2, all cores), reading
 * and writing the wasm heap in place. Operands with different batch shapes
 * (broadcasting) and non-float32 data take the wasm path.
 */
export function nativeMatMul(native: NativeKernels, fallback: KernelFunc): KernelFunc {
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

/**
 * The three convolution kernels on the native addon: im2col / col2im in C++ and
 * one SGEMM each, all on the wasm heap in place. NHWC float32 without dilation;
 * anything else goes to `fallback`.
 *   forward  Y[P, Co] = cols[P, K] · W[K, Co]
 *   dW       dW[K, Co] = colsᵀ · dY
 *   dX       dX = col2im(dY · Wᵀ)
 */
/** Floats of patch matrix per chunk of images (4M floats = 16 MB). */
const PATCH_FLOATS = 4 << 20;

export function nativeConv(native: NativeKernels, which: 'Conv2D' | 'Conv2DBackpropFilter' | 'Conv2DBackpropInput', fallback: KernelFunc): KernelFunc {
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
    const { K } = patchDims(info);
    const Co = info.outChannels;
    const N = info.batchSize;
    const perImage = info.outHeight * info.outWidth; // patch rows of one image
    const inImage = info.inHeight * info.inWidth * info.inChannels;
    // Images go through in chunks whose patch matrix stays under ~16 MB: memory
    // stays bounded at any batch size, and the matrix stays in cache between
    // im2col and the product.
    const chunk = Math.max(1, Math.min(N, Math.floor(PATCH_FLOATS / (perImage * K))));
    const scratch = wasm.makeOutput([chunk * perImage * K], 'float32');
    const geometry = geometryOf(info);
    try {
      const out = wasm.makeOutput(which === 'Conv2D' ? [N, info.outHeight, info.outWidth, Co] : which === 'Conv2DBackpropFilter' ? filterShape : inShape, 'float32');
      // views after every allocation: growing the heap detaches older views
      const cols = wasm.typedArrayFromHeap(scratch);
      const y = wasm.typedArrayFromHeap(out);
      const x = which === 'Conv2DBackpropInput' ? null : wasm.typedArrayFromHeap(inputs.x);
      const dy = which === 'Conv2D' ? null : wasm.typedArrayFromHeap(inputs.dy);
      const w = which === 'Conv2DBackpropFilter' ? null : wasm.typedArrayFromHeap(inputs.filter);
      for (let n0 = 0; n0 < N; n0 += chunk) {
        const n = Math.min(chunk, N - n0);
        const P = n * perImage;
        geometry[0] = n;
        const rows = (a: Float32Array, width: number) => a.subarray(n0 * width, (n0 + n) * width);
        if (which === 'Conv2D') {
          // Y[P, Co] = cols[P, K] · W[K, Co]
          native.im2col(geometry, rows(x!, inImage), cols);
          native.sgemm(false, false, P, Co, K, cols, w!, rows(y, perImage * Co), threads);
        } else if (which === 'Conv2DBackpropFilter') {
          // dW[K, Co] += colsᵀ · dY, summed over the chunks
          native.im2col(geometry, rows(x!, inImage), cols);
          native.sgemm(true, false, K, Co, P, cols, rows(dy!, perImage * Co), y, threads, n0 > 0);
        } else {
          // dX = col2im(dY · Wᵀ)
          native.sgemm(false, true, P, K, Co, rows(dy!, perImage * Co), w!, cols, threads);
          native.col2im(geometry, cols, rows(y, inImage));
        }
      }
      return out;
    } finally {
      wasm.disposeData(scratch.dataId);
    }
  };
}
