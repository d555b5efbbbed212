// Sigmoid belief network (Neal 1992; Goodfellow et al. 20.10.1): directed layers of binary
// units. The top layer is factorial, p(h^L_j = 1) = σ(a_j); each layer below is drawn
// from the one above, p(h^{l-1}_i = 1 | h^l) = σ(W_l h^l + b_l)_i, down to the binary
// visible units v = h^0. The posterior p(h | v) is intractable, so a recognition network
// q(h | v) = Π_l q(h^l | h^{l-1}), factorial sigmoid layers bottom-up, stands in for it.
//
// Two ways to train:
//  - 'wake-sleep' (Hinton et al. 1995): the wake phase fits the generative weights to
//    (v, h ~ q(h|v)) by maximum likelihood; the sleep phase fits q to dreams (h, v) ~ p.
//  - 'nvil' (Mnih & Gregor 2014): maximize the ELBO E_q[l], l = log p(v, h) − log q(h|v).
//    The generative gradient E_q[∇ log p(v, h)] is direct; the recognition gradient is the
//    score-function estimator E_q[(l − C_ψ(v) − c) ∇ log q(h|v)] / max(1, √s), with c and s
//    running averages of the mean and variance of l − C_ψ(v) and C_ψ a small net (the
//    input-dependent baseline) trained by regression on l − c. Subtracting a baseline that
//    does not depend on h leaves the estimator unbiased (E_q[∇ log q] = 0).
//
// The test number is an importance-sampled bound with q as the proposal,
// −log (1/k) Σ_i p(v, h_i) / q(h_i | v): kind 'bound', reported also at 4k (convergence,
// with the effective sample size of the weights).
import * as tf from '@tensorflow/tfjs';
import { bernoulli, uniform } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { Mlp } from '../../nn/mlp';
import { Params, type Dense } from '../../nn/params';
import { subSeed } from '../../nn/seeds';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type SbnConfig = LatentLab.SbnConfig;
type Resolved = Required<SbnConfig>;

/** rows (examples × importance samples) pushed through the nets at once by testNll */
const IS_ROWS = 4096;
/** nats: the most the bound may move from k to 4k samples for it to count as converged */
export const SBN_K_TOLERANCE = 0.5;

/** the recognition gradient's three estimators, as gradientVariance measures them */
export type SignalMode = 'none' | 'centred' | 'baseline';

/** log Bern(x; σ(s)) summed over the units of each row: Σ_j x_j s_j − ζ(s_j) */
function logBernoulli(x: tf.Tensor2D, logits: tf.Tensor): tf.Tensor1D {
  return tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1) as tf.Tensor1D;
}

/**
 * Importance weights w = exp(lw) per example, accumulated over a stream of chunks in
 * float64: log of their mean (the bound) and their effective sample size (Σw)²/Σw².
 */
class ImportanceWeights {
  private readonly max: Float64Array;
  private readonly s1: Float64Array;
  private readonly s2: Float64Array;
  private count = 0;
  constructor(readonly m: number) {
    this.max = new Float64Array(m).fill(-Infinity);
    this.s1 = new Float64Array(m);
    this.s2 = new Float64Array(m);
  }
  /** `lw`: [kc, m] row-major, kc samples of each of the m examples */
  add(lw: Float32Array, kc: number): void {
    const { m, max, s1, s2 } = this;
    for (let b = 0; b < m; b++) {
      let mx = max[b];
      for (let i = 0; i < kc; i++) mx = Math.max(mx, lw[i * m + b]);
      if (!Number.isFinite(mx)) throw new Error(`sbn.testNll: a non-finite log importance weight (${mx})`);
      const r = max[b] === -Infinity ? 0 : Math.exp(max[b] - mx);
      let a = s1[b] * r;
      let q = s2[b] * r * r;
      for (let i = 0; i < kc; i++) {
        const e = Math.exp(lw[i * m + b] - mx);
        a += e;
        q += e * e;
      }
      max[b] = mx;
      s1[b] = a;
      s2[b] = q;
    }
    this.count += kc;
  }
  /** log (1/k) Σ w per example */
  logMean(): Float64Array {
    return this.max.map((mx, b) => mx + Math.log(this.s1[b]) - Math.log(this.count));
  }
  /** the mean over examples of (Σw)²/Σw² */
  meanEss(): number {
    let e = 0;
    for (let b = 0; b < this.m; b++) e += (this.s1[b] * this.s1[b]) / this.s2[b];
    return e / this.m;
  }
}

const meanOf = (v: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};

export class Sbn implements Model {
  readonly family = 'sbn';
  readonly config: Resolved;
  bestMetric = { key: 'val/elbo', mode: 'max' as const };
  private gen: Params | null = null;
  private rec: Params | null = null;
  private stats: Params | null = null;
  private baseline: Mlp | null = null;
  /** generative layers, gens[l] maps h^{l+1} to the logits of h^l (h^0 = v) */
  private gens: Dense[] = [];
  /** recognition layers, recs[l] maps h^l to the logits of q(h^{l+1} | h^l) */
  private recs: Dense[] = [];
  private prior: tf.Variable | null = null;
  /** running mean and variance of the centred learning signal l − C(v) (NVIL) */
  private sigMean: tf.Variable | null = null;
  private sigVar: tf.Variable | null = null;
  private D = 0;

  constructor(cfg: SbnConfig = {}) {
    this.config = {
      layers: cfg.layers ?? [200],
      train: cfg.train ?? 'nvil',
      evalK: cfg.evalK ?? 100,
      baselineHidden: cfg.baselineHidden ?? 100,
      signalDecay: cfg.signalDecay ?? 0.8,
    };
    const c = this.config;
    if (!Array.isArray(c.layers) || c.layers.length === 0 || !c.layers.every((h) => Number.isInteger(h) && h >= 1)) throw new Error('sbn: layers must be a non-empty list of whole numbers >= 1 (hidden units per layer, bottom to top)');
    if (c.train !== 'wake-sleep' && c.train !== 'nvil') throw new Error(`sbn: train must be 'wake-sleep' or 'nvil', not '${String(c.train)}'`);
    if (!(Number.isInteger(c.evalK) && c.evalK >= 1)) throw new Error('sbn: evalK (importance samples of the test bound) must be a whole number >= 1');
    if (!(Number.isInteger(c.baselineHidden) && c.baselineHidden >= 1)) throw new Error('sbn: baselineHidden must be a whole number >= 1');
    if (!(c.signalDecay >= 0 && c.signalDecay < 1)) throw new Error('sbn: signalDecay must be in [0, 1)');
  }

  get built(): boolean {
    return this.gen !== null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'train/elbo': 'bound',
      'train/wake': 'loss',
      'train/sleep': 'loss',
      'train/signal_mean': 'info',
      'train/signal_std': 'info',
      'train/baseline_mse': 'loss',
      'val/elbo': 'bound',
      'val/bits_per_dim': 'bound',
      'test/nll': 'bound',
      'test/bits_per_dim': 'bound',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('sbn: model already built (create a new one per run)');
    if (!data.binary) throw new Error('sbn: a sigmoid belief network models binary data (e.g. lab.data.mnist({ binarize: true }))');
    const D = data.shape.reduce((a, b) => a * b, 1);
    this.D = D;
    const sizes = [D, ...this.config.layers];
    const gen = new Params('sbn_gen', rng);
    const rec = new Params('sbn_rec', rng);
    for (let l = 0; l + 1 < sizes.length; l++) {
      this.gens.push(gen.dense(`gen${l}`, sizes[l + 1], sizes[l]));
      this.recs.push(rec.dense(`rec${l}`, sizes[l], sizes[l + 1]));
    }
    this.prior = gen.add('prior', tf.zeros([sizes[sizes.length - 1]]));
    this.gen = gen;
    this.rec = rec;
    this.baseline = new Mlp('sbn_baseline', [D, this.config.baselineHidden, 1], rng, 'tanh');
    const stats = new Params('sbn_stats');
    this.sigMean = stats.add('signal_mean', tf.scalar(0), false);
    this.sigVar = stats.add('signal_var', tf.scalar(1), false);
    this.stats = stats;
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`sbn.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** hidden units of each layer, bottom to top */
  get layers(): number[] {
    return [...this.config.layers];
  }

  /** log p(v, h) per row; `hs` = [h^1, …, h^L] */
  logP(v: tf.Tensor2D, hs: tf.Tensor2D[]): tf.Tensor1D {
    return tf.tidy(() => {
      let lp = logBernoulli(hs[hs.length - 1], this.prior!);
      for (let l = 0; l < this.gens.length; l++) {
        const below = l === 0 ? v : hs[l - 1];
        const { W, b } = this.gens[l];
        lp = tf.add(lp, logBernoulli(below, tf.add(tf.matMul(hs[l], W), b))) as tf.Tensor1D;
      }
      return lp;
    });
  }

  /** log q(h | v) per row */
  logQ(v: tf.Tensor2D, hs: tf.Tensor2D[]): tf.Tensor1D {
    return tf.tidy(() => {
      let lq = tf.zeros([v.shape[0]]) as tf.Tensor1D;
      for (let l = 0; l < this.recs.length; l++) {
        const below = l === 0 ? v : hs[l - 1];
        const { W, b } = this.recs[l];
        lq = tf.add(lq, logBernoulli(hs[l], tf.add(tf.matMul(below, W), b))) as tf.Tensor1D;
      }
      return lq;
    });
  }

  /** h ~ q(h | v), layer by layer bottom-up */
  infer(v: tf.Tensor2D, seed: number): tf.Tensor2D[] {
    this.need('infer');
    const hs: tf.Tensor2D[] = [];
    let below = v;
    this.recs.forEach(({ W, b }, l) => {
      below = tf.tidy(() => bernoulli(tf.sigmoid(tf.add(tf.matMul(below, W), b)), subSeed(seed, l)) as tf.Tensor2D);
      hs.push(below);
    });
    return hs;
  }

  /**
   * An ancestral draw from p: the hidden layers top-down from uniforms `u` [n, Σ layers]
   * (unit j of a layer is on where u < its probability), then p(v = 1 | h^1), and, given
   * `vSeed`, a binary v drawn from it.
   */
  private dream(u: tf.Tensor2D, vSeed?: number): { hs: tf.Tensor2D[]; vMean: tf.Tensor2D; v: tf.Tensor2D | undefined } {
    return tf.tidy(() => {
      const sizes = this.config.layers;
      const parts = tf.split(u, sizes, 1) as tf.Tensor2D[];
      const L = sizes.length;
      const hs: tf.Tensor2D[] = new Array(L);
      hs[L - 1] = tf.cast(tf.less(parts[L - 1], tf.sigmoid(this.prior!)), 'float32') as tf.Tensor2D;
      for (let l = L - 1; l >= 1; l--) {
        const { W, b } = this.gens[l];
        hs[l - 1] = tf.cast(tf.less(parts[l - 1], tf.sigmoid(tf.add(tf.matMul(hs[l], W), b))), 'float32') as tf.Tensor2D;
      }
      const { W, b } = this.gens[0];
      const vMean = tf.sigmoid(tf.add(tf.matMul(hs[0], W), b)) as tf.Tensor2D;
      const v = vSeed === undefined ? undefined : (bernoulli(vMean, vSeed) as tf.Tensor2D);
      return { hs, vMean, v };
    });
  }

  /** the input-dependent baseline C_ψ(v) per row */
  private baselineOf(v: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(this.baseline!.apply(v), [-1]) as tf.Tensor1D);
  }

  private genVars(): tf.Variable[] {
    return this.gen!.vars();
  }
  private recVars(): tf.Variable[] {
    return this.rec!.vars();
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    this.need('trainStep');
    const seed = ctx.seed();
    const hs = this.infer(x, subSeed(seed, 0));
    const owned: tf.Tensor[] = [...hs];
    try {
      // the single-sample ELBO l = log p(v, h) − log q(h | v) of the batch, at the weights before the step
      const signal = tf.tidy(() => tf.sub(this.logP(x, hs), this.logQ(x, hs)) as tf.Tensor1D);
      owned.push(signal);
      const elbo = tf.tidy(() => tf.mean(signal) as tf.Scalar);
      const out: StepMetrics = { 'train/elbo': elbo, 'train/loss': tf.tidy(() => tf.neg(elbo) as tf.Scalar) };
      if (this.config.train === 'wake-sleep') {
        const B = x.shape[0];
        const u = uniform([B, this.config.layers.reduce((a, b) => a + b, 0)], subSeed(seed, 1)) as tf.Tensor2D;
        owned.push(u);
        const dream = this.dream(u, subSeed(seed, 2));
        owned.push(...dream.hs, dream.vMean, dream.v!);
        const kept: { wake?: tf.Scalar; sleep?: tf.Scalar } = {};
        const total = ctx.minimize(
          'sbn',
          () => {
            // wake: maximum likelihood of p on (v, h ~ q); sleep: of q on dreams (h, v) ~ p
            const wake = tf.neg(tf.mean(this.logP(x, hs))) as tf.Scalar;
            const sleep = tf.neg(tf.mean(this.logQ(dream.v!, dream.hs))) as tf.Scalar;
            kept.wake = tf.keep(wake);
            kept.sleep = tf.keep(sleep);
            return tf.add(wake, sleep) as tf.Scalar;
          },
          [...this.genVars(), ...this.recVars()],
        );
        total.dispose();
        out['train/wake'] = kept.wake!;
        out['train/sleep'] = kept.sleep!;
        return out;
      }
      // NVIL: centre the signal with the input-dependent baseline and the running mean, scale by the running std
      const a = this.config.signalDecay;
      const advantage = tf.tidy(() => {
        const r = tf.sub(signal, this.baselineOf(x));
        const { mean, variance } = tf.moments(r);
        this.sigMean!.assign(tf.add(tf.mul(a, this.sigMean!), tf.mul(1 - a, mean)) as tf.Scalar);
        this.sigVar!.assign(tf.add(tf.mul(a, this.sigVar!), tf.mul(1 - a, variance)) as tf.Scalar);
        return tf.div(tf.sub(r, this.sigMean!), tf.maximum(1, tf.sqrt(this.sigVar!))) as tf.Tensor1D;
      });
      owned.push(advantage);
      const target = tf.tidy(() => tf.sub(signal, this.sigMean!) as tf.Tensor1D);
      owned.push(target);
      const kept: { mse?: tf.Scalar } = {};
      const total = ctx.minimize(
        'sbn',
        () => {
          // generative: −E log p(v, h); recognition: the score-function surrogate −A · log q(h|v), A a constant;
          // baseline: regression of C_ψ(v) on l − c
          const gen = tf.neg(tf.mean(this.logP(x, hs)));
          const recog = tf.neg(tf.mean(tf.mul(advantage, this.logQ(x, hs))));
          const mse = tf.mean(tf.square(tf.sub(target, this.baselineOf(x)))) as tf.Scalar;
          kept.mse = tf.keep(mse);
          return tf.addN([gen, recog, mse]) as tf.Scalar;
        },
        [...this.genVars(), ...this.recVars(), ...this.baseline!.vars()],
      );
      total.dispose();
      out['train/baseline_mse'] = kept.mse!;
      out['train/signal_mean'] = tf.clone(this.sigMean!) as tf.Scalar;
      out['train/signal_std'] = tf.tidy(() => tf.sqrt(this.sigVar!) as tf.Scalar);
      return out;
    } finally {
      tf.dispose(owned);
    }
  }

  /** the single-sample ELBO on the validation rows (one posterior draw each) */
  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    this.need('evaluate');
    const n = val.shape[0];
    let sum = 0;
    for (let s = 0; s < n; s += 500) {
      const m = Math.min(500, n - s);
      const t = tf.tidy(() => {
        const x = tf.slice(val, [s, 0], [m, -1]) as tf.Tensor2D;
        const hs = this.infer(x, subSeed(seed, s));
        return tf.sum(tf.sub(this.logP(x, hs), this.logQ(x, hs)));
      });
      try {
        sum += ((await t.data()) as Float32Array)[0];
      } finally {
        t.dispose();
      }
    }
    const elbo = sum / n;
    return { 'val/elbo': { value: elbo, kind: 'bound' }, 'val/bits_per_dim': { value: -elbo / (this.D * Math.LN2), kind: 'bound' } };
  }

  /**
   * log (1/k) Σ_i p(x, h_i)/q(h_i | x), h_i ~ q, per example, at each k of `ks` (ascending):
   * the draws of a smaller k are the first of a larger one. With the mean ESS at each k.
   */
  async importanceBound(x: tf.Tensor2D, ks: number[], seed: number): Promise<{ bound: Float32Array; ess: number }[]> {
    this.need('importanceBound');
    for (const k of ks) if (!(Number.isInteger(k) && k >= 1)) throw new Error(`sbn: k (importance samples) must be a whole number >= 1, not ${k}`);
    const K = ks[ks.length - 1];
    const n = x.shape[0];
    const out = ks.map(() => ({ bound: new Float32Array(n), ess: 0 }));
    // chunks sized by the smallest k, so the draws at k are the same whatever larger k comes after it
    const m = Math.max(1, Math.min(n, Math.floor(IS_ROWS / Math.min(ks[0], IS_ROWS))));
    const kc = Math.max(1, Math.min(ks[0], Math.floor(IS_ROWS / m)));
    for (let s = 0; s < n; s += m) {
      const mm = Math.min(m, n - s);
      const xs = tf.slice(x, [s, 0], [mm, -1]) as tf.Tensor2D;
      try {
        const acc = new ImportanceWeights(mm);
        let next = 0;
        for (let i = 0, j = 0; i < K; j++) {
          // blocks end at every k asked for, so the bound at k uses exactly its first k draws
          const kk = Math.min(kc, ks[next] - i);
          const lw = tf.tidy(() => {
            const rep = tf.tile(xs, [kk, 1]) as tf.Tensor2D;
            const hs = this.infer(rep, subSeed(seed, s, j));
            return tf.sub(this.logP(rep, hs), this.logQ(rep, hs));
          });
          try {
            acc.add((await lw.data()) as Float32Array, kk);
          } finally {
            lw.dispose();
          }
          i += kk;
          while (next < ks.length && ks[next] === i) {
            out[next].bound.set(acc.logMean(), s);
            out[next].ess += acc.meanEss() * mm;
            next++;
          }
        }
      } finally {
        xs.dispose();
      }
    }
    for (const o of out) o.ess /= n;
    return out;
  }

  /**
   * −log (1/k) Σ p(x, h_i)/q(h_i|x) per example (kind 'bound'), k = opts.k or evalK; unless
   * opts.convergence is false, also at 4k (the same first k draws and 3k more) in `convergence`.
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts: EstimatorOptions = {}): Promise<TestNll> {
    this.need('testNll');
    const k = opts.k ?? this.config.evalK;
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`sbn.testNll: k (importance samples) must be a whole number >= 1, not ${k}`);
    const withConv = opts.convergence !== false;
    const res = await this.importanceBound(x, withConv ? [k, 4 * k] : [k], seed);
    const nll = res[0].bound.map((v) => -v);
    if (!withConv) return { nll, kind: 'bound', details: { k } };
    const at = -meanOf(res[0].bound);
    const at4 = -meanOf(res[1].bound);
    return {
      nll,
      kind: 'bound',
      details: { k },
      convergence: { knob: 'k', at: k, nll: at, at4x: 4 * k, nll4x: at4, tolerance: SBN_K_TOLERANCE, converged: Math.abs(at4 - at) < SBN_K_TOLERANCE, ess: res[0].ess, essOf: k },
    };
  }

  /**
   * The score-function estimator of the ELBO's gradient in the recognition weights on the
   * batch `x`, over `draws` independent posterior draws, with three learning signals:
   * 'none' l, 'centred' l − c̄ (c̄ the mean of l over `pilot` separate draws) and 'baseline'
   * l − C_ψ(x) − c̄' (c̄' the mean of l − C_ψ(x) likewise): per signal, the mean estimate
   * (flattened over the recognition weights) and its variance summed over the weights.
   * NVIL also divides the signal by max(1, running std): a rescaling of the step only.
   */
  async scoreGradients(x: tf.Tensor2D, opts: { draws?: number; pilot?: number; seed?: number } = {}): Promise<Record<SignalMode, { mean: Float32Array; variance: number; meanNormSq: number }>> {
    this.need('scoreGradients');
    const draws = Math.floor(opts.draws ?? 100);
    const pilot = Math.floor(opts.pilot ?? 10);
    const seed = opts.seed ?? 0;
    if (!(draws >= 2)) throw new Error('sbn.scoreGradients: draws must be at least 2');
    if (!(pilot >= 1)) throw new Error('sbn.scoreGradients: pilot must be at least 1');
    const C = this.baselineOf(x);
    // the centring constants from pilot draws, separate from the measured ones
    let cRaw = 0;
    let cRes = 0;
    for (let p = 0; p < pilot; p++) {
      const t = tf.tidy(() => {
        const hs = this.infer(x, subSeed(seed, 1, p));
        const l = tf.sub(this.logP(x, hs), this.logQ(x, hs));
        return tf.stack([tf.mean(l), tf.mean(tf.sub(l, C))]);
      });
      const v = (await t.data()) as Float32Array;
      t.dispose();
      cRaw += v[0] / pilot;
      cRes += v[1] / pilot;
    }
    const modes: SignalMode[] = ['none', 'centred', 'baseline'];
    const vars = this.recVars();
    const sums = modes.map(() => ({ s: null as tf.Tensor1D | null, q: null as tf.Tensor1D | null }));
    try {
      for (let r = 0; r < draws; r++) {
        const hs = this.infer(x, subSeed(seed, 2, r));
        const l = tf.tidy(() => tf.sub(this.logP(x, hs), this.logQ(x, hs)) as tf.Tensor1D);
        const signals = [l, tf.sub(l, cRaw) as tf.Tensor1D, tf.sub(tf.sub(l, C), cRes) as tf.Tensor1D];
        modes.forEach((_, i) => {
          const g = tf.tidy(() => {
            const { grads } = tf.variableGrads(() => tf.mean(tf.mul(signals[i], this.logQ(x, hs))) as tf.Scalar, vars);
            return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1]))) as tf.Tensor1D;
          });
          const acc = sums[i];
          const s = acc.s ? tf.add(acc.s, g) : tf.clone(g);
          const q = tf.tidy(() => (acc.q ? tf.add(acc.q, tf.square(g)) : tf.square(g)) as tf.Tensor1D);
          tf.dispose([acc.s, acc.q, g].filter((t): t is tf.Tensor1D => t !== null));
          acc.s = s as tf.Tensor1D;
          acc.q = q;
        });
        tf.dispose([...hs, ...signals]);
      }
      const out = {} as Record<SignalMode, { mean: Float32Array; variance: number; meanNormSq: number }>;
      for (let i = 0; i < modes.length; i++) {
        const { s, q } = sums[i];
        const [meanT, stat] = tf.tidy(() => {
          const mean = tf.div(s!, draws);
          // unbiased variance per weight, summed
          const variance = tf.sum(tf.div(tf.sub(q!, tf.mul(draws, tf.square(mean))), draws - 1));
          return [mean, tf.stack([variance, tf.sum(tf.square(mean))])];
        });
        const [mean, sv] = (await Promise.all([meanT.data(), stat.data()])) as [Float32Array, Float32Array];
        tf.dispose([meanT, stat]);
        out[modes[i]] = { mean, variance: sv[0], meanNormSq: sv[1] };
      }
      return out;
    } finally {
      tf.dispose([C, ...sums.flatMap(({ s, q }) => [s, q]).filter((t): t is tf.Tensor1D => t !== null)]);
    }
  }

  /** uniforms [n, Σ layers] that `sample` turns into one ancestral draw of the hidden layers each */
  noise(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.config.layers.reduce((a, b) => a + b, 0)], seed) as tf.Tensor2D;
  }

  /** ancestral samples: the hidden layers drawn top-down (from `noise`), then p(v = 1 | h^1) */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need('sample');
    const u = noise ?? this.noise(n, seed);
    try {
      const { hs, vMean } = this.dream(u);
      tf.dispose(hs);
      return vMean;
    } finally {
      if (!noise) u.dispose();
    }
  }

  getWeights(): NamedWeight[] {
    this.need('getWeights');
    return [...this.gen!.named('generative'), ...this.rec!.named('recognition'), ...this.baseline!.named('baseline'), ...this.stats!.named('signal')];
  }

  setWeights(weights: NamedWeight[]): void {
    this.need('setWeights');
    this.gen!.load(weights, 'generative');
    this.rec!.load(weights, 'recognition');
    this.baseline!.load('baseline', weights);
    this.stats!.load(weights, 'signal');
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.gen?.dispose();
    this.rec?.dispose();
    this.baseline?.dispose();
    this.stats?.dispose();
  }
}
