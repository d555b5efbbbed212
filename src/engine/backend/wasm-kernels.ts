// Kernels we register for the wasm backend.
//
// tfjs-backend-wasm's BatchMatMul (XNNPACK) runs at ~30 GFLOP/s on this machine
// when neither operand is transposed, but at ~2.5 GFLOP/s when one is: the
// transposed paths fall back to a slow loop. Backpropagation through a dense
// layer needs exactly those (dX = dY·Wᵀ, dW = Xᵀ·dY), so training spent ~90% of
// each step there. We transpose the operand explicitly (a cheap O(n) copy) and
// call the fast untransposed kernel instead.
//
// Convolution gradients: wasm-conv.ts. Where the native addon is built, matrix
// products and convolutions run on it instead: native-wasm.ts.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { nativeKernels, nativeThreads } from './native';
import { installActivationGradients, installNativeElementwise, nativeSumRows } from './native-elementwise';
import { nativeConv, nativeMatMul } from './native-wasm';
import { conv2dBackpropFilter, conv2dBackpropInput } from './wasm-conv';
import type { Backend, Call } from './wasm-heap';

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
function sumLeadingAxes(fallback: KernelFunc, mean = false): KernelFunc {
  return (call) => {
    const { x } = call.inputs as { x: TensorInfo };
    const { axis, keepDims } = call.attrs as { axis: number | number[]; keepDims: boolean };
    const r = x.shape.length;
    const axes = (Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + r : a)).sort((a, b) => a - b);
    const leading = r >= 2 && axes.length === r - 1 && axes.every((a, i) => a === i);
    const native = nativeKernels().kernels;
    // a mean only where the native sum is (tfjs's own Mean is no slower than a JS loop)
    if (x.dtype !== 'float32' || !leading || (mean && !native)) return fallback(call);
    const wasm = call.backend as unknown as Backend;
    const C = x.shape[r - 1];
    const out = wasm.makeOutput(keepDims ? [...Array(r - 1).fill(1), C] : [C], 'float32');
    const xs = wasm.typedArrayFromHeap(x);
    if (native) {
      const o = wasm.typedArrayFromHeap(out);
      nativeSumRows(native, xs, C, o);
      if (mean) {
        const rows = xs.length / C;
        for (let c = 0; c < C; c++) o[c] /= rows;
      }
      return out;
    }
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
  const mean = getKernel('Mean', 'wasm')!;
  unregisterKernel('Mean', 'wasm');
  registerKernel({ ...mean, kernelFunc: sumLeadingAxes(mean.kernelFunc, true) });
  // the native addon, where it was built, takes over the products and convolutions;
  // its portable C++ path is slower than XNNPACK's SIMD, so only a vector path counts
  const { kernels } = nativeKernels();
  if (kernels) {
    installNativeElementwise(kernels);
    installActivationGradients(kernels);
  }
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
