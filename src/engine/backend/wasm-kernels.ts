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
// on it at all: conv2dBackpropFilter below computes it as im2col followed by one
// matrix product on the fast kernel.
import {
  backend_util, getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo,
} from '@tensorflow/tfjs';

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

/**
 * dW[i,j,c,o] = Σ_{n,y,x} X[n, y·sh + i − top, x·sw + j − left, c] · dY[n,y,x,o]  (NHWC).
 * The patches are laid out transposed, colsT[(i,j,c), (n,y,x)], so the product
 * colsT · dY needs no transpose.
 */
const conv2dBackpropFilter: KernelFunc = ({ inputs, attrs, backend }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const a = attrs as unknown as {
    strides: [number, number] | number; pad: 'same' | 'valid' | number | backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  if (a.dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  const b = backend as unknown as Backend;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode, false, 'channelsLast',
  );
  const { batchSize: N, inHeight: H, inWidth: W, inChannels: C, outHeight: Ho, outWidth: Wo, outChannels: Co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const P = N * Ho * Wo;
  const K = fh * fw * C;
  const colsT = b.makeOutput([1, K, P], 'float32');
  // views after the allocation: growing the heap detaches older views
  const xs = b.typedArrayFromHeap(x);
  const cols = b.typedArrayFromHeap(colsT);
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      for (let c = 0; c < C; c++) {
        const row = ((i * fw + j) * C + c) * P;
        let p = 0;
        for (let n = 0; n < N; n++) {
          for (let y = 0; y < Ho; y++) {
            const iy = y * sh + i - top;
            const inRow = iy >= 0 && iy < H;
            const base = (n * H + iy) * W;
            for (let xo = 0; xo < Wo; xo++, p++) {
              const ix = xo * sw + j - left;
              cols[row + p] = inRow && ix >= 0 && ix < W ? xs[(base + ix) * C + c] : 0;
            }
          }
        }
      }
    }
  }
  const matMul = getKernel('BatchMatMul', 'wasm')!;
  const dy3: TensorInfo = { dataId: dy.dataId, shape: [1, P, Co], dtype: dy.dtype };
  try {
    const out = matMul.kernelFunc({ inputs: { a: colsT, b: dy3 }, attrs: { transposeA: false, transposeB: false }, backend }) as TensorInfo;
    return { dataId: out.dataId, shape: a.filterShape, dtype: 'float32' };
  } finally {
    b.disposeData(colsT.dataId);
  }
};

/** Installs our wasm kernels once per process; call after the wasm backend module has loaded. */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  untransposed('BatchMatMul');
  untransposed('_FusedMatMul');
  if (!getKernel('Conv2DBackpropFilter', 'wasm')) {
    registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2dBackpropFilter });
  }
}
