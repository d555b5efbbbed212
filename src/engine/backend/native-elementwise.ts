// The wasm backend's elementwise kernels, bias-gradient sums, Identity and Cast on
// the native addon (native/src/elementwise.cc), reading and writing the wasm heap
// in place. tfjs-wasm runs these one 128-bit lane at a time on one core; here
// they are plain C++ loops split over the cores, which matters because a
// convolutional model's activations are tens of megabytes per step, each
// elementwise op one pass over them. Shapes the kernels do not cover (general
// broadcasting, other dtypes) go to the previous kernel.
import { backend_util, getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { nativeThreads, type NativeKernels } from './native';
import type { Backend } from './wasm-heap';

/** elementwise.h's Unary and Binary, in order */
const UNARY: Record<string, number> = { Relu: 0, Step: 1, LeakyRelu: 2, Neg: 3, Square: 4, Sigmoid: 5, Tanh: 6, Exp: 7, Softplus: 8, Log: 9, Sqrt: 10, Abs: 11 };
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

/**
 * How `small` repeats along `big` when broadcasting the two: 'same' shapes, or
 * `small` a trailing block (leading 1s dropped; a scalar is the empty block) of
 * a `big` that is also the output's shape; null for any other broadcast.
 */
function repeats(big: readonly number[], small: readonly number[]): boolean {
  let s = 0;
  while (s < small.length && small[s] === 1) s++;
  const tail = small.slice(s);
  if (tail.length > big.length) return false;
  return sameShape(big.slice(big.length - tail.length), tail) && small.length <= big.length;
}

function replace(name: string, make: (previous: KernelFunc) => KernelFunc): void {
  const previous = getKernel(name, 'wasm');
  if (!previous) return;
  unregisterKernel(name, 'wasm');
  registerKernel({ ...(previous as KernelConfig), kernelFunc: make(previous.kernelFunc) });
}

export function installNativeElementwise(native: NativeKernels): void {
  const threads = nativeThreads(native);
  for (const [name, op] of Object.entries(UNARY)) {
    replace(name, (previous) => (call) => {
      const { x } = call.inputs as { x: TensorInfo };
      if (x.dtype !== 'float32') return previous(call);
      const wasm = call.backend as unknown as Backend;
      const alpha = Number((call.attrs as { alpha?: number } | undefined)?.alpha ?? 0);
      const out = wasm.makeOutput(x.shape, 'float32');
      native.unary(op, wasm.typedArrayFromHeap(x), wasm.typedArrayFromHeap(out), alpha, threads);
      return out;
    });
  }
  // a ∘ b where one operand is the output's shape and the other repeats along it
  const operands = (call: Parameters<KernelFunc>[0]) => {
    const { a, b } = call.inputs as { a: TensorInfo; b: TensorInfo };
    if (a.dtype !== 'float32' || b.dtype !== 'float32') return null;
    if (sameShape(a.shape, b.shape)) return { big: a, small: b, swap: false };
    const out = backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (sameShape(out, a.shape) && repeats(a.shape, b.shape)) return { big: a, small: b, swap: false };
    if (sameShape(out, b.shape) && repeats(b.shape, a.shape)) return { big: b, small: a, swap: true };
    return null;
  };
  for (const [name, op] of Object.entries(BINARY)) {
    replace(name, (previous) => (call) => {
      const o = operands(call);
      if (!o || size(o.big.shape) === 0) return previous(call);
      const wasm = call.backend as unknown as Backend;
      const out = wasm.makeOutput(o.big.shape, 'float32');
      native.binary(op, wasm.typedArrayFromHeap(o.big), wasm.typedArrayFromHeap(o.small), wasm.typedArrayFromHeap(out), o.swap, threads);
      return out;
    });
  }
  replace('Greater', (previous) => (call) => {
    const o = operands(call);
    if (!o || size(o.big.shape) === 0) return previous(call);
    const wasm = call.backend as unknown as Backend;
    const out = wasm.makeOutput(o.big.shape, 'bool');
    native.greater(wasm.typedArrayFromHeap(o.big), wasm.typedArrayFromHeap(o.small), wasm.typedArrayFromHeap(out) as unknown as Uint8Array, o.swap, threads);
    return out;
  });
  replace('Select', (previous) => (call) => {
    const { condition, t, e } = call.inputs as { condition: TensorInfo; t: TensorInfo; e: TensorInfo };
    if (condition.dtype !== 'bool' || t.dtype !== 'float32' || e.dtype !== 'float32' || !sameShape(condition.shape, t.shape) || !sameShape(t.shape, e.shape)) return previous(call);
    const wasm = call.backend as unknown as Backend;
    const out = wasm.makeOutput(t.shape, 'float32');
    native.select(wasm.typedArrayFromHeap(condition) as unknown as Uint8Array, wasm.typedArrayFromHeap(t), wasm.typedArrayFromHeap(e), wasm.typedArrayFromHeap(out), threads);
    return out;
  });
  // Identity and a same-dtype Cast share the input's buffer, as Reshape does: no
  // kernel writes into its inputs, so a copy buys nothing (backprop makes dozens)
  const share: KernelFunc = (call) => {
    const { x } = call.inputs as { x: TensorInfo };
    (call.backend as unknown as Backend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
  replace('Identity', (previous) => (call) => ((call.inputs as { x: TensorInfo }).x.dtype === 'string' ? previous(call) : share(call)));
  replace('Cast', (previous) => (call) => ((call.inputs as { x: TensorInfo }).x.dtype === (call.attrs as { dtype: string }).dtype ? share(call) : previous(call)));
}

/** Sum over every axis but the last of a float32 tensor: out[c] = Σ x[…, c]. */
export function nativeSumRows(native: NativeKernels, x: Float32Array, cols: number, out: Float32Array): void {
  native.sumRows(x, cols, out, nativeThreads(native));
}
