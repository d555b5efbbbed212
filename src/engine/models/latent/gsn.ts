// Generative stochastic network (Bengio, Thibodeau-Laufer, Alain & Yosinski 2014): a
// Markov chain over (x, h) with a latent state that carries over from step to step,
//   x̃_{t−1} ~ C(x̃ | x_{t−1})                          salt-and-pepper corruption
//   h_t = tanh(W x̃_{t−1} + V h_{t−1} + b + ε) + ε'     ε, ε' ~ N(0, σ_h² I) injected noise
//   x_t ~ p(x | h_t) = Bernoulli(sigmoid(U h_t + c))
// Beyond the denoising autoencoder's chain (latent/dae.ts: h_t depends on x̃_{t−1} only),
// h_t also remembers h_{t−1} through V. Training is walk-back denoising: from each data
// point x the chain runs k steps, and every step's p(x | h_t) is asked to reconstruct the
// clean x (the sampled x_t are constants; the gradient flows back through the h chain).
// When p(x | h) is a consistent estimator, the chain's stationary distribution estimates
// the data distribution. No likelihood: samples only.
//
// The pieces are the DAE's: its corruption C, its encoder (a single linear layer W, b
// here) and decoder (U, c), its reconstruction loss and its starting states; the GSN adds V.
import * as tf from '@tensorflow/tfjs';
import { bernoulli, normal } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { seededMatrix, glorotLimit } from '../../nn/init';
import { namedTensor, uniqueName, weightsByName } from '../../nn/params';
import { Dae } from './dae';
import type { DataInfo, MetricKindName, MetricValue, NamedWeight, StepContext, StepMetrics } from '../types';

export type GsnConfig = LatentLab.GsnConfig;

export interface GsnChainRequest {
  n: number;
  steps: number;
  every?: number;
  seed: number;
  init?: tf.Tensor2D | Float32Array;
  /** reset h to 0 before every step: the chain forgets its latent state (a DAE-like chain) */
  reset?: boolean;
}

export class Gsn extends Dae {
  readonly gsn: { hiddenSize: number; hiddenNoise: number };
  private V: tf.Variable | null = null;

  constructor(cfg: GsnConfig = {}) {
    super({ latentDim: checkedSize(cfg.hiddenSize ?? 256), hidden: [], corruption: cfg.corruption, noise: cfg.noise ?? 0.3, walkback: cfg.walkback ?? 4, chainSteps: cfg.chainSteps ?? 50 }, 'gsn');
    this.gsn = { hiddenSize: cfg.hiddenSize ?? 256, hiddenNoise: cfg.hiddenNoise ?? 0.5 };
    if (!(this.gsn.hiddenNoise >= 0)) throw new RangeError(`lab.models.gsn: hiddenNoise must be >= 0 (got ${cfg.hiddenNoise})`);
    Object.assign(this.config, { hiddenSize: this.gsn.hiddenSize, hiddenNoise: this.gsn.hiddenNoise });
  }

  override metricKinds(): Record<string, MetricKindName> {
    return { 'train/loss': 'loss', 'train/recon_first': 'info', 'train/recon_last': 'info', 'val/recon': 'info', 'val/recon_first': 'info', 'val/recon_last': 'info' };
  }

  override build(data: DataInfo, rng: Rng): void {
    super.build(data, rng);
    const H = this.gsn.hiddenSize;
    this.V = seededMatrix(H, H, glorotLimit(H, H), rng, uniqueName('gsn_V'));
  }

  /** h_t = tanh(W x̃ + b + V h_{t−1} + ε) + ε' (no noise when `noisy` is false; h_{t−1} = null: 0) */
  hiddenStep(xt: tf.Tensor2D, hPrev: tf.Tensor2D | null, seed: number, noisy = true): tf.Tensor2D {
    return tf.tidy(() => {
      const s = this.gsn.hiddenNoise;
      let pre = this.encode(xt);
      if (hPrev) pre = tf.add(pre, tf.matMul(hPrev, this.V as tf.Tensor2D));
      if (noisy && s > 0) pre = tf.add(pre, normal(pre.shape, seed, 0, s));
      let h = tf.tanh(pre) as tf.Tensor2D;
      if (noisy && s > 0) h = tf.add(h, normal(h.shape, seed + 1, 0, s));
      return h as tf.Tensor2D;
    });
  }

  /** x_t ~ p(x | h_t) from the decoder's raw output: Bernoulli pixels ('bce'), the mean ('mse') */
  private drawFrom(raw: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => (this.loss === 'bce' ? (bernoulli(tf.sigmoid(raw), seed) as tf.Tensor2D) : raw));
  }

  /**
   * `k` steps of the chain from x (h_0 = 0): each step's raw decoder output, and the x_t it
   * drew for the next step. With `given`, those x_t are used instead of drawn (the training
   * pass replays the walk under the gradient tape with the same noise).
   */
  private walk(x: tf.Tensor2D, k: number, seeds: number[], given?: tf.Tensor2D[], noisy = true): { raws: tf.Tensor2D[]; drawn: tf.Tensor2D[] } {
    const raws: tf.Tensor2D[] = [];
    const drawn: tf.Tensor2D[] = [];
    let h: tf.Tensor2D | null = null;
    let cur = x;
    for (let t = 0; t < k; t++) {
      const xt = this.corrupt(cur, seeds[3 * t]);
      h = this.hiddenStep(xt, h, seeds[3 * t + 1], noisy);
      const raw = this.decodeRaw(h);
      raws.push(raw);
      if (t + 1 < k) {
        cur = given ? given[t] : this.drawFrom(raw, seeds[3 * t + 2]);
        if (!given) drawn.push(cur);
      }
    }
    return { raws, drawn };
  }

  override trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const k = this.dae.walkback;
    const seeds = Array.from({ length: 3 * k }, () => ctx.seed());
    // the walk's draws, without the tape; then the same walk (same noise, these draws) under it
    const drawn = tf.tidy(() => this.walk(x, k, seeds).drawn);
    const ends: tf.Scalar[] = [];
    try {
      const loss = ctx.minimize(
        'gsn',
        () => {
          const { raws } = this.walk(x, k, seeds, drawn);
          const per = raws.map((r) => tf.mean(this.reconLoss(r, x)) as tf.Scalar);
          ends.push(tf.keep(per[0]), tf.keep(per[per.length - 1]));
          return tf.mean(tf.stack(per)) as tf.Scalar;
        },
        this.vars(),
      );
      const [first, last] = ends.slice(-2);
      tf.dispose(ends.slice(0, -2));
      return { 'train/loss': loss, 'train/recon_first': first, 'train/recon_last': last };
    } finally {
      tf.dispose(drawn);
    }
  }

  /** the walk-back loss on held-out data: mean over the walk, and at its first and last steps */
  override async evaluate(val: tf.Tensor2D, seed = 0): Promise<Record<string, MetricValue>> {
    const k = this.dae.walkback;
    const seeds = Array.from({ length: 3 * k }, (_, i) => seed * 101 + 7 * i + 1);
    const t = tf.tidy(() => {
      const per = this.walk(val, k, seeds).raws.map((r) => tf.mean(this.reconLoss(r, val)));
      return tf.stack([tf.mean(tf.stack(per)), per[0], per[per.length - 1]]);
    });
    const [mean, first, last] = await t.data();
    t.dispose();
    return { 'val/recon': { value: mean, kind: 'info' }, 'val/recon_first': { value: first, kind: 'info' }, 'val/recon_last': { value: last, kind: 'info' } };
  }

  /** the chain's frames: p(x | h_t)'s mean every `every` steps, the first frame being the start */
  override async chain(opts: GsnChainRequest): Promise<Float32Array[]> {
    const frames = this.chainTensors(opts);
    try {
      return (await Promise.all(frames.map((f) => f.data()))).map((v) => (v as Float32Array).slice());
    } finally {
      tf.dispose(frames);
    }
  }

  private chainTensors(opts: GsnChainRequest): tf.Tensor2D[] {
    const { n, steps, seed } = opts;
    const every = Math.max(1, Math.floor(opts.every ?? 1));
    let x: tf.Tensor2D = opts.init instanceof tf.Tensor ? tf.clone(opts.init) : opts.init ? tf.tensor2d(opts.init, [n, this.D]) : this.noise(n, seed);
    let h: tf.Tensor2D | null = null;
    const frames: tf.Tensor2D[] = [tf.clone(x)];
    for (let t = 1; t <= steps; t++) {
      const xt = this.corrupt(x, seed + 3 * t);
      const hNew = this.hiddenStep(xt, opts.reset ? null : h, seed + 3 * t + 1);
      const raw = this.decodeRaw(hNew);
      if (t === steps || t % every === 0) frames.push(tf.tidy(() => (this.loss === 'bce' ? tf.sigmoid(raw) : this.data?.kind === 'image' ? tf.clipByValue(raw, 0, 1) : tf.clone(raw)) as tf.Tensor2D));
      const next = this.drawFrom(raw, seed + 3 * t + 2);
      tf.dispose([xt, x, raw, h ?? []]);
      h = hNew;
      x = next;
    }
    tf.dispose([x, h ?? []]);
    return frames;
  }

  override sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    const frames = this.chainTensors({ n, steps: this.dae.chainSteps, every: Math.max(1, this.dae.chainSteps), seed: seed * 7919 + 17, init: noise });
    const last = frames.pop()!;
    tf.dispose(frames);
    return last;
  }

  protected override vars(): tf.Variable[] {
    return [...super.vars(), this.V!];
  }

  override getWeights(): NamedWeight[] {
    return [...super.getWeights(), { name: 'gsn/V', tensor: this.V! }];
  }

  override setWeights(weights: NamedWeight[]): void {
    super.setWeights(weights);
    this.V!.assign(namedTensor(weightsByName(weights), 'gsn/V', this.V!.shape));
  }

  override dispose(): void {
    super.dispose();
    this.V?.dispose();
  }
}

function checkedSize(h: number): number {
  if (!Number.isInteger(h) || h < 1) throw new RangeError(`lab.models.gsn: hiddenSize must be a whole number >= 1 (got ${h})`);
  return h;
}
