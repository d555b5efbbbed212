// Kernels we register for the wasm backend.
//
// tfjs-backend-wasm's BatchMatMul (XNNPACK) runs at ~30 GFLOP/s on this machine
// when neither operand is transposed, but at ~2.5 GFLOP/s when one is: the
// transposed paths fall back to a slow loop. Backpropagation through a dense
// layer needs exactly those (dX = dY·Wᵀ, dW = Xᵀ·dY), so training spent ~90% of
// each step there. We transpose the operand explicitly (a cheap O(n) copy) and
// call the fast untransposed kernel instead.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

interface Backend {
  disposeData(dataId: object): void;
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

/** Installs our wasm kernels once per process; call after the wasm backend module has loaded. */
export function installWasmKernels(): void {
  if (installed) return;
  installed = true;
  untransposed('BatchMatMul');
  untransposed('_FusedMatMul');
}
