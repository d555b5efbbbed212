// What the binary autoregressive families (FVSBN, NADE, MADE) share. Each computes,
// in one parallel pass, the logit of every conditional p(x_i = 1 | x_<i) in a fixed
// order; the chain rule makes the log-likelihood exact:
//   log p(x) = sum_i [x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))] = -sum_i (softplus(l_i) - x_i l_i).
// Sampling takes D passes, one position at a time, with a fixed bank of uniforms
// (the run's sample seed), so two runs' grids are comparable draw for draw.
import * as tf from '@tensorflow/tfjs';
import { uniform } from '../ops/random';
import type { Rng } from '../util/rng';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext } from './types';

/** what a family with an exact likelihood reports (autoregressive models, flows) */
export function exactLikelihoodKinds(): Record<string, MetricKindName> {
  return { 'train/loss': 'loss', 'val/nll': 'exact', 'val/bits_per_dim': 'exact', 'test/nll': 'exact', 'test/bits_per_dim': 'exact' };
}

export abstract class BinaryAutoregressive implements Model {
  abstract readonly family: string;
  abstract readonly config: Record<string, unknown>;
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  protected D = 0;
  protected data: DataInfo | null = null;

  /** logits of p(x_i = 1 | x_<i) for every i, [B, D], in data order ("<i": earlier in `order()`) */
  abstract logits(x: tf.Tensor2D): tf.Tensor2D;

  /** the order positions are generated in (data indices); the identity unless a model says otherwise */
  order(): Int32Array {
    return Int32Array.from({ length: this.D }, (_, i) => i);
  }
  protected abstract buildLayers(D: number, rng: Rng): void;
  protected abstract vars(): tf.Variable[];
  abstract getWeights(): NamedWeight[];
  abstract setWeights(weights: NamedWeight[]): void;
  protected abstract disposeLayers(): void;
  abstract get built(): boolean;

  metricKinds(): Record<string, MetricKindName> {
    return exactLikelihoodKinds();
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error(`${this.family}: model already built (create a new one per run)`);
    if (!data.binary) {
      throw new Error(`${this.family} models binary data: use lab.data.mnist({ binarize: true }) or another binary dataset`);
    }
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.buildLayers(this.D, rng);
  }

  /** -log p(x) per row, in nats (exact) */
  nll(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const l = this.logits(x);
      return tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1) as tf.Tensor1D;
    });
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Record<string, number> {
    const loss = ctx.minimize(this.family, () => tf.mean(this.nll(x)) as tf.Scalar, this.vars());
    return { 'train/loss': loss };
  }

  /** examples per evaluation pass (convolutional models hold large activations: they lower it) */
  protected evalChunk = 500;

  /** per-example exact NLL in nats, in chunks */
  testNll(x: tf.Tensor2D): { nll: Float32Array; kind: 'exact' } {
    const n = x.shape[0];
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += this.evalChunk) {
      const m = Math.min(this.evalChunk, n - s);
      const v = tf.tidy(() => this.nll(tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D));
      out.set(v.dataSync() as Float32Array, s);
      v.dispose();
    }
    return { nll: out, kind: 'exact' };
  }

  evaluate(val: tf.Tensor2D): Record<string, MetricValue> {
    const { nll } = this.testNll(val);
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    return {
      'val/nll': { value: mean, kind: 'exact' },
      'val/bits_per_dim': { value: mean / (this.D * Math.LN2), kind: 'exact' },
    };
  }

  /** the bank's values (the given one, or one drawn with `seed`) */
  protected uniforms(n: number, noise: tf.Tensor2D | undefined, seed: number): Float32Array {
    const bank = noise ?? this.noise(n, seed);
    const u = bank.dataSync() as Float32Array;
    if (bank !== noise) bank.dispose();
    return u;
  }

  /** the uniforms that decide each sampled bit */
  noise(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * Ancestral sampling, one position per pass: x_i = 1 when u_i < p(x_i = 1 | x_<i).
   * `onStep(i, x)` sees the partial sample after each position (the live view).
   */
  sample(n: number, noise?: tf.Tensor2D, seed = 0, onStep?: (i: number, x: Float32Array) => void): tf.Tensor2D {
    const u = this.uniforms(n, noise, seed);
    const D = this.D;
    const x = new Float32Array(n * D);
    for (const i of this.order()) {
      const p = tf.tidy(() => tf.sigmoid(tf.slice(this.logits(tf.tensor2d(x, [n, D])), [0, i], [n, 1])));
      const pv = p.dataSync();
      p.dispose();
      for (let r = 0; r < n; r++) x[r * D + i] = u[r * D + i] < pv[r] ? 1 : 0;
      onStep?.(i, x);
    }
    return tf.tensor2d(x, [n, D]);
  }

  dispose(): void {
    this.disposeLayers();
  }
}

/** A trainable [rows, cols] matrix with seeded uniform(-limit, limit) values. */
export function seededMatrix(rows: number, cols: number, limit: number, rng: Rng, name: string): tf.Variable {
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = (2 * rng.next() - 1) * limit;
  return tf.variable(tf.tensor2d(w, [rows, cols]), true, name);
}

let counter = 0;
/** tf variable names are global: a process-wide counter keeps models apart */
export const uniqueName = (base: string): string => `${base}_${++counter}`;

/** Loads named tensors into variables by name, with clear errors. */
export function loadNamed(weights: NamedWeight[], vars: Record<string, tf.Variable>): void {
  const byName = new Map(weights.map((w) => [w.name, w.tensor]));
  for (const [key, v] of Object.entries(vars)) {
    const t = byName.get(key);
    if (!t) throw new Error(`setWeights: missing '${key}'`);
    if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`setWeights: '${key}' has shape [${t.shape}] but the model expects [${v.shape}]`);
    v.assign(t);
  }
}
