// Score-based generative model: a noise-conditional score network (NCSN, Song & Ermon 2019).
//
// A network s_θ(x, σ) learns the score ∇_x log p_σ(x) of the data blurred by Gaussian
// noise, p_σ = p_data ∗ N(0, σ² I), at every level of a geometric ladder
// σ_1 > σ_2 > … > σ_L. Denoising score matching (Vincent 2011) makes this a regression:
// for x̃ = x + σ ε the conditional score is ∇ log q(x̃ | x) = −ε/σ, and
//   ℓ(θ; σ) = ½ E ‖s_θ(x̃, σ) + ε/σ‖²
// is minimized by the marginal score ∇ log p_σ. Weighting each level by λ(σ) = σ² makes
// the levels comparable: the objective (per coordinate, the level drawn uniformly per row)
//   L(θ) = E_{i, x, ε} ‖σ_i s_θ(x + σ_i ε, σ_i) + ε‖² / D.
// Its minimum is not 0: at the true score it is E ‖σ ∇ log p_σ(x̃) + ε‖² / D, e.g. s²/(s² + σ²)
// per coordinate for data N(μ, s² I) (the part of ε that x̃ does not reveal).
//
// The network predicts the noise and is divided by σ: s_θ(x, σ) = −ε_θ(x, σ)/σ (Song & Ermon
// 2020's scaling), so σ s_θ + ε = ε − ε_θ and every level trains on a target of unit scale.
// ε_θ is the ε-network of ddpm.ts (an MLP on points, the small U-Net on images) with the
// sinusoidal embedding of the level's place on the ladder, t(σ) = 1000·ln(σ_1/σ)/ln(σ_1/σ_L),
// in place of the timestep.
//
// Sampling by annealed Langevin dynamics: x_0 ~ N(0, σ_1² I); for each level i = 1..L, with
// α_i = ε σ_i² / σ_L², T steps of x ← x + (α_i/2) s_θ(x, σ_i) + √α_i z, z ~ N(0, I); then by
// default one denoising step x ← x + σ_L² s_θ(x, σ_L) (Tweedie's formula: E[x | x̃] for noise
// σ_L; it removes the last level's noise). No likelihood: the model is judged by its samples.
//
// Images: pixels in [0, 1] are mapped to [−1, 1] (as ddpm does) and samples mapped back and
// clipped. 2-D points are used as they are.
import * as tf from '@tensorflow/tfjs';
import { pointValMetrics } from '../../eval/point-samples';
import { normal, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';
import { Params } from '../../nn/params';
import { subSeed } from '../../nn/seeds';
import { buildTimeNet, checkTimeNetConfig, timeFeatures, type EpsNet } from './ddpm';

export type ScoreConfig = LatentLab.ScoreConfig;

/** a score function: rows x [B, D] and each row's noise level σ as a column [B, 1] → ∇_x log p_σ(x) [B, D] */
export type ScoreFn = (x: tf.Tensor2D, sigma: tf.Tensor2D) => tf.Tensor2D;

/** σ_1 > … > σ_L, geometric from `max` to `min` (one level: just `max`) */
export function geometricSigmas(max: number, min: number, levels: number): number[] {
  if (!(max > 0 && min > 0 && max >= min)) throw new Error(`score: sigmas need max >= min > 0 (got max ${max}, min ${min})`);
  if (!Number.isInteger(levels) || levels < 1) throw new Error(`score: sigmas.levels must be a positive integer (got ${levels})`);
  if (levels === 1) return [max];
  const r = Math.log(min / max) / (levels - 1);
  return Array.from({ length: levels }, (_, i) => max * Math.exp(r * i));
}

/**
 * The exact score of a Gaussian mixture Σ_k w_k N(μ_k, s² I) blurred by N(0, σ² I):
 * p_σ = Σ_k w_k N(μ_k, (s² + σ²) I), so ∇ log p_σ(x) = (Σ_k r_k(x) μ_k − x)/(s² + σ²) with
 * r_k(x) the posterior of component k (a softmax of log w_k − ‖x − μ_k‖²/(2(s² + σ²))).
 * Weights default to equal; they need not be normalized.
 */
export function mixtureScore(modes: number[][], std: number, weights?: number[]): ScoreFn {
  const K = modes.length;
  if (K === 0) throw new Error('mixtureScore: needs at least one mode');
  const D = modes[0].length;
  const w = weights ?? new Array<number>(K).fill(1);
  if (w.length !== K || w.some((v) => !(v > 0))) throw new Error('mixtureScore: one positive weight per mode');
  const mu = Float32Array.from(modes.flat());
  const logw = Float32Array.from(w, (v) => Math.log(v));
  return (x, sigma) =>
    tf.tidy(() => {
      const M = tf.tensor2d(mu, [K, D]);
      const v = tf.add(tf.square(sigma), std * std); // [B, 1]
      // ‖x − μ_k‖² = ‖x‖² − 2 x·μ_k + ‖μ_k‖²: [B, K]
      const d2 = tf.add(tf.sub(tf.sum(tf.square(x), 1, true), tf.mul(tf.matMul(x, M, false, true), 2)), tf.reshape(tf.sum(tf.square(M), 1), [1, K]));
      const r = tf.softmax(tf.sub(tf.tensor2d(logw, [1, K]), tf.div(d2, tf.mul(v, 2))));
      return tf.div(tf.sub(tf.matMul(r, M), x), v) as tf.Tensor2D;
    });
}

export interface LangevinOptions {
  /** the ladder σ_1 > … > σ_L */
  sigmas: number[];
  /** Langevin steps at each level (T) */
  stepsPerLevel: number;
  /** ε: the step at level i is α_i = ε σ_i² / σ_L² */
  eps: number;
  /** seeds the injected noise z (step k of level i draws with subSeed(seed, i, k)) */
  seed: number;
  /** a final x ← x + σ_L² s(x, σ_L) without noise (default true) */
  denoise?: boolean;
  /**
   * called with the chain's state: once at the start (level −1, step 0), after every
   * step (level i, step 1..T) and after the denoising step (level L, step 0); `x` is
   * disposed after the call, so keep a copy (tf.clone / tf.slice) of what you need
   */
  onStep?: (x: tf.Tensor2D, level: number, step: number) => void;
}

/**
 * Annealed Langevin dynamics (Song & Ermon 2019, Algorithm 1) from `init` [n, D] with the
 * score `score`: for each σ_i, x ← x + (α_i/2) s(x, σ_i) + √α_i z, α_i = ε σ_i²/σ_L²;
 * optionally one denoising step at the end. Returns the final states (the caller disposes
 * them; `init` is left as it is).
 */
export function annealedLangevin(score: ScoreFn, init: tf.Tensor2D, opts: LangevinOptions): tf.Tensor2D {
  const { sigmas, stepsPerLevel: T, eps, seed } = opts;
  if (sigmas.length === 0) throw new Error('annealedLangevin: needs at least one noise level');
  if (!Number.isInteger(T) || T < 0) throw new Error(`annealedLangevin: stepsPerLevel must be a non-negative integer (got ${T})`);
  if (!(eps > 0)) throw new Error(`annealedLangevin: eps must be positive (got ${eps})`);
  const [n, D] = init.shape;
  const last = sigmas[sigmas.length - 1];
  let x = tf.clone(init);
  opts.onStep?.(x, -1, 0);
  for (let i = 0; i < sigmas.length; i++) {
    const alpha = (eps * sigmas[i] * sigmas[i]) / (last * last);
    for (let k = 1; k <= T; k++) {
      const next = tf.tidy(() => {
        const s = score(x, tf.fill([n, 1], sigmas[i]) as tf.Tensor2D);
        return tf.add(tf.add(x, tf.mul(s, alpha / 2)), tf.mul(normal([n, D], subSeed(seed, i, k)), Math.sqrt(alpha))) as tf.Tensor2D;
      });
      x.dispose();
      x = next;
      opts.onStep?.(x, i, k);
    }
  }
  if (opts.denoise ?? true) {
    const next = tf.tidy(() => tf.add(x, tf.mul(score(x, tf.fill([n, 1], last) as tf.Tensor2D), last * last)) as tf.Tensor2D);
    x.dispose();
    x = next;
    opts.onStep?.(x, sigmas.length, 0);
  }
  return x;
}

type Resolved = {
  sigmas: { max: number | null; min: number | null; levels: number };
  net: 'mlp' | 'unet' | null;
  hidden: number[] | null;
  channels: number[];
  attention: boolean;
  timeEmbed: number | null;
  langevin: { stepsPerLevel: number | null; eps: number | null };
  denoise: boolean;
  evalSamples: number;
  ema: number;
};

/** what `langevin` returns: the samples and, for the first `chains` chains, their paths */
export interface LangevinRun {
  /** final samples in data space [n·D] */
  samples: Float32Array;
  /** per recorded state, the first `chains` rows in data space [chains·D] (start, every `every` steps, each level's end, the denoised end) */
  frames: Float32Array[];
  /** per frame: the level it was taken at (−1: the start; L: after denoising) and the step within it */
  at: { level: number; step: number }[];
}

export class Score implements Model {
  readonly family = 'score';
  readonly config: Resolved;
  bestMetric: { key: string; mode: 'max' | 'min' } | undefined = { key: 'val/loss', mode: 'min' };
  private params: Params | null = null;
  private eps: EpsNet | null = null;
  private data: DataInfo | null = null;
  private ladder: number[] = [];
  private override: ScoreFn | null = null;

  constructor(cfg: ScoreConfig = {}) {
    const c = cfg ?? {};
    const sg = c.sigmas ?? {};
    const pos = (v: unknown) => v === undefined || (typeof v === 'number' && v > 0 && Number.isFinite(v));
    if (!pos(sg.max) || !pos(sg.min)) throw new Error('score: sigmas.max and sigmas.min must be positive numbers');
    if (sg.max !== undefined && sg.min !== undefined && sg.max < sg.min) throw new Error(`score: sigmas.max (${sg.max}) must be >= sigmas.min (${sg.min})`);
    if (sg.levels !== undefined && (!Number.isInteger(sg.levels) || sg.levels < 1 || sg.levels > 1000)) throw new Error(`score: sigmas.levels must be an integer in [1, 1000] (got ${sg.levels})`);
    checkTimeNetConfig('score', c);
    const lg = c.langevin ?? {};
    if (lg.stepsPerLevel !== undefined && (!Number.isInteger(lg.stepsPerLevel) || lg.stepsPerLevel < 0)) throw new Error(`score: langevin.stepsPerLevel must be a non-negative integer (got ${lg.stepsPerLevel})`);
    if (!pos(lg.eps)) throw new Error(`score: langevin.eps must be a positive number (got ${lg.eps})`);
    if (c.ema !== undefined && !(typeof c.ema === 'number' && c.ema >= 0 && c.ema < 1)) throw new Error(`score: ema must be a decay in [0, 1) (0 = off; got ${c.ema})`);
    if (c.evalSamples !== undefined && (!Number.isInteger(c.evalSamples) || c.evalSamples < 2)) throw new Error(`score: evalSamples must be an integer >= 2 (got ${c.evalSamples})`);
    this.config = {
      sigmas: { max: sg.max ?? null, min: sg.min ?? null, levels: sg.levels ?? 10 },
      net: c.net ?? null,
      hidden: c.hidden ? [...c.hidden] : null,
      channels: c.channels ? (c.channels.length === 2 ? [...c.channels, c.channels[1]] : [...c.channels]) : [16, 32, 64],
      attention: c.attention ?? true,
      timeEmbed: c.timeEmbed ?? null,
      langevin: { stepsPerLevel: lg.stepsPerLevel ?? null, eps: lg.eps ?? null },
      denoise: c.denoise ?? true,
      evalSamples: c.evalSamples ?? 1000,
      ema: c.ema ?? 0.999,
    };
  }

  get built(): boolean {
    return this.eps !== null;
  }

  /** what the model was built on (null before lab.train) */
  get dataInfo(): DataInfo | null {
    return this.data;
  }

  private get image(): boolean {
    return this.data?.kind === 'image';
  }

  private get D(): number {
    return this.data!.shape.reduce((a, b) => a * b, 1);
  }

  /** the ladder σ_1 > … > σ_L (built: the model's; before, the one it would use on data of `kind`) */
  sigmas(kind: DataInfo['kind'] = this.data?.kind ?? 'points'): number[] {
    if (this.ladder.length > 0) return [...this.ladder];
    const d = Score.defaults(kind);
    const s = this.config.sigmas;
    return geometricSigmas(s.max ?? d.max, s.min ?? d.min, s.levels);
  }

  /**
   * Defaults by kind of data. Points (unit scale, 8 Gaussians of radius 2): σ from 3 to 0.03,
   * 100 Langevin steps a level with ε = 0.1 σ_L² (each step moves a mode's spread by about
   * a twentieth). Images in [−1, 1]: σ from 5 to 0.02, 10 steps a level with ε = 0.5 σ_L²
   * (100 network passes a sample, as ddpm's strided sampler).
   */
  private static defaults(kind: DataInfo['kind']) {
    return kind === 'image' ? { max: 5, min: 0.02, steps: 10, epsRatio: 0.5 } : { max: 3, min: 0.03, steps: 100, epsRatio: 0.1 };
  }

  metricKinds(): Record<string, MetricKindName> {
    const out: Record<string, MetricKindName> = {
      'train/loss': 'loss',
      'val/loss': 'loss',
      'val/mmd': 'sample',
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
    };
    for (let i = 0; i < this.config.sigmas.levels; i++) out[`val/loss_level${i + 1}`] = 'info';
    return out;
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('score: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('score: learns the score of images and 2-D points (continuous data), not of sequences');
    const image = data.kind === 'image';
    const c = this.config;
    const d = Score.defaults(data.kind);
    c.sigmas.max ??= d.max;
    c.sigmas.min ??= Math.min(d.min, c.sigmas.max);
    if (c.sigmas.max < c.sigmas.min) throw new Error(`score: sigmas.max (${c.sigmas.max}) must be >= sigmas.min (${c.sigmas.min})`);
    c.langevin.stepsPerLevel ??= d.steps;
    c.langevin.eps ??= d.epsRatio * c.sigmas.min * c.sigmas.min;
    c.net ??= image ? 'unet' : 'mlp';
    c.hidden ??= image ? [512, 512, 512] : [128, 128, 128];
    c.timeEmbed ??= image ? 64 : 32;
    this.data = data;
    this.ladder = geometricSigmas(c.sigmas.max, c.sigmas.min, c.sigmas.levels);
    const p = new Params('score', rng);
    this.params = p;
    this.eps = buildTimeNet('score', p, data, { net: c.net, hidden: c.hidden, channels: c.channels, timeEmbed: c.timeEmbed, attention: c.attention });
    if (c.ema > 0) p.startEma();
    this.bestMetric = data.kind === 'points' && data.shape.length === 1 && data.shape[0] === 2 ? { key: 'val/mmd', mode: 'min' } : { key: 'val/loss', mode: 'min' };
  }

  private requireBuilt(what: string): void {
    if (!this.built) throw new Error(`score.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** data space → model space ([0, 1] pixels → [−1, 1]) */
  toModel(x: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D) : x;
  }

  /** model space → data space (images clipped to [0, 1]) */
  toData(y: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.clipByValue(tf.mul(tf.add(y, 1), 0.5), 0, 1) as tf.Tensor2D) : (tf.clone(y) as tf.Tensor2D);
  }

  /** s_θ(x, σ) = −ε_θ(x, t(σ))/σ, or the score set with setScore; σ a column [B, 1] */
  private scoreAt(x: tf.Tensor2D, sigma: tf.Tensor2D): tf.Tensor2D {
    if (this.override) return this.override(x, sigma);
    return tf.tidy(() => {
      const [hi, lo] = [this.ladder[0], this.ladder[this.ladder.length - 1]];
      const span = Math.log(hi / lo) || 1;
      // the place of σ on the ladder: 0 at σ_1, 1000 at σ_L
      const t = tf.reshape(tf.mul(tf.sub(Math.log(hi), tf.log(sigma)), 1000 / span), [-1]) as tf.Tensor1D;
      return tf.neg(tf.div(this.eps!.apply(x, timeFeatures(t, this.config.timeEmbed!, 1000)), sigma)) as tf.Tensor2D;
    });
  }

  /** the score function the sampler uses (the network in chunks, or the override) */
  private get scoreFn(): ScoreFn {
    const chunk = this.config.net === 'unet' ? 128 : 4096;
    return (x, sigma) => {
      const n = x.shape[0];
      if (n <= chunk) return this.scoreAt(x, sigma);
      return tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        for (let r = 0; r < n; r += chunk) {
          const m = Math.min(chunk, n - r);
          parts.push(this.scoreAt(tf.slice(x, [r, 0], [m, -1]) as tf.Tensor2D, tf.slice(sigma, [r, 0], [m, -1]) as tf.Tensor2D));
        }
        return tf.concat(parts, 0) as tf.Tensor2D;
      });
    };
  }

  /**
   * s_θ(x, σ) for rows x [B, D] in model space (images in [−1, 1]) at one σ or one per row,
   * with the averaged weights (or the score set with setScore)
   */
  score(x: tf.Tensor2D, sigma: number | Float32Array): tf.Tensor2D {
    this.requireBuilt('score');
    const B = x.shape[0];
    return this.params!.withEma(() =>
      tf.tidy(() => {
        const col = typeof sigma === 'number' ? tf.fill([B, 1], sigma) : tf.tensor2d(sigma, [B, 1]);
        return this.scoreFn(x, col as tf.Tensor2D);
      }),
    );
  }

  /**
   * Replace s_θ by a score function (x [B, D] in model space, σ [B, 1]) → [B, D] in the
   * sampler and the loss (null: back to the network). For analysis: e.g. mixtureScore, the
   * exact score of a known Gaussian mixture.
   */
  setScore(f: ScoreFn | null): void {
    this.requireBuilt('setScore');
    this.override = f;
  }

  /** B level indices (0..L−1), uniform, from `seed` */
  private drawLevels(B: number, seed: number): Int32Array {
    const L = this.ladder.length;
    return Int32Array.from(uniformValues(seed, B), (u) => Math.min(L - 1, Math.floor(u * L)));
  }

  /** per row: ‖σ s(x + σ ε, σ) + ε‖² / D at the row's level (x in model space) */
  private dsmRows(x: tf.Tensor2D, levels: Int32Array, seed: number): tf.Tensor1D {
    return tf.tidy(() => {
      const sigma = tf.tensor2d(Float32Array.from(levels, (i) => this.ladder[i]), [levels.length, 1]);
      const eps = normal(x.shape, seed) as tf.Tensor2D;
      const s = this.scoreAt(tf.add(x, tf.mul(sigma, eps)) as tf.Tensor2D, sigma);
      return tf.mean(tf.square(tf.add(tf.mul(sigma, s), eps)), 1) as tf.Tensor1D;
    });
  }

  trainStep(batch: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const levels = this.drawLevels(batch.shape[0], ctx.seed());
    const seed = ctx.seed();
    const x = this.toModel(batch);
    try {
      const loss = ctx.minimize('score', () => tf.mean(this.dsmRows(x, levels, seed)) as tf.Scalar, this.params!.vars());
      this.params!.updateEma(this.config.ema);
      return { 'train/loss': loss };
    } finally {
      if (x !== batch) x.dispose();
    }
  }

  /**
   * The σ²-weighted DSM loss on rows of `x` (data space), per coordinate, with the levels
   * stratified (row r at level r mod L) and ε from `seed`: the mean over rows, and the mean
   * at each level (σ_1 first). With the averaged weights, or the score set with setScore.
   */
  async dsmLoss(x: tf.Tensor2D, seed: number): Promise<{ loss: number; perLevel: number[] }> {
    this.requireBuilt('dsmLoss');
    const n = x.shape[0];
    const L = this.ladder.length;
    const levels = Int32Array.from({ length: n }, (_, r) => r % L);
    const chunk = this.config.net === 'unet' ? 250 : 4000;
    const rows = this.params!.withEma(() => {
      const parts: tf.Tensor1D[] = [];
      try {
        for (let r = 0; r < n; r += chunk) {
          const m = Math.min(chunk, n - r);
          parts.push(tf.tidy(() => this.dsmRows(this.toModel(tf.slice(x, [r, 0], [m, -1]) as tf.Tensor2D), levels.subarray(r, r + m), subSeed(seed, r, 5))));
        }
        return parts.length === 1 ? tf.clone(parts[0]) : (tf.concat(parts) as tf.Tensor1D);
      } finally {
        tf.dispose(parts);
      }
    });
    let v: Float32Array;
    try {
      v = (await rows.data()) as Float32Array;
    } finally {
      rows.dispose();
    }
    const sum = new Float64Array(L);
    const count = new Float64Array(L);
    let total = 0;
    v.forEach((value, r) => {
      sum[levels[r]] += value;
      count[levels[r]]++;
      total += value;
    });
    return { loss: total / Math.max(1, n), perLevel: Array.from(sum, (s, i) => (count[i] > 0 ? s / count[i] : NaN)) };
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const { loss, perLevel } = await this.dsmLoss(val, seed);
    const out: Record<string, MetricValue> = { 'val/loss': { value: loss, kind: 'loss' } };
    perLevel.forEach((v, i) => {
      if (Number.isFinite(v)) out[`val/loss_level${i + 1}`] = { value: v, kind: 'info' };
    });
    if (this.data?.kind === 'points' && this.D === 2) {
      const s = this.sample(this.config.evalSamples, undefined, subSeed(seed, 3, 0));
      let pts: Float32Array;
      let v: Float32Array;
      try {
        [pts, v] = (await Promise.all([s.data(), val.data()])) as [Float32Array, Float32Array];
      } finally {
        s.dispose();
      }
      Object.assign(out, pointValMetrics(pts, v, this.data));
    }
    return out;
  }

  /** standard normal [n, D]: the sampler starts at σ_1 times it */
  noise(n: number, seed: number): tf.Tensor2D {
    this.requireBuilt('noise');
    return normal([n, this.D], seed) as tf.Tensor2D;
  }

  /** `n` samples by annealed Langevin dynamics from x_0 = σ_1·`noise` (or noise drawn with `seed`); data space */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.requireBuilt('sample');
    return this.params!.withEma(() => this.langevinNow(n, seed, noise));
  }

  private langevinNow(n: number, seed: number, noise?: tf.Tensor2D, onStep?: LangevinOptions['onStep']): tf.Tensor2D {
    const z = noise ?? (normal([n, this.D], subSeed(seed, 0, 7)) as tf.Tensor2D);
    if (z.shape[0] !== n || z.shape[1] !== this.D) throw new Error(`score.sample: noise must be [${n}, ${this.D}] (got [${z.shape}])`);
    const init = tf.mul(z, this.ladder[0]) as tf.Tensor2D;
    if (!noise) z.dispose();
    const { stepsPerLevel, eps } = this.config.langevin;
    try {
      const x = annealedLangevin(this.scoreFn, init, { sigmas: this.ladder, stepsPerLevel: stepsPerLevel!, eps: eps!, seed: subSeed(seed, 1, 9), denoise: this.config.denoise, onStep });
      const out = tf.tidy(() => this.toData(x));
      x.dispose();
      return out;
    } finally {
      init.dispose();
    }
  }

  /**
   * Annealed Langevin run of `n` chains keeping the paths of the first `chains` (default
   * all) every `every` steps (default: one frame per level end), for the views.
   */
  async langevin(opts: { n: number; seed: number; chains?: number; every?: number }): Promise<LangevinRun> {
    this.requireBuilt('langevin');
    const keep = Math.max(1, Math.min(opts.n, Math.floor(opts.chains ?? opts.n)));
    const T = this.config.langevin.stepsPerLevel!;
    const every = Math.max(1, Math.floor(opts.every ?? Math.max(1, T)));
    const frames: tf.Tensor2D[] = [];
    const at: { level: number; step: number }[] = [];
    const onStep = (x: tf.Tensor2D, level: number, step: number) => {
      if (step === 0 || step % every === 0 || step === T) {
        frames.push(tf.tidy(() => this.toData(tf.slice(x, [0, 0], [keep, -1]) as tf.Tensor2D)));
        at.push({ level, step });
      }
    };
    const out = this.params!.withEma(() => this.langevinNow(opts.n, opts.seed, undefined, onStep));
    try {
      const values = (await Promise.all([out, ...frames].map((t) => t.data()))) as Float32Array[];
      return { samples: values[0], frames: values.slice(1), at };
    } finally {
      tf.dispose([out, ...frames]);
    }
  }

  getWeights(): NamedWeight[] {
    this.requireBuilt('getWeights');
    return this.params!.named();
  }

  setWeights(weights: NamedWeight[]): void {
    this.requireBuilt('setWeights');
    this.params!.load(weights);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.params?.dispose();
    this.params = null;
    this.eps = null;
  }
}
