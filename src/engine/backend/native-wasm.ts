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
