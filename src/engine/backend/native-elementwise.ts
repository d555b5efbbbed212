// The wasm backend's elementwise kernels, bias-gradient sums, Identity and Cast on
// the native addon (native/src/elementwise.cc), reading and writing the wasm heap
// in place. tfjs-wasm runs these one 128-bit lane at a time on one core; here
// they are plain C++ loops split over the cores, which matters because a
// convolutional model's activations are tens of megabytes per step, each
// elementwise op one pass over them. Shapes the kernels do not cover (general
// broadcasting, other dtypes) go to the previous kernel.
import * as tf from '@tensorflow/tfjs';
import { backend_util, getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs';
import { nativeThreads, type NativeKernels } from './native';
import type { Backend } from './wasm-heap';

/** elementwise.h's Unary and Binary, in order */
const UNARY: Record<string, number> = { Relu: 0, Step: 1, LeakyRelu: 2, Neg: 3, Square: 4, Sigmoid: 5, Tanh: 6, Exp: 7, Softplus: 8, Log: 9, Sqrt: 10, Abs: 11 };
const BINARY: Record<string, number> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3, Maximum: 4, Minimum: 5, SquaredDifference: 6 };

const sameShape = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((d, i) => d === b[i]);
const size = (s: readonly number[]) => s.reduce((x, y) => x * y, 1);

/**
 * Whether `small` broadcasts along `big` as a repeated trailing block: its shape,
 * leading 1s dropped, is the end of `big`'s (a scalar is the empty block), so
 * its flat data repeats every `small.size` elements of `big`'s.
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
  // SplitV and Concat along any axis: for the axis a, each part is `outer` rows of
  // (its extent · inner) contiguous floats, strided by the whole's extent · inner
  const blocks = (shape: readonly number[], axis: number) => ({
    outer: size(shape.slice(0, axis)),
    inner: size(shape.slice(axis + 1)),
  });
  replace('SplitV', (previous) => (call) => {
    const { x } = call.inputs as { x: TensorInfo };
    if (x.dtype !== 'float32' || size(x.shape) === 0) return previous(call);
    const { numOrSizeSplits, axis } = call.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number | number[] };
    const a = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, a);
    const { outer, inner } = blocks(x.shape, a);
    const wasm = call.backend as unknown as Backend;
    const outs: TensorInfo[] = [];
    try {
      for (const s of sizes) outs.push(wasm.makeOutput(x.shape.map((d, i) => (i === a ? s : d)), 'float32'));
    } catch (e) {
      for (const o of outs) wasm.disposeData(o.dataId); // a full heap: the parts made so far are no one's
      throw e;
    }
    const xs = wasm.typedArrayFromHeap(x); // after the allocations: growing the heap detaches older views
    let begin = 0;
    for (let i = 0; i < sizes.length; i++) {
      if (sizes[i] > 0) native.copyRows(xs.subarray(begin * inner), x.shape[a] * inner, wasm.typedArrayFromHeap(outs[i]), sizes[i] * inner, outer, sizes[i] * inner, threads);
      begin += sizes[i];
    }
    return outs;
  });
  replace('Concat', (previous) => (call) => {
    const inputs = (Array.isArray(call.inputs) ? call.inputs : Object.values(call.inputs)) as TensorInfo[];
    if (inputs.length === 0 || inputs.some((t) => t.dtype !== 'float32')) return previous(call);
    const a = tf.util.parseAxisParam((call.attrs as { axis: number }).axis, inputs[0].shape)[0];
    const outShape = backend_util.computeOutShape(inputs.map((t) => t.shape), a);
    const parts = inputs.filter((t) => size(t.shape) > 0);
    if (parts.length === 0 || parts.some((t) => t.shape.length !== outShape.length || t.shape.some((d, i) => i !== a && d !== outShape[i]))) return previous(call);
    const { outer, inner } = blocks(outShape, a);
    const wasm = call.backend as unknown as Backend;
    const out = wasm.makeOutput(outShape, 'float32');
    const o = wasm.typedArrayFromHeap(out);
    let begin = 0;
    for (const t of parts) {
      native.copyRows(wasm.typedArrayFromHeap(t), t.shape[a] * inner, o.subarray(begin * inner), outShape[a] * inner, outer, t.shape[a] * inner, threads);
      begin += t.shape[a];
    }
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

/** elementwise.h's ActivationGrad, in order */
const ACTIVATION_GRAD = { Relu: 0, LeakyRelu: 1, Sigmoid: 2, Tanh: 3 } as const;
type Activation = keyof typeof ACTIVATION_GRAD;
const GRAD_KERNEL = 'LatentlabActivationGrad';

/**
 * dy · f′ for an activation f, from its input x (Relu, LeakyRelu) or output y
 * (Sigmoid, Tanh): one native pass on wasm, tfjs's own formula elsewhere.
 */
function activationGrad(op: Activation, dy: tf.Tensor, v: tf.Tensor, alpha = 0): tf.Tensor {
  if (tf.getBackend() === 'wasm' && getKernel(GRAD_KERNEL, 'wasm') && dy.dtype === 'float32' && v.dtype === 'float32' && sameShape(dy.shape, v.shape)) {
    return tf.engine().runKernel(GRAD_KERNEL, { dy, v }, { op, alpha }) as tf.Tensor;
  }
  switch (op) {
    case 'Relu': return tf.mul(dy, tf.cast(tf.step(v), 'float32'));
    // on webgpu a mask from step, not where(greater(...)): Greater has no gradient, and a
    // gradient penalty (WGAN-GP) differentiates this again. (Elsewhere the where form,
    // whose NaN handling the wasm kernel's tests compare against.)
    case 'LeakyRelu': return tf.getBackend() === 'webgpu' ? tf.mul(dy, tf.add(tf.mul(tf.step(v), 1 - alpha), alpha)) : tf.where(tf.greater(v, 0), dy, tf.mul(dy, alpha));
    case 'Sigmoid': return tf.mul(dy, tf.mul(v, tf.sub(tf.scalar(1), v)));
    case 'Tanh': return tf.mul(tf.sub(tf.scalar(1), tf.square(v)), dy);
  }
}

/**
 * Gradients of Relu, LeakyRelu, Sigmoid and Tanh as one kernel each instead of
 * tfjs's two or three (a mask, a cast, a product: each a pass over the
 * activations). The kernel has its own gradient, so second derivatives (a
 * gradient penalty) still work.
 */
export function installActivationGradients(native: NativeKernels): void {
  if (getKernel(GRAD_KERNEL, 'wasm')) return;
  const threads = nativeThreads(native);
  registerKernel({
    kernelName: GRAD_KERNEL,
    backendName: 'wasm',
    kernelFunc: (call) => {
      const { dy, v } = call.inputs as { dy: TensorInfo; v: TensorInfo };
      const { op, alpha } = call.attrs as unknown as { op: Activation; alpha: number };
      const wasm = call.backend as unknown as Backend;
      const out = wasm.makeOutput(dy.shape, 'float32');
      native.activationGrad(ACTIVATION_GRAD[op], wasm.typedArrayFromHeap(dy), wasm.typedArrayFromHeap(v), wasm.typedArrayFromHeap(out), alpha, threads);
      return out;
    },
  });
  tf.registerGradient({
    kernelName: GRAD_KERNEL,
    inputsToSave: ['dy', 'v'],
    gradFunc: (ddy, saved, attrs) => {
      const [dy, v] = saved;
      const { op, alpha } = attrs as unknown as { op: Activation; alpha: number };
      const g = ddy as tf.Tensor;
      return {
        dy: () => activationGrad(op, g, v, alpha),
        // f′ is piecewise constant in x for the relus; for sigmoid and tanh it is a function of y
        v: () => (op === 'Sigmoid' ? tf.mul(tf.mul(g, dy), tf.sub(1, tf.mul(2, v))) : op === 'Tanh' ? tf.mul(tf.mul(g, dy), tf.mul(-2, v)) : tf.zerosLike(v)),
      };
    },
  });
  for (const op of ['Relu', 'LeakyRelu'] as const) {
    tf.registerGradient({ kernelName: op, inputsToSave: ['x'], gradFunc: (dy, [x], attrs) => ({ x: () => activationGrad(op, dy as tf.Tensor, x, Number((attrs as { alpha?: number })?.alpha ?? 0)) }) });
  }
  for (const op of ['Sigmoid', 'Tanh'] as const) {
    tf.registerGradient({ kernelName: op, outputsToSave: [true], gradFunc: (dy, [y]) => ({ x: () => activationGrad(op, dy as tf.Tensor, y) }) });
  }
}
