// Generative moment matching network (Li, Swersky & Zemel 2015; Dziugaite, Roy &
// Ghahramani 2015): an MLP generator from Gaussian noise trained to make a generated
// batch indistinguishable from a data batch by the maximum mean discrepancy,
//   MMD² = E k(x,x') + E k(y,y') − 2 E k(x,y),
// with a Gaussian kernel summed over a few bandwidths (a characteristic kernel: MMD = 0
// iff the two distributions are equal). No discriminator, so no adversarial game; and,
// like a GAN, no likelihood: its evaluations are sample-based.
import * as tf from '@tensorflow/tfjs';
import { medianDistance, mmd } from '../../eval/mmd';
import { modeStats } from '../../eval/modes';
import { normal } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { Mlp } from '../../nn/mlp';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';

export type MmdEstimator = 'unbiased' | 'biased';

export type GmmnConfig = LatentLab.GmmnConfig;

/** the multiples of the data's median pairwise distance that 'auto' bandwidths use */
export const AUTO_BANDWIDTH_SCALES = [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1, 2];

/** 'auto' bandwidths for rows of x (flat, [n, dim]): the median pairwise distance times AUTO_BANDWIDTH_SCALES */
export function autoBandwidths(x: ArrayLike<number>, dim: number): number[] {
  const n = Math.min(1000, Math.floor(x.length / dim));
  const half = Math.floor(n / 2);
  if (half < 1) throw new Error('gmmn: needs at least 2 rows to choose bandwidths');
  // medianDistance pools its two arguments: the two halves of one sample give its own median
  const a = Array.prototype.slice.call(x, 0, half * dim) as number[];
  const b = Array.prototype.slice.call(x, half * dim, n * dim) as number[];
  const m = medianDistance(a, b, dim);
  const med = Number(m.toPrecision(3));
  return AUTO_BANDWIDTH_SCALES.map((s) => Number((s * med).toPrecision(4)));
}

/**
 * MMD² between the rows of x [n, D] and y [m, D] in tf ops (differentiable), with the
 * kernel Σ_σ exp(−‖a−b‖²/2σ²): the same number as eval/mmd.ts's float64 `mmd2` with the
 * same bandwidths and estimator. 'unbiased' leaves out the i = j terms of the within-sample
 * sums (a U-statistic, may be slightly negative); 'biased' keeps them (≥ 0). One tf op per
 * bandwidth and block: no n×n masks (each diagonal term is K = bandwidths.length exactly).
 */
export function mmd2Tf(x: tf.Tensor2D, y: tf.Tensor2D, bandwidths: number[], estimator: MmdEstimator = 'unbiased'): tf.Scalar {
  if (bandwidths.length === 0 || bandwidths.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error('mmd: bandwidths must be positive numbers');
  const n = x.shape[0];
  const m = y.shape[0];
  if (n < 2 || m < 2) throw new Error('mmd: each sample needs at least 2 rows');
  const K = bandwidths.length;
  return tf.tidy(() => {
    // Σ_ij Σ_σ k_σ(a_i, b_j), with ‖a_i − b_j‖² = ‖a_i‖² + ‖b_j‖² − 2 a_i·b_j clamped at 0 against rounding
    const kernelSum = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Scalar => {
      const na = tf.sum(tf.square(a), 1, true);
      const nb = tf.reshape(tf.sum(tf.square(b), 1), [1, -1]);
      const d2 = tf.relu(tf.sub(tf.add(na, nb), tf.mul(2, tf.matMul(a, b, false, true))));
      return tf.sum(tf.addN(bandwidths.map((s) => tf.exp(tf.mul(d2, -1 / (2 * s * s))))));
    };
    const sxx = kernelSum(x, x);
    const syy = kernelSum(y, y);
    const sxy = kernelSum(x, y);
    // k(a, a) = K (one per bandwidth): the unbiased estimate leaves the n diagonal terms out of each within-sample sum
    const [cx, cy] = estimator === 'unbiased' ? [n * K, m * K] : [0, 0];
    const [dx, dy] = estimator === 'unbiased' ? [n * (n - 1), m * (m - 1)] : [n * n, m * m];
    return tf.addN([tf.div(tf.sub(sxx, cx), dx), tf.div(tf.sub(syy, cy), dy), tf.mul(sxy, -2 / (n * m))]) as tf.Scalar;
  });
}

export class Gmmn implements Model {
  readonly family = 'gmmn';
  readonly config: { latentDim: number | null; hidden: number[] | null; bandwidths: number[] | 'auto'; estimator: MmdEstimator };
  bestMetric: { key: string; mode: 'max' | 'min' } = { key: 'val/mmd', mode: 'min' };
  readonly hasLatent = true;
  private G: Mlp | null = null;
  private data: DataInfo | null = null;
  private bw: number[] | null = null;

  constructor(cfg: GmmnConfig = {}) {
    if (cfg.latentDim !== undefined && !(Number.isInteger(cfg.latentDim) && cfg.latentDim > 0)) throw new Error(`gmmn: latentDim must be a positive integer (got ${String(cfg.latentDim)})`);
    if (cfg.hidden !== undefined && !(Array.isArray(cfg.hidden) && cfg.hidden.every((h) => Number.isInteger(h) && h > 0))) {
      throw new Error('gmmn: hidden must be a list of positive integers, e.g. [128, 128]');
    }
    const bw = cfg.bandwidths ?? 'auto';
    if (bw !== 'auto' && !(Array.isArray(bw) && bw.length > 0 && bw.every((s) => typeof s === 'number' && Number.isFinite(s) && s > 0))) {
      throw new Error(`gmmn: bandwidths must be 'auto' or a non-empty list of positive numbers, e.g. [0.5, 1, 2]`);
    }
    const estimator = cfg.estimator ?? 'unbiased';
    if (estimator !== 'unbiased' && estimator !== 'biased') throw new Error(`gmmn: estimator must be 'unbiased' | 'biased' (got '${String(estimator)}')`);
    this.config = { latentDim: cfg.latentDim ?? null, hidden: cfg.hidden ? [...cfg.hidden] : null, bandwidths: bw === 'auto' ? 'auto' : [...bw], estimator };
    if (bw !== 'auto') this.bw = [...bw];
  }

  get built(): boolean {
    return this.G !== null;
  }

  private get image(): boolean {
    return this.data?.kind === 'image';
  }

  private get latentDim(): number {
    return this.config.latentDim ?? (this.data?.kind === 'points' ? 4 : 32);
  }

  /** the kernel bandwidths in use (null until 'auto' has seen data) */
  get bandwidths(): number[] | null {
    return this.bw ? [...this.bw] : null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/mmd2': 'loss',
      'val/mmd': 'sample',
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('gmmn: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('gmmn: needs images or points (lab.data.mnist, lab.data.toy2d), not sequences');
    this.data = data;
    this.config.latentDim = this.latentDim;
    this.config.hidden ??= data.kind === 'image' ? [256, 256] : [128, 128];
    const D = data.shape.reduce((a, b) => a * b, 1);
    this.G = new Mlp('gmmn_g', [this.latentDim, ...this.config.hidden, D], rng, 'relu');
  }

  /** fix 'auto' bandwidths from the first data the model sees (recorded in config); reads x back only then */
  private async ensureBandwidths(x: tf.Tensor2D): Promise<number[]> {
    if (!this.bw) {
      const bw = autoBandwidths(await x.data(), x.shape[1]);
      // the first to finish fixes them (a second call may have read the data meanwhile)
      if (!this.bw) {
        this.bw = bw;
        this.config.bandwidths = [...bw];
      }
    }
    return this.bw;
  }

  private generate(z: tf.Tensor2D): tf.Tensor2D {
    const out = this.G!.apply(z);
    return this.image ? (tf.sigmoid(out) as tf.Tensor2D) : out;
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    const bw = await this.ensureBandwidths(x);
    const z = this.noise(x.shape[0], ctx.seed());
    try {
      const loss = ctx.minimize('g', () => mmd2Tf(x, this.generate(z), bw, this.config.estimator), this.G!.vars());
      return { 'train/mmd2': loss };
    } finally {
      z.dispose();
    }
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const bw = await this.ensureBandwidths(val);
    const D = val.shape[1];
    // float64 MMD is O(n²·D) in JS: fewer rows for images
    const n = Math.max(2, Math.min(val.shape[0], this.image ? 200 : 1000));
    const s = this.sample(n, undefined, seed);
    let gen: Float32Array;
    let all: Float32Array;
    try {
      [gen, all] = (await Promise.all([s.data(), val.data()])) as [Float32Array, Float32Array];
    } finally {
      s.dispose();
    }
    const real = all.subarray(0, n * D);
    const out: Record<string, MetricValue> = { 'val/mmd': { value: mmd(real, gen, D, { bandwidths: bw }), kind: 'sample' } };
    if (this.data?.modes && D === 2) {
      const st = modeStats(gen, this.data.modes, this.data.modeStd ?? 0.05);
      out['val/mode_dist'] = { value: st.meanDist, kind: 'sample' };
      out['val/modes_covered'] = { value: st.covered, kind: 'sample' };
      out['val/high_quality'] = { value: st.highQuality, kind: 'sample' };
    }
    return out;
  }

  noise(n: number, seed: number): tf.Tensor2D {
    return normal([n, this.latentDim], seed) as tf.Tensor2D;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    if (!this.built) throw new Error('gmmn: train the model first (lab.train builds it on its data)');
    return tf.tidy(() => this.generate(noise ?? this.noise(n, seed)));
  }

  getWeights(): NamedWeight[] {
    return this.G!.named('generator');
  }

  setWeights(weights: NamedWeight[]): void {
    this.G!.load('generator', weights);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.G?.dispose();
  }
}
