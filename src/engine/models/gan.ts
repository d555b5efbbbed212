// Generative adversarial network (Goodfellow et al. 2014) with MLP generator and
// discriminator. D is trained with the usual cross-entropy on logits; G either
// minimizes E log(1 - D(G(z))) ('minimax', saturates early) or maximizes
// E log D(G(z)) ('nonsaturating'). A GAN gives no likelihood: its evaluations are
// sample-based (mode distance / coverage on toy mixtures).
import * as tf from '@tensorflow/tfjs';
import { normal } from '../ops/random';
import { modeStats } from '../eval/modes';
import type { Rng } from '../util/rng';
import { Mlp } from './mlp';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext } from './types';

export interface GanConfig {
  /** latent dimensions (default 2 for 2-D points, 64 for images) */
  latentDim?: number;
  /** hidden layer sizes of G and D (default [128, 128]) */
  hidden?: number[];
  /** generator loss (default 'nonsaturating') */
  loss?: 'nonsaturating' | 'minimax';
  /** discriminator steps per generator step (default 1) */
  dSteps?: number;
}

export class Gan implements Model {
  readonly family = 'gan';
  readonly config: { latentDim: number | null; hidden: number[]; loss: 'nonsaturating' | 'minimax'; dSteps: number };
  bestMetric: { key: string; mode: 'max' | 'min' } | undefined = undefined;
  optimizerDefaults = { beta1: 0.5, beta2: 0.999 };
  private G: Mlp | null = null;
  private Dnet: Mlp | null = null;
  private data: DataInfo | null = null;

  constructor(cfg: GanConfig = {}) {
    this.config = {
      latentDim: cfg.latentDim ?? null,
      hidden: cfg.hidden ?? [128, 128],
      loss: cfg.loss ?? 'nonsaturating',
      dSteps: Math.max(1, Math.floor(cfg.dSteps ?? 1)),
    };
    if (!['nonsaturating', 'minimax'].includes(this.config.loss)) throw new Error(`gan: loss must be 'nonsaturating' or 'minimax'`);
  }

  get built(): boolean {
    return this.G !== null;
  }

  private get latentDim(): number {
    return this.config.latentDim ?? (this.data?.kind === 'points' ? 2 : 64);
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/d_loss': 'loss',
      'train/g_loss': 'loss',
      'train/d_real': 'info',
      'train/d_fake': 'info',
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
      'val/d_real': 'info',
      'val/d_fake': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('gan: model already built (create a new one per run)');
    this.data = data;
    this.config.latentDim = this.latentDim;
    const D = data.shape.reduce((a, b) => a * b, 1);
    this.G = new Mlp('gan_g', [this.latentDim, ...this.config.hidden, D], rng, 'relu');
    this.Dnet = new Mlp('gan_d', [D, ...this.config.hidden, 1], rng, 'leakyRelu');
    if (data.modes) this.bestMetric = { key: 'val/mode_dist', mode: 'min' };
  }

  private generate(z: tf.Tensor2D): tf.Tensor2D {
    const out = this.G!.apply(z);
    return this.data?.kind === 'image' ? (tf.sigmoid(out) as tf.Tensor2D) : out;
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Record<string, number> {
    const B = x.shape[0];
    let dLoss = NaN;
    let dReal = NaN;
    let dFake = NaN;
    for (let k = 0; k < this.config.dSteps; k++) {
      const z = this.noise(B, ctx.seed());
      dLoss = ctx.minimize(
        'd',
        () => {
          const real = this.Dnet!.apply(x);
          const fake = this.Dnet!.apply(this.generate(z));
          dReal = tf.mean(tf.sigmoid(real)).dataSync()[0];
          dFake = tf.mean(tf.sigmoid(fake)).dataSync()[0];
          // -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit)
          return tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar;
        },
        this.Dnet!.vars(),
      );
      z.dispose();
    }
    const z = this.noise(B, ctx.seed());
    const gLoss = ctx.minimize(
      'g',
      () => {
        const fake = this.Dnet!.apply(this.generate(z));
        return (this.config.loss === 'nonsaturating'
          ? tf.mean(tf.softplus(tf.neg(fake))) // -log D(G(z))
          : tf.neg(tf.mean(tf.softplus(fake)))) as tf.Scalar; // log(1 - D(G(z)))
      },
      this.G!.vars(),
    );
    z.dispose();
    return { 'train/d_loss': dLoss, 'train/g_loss': gLoss, 'train/d_real': dReal, 'train/d_fake': dFake };
  }

  evaluate(val: tf.Tensor2D, seed: number): Record<string, MetricValue> {
    const n = Math.min(1000, Math.max(val.shape[0], 256));
    const [samples, dr, df] = tf.tidy(() => {
      const s = this.generate(this.noise(n, seed));
      return [s, tf.mean(tf.sigmoid(this.Dnet!.apply(val))), tf.mean(tf.sigmoid(this.Dnet!.apply(s)))];
    });
    const out: Record<string, MetricValue> = {
      'val/d_real': { value: dr.dataSync()[0], kind: 'info' },
      'val/d_fake': { value: df.dataSync()[0], kind: 'info' },
    };
    if (this.data?.modes && this.data.shape.length === 1 && this.data.shape[0] === 2) {
      const st = modeStats(samples.dataSync() as Float32Array, this.data.modes, this.data.modeStd ?? 0.05);
      out['val/mode_dist'] = { value: st.meanDist, kind: 'sample' };
      out['val/modes_covered'] = { value: st.covered, kind: 'sample' };
      out['val/high_quality'] = { value: st.highQuality, kind: 'sample' };
    }
    tf.dispose([samples, dr, df]);
    return out;
  }

  readonly hasLatent = true;

  noise(n: number, seed: number): tf.Tensor2D {
    return normal([n, this.latentDim], seed) as tf.Tensor2D;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    return tf.tidy(() => this.generate(noise ?? this.noise(n, seed)));
  }

  getWeights(): NamedWeight[] {
    return [...this.G!.named('generator'), ...this.Dnet!.named('discriminator')];
  }

  setWeights(weights: NamedWeight[]): void {
    this.G!.load('generator', weights);
    this.Dnet!.load('discriminator', weights);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.G?.dispose();
    this.Dnet?.dispose();
  }
}
