// Adam as one fused loop per variable, for the wasm backend. tf.train.adam costs
// ~10 small kernels per variable per step (multiply, add, div, sqrt, assign...);
// on wasm each is a dispatch plus a pass over memory, and together they took
// about 40% of an MLP-VAE step. Here the gradient and the weights are read where
// they lie in the wasm heap, the moments live in our own arrays, and the new
// weights are written into one fresh heap buffer that the variable then takes
// (assign, never an in-place write: other tensors may share a variable's buffer).
// Same update and bias correction as tf.train.adam; the loop runs in the native
// addon where it is built, in TypeScript otherwise.
import * as tf from '@tensorflow/tfjs';
import { nativeKernels, nativeThreads } from '../backend/native';
import { webgpuAdamUpdate } from '../backend/webgpu-kernels';

/** tfjs-core's { name, tensor } pair (not re-exported by @tensorflow/tfjs) */
interface NamedTensor {
  name: string;
  tensor: tf.Tensor;
}

interface WasmBackend {
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
}

/** One Adam step over flat arrays: m and v in place, the new weights into `out`. */
export function adamStep(
  w: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, out: Float32Array,
  lr: number, b1: number, b2: number, eps: number, c1: number, c2: number,
): void {
  for (let i = 0; i < out.length; i++) {
    const gi = g[i];
    const mi = b1 * m[i] + (1 - b1) * gi;
    const vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    out[i] = w[i] - (lr * (mi / c1)) / (Math.sqrt(vi / c2) + eps);
  }
}

/** What our Adams share: tf.train.adam's settings, and the gradients as a list. */
abstract class AdamBase extends tf.Optimizer {
  protected t = 0;

  constructor(
    public learningRate: number,
    readonly beta1 = 0.9,
    readonly beta2 = 0.999,
    readonly epsilon = tf.backend().epsilon(),
  ) {
    super();
  }

  protected list(variableGradients: tf.NamedTensorMap | NamedTensor[]): NamedTensor[] {
    return Array.isArray(variableGradients) ? variableGradients : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
  }

  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }
}

export class FusedAdam extends AdamBase {
  static get className(): string {
    return 'LatentLabFusedAdam';
  }

  private moments = new Map<string, { m: Float32Array; v: Float32Array }>();
  /** moments loaded by setWeights (a resumed run), in the order variables first get a gradient */
  private loaded: { m: Float32Array; v: Float32Array }[] = [];

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const list = this.list(variableGradients);
    const backend = tf.backend() as unknown as WasmBackend;
    this.t++;
    const c1 = 1 - Math.pow(this.beta1, this.t);
    const c2 = 1 - Math.pow(this.beta2, this.t);
    const { beta1: b1, beta2: b2, epsilon: eps, learningRate: lr } = this;
    const native = nativeKernels().kernels;
    for (const { name, tensor: grad } of list) {
      if (!grad) continue;
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`FusedAdam: no variable named ${name}`);
      let state = this.moments.get(name);
      if (!state || state.m.length !== variable.size) {
        // a resumed run's saved moments belong to its variables by position
        const saved = this.loaded[this.moments.size];
        state = saved && saved.m.length === variable.size ? saved : { m: new Float32Array(variable.size), v: new Float32Array(variable.size) };
        this.moments.set(name, state);
      }
      const out = backend.makeOutput(variable.shape, 'float32');
      // views after the allocation: growing the heap detaches older views
      const g = backend.typedArrayFromHeap(grad);
      const w = backend.typedArrayFromHeap(variable);
      const next = backend.typedArrayFromHeap(out);
      const { m, v } = state;
      if (native) native.adam(w, g, m, v, next, [lr, b1, b2, eps, c1, c2], nativeThreads(native));
      else adamStep(w, g, m, v, next, lr, b1, b2, eps, c1, c2);
      const updated = tf.engine().makeTensorFromTensorInfo(out);
      variable.assign(updated);
      updated.dispose();
    }
    this.incrementIterations();
  }

  override dispose(): void {
    this.moments.clear();
  }

  /** [iterations, every first moment, every second moment], positional like tf.train.adam's */
  override async getWeights(): Promise<NamedTensor[]> {
    const list = [...this.moments.values()];
    return [
      { name: 'iter', tensor: tf.scalar(this.t, 'float32') },
      ...list.map((s, i) => ({ name: `m${i}`, tensor: tf.tensor1d(s.m) })),
      ...list.map((s, i) => ({ name: `v${i}`, tensor: tf.tensor1d(s.v) })),
    ];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.t = (await weights[0].tensor.data())[0];
    const rest = weights.slice(1);
    const n = rest.length / 2;
    this.moments.clear();
    this.loaded = [];
    for (let i = 0; i < n; i++) {
      this.loaded.push({ m: Float32Array.from(await rest[i].tensor.data()), v: Float32Array.from(await rest[n + i].tensor.data()) });
    }
  }

}

/**
 * Adam on webgpu: per variable, one dispatch for both moments (kept as one tensor
 * [m; v]) and one for the weights (backend/webgpu-kernels.ts). Its state reads and
 * writes like FusedAdam's ([iter, m0.., v0..]), so a checkpoint moves between backends.
 */
export class WebgpuAdam extends AdamBase {
  static get className(): string {
    return 'LatentLabWebgpuAdam';
  }

  private state = new Map<string, tf.Tensor1D>();
  private loaded: tf.Tensor1D[] = [];

  applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    this.t++;
    const h = { lr: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, c1: 1 - Math.pow(this.beta1, this.t), c2: 1 - Math.pow(this.beta2, this.t) };
    for (const { name, tensor: grad } of this.list(variableGradients)) {
      if (!grad) continue;
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`WebgpuAdam: no variable named ${name}`);
      let s = this.state.get(name);
      if (!s || s.size !== 2 * variable.size) {
        s?.dispose();
        const saved = this.loaded[this.state.size];
        s = saved && saved.size === 2 * variable.size ? saved : (tf.keep(tf.zeros([2 * variable.size])) as tf.Tensor1D);
        this.state.set(name, s);
      }
      const { moments, weights } = webgpuAdamUpdate(grad, s, variable, h);
      s.dispose();
      this.state.set(name, tf.keep(tf.engine().makeTensorFromTensorInfo(moments) as tf.Tensor1D));
      const w = tf.engine().makeTensorFromTensorInfo(weights);
      variable.assign(w);
      w.dispose();
    }
    this.incrementIterations();
  }

  override dispose(): void {
    for (const s of this.state.values()) s.dispose();
    this.state.clear();
  }

  override async getWeights(): Promise<NamedTensor[]> {
    const list = [...this.state.values()];
    return [
      { name: 'iter', tensor: tf.scalar(this.t, 'float32') },
      ...list.map((s, i) => ({ name: `m${i}`, tensor: tf.slice(s, 0, s.size / 2) })),
      ...list.map((s, i) => ({ name: `v${i}`, tensor: tf.slice(s, s.size / 2) })),
    ];
  }

  override async setWeights(weights: NamedTensor[]): Promise<void> {
    this.t = (await weights[0].tensor.data())[0];
    const rest = weights.slice(1);
    const n = rest.length / 2;
    this.dispose();
    this.loaded = [];
    for (let i = 0; i < n; i++) this.loaded.push(tf.keep(tf.concat([tf.reshape(rest[i].tensor, [-1]), tf.reshape(rest[n + i].tensor, [-1])]) as tf.Tensor1D));
  }
}

/** Adam for the current backend: the fused loop on wasm, two WGSL dispatches per variable on webgpu, tf.train.adam elsewhere. */
export function adam(lr: number, beta1 = 0.9, beta2 = 0.999): tf.Optimizer {
  if (tf.getBackend() === 'wasm' && process.env.LATENTLAB_FUSED_ADAM !== 'off') return new FusedAdam(lr, beta1, beta2);
  if (tf.getBackend() === 'webgpu' && process.env.LATENTLAB_FUSED_ADAM !== 'off' && process.env.LATENTLAB_WEBGPU_KERNELS !== 'off') return new WebgpuAdam(lr, beta1, beta2);
  return tf.train.adam(lr, beta1, beta2);
}
