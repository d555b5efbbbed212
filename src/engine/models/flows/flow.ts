// A normalizing flow: layers from data to a simple prior, with the change of variables
//   log p(x) = log p_z(f(x)) + sum_k log|det J_k(x)|   (exact).
// On 8-bit images (grey levels k/255) the data are dequantized, u = (k + U[0,1)) / 256,
// optionally mapped through logit(a + (1 - 2a) u) with its log-det, and the NLL is
// reported on the 8-bit scale: nll_8bit = nll(u) + D ln 256, bits/dim = nll_8bit / (D ln 2),
// so a uniform density on [0,1]^D scores exactly 8 bits/dim. 2-D points are modelled as they are.
import * as tf from '@tensorflow/tfjs';
import { normal, uniform } from '../../ops/random';
import type { Rng } from '../../util/rng';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';
import { exactLikelihoodKinds } from '../exact';
import { inverseThrough, type FlowLayer } from './layers';

export type Prior = LatentLab.Prior;
export type Preprocess = LatentLab.Preprocess;

const LOG_2PI = Math.log(2 * Math.PI);
/** logit pre-transform margin (RealNVP's 0.05) */
const ALPHA = 0.05;

/** log density of each row under the prior */
export function priorLogProb(z: tf.Tensor2D, prior: Prior): tf.Tensor1D {
  return tf.tidy(() => {
    if (prior === 'gaussian') return tf.mul(-0.5, tf.sum(tf.add(tf.square(z), LOG_2PI), 1)) as tf.Tensor1D;
    // logistic: log p(h) = -softplus(h) - softplus(-h)
    return tf.neg(tf.sum(tf.add(tf.softplus(z), tf.softplus(tf.neg(z))), 1)) as tf.Tensor1D;
  });
}

/** 8-bit NLL in nats from the NLL of the dequantized data in [0,1]^D */
export const eightBitNll = (nllUnit: number, D: number): number => nllUnit + D * Math.log(256);
export const bitsPerDim = (nll: number, D: number): number => nll / (D * Math.LN2);

export abstract class FlowModel implements Model {
  abstract readonly family: string;
  abstract readonly config: Record<string, unknown> & { prior: Prior; preprocess: Preprocess };
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  readonly hasLatent = true;
  protected layers: FlowLayer[] = [];
  protected D = 0;
  protected data: DataInfo | null = null;
  /** sampling temperature: the prior's scale when drawing (1 = the model) */
  temperature = 1;

  protected abstract buildLayers(D: number, data: DataInfo, rng: Rng): FlowLayer[];

  get built(): boolean {
    return this.layers.length > 0;
  }

  /** what the model was built on */
  get dataInfo(): DataInfo | null {
    return this.data;
  }

  /** 8-bit images are dequantized; anything else is modelled as it is */
  get dequantized(): boolean {
    return this.data?.kind === 'image' && !this.data.binary;
  }

  metricKinds(): Record<string, MetricKindName> {
    return exactLikelihoodKinds();
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error(`${this.family}: model already built (create a new one per run)`);
    if (data.binary) {
      throw new Error(`${this.family} is a density on continuous data: use grey levels (lab.data.mnist({ binarize: false })) or 2-D points, not binarized pixels`);
    }
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.layers = this.buildLayers(this.D, data, rng);
  }

  /**
   * The data as the flow sees them, and the log-det of getting there, per row.
   * `seed` draws the dequantization noise (images only).
   */
  protected preprocess(x: tf.Tensor2D, seed: number): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    return tf.tidy(() => {
      if (!this.dequantized) return { y: x, logdet: tf.zeros([x.shape[0]]) as tf.Tensor1D };
      const levels = tf.round(tf.mul(x, 255));
      const u = tf.div(tf.add(levels, uniform(x.shape, seed)), 256) as tf.Tensor2D;
      if (this.config.preprocess === 'none') return { y: u, logdet: tf.zeros([x.shape[0]]) as tf.Tensor1D };
      const p = tf.add(ALPHA, tf.mul(1 - 2 * ALPHA, u));
      const y = tf.sub(tf.log(p), tf.log1p(tf.neg(p))) as tf.Tensor2D;
      // dy/du = (1 - 2a) / (p (1 - p))
      const logdet = tf.sum(tf.sub(Math.log(1 - 2 * ALPHA), tf.add(tf.log(p), tf.log1p(tf.neg(p)))), 1) as tf.Tensor1D;
      return { y, logdet };
    });
  }

  /** the preprocessed data back to data values ([0,1] grey levels for images) */
  protected postprocess(y: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      if (!this.dequantized) return y;
      const u = this.config.preprocess === 'none' ? y : tf.div(tf.sub(tf.sigmoid(y), ALPHA), 1 - 2 * ALPHA);
      return tf.clipByValue(u, 0, 1) as tf.Tensor2D;
    });
  }

  /** z = f(y) through every layer, with the summed log-det */
  forward(y: tf.Tensor2D): { z: tf.Tensor2D; logdet: tf.Tensor1D } {
    return tf.tidy(() => {
      let h = y;
      let logdet = tf.zeros([y.shape[0]]) as tf.Tensor1D;
      for (const layer of this.layers) {
        const r = layer.forward(h);
        h = r.y;
        logdet = tf.add(logdet, r.logdet) as tf.Tensor1D;
      }
      return { z: h, logdet };
    });
  }

  /** the rows after each layer, starting with the input (the views' lines pushed through the flow) */
  async stages(y: tf.Tensor2D): Promise<{ label: string; values: Float32Array }[]> {
    const out: { label: string; values: Float32Array }[] = [{ label: 'data', values: (await y.data()) as Float32Array }];
    let h = y;
    try {
      for (const [k, layer] of this.layers.entries()) {
        const prev = h;
        h = tf.tidy(() => layer.forward(prev).y);
        if (prev !== y) prev.dispose();
        out.push({ label: `${k + 1}: ${layer.kind}`, values: (await h.data()) as Float32Array });
      }
    } finally {
      if (h !== y) h.dispose();
    }
    return out;
  }

  /** y = f^-1(z) through every layer, the last first (layers that solve position by position read values back: async) */
  inverse(z: tf.Tensor2D): Promise<tf.Tensor2D> {
    return inverseThrough(this.layers, z);
  }

  /**
   * -log p per row in nats: of the data themselves for points, of the dequantized data
   * on the 8-bit scale for images (+ D ln 256). Exact for the given dequantization noise.
   */
  nll(x: tf.Tensor2D, seed: number): tf.Tensor1D {
    return tf.tidy(() => {
      const pre = this.preprocess(x, seed);
      const { z, logdet } = this.forward(pre.y);
      const logp = tf.add(tf.add(priorLogProb(z, this.config.prior), logdet), pre.logdet);
      const shift = this.dequantized ? this.D * Math.log(256) : 0;
      return tf.sub(shift, logp) as tf.Tensor1D;
    });
  }

  /** whether the data-dependent layers (ActNorm) have seen their first batch */
  private initialized = false;

  /** Sets data-dependent layers from a batch, in order (each sees what the layers before it make of the data). */
  initialize(x: tf.Tensor2D, seed: number): void {
    tf.tidy(() => {
      let h = this.preprocess(x, seed).y;
      for (const layer of this.layers) {
        layer.init?.(h);
        h = layer.forward(h).y;
      }
    });
    this.initialized = true;
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const seed = ctx.seed();
    if (!this.initialized) this.initialize(x, seed);
    const loss = ctx.minimize(this.family, () => tf.mean(this.nll(x, seed)) as tf.Scalar, this.vars());
    return { 'train/loss': loss };
  }

  async testNll(x: tf.Tensor2D, seed = 12345): Promise<{ nll: Float32Array; kind: 'exact' }> {
    const n = x.shape[0];
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += 500) {
      const m = Math.min(500, n - s);
      const v = tf.tidy(() => this.nll(tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D, seed + s));
      try {
        out.set((await v.data()) as Float32Array, s);
      } finally {
        v.dispose();
      }
    }
    return { nll: out, kind: 'exact' };
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const { nll } = await this.testNll(val, seed);
    const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
    return {
      'val/nll': { value: mean, kind: 'exact' },
      'val/bits_per_dim': { value: bitsPerDim(mean, this.D), kind: 'exact' },
    };
  }

  /** the codes of examples, z = f(x) (exact: a flow encodes without loss); interpolation endpoints */
  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.forward(this.preprocess(x, 4242).y).z);
  }

  noise(n: number, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.config.prior === 'gaussian') return normal([n, this.D], seed) as tf.Tensor2D;
      const u = uniform([n, this.D], seed, 1e-6, 1 - 1e-6);
      return tf.sub(tf.log(u), tf.log1p(tf.neg(u))) as tf.Tensor2D;
    });
  }

  /** x = f^-1(T z): draws at temperature T (`this.temperature`) */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    const z = noise ?? this.noise(n, seed);
    const scaled = tf.mul(z, this.temperature) as tf.Tensor2D;
    if (z !== noise) z.dispose();
    let y: tf.Tensor2D;
    try {
      y = await this.inverse(scaled);
    } catch (e) {
      scaled.dispose();
      throw e;
    }
    if (y !== scaled) scaled.dispose();
    const out = tf.tidy(() => this.postprocess(y));
    if (out !== y) y.dispose();
    return out;
  }

  vars(): tf.Variable[] {
    return this.layers.flatMap((l) => l.vars());
  }

  getWeights(): NamedWeight[] {
    return this.layers.flatMap((l, i) => l.named(`${this.family}/layer${i}`));
  }

  setWeights(weights: NamedWeight[]): void {
    // loaded weights are already initialized: the first batch must not reset ActNorm
    this.initialized = true;
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    for (const { name, tensor } of this.getWeights()) {
      const t = byName.get(name);
      if (!t) throw new Error(`setWeights: missing '${name}'`);
      if (t.shape.join('x') !== tensor.shape.join('x')) throw new Error(`setWeights: '${name}' has shape [${t.shape}] but the model expects [${tensor.shape}]`);
      (tensor as tf.Variable).assign(t);
    }
  }

  dispose(): void {
    for (const l of this.layers) l.dispose();
  }
}

/** the settings every flow shares: its layer count, coupling networks, prior and preprocessing */
export function checkFlowConfig(family: string, count: number, hidden: number[], prior: string, preprocess: string): void {
  if (!Number.isInteger(count) || count < 1) throw new Error(`${family}: the number of layers must be a whole number >= 1`);
  if (!Array.isArray(hidden) || !hidden.length || hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new Error(`${family}: hidden must be a list of whole numbers >= 1`);
  if (prior !== 'gaussian' && prior !== 'logistic') throw new Error(`${family}: prior is 'gaussian' or 'logistic' (got '${prior}')`);
  if (preprocess !== 'logit' && preprocess !== 'none') throw new Error(`${family}: preprocess is 'logit' or 'none' (got '${preprocess}')`);
}
