// Shared by our wasm kernels: the parts of tfjs-backend-wasm's backend they use
// (its heap views and buffers), and calling another wasm kernel from inside one.
import { getKernel, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';

export interface Backend {
  disposeData(dataId: object): void;
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: 'float32' | 'bool'): TensorInfo;
  /** a view of the tensor's heap bytes: Float32Array for float32, Uint8Array for bool */
  typedArrayFromHeap(t: TensorInfo): Float32Array;
}

export type Call = Parameters<KernelFunc>[0];

/** Runs another wasm kernel from inside one (no tensors, no engine bookkeeping). */
export const wasmKernel = (backend: Call['backend']) => (name: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) =>
  getKernel(name, 'wasm')!.kernelFunc({ inputs, attrs: attrs as never, backend }) as TensorInfo;

/** BatchMatMul through whatever kernel is registered for it now (ours, when installed). */
export const batchMatMul = (a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, backend: Call['backend']) =>
  getKernel('BatchMatMul', 'wasm')!.kernelFunc({ inputs: { a, b }, attrs: { transposeA, transposeB }, backend }) as TensorInfo;
