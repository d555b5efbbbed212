// Denoising autoencoder (Vincent et al. 2008) and its use as a generative model
// (Bengio et al. 2013, "Generalized denoising auto-encoders as generative models"):
// train p(x | x~) to undo a corruption C(x~ | x); then the Markov chain
//   x_t ~ p(x | x~_t),  x~_t ~ C(x~ | x_{t-1})
// has a stationary distribution that estimates p_data when p(x | x~) is consistent.
// Walk-back training runs k corruption-reconstruction steps from each data point
// and penalizes every reconstruction of the *original* x, so the chain learns to
// return from where it wanders. No likelihood: judge it by its chains and samples.
import * as tf from '@tensorflow/tfjs';
import { bernoulli, normal, uniform } from '../../ops/random';
import { Autoencoder } from './autoencoder';
import type { MetricKindName, MetricValue, StepContext, StepMetrics } from '../types';

export type DaeConfig = LatentLab.DaeConfig;

export class Dae extends Autoencoder {
  readonly dae: { corruption: 'saltpepper' | 'gaussian' | null; noise: number; walkback: number; chainSteps: number };

  constructor(cfg: DaeConfig = {}, family = 'dae') {
    super(cfg, family);
    this.dae = { corruption: cfg.corruption ?? null, noise: cfg.noise ?? 0.3, walkback: cfg.walkback ?? 1, chainSteps: cfg.chainSteps ?? 50 };
    const d = this.dae;
    if (d.corruption !== null && !['saltpepper', 'gaussian'].includes(d.corruption)) throw new RangeError(`lab.models.${family}: corruption must be 'saltpepper' or 'gaussian' (got ${JSON.stringify(cfg.corruption)})`);
    if (!(d.noise > 0) || (d.corruption === 'saltpepper' && d.noise > 1)) throw new RangeError(`lab.models.${family}: noise must be > 0 (and <= 1 for salt-and-pepper); got ${cfg.noise}`);
    if (!Number.isInteger(d.walkback) || d.walkback < 1 || d.walkback > 20) throw new RangeError(`lab.models.${family}: walkback must be a whole number from 1 to 20 (got ${cfg.walkback})`);
    if (!Number.isInteger(d.chainSteps) || d.chainSteps < 0) throw new RangeError(`lab.models.${family}: chainSteps must be a whole number >= 0 (got ${cfg.chainSteps})`);
    Object.assign(this.config, { corruption: d.corruption, noise: d.noise, walkback: d.walkback, chainSteps: d.chainSteps });
  }

  get corruption(): 'saltpepper' | 'gaussian' {
    return this.dae.corruption ?? (this.data?.binary ? 'saltpepper' : 'gaussian');
  }

  override metricKinds(): Record<string, MetricKindName> {
    return { 'train/loss': 'loss', 'val/recon': 'info', 'val/denoise': 'info', 'val/code_std': 'info' };
  }

  override build(...args: Parameters<Autoencoder['build']>): void {
    const corruption = this.dae.corruption ?? (args[0].binary ? 'saltpepper' : 'gaussian');
    if (corruption === 'saltpepper' && this.dae.noise > 1) throw new RangeError(`lab.models.${this.family}: salt-and-pepper noise is a probability, at most 1 (got ${this.dae.noise})`);
    super.build(...args);
    this.dae.corruption = this.corruption;
    (this.config as Record<string, unknown>).corruption = this.corruption;
  }

  /** C(x~ | x): one draw of the corruption */
  corrupt(x: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      if (this.corruption === 'gaussian') return tf.add(x, normal(x.shape, seed, 0, this.dae.noise)) as tf.Tensor2D;
      // salt and pepper: with probability `noise` a pixel is replaced by a fair coin
      const hit = tf.less(uniform(x.shape, seed), this.dae.noise);
      const coin = tf.cast(tf.less(uniform(x.shape, seed + 1), 0.5), 'float32');
      return tf.where(hit, coin, x) as tf.Tensor2D;
    });
  }

  /** one draw from p(x | x~): Bernoulli pixels for 'bce', the mean for 'mse' */
  private draw(xt: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const p = this.decode(this.encode(xt));
      return this.loss === 'bce' ? (bernoulli(p, seed) as tf.Tensor2D) : p;
    });
  }

  override trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    // walk-back: the corrupted inputs of k steps of the chain started at the data (no gradient through the walk)
    const inputs: tf.Tensor2D[] = [];
    let cur = x;
    for (let t = 0; t < this.dae.walkback; t++) {
      const xt = this.corrupt(cur, ctx.seed());
      inputs.push(xt);
      if (t + 1 < this.dae.walkback) {
        const next = this.draw(xt, ctx.seed());
        if (cur !== x) cur.dispose();
        cur = next;
      }
    }
    if (cur !== x) cur.dispose();
    const all = inputs.length === 1 ? inputs[0] : tf.concat(inputs, 0);
    const target = inputs.length === 1 ? x : tf.tile(x, [inputs.length, 1]);
    try {
      // every reconstruction is pulled back to the original x; the loss is per walk-back step
      const loss = ctx.minimize('dae', () => tf.mean(this.reconLoss(this.decodeRaw(this.encode(all)), target as tf.Tensor2D)) as tf.Scalar, this.vars());
      return { 'train/loss': loss };
    } finally {
      tf.dispose(inputs);
      if (all !== inputs[0]) all.dispose();
      if (target !== x) target.dispose();
    }
  }

  override async evaluate(val: tf.Tensor2D, seed = 0): Promise<Record<string, MetricValue>> {
    const base = await super.evaluate(val);
    const d = tf.tidy(() => tf.mean(this.reconLoss(this.decodeRaw(this.encode(this.corrupt(val, seed))), val)));
    const den = (await d.data())[0];
    d.dispose();
    return { ...base, 'val/denoise': { value: den, kind: 'info' } };
  }

  /** The sampling chain: frames of p(x | x~_t)'s mean every `every` steps, the first frame being the start. */
  async chain(opts: { n: number; steps: number; every?: number; seed: number; init?: tf.Tensor2D | Float32Array }): Promise<Float32Array[]> {
    const frames = this.chainFrames(opts);
    try {
      const values = await Promise.all(frames.map((f) => f.data()));
      return values.map((v) => (v as Float32Array).slice());
    } finally {
      tf.dispose(frames);
    }
  }

  /** the chain's frames as tensors [n, D], not read back (the caller disposes them) */
  private chainFrames(opts: { n: number; steps: number; every?: number; seed: number; init?: tf.Tensor2D | Float32Array }): tf.Tensor2D[] {
    const { n, steps, seed } = opts;
    const every = Math.max(1, Math.floor(opts.every ?? 1));
    let x: tf.Tensor2D = opts.init instanceof tf.Tensor ? tf.clone(opts.init) : opts.init ? tf.tensor2d(opts.init, [n, this.D]) : this.startState(n, seed);
    const frames: tf.Tensor2D[] = [tf.clone(x)];
    for (let t = 1; t <= steps; t++) {
      const xt = this.corrupt(x, seed + 2 * t);
      const next = t === steps || t % every === 0 ? tf.tidy(() => this.decode(this.encode(xt))) : null;
      if (next) frames.push(next);
      const drawn = this.draw(xt, seed + 2 * t + 1);
      tf.dispose([xt, x]);
      x = drawn;
    }
    x.dispose();
    return frames;
  }

  private startState(n: number, seed: number): tf.Tensor2D {
    return tf.tidy(() => (this.loss === 'bce' ? tf.cast(tf.less(uniform([n, this.D], seed), 0.5), 'float32') : uniform([n, this.D], seed)) as tf.Tensor2D);
  }

  // the chain's randomness is its noise: a sample is where `chainSteps` steps from a random image end up
  override readonly hasLatent: boolean = false;

  override noise(n: number, seed: number): tf.Tensor2D {
    return this.startState(n, seed);
  }

  override sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    const frames = this.chainFrames({ n, steps: this.dae.chainSteps, every: Math.max(1, this.dae.chainSteps), seed: seed * 7919 + 17, init: noise });
    const last = frames.pop()!;
    tf.dispose(frames);
    return last;
  }
}
