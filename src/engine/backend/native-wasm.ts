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
 * The three convolution kernels on the native addon, on the wasm heap in place.
 * NHWC float32 without dilation; anything else goes to `fallback`.
 *   forward  Y[P, Co] = cols[P, K] · W[K, Co]
 *   dW       dW[K, Co] = colsᵀ · dY
 *   dX       stride 1: the forward convolution of dY with the filter turned
 *            180° and its channels swapped; larger strides: the same per phase
 *            of the stride (native convInputGrad), or col2im(dY · Wᵀ) for
 *            images of few channels
 * The patch matrix cols is implicit in the first two (native conv: gathered
 * block by block inside the product, never stored whole), so they read the
 * image about once; only strided dX stores patches, in bounded chunks.
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
    const Co = info.outChannels;
    const geometry = geometryOf(info);
    const out = wasm.makeOutput(which === 'Conv2D' ? [info.batchSize, info.outHeight, info.outWidth, Co] : which === 'Conv2DBackpropFilter' ? filterShape : inShape, 'float32');
    if (which === 'Conv2D') {
      native.conv(geometry, false, Co, wasm.typedArrayFromHeap(inputs.x), wasm.typedArrayFromHeap(inputs.filter), wasm.typedArrayFromHeap(out), threads);
    } else if (which === 'Conv2DBackpropFilter') {
      native.conv(geometry, true, Co, wasm.typedArrayFromHeap(inputs.x), wasm.typedArrayFromHeap(inputs.dy), wasm.typedArrayFromHeap(out), threads);
    } else if ((info.strideHeight === 1 && info.strideWidth === 1) || info.inChannels >= 4) {
      // one implicit product per phase of the stride (stride 1: one, straight into
      // dX); its width is the input's channels, so a strided 1-channel image is
      // better served by col2im
      native.convInputGrad(geometry, Co, wasm.typedArrayFromHeap(inputs.dy), wasm.typedArrayFromHeap(inputs.filter), wasm.typedArrayFromHeap(out), threads);
    } else {
      try {
        inputGradCol2im(native, threads, wasm, info, inputs.dy, inputs.filter, out);
      } catch (e) {
        wasm.disposeData(out.dataId); // a full heap (its scratch did not fit): the output is no one's
        throw e;
      }
    }
    return out;
  };
}

/** dX = col2im(dY · Wᵀ) for strided convolutions, in chunks of images whose patches stay under PATCH_FLOATS. */
function inputGradCol2im(native: NativeKernels, threads: number, wasm: Backend, info: ReturnType<typeof convInfo>, dy: TensorInfo, filter: TensorInfo, out: TensorInfo): void {
  const { K } = patchDims(info);
  const Co = info.outChannels;
  const N = info.batchSize;
  const perImage = info.outHeight * info.outWidth; // patch rows of one image
  const inImage = info.inHeight * info.inWidth * info.inChannels;
  const chunk = Math.max(1, Math.min(N, Math.floor(PATCH_FLOATS / (perImage * K))));
  const scratch = wasm.makeOutput([chunk * perImage * K], 'float32');
  const geometry = geometryOf(info);
  try {
    // views after every allocation: growing the heap detaches older views
    const cols = wasm.typedArrayFromHeap(scratch);
    const y = wasm.typedArrayFromHeap(out);
    const g = wasm.typedArrayFromHeap(dy);
    const w = wasm.typedArrayFromHeap(filter);
    for (let n0 = 0; n0 < N; n0 += chunk) {
      const n = Math.min(chunk, N - n0);
      geometry[0] = n;
      native.sgemm(false, true, n * perImage, K, Co, g.subarray(n0 * perImage * Co, (n0 + n) * perImage * Co), w, cols, threads);
      native.col2im(geometry, cols, y.subarray(n0 * inImage, (n0 + n) * inImage));
    }
  } finally {
    wasm.disposeData(scratch.dataId);
  }
}
