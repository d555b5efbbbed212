// Hierarchical VAE (ladder VAE, Sønderby et al. 2016): stochastic layers z_L → … → z_1 → x.
// Generative model: p(z_L) = N(0, I), p(z_l | z_{l+1}) = N(mu_l(z_{l+1}), diag exp(v_l(z_{l+1})))
// from a small MLP per layer, p(x | z_1) Bernoulli logits (or a Gaussian with a learned
// per-dimension scale) from an MLP decoder.
// Inference: a bottom-up deterministic path d_1 = f_1(x), d_l = f_l(d_{l-1}) gives each layer
// a Gaussian estimate N(mû_l, σ̂_l^2); the top-down pass then shares the generative path:
// q(z_L | x) = N(mû_L, σ̂_L^2), and for l < L, q(z_l | z_{l+1}, x) is the precision-weighted
// merge of the estimate with the prior p(z_l | z_{l+1}) at the sampled z_{l+1}:
//   σ_q^-2 = σ̂^-2 + σ_p^-2,   mu_q = σ_q^2 (mû σ̂^-2 + mu_p σ_p^-2).
// ELBO = E_q log p(x|z_1) − KL(q(z_L|x) ‖ N(0, I)) − Σ_{l<L} E_q KL(q(z_l|z_{l+1},x) ‖ p(z_l|z_{l+1})):
// every KL in closed form given the one sampled z_{l+1} it conditions on (a single-sample
// Monte Carlo estimate of the outer expectation). lab.evaluate's number is −IWAE-k.
import * as tf from '@tensorflow/tfjs';
import { normal } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { Mlp, activate, type Activation } from '../../nn/mlp';
import { subSeed } from '../../nn/seeds';
import { loadNamed, uniqueName } from '../../nn/params';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { decoderNll, iwaeConvergence, LOG_2PI, streamIwae, VAE_METRIC_KINDS, type IwaeResult } from './bounds';

export type HvaeConfig = LatentLab.HvaeConfig;

type Resolved = Required<Omit<HvaeConfig, 'likelihood'>> & { likelihood: 'bernoulli' | 'gaussian' | null };

/** default importance samples of the test bound: the VAE's, so the two compare at equal k */
const EVAL_K = 500;
/** a layer's unit is active when its mean KL is above this (nats), as for the VAE's val/active_units */
export const ACTIVE_KL = 0.01;

/** a diagonal Gaussian by its means and log-variances, [rows, d] each */
export interface Gauss {
  mu: tf.Tensor2D;
  logvar: tf.Tensor2D;
}

/** an MLP's [rows, 2d] output as a Gaussian, its log-variances clipped to a sane range */
function gaussOf(h: tf.Tensor2D, d: number): Gauss {
  const mu = tf.slice(h, [0, 0], [-1, d]) as tf.Tensor2D;
  const logvar = tf.clipByValue(tf.slice(h, [0, d], [-1, d]), -12, 8) as tf.Tensor2D;
  return { mu, logvar };
}

/** the precision-weighted merge of two Gaussian estimates of one variable (their product, normalized) */
export function mergeGauss(a: Gauss, b: Gauss): Gauss {
  const pa = tf.exp(tf.neg(a.logvar));
  const pb = tf.exp(tf.neg(b.logvar));
  const prec = tf.add(pa, pb);
  return { mu: tf.div(tf.add(tf.mul(a.mu, pa), tf.mul(b.mu, pb)), prec) as tf.Tensor2D, logvar: tf.neg(tf.log(prec)) as tf.Tensor2D };
}

/** KL(q ‖ p) of two diagonal Gaussians, per dimension: ½ (log σ_p² − log σ_q² + (σ_q² + (μ_q − μ_p)²)/σ_p² − 1) */
export function gaussKlPerDim(q: Gauss, p: Gauss): tf.Tensor2D {
  const num = tf.add(tf.exp(q.logvar), tf.square(tf.sub(q.mu, p.mu)));
  return tf.mul(0.5, tf.sub(tf.add(tf.sub(p.logvar, q.logvar), tf.div(num, tf.exp(p.logvar))), 1)) as tf.Tensor2D;
}

/** log N(z; μ, σ²) per row */
function logNormal(z: tf.Tensor2D, g: Gauss): tf.Tensor1D {
  const sq = tf.div(tf.square(tf.sub(z, g.mu)), tf.exp(g.logvar));
  return tf.mul(-0.5, tf.sum(tf.add(tf.add(sq, g.logvar), LOG_2PI), 1)) as tf.Tensor1D;
}

/** one top-down pass: the draws of each layer (z_1 first), each layer's closed-form KL per dimension, and the log weight's prior/posterior part */
interface Pass {
  z: tf.Tensor2D[];
  kl: tf.Tensor2D[];
  /** Σ_l log p(z_l | z_{l+1}) − log q(z_l | ·), per row */
  logRatio: tf.Tensor1D;
}

let logSigmaCount = 0;

export class Hvae implements Model {
  readonly family = 'hvae';
  readonly config: Resolved;
  bestMetric = { key: 'val/elbo', mode: 'max' as const };
  /** mean KL of each layer at each evaluation, per dimension (steps, then [layer][dim] values) */
  readonly klHistory: { steps: number[]; values: Float32Array[][] } = { steps: [], values: [] };
  /** bottom-up deterministic steps (x → d_1, d_{l-1} → d_l; null: d_1 = x) and each layer's estimate head */
  private up: (Mlp | null)[] = [];
  private heads: Mlp[] = [];
  /** top-down priors: priors[l] gives p(z_{l+1} | z_{l+2}) in 1-based terms, l = 0 .. L-2 */
  private priors: Mlp[] = [];
  private dec: Mlp | null = null;
  private logSigma: tf.Variable | null = null;
  private D = 0;
  private lastStep = 0;
  private data: DataInfo | null = null;

  constructor(cfg: HvaeConfig = {}) {
    this.config = {
      latents: cfg.latents ?? [32, 16],
      hidden: cfg.hidden ?? [512, 256],
      width: cfg.width ?? 256,
      activation: cfg.activation ?? 'relu',
      likelihood: cfg.likelihood ?? null,
      warmup: cfg.warmup ?? 0,
      evalK: cfg.evalK ?? EVAL_K,
    };
    const c = this.config;
    const whole = (v: unknown, min: number) => Number.isInteger(v) && (v as number) >= min;
    if (!Array.isArray(c.latents) || c.latents.length < 1 || !c.latents.every((d) => whole(d, 1))) throw new Error(`hvae: latents must be a list of the stochastic layers' sizes (z_1 first), whole numbers >= 1`);
    if (!Array.isArray(c.hidden) || !c.hidden.every((h) => whole(h, 1))) throw new Error('hvae: hidden must be a list of whole numbers >= 1');
    if (!whole(c.width, 1)) throw new Error('hvae: width must be a whole number >= 1');
    if (!['relu', 'tanh', 'linear'].includes(c.activation)) throw new Error(`hvae: activation must be 'relu', 'tanh' or 'linear'`);
    if (c.likelihood !== null && !['bernoulli', 'gaussian'].includes(c.likelihood)) throw new Error(`hvae: likelihood must be 'bernoulli' or 'gaussian'`);
    if (!(c.warmup >= 0)) throw new Error('hvae: warmup must be >= 0 steps');
    if (!whole(c.evalK, 1)) throw new Error('hvae: evalK (importance samples of the test bound) must be a whole number >= 1');
  }

  get built(): boolean {
    return this.dec !== null;
  }

  get likelihood(): 'bernoulli' | 'gaussian' {
    return this.config.likelihood ?? (this.data?.binary ? 'bernoulli' : 'gaussian');
  }

  /** the number of stochastic layers L */
  get layers(): number {
    return this.config.latents.length;
  }

  metricKinds(): Record<string, MetricKindName> {
    const kinds: Record<string, MetricKindName> = { ...VAE_METRIC_KINDS };
    for (let l = 1; l <= this.layers; l++) {
      kinds[`train/kl_z${l}`] = 'info';
      kinds[`val/kl_z${l}`] = 'info';
      kinds[`val/active_units_z${l}`] = 'info';
    }
    return kinds;
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('hvae: model already built (create a new one per run)');
    const D = data.shape.reduce((a, b) => a * b, 1);
    const { latents, hidden, width, activation } = this.config;
    const act = activation as Activation;
    this.data = data;
    this.config.likelihood = this.likelihood;
    this.D = D;
    const L = latents.length;
    let below = D;
    for (let l = 0; l < L; l++) {
      const sizes = l === 0 ? [D, ...hidden] : [below, width];
      this.up.push(sizes.length > 1 ? new Mlp(`hvae_up${l}`, sizes, rng, act) : null);
      below = sizes[sizes.length - 1];
      this.heads.push(new Mlp(`hvae_head${l}`, [below, 2 * latents[l]], rng));
    }
    for (let l = 0; l + 1 < L; l++) this.priors.push(new Mlp(`hvae_prior${l}`, [latents[l + 1], width, 2 * latents[l]], rng, act));
    this.dec = new Mlp('hvae_dec', [latents[0], ...[...hidden].reverse(), D], rng, act);
    if (this.likelihood === 'gaussian') this.logSigma = tf.variable(tf.zeros([D]), true, uniqueName(`hvae_logsigma_${++logSigmaCount}`));
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`hvae.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** the bottom-up estimates N(mû_l, σ̂_l²) of every layer, z_1 first */
  private bottomUp(x: tf.Tensor2D): Gauss[] {
    const act = this.config.activation as Activation;
    let d = x;
    return this.heads.map((head, l) => {
      const up = this.up[l];
      if (up) d = activate(up.apply(d), act);
      return gaussOf(head.apply(d), this.config.latents[l]);
    });
  }

  /** p(z_l | z_{l+1}) for layer index l (0-based, l < L-1) */
  private prior(l: number, zAbove: tf.Tensor2D): Gauss {
    return gaussOf(this.priors[l].apply(zAbove), this.config.latents[l]);
  }

  /**
   * The top-down pass over `rows` rows of bottom-up estimates (each estimate tiled `k` times,
   * row i*B + b belonging to example b): draw each layer from q, top first, layer l's noise
   * drawn with subSeed(seed, l).
   */
  private topDown(bu: Gauss[], k: number, seed: number): Pass {
    const L = this.layers;
    const tile = (t: tf.Tensor2D) => (k === 1 ? t : (tf.tile(t, [k, 1]) as tf.Tensor2D));
    const z: tf.Tensor2D[] = new Array(L);
    const kl: tf.Tensor2D[] = new Array(L);
    let logRatio: tf.Tensor1D | null = null;
    for (let l = L - 1; l >= 0; l--) {
      const est: Gauss = { mu: tile(bu[l].mu), logvar: tile(bu[l].logvar) };
      const p: Gauss = l === L - 1 ? { mu: tf.zerosLike(est.mu), logvar: tf.zerosLike(est.logvar) } : this.prior(l, z[l + 1]);
      const q = l === L - 1 ? est : mergeGauss(est, p);
      const eps = normal(est.mu.shape, subSeed(seed, l)) as tf.Tensor2D;
      z[l] = tf.add(q.mu, tf.mul(tf.exp(tf.mul(0.5, q.logvar)), eps)) as tf.Tensor2D;
      kl[l] = gaussKlPerDim(q, p);
      const r = tf.sub(logNormal(z[l], p), logNormal(z[l], q)) as tf.Tensor1D;
      logRatio = logRatio ? (tf.add(logRatio, r) as tf.Tensor1D) : r;
    }
    return { z, kl, logRatio: logRatio! };
  }

  /** -log p(x | z_1) per row */
  private nll(x: tf.Tensor2D, z1: tf.Tensor2D): tf.Tensor1D {
    return decoderNll(this.dec!.apply(z1), x, this.logSigma);
  }

  /** per row: the reconstruction term -log p(x|z_1) and each layer's KL [rows] (one posterior draw seeded with `seed`) */
  private elboParts(x: tf.Tensor2D, seed: number): { recon: tf.Tensor1D; kl: tf.Tensor1D[]; klDims: tf.Tensor2D[] } {
    const pass = this.topDown(this.bottomUp(x), 1, seed);
    return { recon: this.nll(x, pass.z[0]), kl: pass.kl.map((k) => tf.sum(k, 1) as tf.Tensor1D), klDims: pass.kl };
  }

  /**
   * The single-draw ELBO per row (nats), its reconstruction term and each layer's KL:
   * log p(x|z_1) − Σ_l KL_l with one draw z ~ q seeded with `seed`. For tests and views.
   */
  async elbo(x: tf.Tensor2D, seed: number): Promise<{ elbo: Float32Array; recon: Float32Array; kl: Float32Array[] }> {
    this.need('elbo');
    const parts = tf.tidy(() => {
      const { recon, kl } = this.elboParts(x, seed);
      return [recon, ...kl];
    });
    try {
      const [recon, ...kl] = (await Promise.all(parts.map((t) => t.data()))) as Float32Array[];
      const elbo = recon.map((r, i) => -r - kl.reduce((s, k) => s + k[i], 0));
      return { elbo, recon, kl };
    } finally {
      tf.dispose(parts);
    }
  }

  /** the log importance weights log p(x, z_i) − log q(z_i | x) of k draws per row, [k, n] */
  private logWeights(x: tf.Tensor2D, bu: Gauss[], k: number, seed: number): tf.Tensor2D {
    const n = x.shape[0];
    const pass = this.topDown(bu, k, seed);
    const xs = k === 1 ? x : (tf.tile(x, [k, 1]) as tf.Tensor2D);
    return tf.reshape(tf.sub(pass.logRatio, this.nll(xs, pass.z[0])), [k, n]) as tf.Tensor2D;
  }

  /**
   * The IWAE-k bound per row, log (1/k) Σ_i p(x, z_i)/q(z_i|x) with z_i ~ q (all layers), and the
   * effective sample size of each row's weights. ≤ log p(x); rises with k towards it.
   */
  async iwae(x: tf.Tensor2D, k: number, seed: number): Promise<IwaeResult> {
    this.need('iwae');
    if (!(Number.isInteger(k) && k >= 1)) throw new Error('hvae.iwae: k must be a whole number >= 1');
    return streamIwae(
      x.shape[0],
      k,
      seed,
      (s, m) =>
        tf.tidy(() => {
          const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
          const bu = this.bottomUp(xs);
          return Object.fromEntries([['x', xs], ...bu.flatMap((g, l) => [[`mu${l}`, g.mu], [`lv${l}`, g.logvar]])]) as Record<string, tf.Tensor2D>;
        }),
      (st, kk, sd) => this.logWeights(st.x, this.heads.map((_, l) => ({ mu: st[`mu${l}`], logvar: st[`lv${l}`] })), kk, sd),
    );
  }

  /**
   * −IWAE-k per example (an upper bound on the NLL), k = opts.k or evalK; unless
   * opts.convergence is false, also the bound at 4k, in `convergence` with the ESS at k.
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts: EstimatorOptions = {}): Promise<TestNll> {
    this.need('testNll');
    const k = opts.k ?? this.config.evalK;
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`hvae.testNll: k (importance samples) must be a whole number >= 1, not ${k}`);
    const atK = await this.iwae(x, k, seed);
    const nll = atK.bound.map((v) => -v);
    if (opts.convergence === false) return { nll, kind: 'bound', details: { k } };
    const at4k = await this.iwae(x, 4 * k, subSeed(seed, 4));
    return { nll, kind: 'bound', details: { k }, convergence: iwaeConvergence(k, atK, at4k) };
  }

  async trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): Promise<StepMetrics> {
    this.lastStep = step;
    const seed = ctx.seed();
    const { warmup } = this.config;
    const w = warmup > 0 ? Math.min(1, step / warmup) : 1;
    const kept: tf.Scalar[] = [];
    let objective: tf.Scalar;
    try {
      objective = ctx.minimize(
        'hvae',
        () => {
          const { recon, kl } = this.elboParts(x, seed);
          const r = tf.mean(recon) as tf.Scalar;
          const kls = kl.map((k) => tf.mean(k) as tf.Scalar);
          kept.push(tf.keep(r), ...kls.map((k) => tf.keep(k)));
          return tf.add(r, tf.mul(w, tf.addN(kls))) as tf.Scalar;
        },
        this.vars(),
      );
    } catch (e) {
      tf.dispose(kept);
      throw e;
    }
    const all = tf.tidy(() => tf.stack([...kept, objective]));
    let v: Float32Array;
    try {
      v = (await all.data()) as Float32Array;
    } finally {
      tf.dispose([all, ...kept, objective]);
    }
    const L = this.layers;
    const kl = Array.from(v.subarray(1, 1 + L));
    const klSum = kl.reduce((a, b) => a + b, 0);
    const out: Record<string, number> = { 'train/loss': v[0] + klSum, 'train/recon': v[0], 'train/kl': klSum };
    kl.forEach((k, l) => (out[`train/kl_z${l + 1}`] = k));
    if (w !== 1) out['train/objective'] = v[1 + L];
    if (warmup > 0) out['train/kl_weight'] = w;
    return out;
  }

  /** mean KL of each layer's units over the rows of x (one posterior draw per row, seeded): [layer][dim], z_1 first */
  async klPerLayer(x: tf.Tensor2D, seed = 0): Promise<Float32Array[]> {
    this.need('klPerLayer');
    return (await this.summary(x, seed)).klDims;
  }

  /** the mean reconstruction term and each layer's mean KL per dimension over x, in chunks */
  private async summary(x: tf.Tensor2D, seed: number): Promise<{ recon: number; klDims: Float32Array[] }> {
    const n = x.shape[0];
    const { latents } = this.config;
    const acc = latents.map((d) => new Float64Array(d));
    let recon = 0;
    const chunk = 500;
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const parts = tf.tidy(() => {
        const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
        const { recon, klDims } = this.elboParts(xs, subSeed(seed, s));
        return [tf.sum(recon), ...klDims.map((k) => tf.sum(k, 0))];
      });
      let vals: Float32Array[];
      try {
        vals = (await Promise.all(parts.map((t) => t.data()))) as Float32Array[];
      } finally {
        tf.dispose(parts);
      }
      recon += vals[0][0];
      acc.forEach((a, l) => vals[l + 1].forEach((v, j) => (a[j] += v)));
    }
    return { recon: recon / n, klDims: acc.map((a) => Float32Array.from(a, (v) => v / n)) };
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    this.need('evaluate');
    const { recon, klDims } = await this.summary(val, seed);
    const klLayer = klDims.map((k) => k.reduce((a, b) => a + b, 0));
    const kl = klLayer.reduce((a, b) => a + b, 0);
    const elbo = -(recon + kl);
    this.klHistory.steps.push(this.lastStep);
    this.klHistory.values.push(klDims);
    const active = klDims.map((k) => k.filter((v) => v > ACTIVE_KL).length);
    const out: Record<string, MetricValue> = {
      'val/elbo': { value: elbo, kind: 'bound' },
      'val/bits_per_dim': { value: -elbo / (this.D * Math.LN2), kind: 'bound' },
      'val/recon': { value: recon, kind: 'info' },
      'val/kl': { value: kl, kind: 'info' },
      'val/active_units': { value: active.reduce((a, b) => a + b, 0), kind: 'info' },
    };
    klLayer.forEach((k, l) => {
      out[`val/kl_z${l + 1}`] = { value: k, kind: 'info' };
      out[`val/active_units_z${l + 1}`] = { value: active[l], kind: 'info' };
    });
    return out;
  }

  /** prior noise for `n` samples: the standard-normal draws of every layer side by side, [n, Σ_l d_l] (z_1's first) */
  noise(n: number, seed: number): tf.Tensor2D {
    const total = this.config.latents.reduce((a, b) => a + b, 0);
    return normal([n, total], seed) as tf.Tensor2D;
  }

  /**
   * Ancestral samples: z_L = ε_L, z_l = μ_p(z_{l+1}) + σ_p(z_{l+1}) ε_l, and the decoder's means
   * of p(x | z_1) (images in [0, 1]); the noise ε of every layer from `noise` or `seed`.
   */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need('sample');
    const eps = noise ?? this.noise(n, seed);
    try {
      return tf.tidy(() => {
        const { latents } = this.config;
        const parts = tf.split(eps, latents, 1) as tf.Tensor2D[];
        let z = parts[latents.length - 1];
        for (let l = latents.length - 2; l >= 0; l--) {
          const p = this.prior(l, z);
          z = tf.add(p.mu, tf.mul(tf.exp(tf.mul(0.5, p.logvar)), parts[l])) as tf.Tensor2D;
        }
        const out = this.dec!.apply(z);
        if (this.likelihood === 'bernoulli') return tf.sigmoid(out) as tf.Tensor2D;
        return this.data?.kind === 'image' ? (tf.clipByValue(out, 0, 1) as tf.Tensor2D) : out;
      });
    } finally {
      if (!noise) eps.dispose();
    }
  }

  private vars(): tf.Variable[] {
    const nets = [...this.up.filter((u): u is Mlp => u !== null), ...this.heads, ...this.priors, this.dec!];
    const v = nets.flatMap((m) => m.vars());
    if (this.logSigma) v.push(this.logSigma);
    return v;
  }

  getWeights(): NamedWeight[] {
    const w: NamedWeight[] = [];
    this.up.forEach((u, l) => u && w.push(...u.named(`up${l}`)));
    this.heads.forEach((h, l) => w.push(...h.named(`head${l}`)));
    this.priors.forEach((p, l) => w.push(...p.named(`prior${l}`)));
    w.push(...this.dec!.named('decoder'));
    if (this.logSigma) w.push({ name: 'decoder/log_sigma', tensor: this.logSigma });
    return w;
  }

  setWeights(weights: NamedWeight[]): void {
    this.need('setWeights');
    this.up.forEach((u, l) => u?.load(`up${l}`, weights));
    this.heads.forEach((h, l) => h.load(`head${l}`, weights));
    this.priors.forEach((p, l) => p.load(`prior${l}`, weights));
    this.dec!.load('decoder', weights);
    if (this.logSigma) loadNamed(weights, { 'decoder/log_sigma': this.logSigma });
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    for (const m of [...this.up, ...this.heads, ...this.priors, this.dec]) m?.dispose();
    this.logSigma?.dispose();
  }
}
