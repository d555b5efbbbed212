// Variational autoencoder (Kingma & Welling): MLP encoder q(z|x) = N(mu, diag sigma^2),
// MLP decoder p(x|z) (Bernoulli logits or Gaussian with a learned per-dim scale),
// reparameterized z = mu + sigma * eps, closed-form KL to N(0, I).
// ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x): reported as a *bound*.
import * as tf from '@tensorflow/tfjs';
import { normal } from '../ops/random';
import type { Rng } from '../util/rng';
import { Mlp } from './mlp';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext } from './types';

export interface VaeConfig {
  /** latent dimensions (default 16) */
  latentDim?: number;
  /** hidden layer sizes of the encoder; the decoder mirrors them (default [512, 256]) */
  hidden?: number[];
  /** decoder likelihood; default: 'bernoulli' on binary data, else 'gaussian' */
  likelihood?: 'bernoulli' | 'gaussian';
  /** weight of the KL term in the training objective (beta-VAE; default 1) */
  beta?: number;
  /** ramp beta linearly from 0 over this many steps (KL warm-up; default 0 = off) */
  klWarmup?: number;
}

const LOG_2PI = Math.log(2 * Math.PI);

/** KL(N(mu, exp(logvar)) || N(0, I)) per row: 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2). */
export function gaussianKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar)), 1)) as tf.Tensor1D);
}

let logSigmaCount = 0;

export class Vae implements Model {
  readonly family = 'vae';
  readonly config: Required<Omit<VaeConfig, 'likelihood'>> & { likelihood: 'bernoulli' | 'gaussian' | null };
  bestMetric = { key: 'val/elbo', mode: 'max' as const };
  private enc: Mlp | null = null;
  private dec: Mlp | null = null;
  private logSigma: tf.Variable | null = null;
  private D = 0;
  private data: DataInfo | null = null;

  constructor(cfg: VaeConfig = {}) {
    this.config = {
      latentDim: cfg.latentDim ?? 16,
      hidden: cfg.hidden ?? [512, 256],
      likelihood: cfg.likelihood ?? null,
      beta: cfg.beta ?? 1,
      klWarmup: cfg.klWarmup ?? 0,
    };
    if (!(this.config.latentDim >= 1)) throw new Error('vae: latentDim must be >= 1');
    if (this.config.likelihood !== null && !['bernoulli', 'gaussian'].includes(this.config.likelihood)) {
      throw new Error(`vae: likelihood must be 'bernoulli' or 'gaussian'`);
    }
  }

  get built(): boolean {
    return this.enc !== null;
  }

  get likelihood(): 'bernoulli' | 'gaussian' {
    return this.config.likelihood ?? (this.data?.binary ? 'bernoulli' : 'gaussian');
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'train/recon': 'loss',
      'train/kl': 'loss',
      'train/objective': 'loss',
      'val/elbo': 'bound',
      'val/bits_per_dim': 'bound',
      'val/recon': 'info',
      'val/kl': 'info',
      'val/active_units': 'info',
      'test/nll': 'bound',
      'test/bits_per_dim': 'bound',
    };
  }

  /** -ELBO per example (an upper bound on the NLL), one posterior draw each */
  testNll(x: tf.Tensor2D, seed: number): { nll: Float32Array; kind: 'bound' } {
    const n = x.shape[0];
    const out = new Float32Array(n);
    for (let s = 0; s < n; s += 500) {
      const m = Math.min(500, n - s);
      const v = tf.tidy(() => {
        const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
        const { mu, logvar } = this.encode(xs);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), normal(mu.shape, seed + s))) as tf.Tensor2D;
        return tf.add(this.nll(xs, z), gaussianKl(mu, logvar));
      });
      out.set(v.dataSync() as Float32Array, s);
      v.dispose();
    }
    return { nll: out, kind: 'bound' };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('vae: model already built (create a new one per run)');
    this.data = data;
    this.config.likelihood = this.likelihood;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    const { hidden, latentDim } = this.config;
    this.enc = new Mlp('vae_enc', [this.D, ...hidden, 2 * latentDim], rng);
    this.dec = new Mlp('vae_dec', [latentDim, ...[...hidden].reverse(), this.D], rng);
    // tf's variable names are global: a counter keeps two models built from the same seed apart (a sweep builds many)
    if (this.likelihood === 'gaussian') this.logSigma = tf.variable(tf.zeros([this.D]), true, `vae_logsigma_${rng.seed()}_${++logSigmaCount}`);
  }

  private encode(x: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const h = this.enc!.apply(x);
    const L = this.config.latentDim;
    const mu = tf.slice(h, [0, 0], [-1, L]) as tf.Tensor2D;
    // keep log-variances in a sane range so exp() cannot overflow early in training
    const logvar = tf.clipByValue(tf.slice(h, [0, L], [-1, L]), -12, 8) as tf.Tensor2D;
    return { mu, logvar };
  }

  private sigma(): tf.Tensor1D {
    return tf.exp(tf.clipByValue(this.logSigma!, -7, 2)) as tf.Tensor1D;
  }

  /** -log p(x|z) per row, in nats */
  private nll(x: tf.Tensor2D, z: tf.Tensor2D): tf.Tensor1D {
    const out = this.dec!.apply(z);
    if (this.likelihood === 'bernoulli') {
      // -log Bernoulli(x; sigmoid(l)) = softplus(l) - x * l
      return tf.sum(tf.sub(tf.softplus(out), tf.mul(x, out)), 1) as tf.Tensor1D;
    }
    const ls = tf.clipByValue(this.logSigma!, -7, 2);
    const zsc = tf.div(tf.sub(x, out), tf.exp(ls));
    return tf.sum(tf.add(tf.add(0.5 * LOG_2PI, ls), tf.mul(0.5, tf.square(zsc))), 1) as tf.Tensor1D;
  }

  trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): Record<string, number> {
    const seed = ctx.seed();
    const { beta, klWarmup } = this.config;
    const w = klWarmup > 0 ? beta * Math.min(1, step / klWarmup) : beta;
    let recon = NaN;
    let kl = NaN;
    const objective = ctx.minimize(
      'vae',
      () => {
        const { mu, logvar } = this.encode(x);
        const eps = normal(mu.shape, seed);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
        const r = tf.mean(this.nll(x, z));
        const k = tf.mean(gaussianKl(mu, logvar));
        recon = r.dataSync()[0];
        kl = k.dataSync()[0];
        return tf.add(r, tf.mul(w, k)) as tf.Scalar;
      },
      this.vars(),
    );
    const out: Record<string, number> = { 'train/loss': recon + kl, 'train/recon': recon, 'train/kl': kl };
    if (w !== 1) out['train/objective'] = objective;
    return out;
  }

  evaluate(val: tf.Tensor2D, seed: number): Record<string, MetricValue> {
    const n = val.shape[0];
    let elbo = 0;
    let rec = 0;
    let kl = 0;
    let klPerDim: Float32Array | null = null;
    const chunk = 500;
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const [r, k, kd] = tf.tidy(() => {
        const x = tf.slice(val, [s, 0], [m, -1]) as tf.Tensor2D;
        const { mu, logvar } = this.encode(x);
        const eps = normal(mu.shape, seed + s);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
        const klRows = tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar)));
        return [tf.sum(this.nll(x, z)), tf.sum(klRows), tf.sum(klRows, 0)];
      });
      rec += r.dataSync()[0];
      kl += k.dataSync()[0];
      const kdv = kd.dataSync() as Float32Array;
      if (!klPerDim) klPerDim = new Float32Array(kdv.length);
      for (let i = 0; i < kdv.length; i++) klPerDim[i] += kdv[i];
      tf.dispose([r, k, kd]);
    }
    rec /= n;
    kl /= n;
    elbo = -(rec + kl);
    // "active units": latent dims whose average KL is above 0.01 nats (posterior collapse check)
    const active = klPerDim ? Array.from(klPerDim).filter((v) => v / n > 0.01).length : 0;
    return {
      'val/elbo': { value: elbo, kind: 'bound' },
      'val/bits_per_dim': { value: -elbo / (this.D * Math.LN2), kind: 'bound' },
      'val/recon': { value: rec, kind: 'info' },
      'val/kl': { value: kl, kind: 'info' },
      'val/active_units': { value: active, kind: 'info' },
    };
  }

  get hasLatent(): boolean {
    // a Gaussian decoder on points adds noise in sample(): only the mean is a path
    return this.likelihood === 'bernoulli' || this.data?.kind === 'image';
  }

  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const { mu, logvar } = this.encode(x);
      logvar.dispose();
      return mu;
    });
  }

  noise(n: number, seed: number): tf.Tensor2D {
    return normal([n, this.config.latentDim], seed) as tf.Tensor2D;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    return tf.tidy(() => {
      const z = noise ?? this.noise(n, seed);
      const out = this.dec!.apply(z);
      if (this.likelihood === 'bernoulli') return tf.sigmoid(out) as tf.Tensor2D;
      if (this.data?.kind === 'image') return tf.clipByValue(out, 0, 1) as tf.Tensor2D;
      // points: a draw from p(x|z), not just its mean
      const eps = normal(out.shape, seed + 1);
      return tf.add(out, tf.mul(this.sigma(), eps)) as tf.Tensor2D;
    });
  }

  private vars(): tf.Variable[] {
    const v = [...this.enc!.vars(), ...this.dec!.vars()];
    if (this.logSigma) v.push(this.logSigma);
    return v;
  }

  getWeights(): NamedWeight[] {
    const w = [...this.enc!.named('encoder'), ...this.dec!.named('decoder')];
    if (this.logSigma) w.push({ name: 'decoder/log_sigma', tensor: this.logSigma });
    return w;
  }

  setWeights(weights: NamedWeight[]): void {
    this.enc!.load('encoder', weights);
    this.dec!.load('decoder', weights);
    if (this.logSigma) {
      const t = weights.find((w) => w.name === 'decoder/log_sigma');
      if (!t) throw new Error(`setWeights: missing 'decoder/log_sigma'`);
      this.logSigma.assign(t.tensor);
    }
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.enc?.dispose();
    this.dec?.dispose();
    this.logSigma?.dispose();
  }
}
