// Deep Boltzmann machine with two hidden layers (Salakhutdinov & Hinton 2009; Deep
// Learning §20.4): binary v, h1, h2 and
//   E(v, h1, h2) = −bᵀv − c1ᵀh1 − c2ᵀh2 − vᵀW1h1 − h1ᵀW2h2.
// Given h1, v and h2 are independent; given (v, h2), h1 factorizes:
//   p(h1_j = 1 | v, h2) = σ(c1_j + (vW1)_j + (W2h2)_j),  p(v_i = 1 | h1) = σ(b_i + (W1h1)_i),
//   p(h2_k = 1 | h1) = σ(c2_k + (h1W2)_k).
// So a two-layer DBM is bipartite: (v, h2) on one side, h1 on the other. Summing h1 out,
//   log p*(v, h2) = bᵀv + c2ᵀh2 + Σ_j ζ(c1_j + (vW1)_j + (W2h2)_j),
// an RBM with visible (v, h2), weights [W1; W2ᵀ] and hidden h1: its log Z is the shared AIS
// routine (eval/ais.ts) annealing over (v, h2), or exact by enumeration when small.
//
// Inference: mean field q(h1, h2 | v) = Π μ1^h1 (1−μ1)^(1−h1) · Π μ2^h2 (1−μ2)^(1−h2), iterating
//   μ1 ← σ(c1 + vW1 + μ2W2ᵀ),  μ2 ← σ(c2 + μ1W2)
// from a bottom-up start μ1 = σ(c1 + 2vW1) (the pretrained first RBM's doubled input),
// μ2 = σ(c2 + μ1W2). Each half-update maximizes the variational bound
//   B(v; μ) = E_q[−E(v, h1, h2)] + H(q) ≤ log p*(v) = log Σ_{h1,h2} exp(−E(v, h1, h2))
// in one block with the other fixed, so it never lowers B.
//
// Training (stochastic approximation): the positive phase takes the mean-field statistics,
// the negative phase `persistent` Gibbs chains (as many as the batch has rows; h1 | (v, h2),
// then (v, h2) | h1). Through the run's optimizer it minimizes
//   mean_data E(v, μ1, μ2) − mean_chains F(v⁻, h2⁻),   F(v, h2) = −log p*(v, h2),
// whose gradient is the data-dependent minus the model expectation of ∂E/∂θ (h1 of the
// negative phase is summed out analytically).
//
// Layer-wise pretraining (the first `pretrain` fraction of the run, half per RBM):
//  - RBM 1 (v, h1) with the bottom-up input doubled: p(h1|v) = σ(c1 + 2vW1), p(v|h1) = σ(b + W1h1)
//    (two tied copies of v);
//  - RBM 2 (h1, h2) on samples of that p(h1|v), with the top-down input doubled:
//    p(h1|h2) = σ(c1' + 2W2h2), p(h2|h1) = σ(c2 + h1W2) (two tied copies of h2).
// Composed into the DBM, h1 gets vW1 + W2h2 where each RBM's recognition used twice its own
// input, i.e. the DBM uses half of each RBM's effective (doubled) recognition weights; the
// two estimates of h1's biases are averaged, c1 = (c1 + c1')/2. The split needs the run's
// length: the config's `pretrainSteps` when set, else `pretrain` × the trainer's `totalSteps`
// when the step context carries it, else `pretrain` × 2000 (lab.train's default length).
//
// testNll: −log p(v) ≤ −B(v; μ) + log Z with μ from `testMeanFieldIters` iterations; with
// AIS's log Z the number is an estimate (kind 'estimate'), with the exact log Z a bound.
import * as tf from '@tensorflow/tfjs';
import { ais, exactLogZ, type AisResult, type Bipartite } from '../../eval/ais';
import { bernoulli, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import { aisKnobs, aisReport, bernoulliEntropy, checkAis, clampMix, gibbsInputs, logit, partition, partitionKey, perRow, requireBinary, type AisSettings, type GibbsRequest, type Partition } from './rbm';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type DbmConfig = LatentLab.DbmConfig;

/** lab.train's default length, used for the pretraining split when the trainer does not tell */
const DEFAULT_RUN_STEPS = 2000;

export class Dbm implements Model {
  readonly family = 'dbm';
  readonly config: { layers: [number, number]; k: number; pretrain: number; pretrainSteps: number | null; meanFieldIters: number; testMeanFieldIters: number; initScale: number; sampleSteps: number; ais: Required<AisSettings> };
  private W1: tf.Variable | null = null;
  private W2: tf.Variable | null = null;
  private b: tf.Variable | null = null;
  private c1: tf.Variable | null = null;
  private c2: tf.Variable | null = null;
  /** the second pretraining RBM's h1 biases (pretraining only) */
  private c1top: tf.Variable | null = null;
  /** running means of v and of μ2 (the AIS base over (v, h2)) */
  private baseMean: tf.Variable | null = null;
  private D = 0;
  private initialized = false;
  private pretrained2 = false;
  /** pretraining done and the RBMs composed: every later step trains the DBM */
  private composed = false;
  private seen = 0;
  private chainV: tf.Tensor2D | null = null;
  private chainH2: tf.Tensor2D | null = null;
  private version = 0;
  private cachedZ: { key: string; value: Partition } | null = null;

  constructor(cfg: DbmConfig = {}) {
    const layers = cfg.layers ?? [500, 1000];
    if (!Array.isArray(layers) || layers.length !== 2 || !layers.every((h) => Number.isInteger(h) && h >= 1)) throw new Error('dbm: layers must be two hidden sizes, e.g. [500, 1000]');
    this.config = {
      layers: [layers[0], layers[1]],
      k: cfg.k ?? 1,
      pretrain: cfg.pretrain ?? 0.3,
      pretrainSteps: cfg.pretrainSteps ?? null,
      meanFieldIters: cfg.meanFieldIters ?? 10,
      testMeanFieldIters: cfg.testMeanFieldIters ?? 30,
      initScale: cfg.initScale ?? 0.01,
      sampleSteps: cfg.sampleSteps ?? 1000,
      ais: checkAis('dbm', cfg.ais),
    };
    const c = this.config;
    if (!(Number.isInteger(c.k) && c.k >= 1)) throw new Error('dbm: k must be an integer >= 1');
    if (!(c.pretrain >= 0 && c.pretrain < 1)) throw new Error('dbm: pretrain must be a fraction in [0, 1)');
    if (c.pretrainSteps !== null && !(Number.isInteger(c.pretrainSteps) && c.pretrainSteps >= 0)) throw new Error('dbm: pretrainSteps must be an integer >= 0');
    if (!(Number.isInteger(c.meanFieldIters) && c.meanFieldIters >= 1)) throw new Error('dbm: meanFieldIters must be an integer >= 1');
    if (!(Number.isInteger(c.testMeanFieldIters) && c.testMeanFieldIters >= 1)) throw new Error('dbm: testMeanFieldIters must be an integer >= 1');
    if (!(Number.isInteger(c.sampleSteps) && c.sampleSteps >= 1)) throw new Error('dbm: sampleSteps must be an integer >= 1');
  }

  get built(): boolean {
    return this.W1 !== null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/stage': 'info',
      'train/recon': 'info',
      'train/free_energy_gap': 'info',
      'val/recon': 'info',
      'val/mean_field_bound': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('dbm: model already built (create a new one per run)');
    if (!data.binary) throw new Error('dbm models binary data (its units are Bernoulli): binarize the data, e.g. lab.data.mnist() (binarized by default)');
    const D = (this.D = data.shape.reduce((a, b) => a * b, 1));
    const [H1, H2] = this.config.layers;
    const s = this.config.initScale;
    const w = (a: number, b: number) => tf.tensor2d(Float32Array.from({ length: a * b }, () => s * rng.normal()), [a, b]);
    this.W1 = tf.variable(w(D, H1), true, uniqueName('dbm_W1'));
    this.W2 = tf.variable(w(H1, H2), true, uniqueName('dbm_W2'));
    this.b = tf.variable(tf.zeros([D]), true, uniqueName('dbm_b'));
    this.c1 = tf.variable(tf.zeros([H1]), true, uniqueName('dbm_c1'));
    this.c2 = tf.variable(tf.zeros([H2]), true, uniqueName('dbm_c2'));
    this.c1top = tf.variable(tf.zeros([H1]), true, uniqueName('dbm_c1top'));
    this.baseMean = tf.variable(tf.fill([D + H2], 0.5), false, uniqueName('dbm_base'));
  }

  private need(): void {
    if (!this.built) throw new Error('dbm: build the model first (lab.train builds it on its data)');
  }

  private get w1(): tf.Tensor2D {
    return this.W1 as tf.Tensor2D;
  }
  private get w2(): tf.Tensor2D {
    return this.W2 as tf.Tensor2D;
  }

  // ---- conditionals ----

  /** p(h1 = 1 | v, h2) (also the mean-field update of μ1 given μ2) */
  updateMu1(v: tf.Tensor2D, mu2: tf.Tensor2D): tf.Tensor2D {
    this.need();
    return tf.tidy(() => tf.sigmoid(tf.add(tf.add(tf.matMul(v, this.w1), tf.matMul(mu2, this.w2, false, true)), this.c1!)) as tf.Tensor2D);
  }

  /** p(h2 = 1 | h1) (also the mean-field update of μ2 given μ1) */
  updateMu2(mu1: tf.Tensor2D): tf.Tensor2D {
    this.need();
    return tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(mu1, this.w2), this.c2!)) as tf.Tensor2D);
  }

  /** p(v = 1 | h1) */
  visibleProb(h1: tf.Tensor2D): tf.Tensor2D {
    this.need();
    return tf.tidy(() => tf.sigmoid(tf.add(tf.matMul(h1, this.w1, false, true), this.b!)) as tf.Tensor2D);
  }

  /**
   * `iters` mean-field iterations (μ1 then μ2 each) from the bottom-up start
   * μ1 = σ(c1 + 2vW1), μ2 = σ(c2 + μ1W2) (iters = 0: the start)
   */
  meanField(v: tf.Tensor2D, iters = this.config.meanFieldIters): { mu1: tf.Tensor2D; mu2: tf.Tensor2D } {
    this.need();
    return tf.tidy(() => {
      const vW1 = tf.matMul(v, this.w1);
      const bottomUp = tf.add(vW1, this.c1!); // constant over the iterations
      let mu1 = tf.sigmoid(tf.add(bottomUp, vW1)) as tf.Tensor2D;
      let mu2 = this.updateMu2(mu1);
      for (let t = 0; t < iters; t++) {
        mu1 = tf.sigmoid(tf.add(bottomUp, tf.matMul(mu2, this.w2, false, true))) as tf.Tensor2D; // = updateMu1(v, mu2)
        mu2 = this.updateMu2(mu1);
      }
      return { mu1, mu2 };
    });
  }

  /**
   * B(v; μ1, μ2) = E_q[−E(v, h1, h2)] + H(q) per row: bᵀv + c1ᵀμ1 + c2ᵀμ2 + vᵀW1μ1 + μ1ᵀW2μ2
   * + H(μ1) + H(μ2), a lower bound on log p*(v) (log p(v) + log Z).
   */
  variationalBound(v: tf.Tensor2D, mu1: tf.Tensor2D, mu2: tf.Tensor2D): tf.Tensor1D {
    this.need();
    return tf.tidy(() => tf.add(tf.neg(this.meanEnergy(v, mu1, mu2)), tf.add(bernoulliEntropy(mu1), bernoulliEntropy(mu2))) as tf.Tensor1D);
  }

  /** E(v, μ1, μ2) per row (= E_q[E] for a factorial q) */
  private meanEnergy(v: tf.Tensor2D, mu1: tf.Tensor2D, mu2: tf.Tensor2D): tf.Tensor1D {
    const D = this.D;
    const [H1, H2] = this.config.layers;
    const lin = tf.add(
      tf.add(tf.reshape(tf.matMul(v, tf.reshape(this.b!, [D, 1])), [-1]), tf.reshape(tf.matMul(mu1, tf.reshape(this.c1!, [H1, 1])), [-1])),
      tf.reshape(tf.matMul(mu2, tf.reshape(this.c2!, [H2, 1])), [-1]),
    );
    const pair = tf.add(tf.sum(tf.mul(tf.matMul(v, this.w1), mu1), 1), tf.sum(tf.mul(tf.matMul(mu1, this.w2), mu2), 1));
    return tf.neg(tf.add(lin, pair)) as tf.Tensor1D;
  }

  /** F(v, h2) = −log Σ_h1 exp(−E(v, h1, h2)) per row */
  freeEnergy(v: tf.Tensor2D, h2: tf.Tensor2D): tf.Tensor1D {
    this.need();
    const D = this.D;
    const H2 = this.config.layers[1];
    return tf.tidy(() => {
      const a = tf.add(tf.add(tf.matMul(v, this.w1), tf.matMul(h2, this.w2, false, true)), this.c1!);
      const lin = tf.add(tf.reshape(tf.matMul(v, tf.reshape(this.b!, [D, 1])), [-1]), tf.reshape(tf.matMul(h2, tf.reshape(this.c2!, [H2, 1])), [-1]));
      return tf.neg(tf.add(lin, tf.sum(tf.softplus(a), 1))) as tf.Tensor1D;
    });
  }

  // ---- partition function ----

  /** the DBM as an RBM with visible (v, h2) and hidden h1 (tensors owned by the caller: dispose W and b) */
  params(): Bipartite {
    this.need();
    return tf.tidy(() => ({
      W: tf.concat([this.w1, tf.transpose(this.w2)], 0) as tf.Tensor2D,
      b: tf.concat([this.b!, this.c2!]) as tf.Tensor1D,
      c: tf.clone(this.c1!) as tf.Tensor1D,
      visible: 'bernoulli' as const,
    }));
  }

  private async withParams<T>(f: (p: Bipartite, base: Float32Array) => Promise<T>): Promise<T> {
    const p = this.params();
    try {
      const m = (await this.baseMean!.data()) as Float32Array;
      return await f(p, Float32Array.from(m, (q) => logit(Math.min(1 - 1e-3, Math.max(1e-3, q)))));
    } finally {
      tf.dispose([p.W, p.b, p.c]);
    }
  }

  /** log Z by AIS over (v, h2) with h1 summed out */
  logZ(opts: { chains?: number; betas?: number; seed?: number } = {}): Promise<AisResult> {
    return this.withParams((p, base) => ais(p, { chains: opts.chains ?? this.config.ais.chains, betas: opts.betas ?? this.config.ais.betas, seed: opts.seed ?? 0, base }));
  }

  /** log Z exactly (enumerates h1, or (v, h2), whichever has at most 20 units and is smaller) */
  exactLogZ(): Promise<number> {
    return this.withParams((p) => exactLogZ(p));
  }

  private async partitionFor(seed: number, opts?: EstimatorOptions): Promise<Partition> {
    const knobs = aisKnobs('dbm', this.config.ais, opts);
    const key = partitionKey(this.version, seed, knobs);
    if (this.cachedZ?.key === key) return this.cachedZ.value;
    const value = await this.withParams((p, base) => partition(p, base, knobs.settings, seed, { convergence: knobs.convergence }));
    this.cachedZ = { key, value };
    return value;
  }

  // ---- training ----

  /** 1, 2: pretraining RBM 1 or 2; 3: the DBM */
  stageAt(step: number, totalSteps?: number): 1 | 2 | 3 {
    if (this.composed) return 3;
    const P = this.config.pretrainSteps ?? Math.round(this.config.pretrain * (totalSteps && totalSteps > 0 ? totalSteps : DEFAULT_RUN_STEPS));
    if (step <= Math.ceil(P / 2)) return 1;
    if (step <= P) return 2;
    return 3;
  }

  private observe(x: tf.Tensor2D, mu2: tf.Tensor2D | null): void {
    const D = this.D;
    const H2 = this.config.layers[1];
    if (!this.initialized) {
      tf.tidy(() => {
        const p = tf.clipByValue(tf.mean(x, 0), 1e-3, 1 - 1e-3);
        this.b!.assign(tf.log(tf.div(p, tf.sub(1, p))));
      });
      this.initialized = true;
    }
    this.seen = Math.min(this.seen + 1, 100);
    const rate = 1 / this.seen;
    tf.tidy(() => {
      const old = this.baseMean!;
      const vPart = tf.slice(old, [0], [D]);
      const hPart = tf.slice(old, [D], [H2]);
      const nv = tf.add(vPart, tf.mul(tf.sub(tf.mean(x, 0), vPart), rate));
      const nh = mu2 ? tf.add(hPart, tf.mul(tf.sub(tf.mean(mu2, 0), hPart), rate)) : hPart;
      old.assign(tf.concat([nv, nh]));
    });
  }

  trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): StepMetrics {
    this.need();
    const stage = this.stageAt(step, ctx.totalSteps);
    const rng = mulberry32(ctx.seed());
    const k = this.config.k;
    let out: StepMetrics;
    if (stage === 1) out = this.pretrainBottom(x, ctx, rng, k);
    else if (stage === 2) out = this.pretrainTop(x, ctx, rng, k);
    else out = this.trainJoint(x, ctx, rng, k);
    this.version++;
    return { 'train/stage': stage, ...out };
  }

  /** RBM 1 with doubled bottom-up input: F1(s) = −bᵀs − Σ ζ(c1 + sW1), s = v + v' (two tied copies) */
  private pretrainBottom(x: tf.Tensor2D, ctx: StepContext, rng: Rng, k: number): StepMetrics {
    this.observe(x, null);
    const F1 = (s: tf.Tensor2D) => tf.neg(tf.add(tf.reshape(tf.matMul(s, tf.reshape(this.b!, [this.D, 1])), [-1]), tf.sum(tf.softplus(tf.add(tf.matMul(s, this.w1), this.c1!)), 1)));
    const { s0, sNeg, recon } = tf.tidy(() => {
      const s0 = tf.mul(2, x) as tf.Tensor2D;
      let s = s0;
      let recon: tf.Scalar | null = null;
      for (let t = 0; t < k; t++) {
        const h = bernoulli(tf.sigmoid(tf.add(tf.matMul(s, this.w1), this.c1!)), rng.seed()) as tf.Tensor2D;
        const pv = this.visibleProb(h);
        if (t === 0) recon = tf.mean(tf.sum(tf.square(tf.sub(x, pv)), 1)) as tf.Scalar;
        s = tf.add(bernoulli(pv, rng.seed()), bernoulli(pv, rng.seed())) as tf.Tensor2D;
      }
      return { s0, sNeg: s, recon: recon! };
    });
    const gap = ctx.minimize('dbm_rbm1', () => tf.sub(tf.mean(F1(s0)), tf.mean(F1(sNeg))) as tf.Scalar, [this.W1!, this.b!, this.c1!]);
    tf.dispose([s0, sNeg]);
    // both read back by the trainer
    return { 'train/recon': recon, 'train/free_energy_gap': gap };
  }

  /** RBM 2 with doubled top-down input: F2(h1) = −c1'ᵀh1 − 2 Σ ζ(c2 + h1W2) (two tied copies of h2) */
  private pretrainTop(x: tf.Tensor2D, ctx: StepContext, rng: Rng, k: number): StepMetrics {
    const h1 = tf.tidy(() => bernoulli(tf.sigmoid(tf.add(tf.mul(2, tf.matMul(x, this.w1)), this.c1!)), rng.seed()) as tf.Tensor2D);
    const q2 = this.updateMu2(h1);
    this.observe(x, q2);
    q2.dispose();
    if (!this.pretrained2) {
      tf.tidy(() => {
        const p = tf.clipByValue(tf.mean(h1, 0), 1e-3, 1 - 1e-3);
        this.c1top!.assign(tf.log(tf.div(p, tf.sub(1, p))));
      });
      this.pretrained2 = true;
    }
    const H1 = this.config.layers[0];
    const F2 = (h: tf.Tensor2D) => tf.neg(tf.add(tf.reshape(tf.matMul(h, tf.reshape(this.c1top!, [H1, 1])), [-1]), tf.mul(2, tf.sum(tf.softplus(tf.add(tf.matMul(h, this.w2), this.c2!)), 1))));
    const { hNeg, recon } = tf.tidy(() => {
      let h = h1;
      let recon: tf.Scalar | null = null;
      for (let t = 0; t < k; t++) {
        const p2 = this.updateMu2(h);
        const sum2 = tf.add(bernoulli(p2, rng.seed()), bernoulli(p2, rng.seed())) as tf.Tensor2D;
        const p1 = tf.sigmoid(tf.add(tf.matMul(sum2, this.w2, false, true), this.c1top!)) as tf.Tensor2D;
        if (t === 0) recon = tf.mean(tf.sum(tf.square(tf.sub(h1, p1)), 1)) as tf.Scalar;
        h = bernoulli(p1, rng.seed()) as tf.Tensor2D;
      }
      return { hNeg: h, recon: recon! };
    });
    const gap = ctx.minimize('dbm_rbm2', () => tf.sub(tf.mean(F2(h1)), tf.mean(F2(hNeg))) as tf.Scalar, [this.W2!, this.c1top!, this.c2!]);
    tf.dispose([h1, hNeg]);
    return { 'train/recon': recon, 'train/free_energy_gap': gap };
  }

  private trainJoint(x: tf.Tensor2D, ctx: StepContext, rng: Rng, k: number): StepMetrics {
    if (!this.composed) {
      // the two estimates of h1's biases, averaged
      if (this.pretrained2) tf.tidy(() => this.c1!.assign(tf.mul(0.5, tf.add(this.c1!, this.c1top!))));
      this.composed = true;
    }
    const { mu1, mu2 } = this.meanField(x, this.config.meanFieldIters);
    this.observe(x, mu2);
    const B = x.shape[0];
    if (!this.chainV || this.chainV.shape[0] !== B) {
      tf.dispose([this.chainV ?? [], this.chainH2 ?? []]);
      this.chainV = tf.clone(x);
      this.chainH2 = bernoulli(mu2, rng.seed()) as tf.Tensor2D;
    }
    const { v, h2 } = tf.tidy(() => {
      let v = this.chainV!;
      let h2 = this.chainH2!;
      for (let t = 0; t < k; t++) {
        const h1 = bernoulli(this.updateMu1(v, h2), rng.seed()) as tf.Tensor2D;
        v = bernoulli(this.visibleProb(h1), rng.seed()) as tf.Tensor2D;
        h2 = bernoulli(this.updateMu2(h1), rng.seed()) as tf.Tensor2D;
      }
      return { v, h2 };
    });
    const recon = tf.tidy(() => tf.mean(tf.sum(tf.square(tf.sub(x, this.visibleProb(mu1))), 1)) as tf.Scalar);
    const gap = ctx.minimize('dbm', () => tf.sub(tf.mean(this.meanEnergy(x, mu1, mu2)), tf.mean(this.freeEnergy(v, h2))) as tf.Scalar, [this.W1!, this.W2!, this.b!, this.c1!, this.c2!]);
    tf.dispose([mu1, mu2, this.chainV!, this.chainH2!]);
    this.chainV = v;
    this.chainH2 = h2;
    return { 'train/recon': recon, 'train/free_energy_gap': gap };
  }

  // ---- evaluation ----

  /** mean-field reconstruction error and the mean bound on log p*(v) (no log Z) */
  async evaluate(val: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    this.need();
    const n = val.shape[0];
    let recon = 0;
    let bound = 0;
    for (let s = 0; s < n; s += 1000) {
      const m = Math.min(1000, n - s);
      const [r, b] = tf.tidy(() => {
        const rows = tf.slice(val, [s, 0], [m, -1]) as tf.Tensor2D;
        const { mu1, mu2 } = this.meanField(rows);
        return [tf.sum(tf.square(tf.sub(rows, this.visibleProb(mu1)))), tf.sum(this.variationalBound(rows, mu1, mu2))];
      });
      try {
        const [rv, bv] = await Promise.all([r.data(), b.data()]);
        recon += rv[0];
        bound += bv[0];
      } finally {
        tf.dispose([r, b]);
      }
    }
    return { 'val/recon': { value: recon / Math.max(1, n), kind: 'info' }, 'val/mean_field_bound': { value: bound / Math.max(1, n), kind: 'info' } };
  }

  /**
   * −B(v; μ) + log Z per row: an upper bound on −log p(v) when log Z is exact (kind 'bound'),
   * an AIS estimate of that bound otherwise (kind 'estimate', stderr = AIS's, of log Z).
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts?: EstimatorOptions): Promise<TestNll> {
    this.need();
    await requireBinary('dbm', x);
    const iters = this.config.testMeanFieldIters;
    const B = await perRow(x, (rows) =>
      tf.tidy(() => {
        const { mu1, mu2 } = this.meanField(rows, iters);
        return this.variationalBound(rows, mu1, mu2);
      }),
    );
    const Z = await this.partitionFor(seed, opts);
    const nll = Float32Array.from(B, (b) => Z.logZ - b);
    let sum = 0;
    for (const v of nll) {
      if (!Number.isFinite(v)) throw new Error(`dbm: a non-finite NLL (${v}): the model diverged`);
      sum += v;
    }
    const extra = { meanFieldIters: iters, bound: 1, exactLogZ: Z.exact ? 1 : 0 };
    if (Z.exact) return { nll, kind: 'bound', details: { logZ: Z.logZ, logZStderr: 0, chains: 0, betas: 0, ...extra } };
    const r = aisReport(Z, sum / Math.max(1, nll.length));
    return { nll, kind: 'estimate', ...r, details: { ...r.details, ...extra } };
  }

  // ---- sampling and views ----

  /** uniform draws that pick the start (v, h2) from the AIS base model, [n, D + H2] */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need();
    return uniform([n, this.D + this.config.layers[1]], seed) as tf.Tensor2D;
  }

  /** `sampleSteps` Gibbs steps (h1 | v, h2; then v, h2 | h1) from a base-model start; E[v | h1] of the last */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need();
    const D = this.D;
    const H2 = this.config.layers[1];
    const rng = mulberry32(seed ^ 0x5eed);
    const z = noise ?? this.noise(n, seed);
    let [v, h2] = tf.tidy(() => {
      const s = tf.cast(tf.less(z, tf.reshape(this.baseMean!, [1, D + H2])), 'float32');
      return [tf.slice(s, [0, 0], [-1, D]), tf.slice(s, [0, D], [-1, H2])] as tf.Tensor2D[];
    });
    if (z !== noise) z.dispose();
    let mean: tf.Tensor2D | null = null;
    for (let t = 0; t < this.config.sampleSteps; t++) {
      const last = t === this.config.sampleSteps - 1;
      const [nv, nh] = tf.tidy(() => {
        const h1 = bernoulli(this.updateMu1(v, h2), rng.seed()) as tf.Tensor2D;
        const pv = this.visibleProb(h1);
        if (last) return [pv, h2];
        return [bernoulli(pv, rng.seed()), bernoulli(this.updateMu2(h1), rng.seed())] as tf.Tensor2D[];
      });
      if (last) {
        mean = nv;
        break;
      }
      tf.dispose([v, h2]);
      v = nv;
      h2 = nh;
    }
    tf.dispose([v, h2]);
    return mean!;
  }

  /** layer 1: rows of W1ᵀ [H1, D]; layer 2: rows of (W1 W2)ᵀ [H2, D], h2's weights projected linearly to pixels */
  async filters(layer = 1): Promise<{ data: Float32Array; count: number; dim: number }> {
    this.need();
    if (layer !== 1 && layer !== 2) throw new Error(`dbm.filters: layer must be 1 or 2, got ${layer}`);
    const t = tf.tidy(() => tf.transpose(layer === 1 ? this.w1 : tf.matMul(this.w1, this.w2)));
    try {
      const data = Float32Array.from((await t.data()) as Float32Array);
      return { data, count: this.config.layers[layer - 1], dim: this.D };
    } finally {
      t.dispose();
    }
  }

  /**
   * Block Gibbs chains: h1 ~ p(h1 | v, h2), then v ~ p(v | h1) and h2 ~ p(h2 | h1). Frames are
   * E[v | h1] after every `every` steps (and the last); the first frame is the start (`init`,
   * else random 0/1 pixels), h2 starting from a draw of the mean-field posterior of it.
   * Clamped pixels keep init's values at every step: exact sampling of p(free | clamped).
   */
  async gibbs(req: GibbsRequest): Promise<Float32Array[]> {
    this.need();
    const D = this.D;
    const { n, steps, every, init, mask } = gibbsInputs('dbm', req, D);
    const rng = mulberry32(req.seed);
    const initT = init ? tf.tensor2d(init, [n, D]) : null;
    const maskT = mask ? tf.tensor2d(mask, [1, D]) : null;
    const start = initT ?? (tf.tidy(() => tf.cast(tf.less(uniform([n, D], rng.seed()), 0.5), 'float32')) as tf.Tensor2D);
    let v = tf.clone(start);
    let h2 = tf.tidy(() => bernoulli(this.meanField(start, 5).mu2, rng.seed()) as tf.Tensor2D);
    const frames: Float32Array[] = [];
    try {
      frames.push(Float32Array.from((await start.data()) as Float32Array));
      for (let t = 1; t <= steps; t++) {
        const want = t % every === 0 || t === steps;
        const { nv, nh, frame } = tf.tidy((): { nv: tf.Tensor2D; nh: tf.Tensor2D; frame?: tf.Tensor2D } => {
          const h1 = bernoulli(this.updateMu1(v, h2), rng.seed()) as tf.Tensor2D;
          const pv = this.visibleProb(h1);
          let nv = bernoulli(pv, rng.seed()) as tf.Tensor2D;
          if (maskT) nv = clampMix(nv, initT!, maskT);
          const nh = bernoulli(this.updateMu2(h1), rng.seed()) as tf.Tensor2D;
          return want ? { nv, nh, frame: maskT ? clampMix(pv, initT!, maskT) : pv } : { nv, nh };
        });
        tf.dispose([v, h2]);
        v = nv as tf.Tensor2D;
        h2 = nh as tf.Tensor2D;
        if (frame) {
          try {
            frames.push(Float32Array.from((await frame.data()) as Float32Array));
          } finally {
            frame.dispose();
          }
        }
      }
    } finally {
      tf.dispose([v, h2, start, maskT ?? []]);
    }
    return frames;
  }

  getWeights(): NamedWeight[] {
    this.need();
    return [
      { name: 'dbm/W1', tensor: this.W1! },
      { name: 'dbm/W2', tensor: this.W2! },
      { name: 'dbm/b', tensor: this.b! },
      { name: 'dbm/c1', tensor: this.c1! },
      { name: 'dbm/c2', tensor: this.c2! },
      { name: 'dbm/base_mean', tensor: this.baseMean! },
    ];
  }

  /** loads a composed DBM (later training skips pretraining) */
  setWeights(weights: NamedWeight[]): void {
    this.need();
    loadNamed(weights, { 'dbm/W1': this.W1!, 'dbm/W2': this.W2!, 'dbm/b': this.b!, 'dbm/c1': this.c1!, 'dbm/c2': this.c2! });
    const base = weights.find((w) => w.name === 'dbm/base_mean');
    if (base && base.tensor.size === this.baseMean!.size) this.baseMean!.assign(tf.reshape(base.tensor, this.baseMean!.shape));
    this.initialized = true;
    this.composed = true;
    this.seen = 100;
    tf.dispose([this.chainV ?? [], this.chainH2 ?? []]);
    this.chainV = this.chainH2 = null;
    this.version++;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    tf.dispose([this.W1 ?? [], this.W2 ?? [], this.b ?? [], this.c1 ?? [], this.c2 ?? [], this.c1top ?? [], this.baseMean ?? [], this.chainV ?? [], this.chainH2 ?? []]);
  }
}
