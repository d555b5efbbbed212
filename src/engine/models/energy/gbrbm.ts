// Gaussian–Bernoulli RBM with a learned variance per visible unit (Goodfellow et al. 20.5.1):
//   E(v, h) = Σ_i (v_i − b_i)² / (2σ_i²) − cᵀh − Σ_ij (v_i/σ_i) W_ij h_j,
//   p(h_j = 1 | v) = σ(c_j + Σ_i (v_i/σ_i) W_ij),   p(v | h) = N(b + σ ⊙ Wh, diag σ²),
//   F(v) = Σ_i (v_i − b_i)² / (2σ_i²) − Σ_j ζ(c_j + (v/σ)ᵀW_j),   −log p(v) = F(v) + log Z.
// With u = v/σ the model is a unit-variance GB-RBM (eval/ais.ts's gaussian machine) with
// visible biases b/σ, and since dv = Π σ_i du,
//   log Z = log Z' + Σ_i log σ_i,
// so log Z' comes from rbm.ts's `partition` (exact by enumerating h when H is small, else AIS).
//
// Training: CD-k or PCD on mean F(v_data) − mean F(v_neg) with v_neg held fixed in DATA units
// (so its gradient in log σ is the likelihood's too). log σ is unstable without care (σ → 0
// makes v/σ huge and the hidden units saturate): it is trained through a rescaled variable,
// log σ = sigmaLr · s, so with Adam it moves at sigmaLr × the learning rate, and after every
// step σ is held above a floor (`sigmaFloor`).
//
// Images of grey levels (not binarized) are dequantized like the flows' data,
// v = (k + U[0,1)) / 256 for grey level k, and the NLL is reported on the 8-bit scale,
// −log p(v) + D ln 256 (bits/dim = nll / (D ln 2), as for the flows); 2-D points and other
// real data are modelled as they are. Binary data is refused (use lab.models.rbm).
import * as tf from '@tensorflow/tfjs';
import type { Bipartite } from '../../eval/ais';
import { bernoulli, normal, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { aisKnobs, aisReport, checkAis, clampMix, gibbsInputs, partition, partitionKey, perRow, type AisSettings, type GibbsRequest, type Partition } from './rbm';

export type GbrbmConfig = LatentLab.GbrbmConfig;

/** the standard deviation of U[0, 1/256): one grey level of dequantized 8-bit data, the narrowest such a pixel is */
export const GREY_LEVEL_SD = 1 / (256 * Math.sqrt(12));

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

export class Gbrbm implements Model {
  readonly family = 'gbrbm';
  readonly config: { hidden: number; k: number; persistent: boolean; sigma: number | 'auto'; learnSigma: boolean; sigmaLr: number; sigmaFloor: number | 'auto'; initScale: number; sampleSteps: number; ais: Required<AisSettings> };
  private D = 0;
  private data: DataInfo | null = null;
  private vars_: { W: tf.Variable; b: tf.Variable; c: tf.Variable; s: tf.Variable; floor: tf.Variable; base: tf.Variable } | null = null;
  /** persistent chains, data units */
  private chains: tf.Tensor2D | null = null;
  private initialized = false;
  private seen = 0;
  /** bumped whenever the weights change: the cached log Z is for one version */
  private version = 0;
  private cachedZ: { key: string; value: Partition } | null = null;

  constructor(cfg: GbrbmConfig = {}) {
    this.config = {
      hidden: cfg.hidden ?? 200,
      k: cfg.k ?? 1,
      persistent: cfg.persistent ?? true,
      sigma: cfg.sigma ?? 'auto',
      learnSigma: cfg.learnSigma ?? true,
      sigmaLr: cfg.sigmaLr ?? 0.1,
      sigmaFloor: cfg.sigmaFloor ?? 'auto',
      initScale: cfg.initScale ?? 0.01,
      sampleSteps: cfg.sampleSteps ?? 1000,
      ais: checkAis('gbrbm', cfg.ais),
    };
    const c = this.config;
    if (!(Number.isInteger(c.hidden) && c.hidden >= 1)) throw new Error(`gbrbm: hidden must be an integer >= 1, got ${cfg.hidden}`);
    if (!(Number.isInteger(c.k) && c.k >= 1)) throw new Error(`gbrbm: k must be an integer >= 1, got ${cfg.k}`);
    if (c.sigma !== 'auto' && !(typeof c.sigma === 'number' && c.sigma > 0)) throw new Error(`gbrbm: sigma must be a positive number or 'auto'`);
    if (!(c.sigmaLr > 0 && c.sigmaLr <= 10)) throw new Error(`gbrbm: sigmaLr must be in (0, 10], got ${cfg.sigmaLr}`);
    if (c.sigmaFloor !== 'auto' && !(typeof c.sigmaFloor === 'number' && c.sigmaFloor > 0)) throw new Error(`gbrbm: sigmaFloor must be a positive number or 'auto'`);
    if (typeof c.sigma === 'number' && typeof c.sigmaFloor === 'number' && c.sigma < c.sigmaFloor) throw new Error('gbrbm: sigma starts below sigmaFloor');
    if (!(c.initScale >= 0)) throw new Error('gbrbm: initScale must be >= 0');
    if (!(Number.isInteger(c.sampleSteps) && c.sampleSteps >= 1)) throw new Error('gbrbm: sampleSteps must be an integer >= 1');
  }

  get built(): boolean {
    return this.vars_ !== null;
  }

  /** grey-level images are dequantized and scored on the 8-bit scale */
  get dequantized(): boolean {
    return this.data?.kind === 'image' && !this.data.binary;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/recon': 'info',
      'train/free_energy_gap': 'info',
      'train/sigma_mean': 'info',
      'train/sigma_min': 'info',
      'val/recon': 'info',
      'val/free_energy': 'info',
      'val/sigma_mean': 'info',
      'val/sigma_min': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('gbrbm: model already built (create a new one per run)');
    if (data.binary) throw new Error('gbrbm: a density on real values: use grey levels (lab.data.mnist({ binarize: false })) or points; binary data wants lab.models.rbm');
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    const D = this.D;
    const H = this.config.hidden;
    const w = new Float32Array(D * H);
    for (let i = 0; i < w.length; i++) w[i] = this.config.initScale * rng.normal();
    const s0 = Math.log(typeof this.config.sigma === 'number' ? this.config.sigma : 1) / this.config.sigmaLr;
    const floor = typeof this.config.sigmaFloor === 'number' ? this.config.sigmaFloor : this.dequantized ? GREY_LEVEL_SD : 1e-3;
    this.vars_ = {
      W: tf.variable(tf.tensor2d(w, [D, H]), true, uniqueName('gbrbm_W')),
      b: tf.variable(tf.zeros([D]), true, uniqueName('gbrbm_b')),
      c: tf.variable(tf.zeros([H]), true, uniqueName('gbrbm_c')),
      s: tf.variable(tf.fill([D], s0), true, uniqueName('gbrbm_s')),
      floor: tf.variable(tf.tensor1d([floor]), false, uniqueName('gbrbm_floor')),
      base: tf.variable(tf.zeros([D]), false, uniqueName('gbrbm_base')),
    };
  }

  private need() {
    if (!this.vars_) throw new Error('gbrbm: build the model first (lab.train builds it on its data)');
    return this.vars_;
  }

  /** log σ, [D] */
  logSigma(): tf.Tensor1D {
    const p = this.need();
    return tf.tidy(() => tf.mul(p.s, this.config.sigmaLr) as tf.Tensor1D);
  }

  /** σ, [D] (data units) */
  sigma(): tf.Tensor1D {
    return tf.tidy(() => tf.exp(this.logSigma()) as tf.Tensor1D);
  }

  /** σ per visible unit, read back */
  async sigmas(): Promise<Float32Array> {
    const t = this.sigma();
    try {
      return Float32Array.from((await t.data()) as Float32Array);
    } finally {
      t.dispose();
    }
  }

  /** the data as the model sees them: grey levels dequantized, (k + U[0,1)) / 256; anything else as it is */
  prep(x: tf.Tensor2D, seed: number): tf.Tensor2D {
    if (!this.dequantized) return tf.clone(x);
    return tf.tidy(() => tf.div(tf.add(tf.round(tf.mul(x, 255)), uniform(x.shape, seed)), 256) as tf.Tensor2D);
  }

  /** the hidden units' input c + (v/σ)ᵀW, [n, H] */
  private hiddenLogits(v: tf.Tensor2D, sigma: tf.Tensor1D): tf.Tensor2D {
    const p = this.need();
    return tf.add(tf.matMul(tf.div(v, sigma), p.W as tf.Tensor2D), p.c) as tf.Tensor2D;
  }

  /** p(h_j = 1 | v), [n, H] (v in the model's units: dequantized for images) */
  hiddenProb(v: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.hiddenLogits(v, this.sigma())));
  }

  /** E[v | h] = b + σ ⊙ Wh, [n, D] */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    const p = this.need();
    return tf.tidy(() => tf.add(p.b, tf.mul(this.sigma(), tf.matMul(h, p.W as tf.Tensor2D, false, true))) as tf.Tensor2D);
  }

  private sampleHidden(v: tf.Tensor2D, sigma: tf.Tensor1D, seed: number): tf.Tensor2D {
    return tf.tidy(() => bernoulli(tf.sigmoid(this.hiddenLogits(v, sigma)), seed) as tf.Tensor2D);
  }

  private sampleVisible(h: tf.Tensor2D, sigma: tf.Tensor1D, seed: number): tf.Tensor2D {
    const p = this.need();
    return tf.tidy(() => {
      const m = tf.add(p.b, tf.mul(sigma, tf.matMul(h, p.W as tf.Tensor2D, false, true)));
      return tf.add(m, tf.mul(normal(m.shape, seed), sigma)) as tf.Tensor2D;
    });
  }

  /** F(v) per row (see the top of the file), v in the model's units; differentiable in every parameter */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    const p = this.need();
    return tf.tidy(() => {
      const sigma = this.sigma();
      const quad = tf.mul(0.5, tf.sum(tf.square(tf.div(tf.sub(v, p.b), sigma)), 1));
      return tf.sub(quad, tf.sum(tf.softplus(this.hiddenLogits(v, sigma)), 1)) as tf.Tensor1D;
    });
  }

  /**
   * The model in u = v/σ units, a unit-variance GB-RBM: { W, b/σ, c } (tensors the caller disposes),
   * and Σ_i log σ_i, so log Z = log Z'(params) + sumLogSigma.
   */
  async unitParams(): Promise<{ params: Bipartite; sumLogSigma: number; base: Float32Array }> {
    const p = this.need();
    const { b, base, sls } = tf.tidy(() => {
      const sigma = this.sigma();
      return { b: tf.div(p.b, sigma) as tf.Tensor1D, base: tf.div(p.base, sigma), sls: tf.sum(this.logSigma()) };
    });
    try {
      const [bv, slsv] = await Promise.all([base.data(), sls.data()]);
      return { params: { W: tf.clone(p.W) as tf.Tensor2D, b, c: tf.clone(p.c) as tf.Tensor1D, visible: 'gaussian' }, sumLogSigma: slsv[0], base: Float32Array.from(bv as Float32Array) };
    } catch (e) {
      b.dispose();
      throw e;
    } finally {
      tf.dispose([base, sls]);
    }
  }

  /** first batch: b from the data's means, σ ('auto') from its per-unit standard deviations (σ_i² = var_i + (0.1 · mean sd)²); every batch: the AIS base's running mean */
  private observe(v: tf.Tensor2D): void {
    const p = this.need();
    if (!this.initialized) {
      tf.tidy(() => {
        const { mean: m, variance } = tf.moments(v, 0);
        p.b.assign(m);
        p.base.assign(m);
        if (this.config.sigma === 'auto' && v.shape[0] >= 2) {
          // a unit the first batch never moved (a rarely inked pixel) would start at the floor and
          // score its first ink at an enormous energy: every σ starts at least a tenth of the average one
          const sd = tf.maximum(tf.sqrt(tf.add(variance, tf.square(tf.mul(0.1, tf.mean(tf.sqrt(variance)))))), p.floor);
          p.s.assign(tf.div(tf.log(sd), this.config.sigmaLr));
        }
      });
      this.initialized = true;
      this.seen = 1;
      return;
    }
    this.seen = Math.min(this.seen + 1, 100);
    const rate = 1 / this.seen;
    tf.tidy(() => p.base.assign(tf.add(p.base, tf.mul(tf.sub(tf.mean(v, 0), p.base), rate))));
  }

  /** σ back above the floor */
  private project(): void {
    const p = this.need();
    tf.tidy(() => p.s.assign(tf.maximum(p.s, tf.div(tf.log(p.floor), this.config.sigmaLr))));
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const p = this.need();
    const rng = mulberry32(ctx.seed());
    const v0 = this.prep(x, rng.seed());
    this.observe(v0);
    const B = x.shape[0];
    const persistent = this.config.persistent;
    if (persistent && (!this.chains || this.chains.shape[0] !== B)) {
      this.chains?.dispose();
      this.chains = tf.clone(v0);
    }
    const { neg, recon } = tf.tidy(() => {
      const sigma = this.sigma();
      let v = persistent ? this.chains! : v0;
      for (let t = 0; t < this.config.k; t++) v = this.sampleVisible(this.sampleHidden(v, sigma, rng.seed()), sigma, rng.seed());
      const back = this.visibleMean(this.sampleHidden(v0, sigma, rng.seed()));
      return { neg: v, recon: tf.mean(tf.sum(tf.square(tf.sub(v0, back)), 1)) as tf.Scalar };
    });
    const vars = this.config.learnSigma ? [p.W, p.b, p.c, p.s] : [p.W, p.b, p.c];
    const gap = ctx.minimize('gbrbm', () => tf.sub(tf.mean(this.freeEnergy(v0)), tf.mean(this.freeEnergy(neg))) as tf.Scalar, vars);
    this.project();
    v0.dispose();
    if (persistent) {
      this.chains!.dispose();
      this.chains = neg;
    } else neg.dispose();
    this.version++;
    const { sm, smin } = tf.tidy(() => {
      const s = this.sigma();
      return { sm: tf.mean(s) as tf.Scalar, smin: tf.min(s) as tf.Scalar };
    });
    return { 'train/recon': recon, 'train/free_energy_gap': gap, 'train/sigma_mean': sm, 'train/sigma_min': smin };
  }

  private async partitionFor(seed: number, knobs: { settings: Required<AisSettings>; convergence: boolean }): Promise<Partition & { logZ1: number }> {
    const key = partitionKey(this.version, seed, knobs);
    if (this.cachedZ?.key === key) return this.cachedZ.value as Partition & { logZ1: number };
    const u = await this.unitParams();
    try {
      const z = await partition(u.params, u.base, knobs.settings, seed, { convergence: knobs.convergence });
      // the unit-variance model's log Z' and the σ-transform: log Z = log Z' + Σ log σ_i
      // (the 4× check's log Z values move by the same Σ log σ_i)
      const check = z.check ? { ...z.check, logZ: z.check.logZ + u.sumLogSigma, logZ4x: z.check.logZ4x + u.sumLogSigma } : undefined;
      const value = { ...z, logZ: z.logZ + u.sumLogSigma, logZ1: z.logZ, ...(check ? { check } : {}) };
      this.cachedZ = { key, value };
      return value;
    } finally {
      tf.dispose([u.params.W, u.params.b, u.params.c]);
    }
  }

  /** log Z of the model in data units (not the 8-bit shift): exact or AIS as `partition` decides; `ais` overrides the config's */
  async logZ(opts: { seed?: number; ais?: AisSettings } = {}): Promise<Partition> {
    return this.partitionFor(opts.seed ?? 0, { settings: opts.ais ? checkAis('gbrbm', { ...this.config.ais, ...opts.ais }) : this.config.ais, convergence: false });
  }

  /**
   * −log p(v) = F(v) + log Z per row, in nats; for grey-level images of dequantized v on the 8-bit
   * scale (+ D ln 256). log Z exact when H is small enough to enumerate (kind 'exact'), else
   * AIS (kind 'estimate', stderr = its standard error of log Z). `opts.ais` sets chains/betas.
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts: EstimatorOptions = {}): Promise<TestNll> {
    this.need();
    const knobs = aisKnobs('gbrbm', this.config.ais, opts);
    const v = this.prep(x, seed);
    let F: Float32Array;
    try {
      F = await perRow(v, (rows) => this.freeEnergy(rows));
    } finally {
      v.dispose();
    }
    const Z = await this.partitionFor(seed, knobs);
    const shift = this.dequantized ? this.D * Math.log(256) : 0;
    const nll = Float32Array.from(F, (f) => f + Z.logZ + shift);
    for (const e of nll) if (!Number.isFinite(e)) throw new Error(`gbrbm: a non-finite NLL (${e}): the model diverged`);
    const details: Record<string, number> = { logZ: Z.logZ, logZUnitVariance: Z.logZ1, sumLogSigma: Z.logZ - Z.logZ1 };
    if (Z.exact) return { nll, kind: 'exact', details };
    const report = aisReport(Z, mean(nll));
    return { nll, kind: 'estimate', ...report, details: { ...report.details, ...details } };
  }

  /** cheap numbers for the curves (no log Z): reconstruction error, mean free energy, σ's mean and smallest value */
  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const rng = mulberry32(seed);
    const v = this.prep(val, rng.seed());
    const hs = rng.seed();
    try {
      const recon = await perRow(v, (rows, s) =>
        tf.tidy(() => {
          const h = this.sampleHidden(rows, this.sigma(), hs + s);
          return tf.sum(tf.square(tf.sub(rows, this.visibleMean(h))), 1) as tf.Tensor1D;
        }),
      );
      const F = await perRow(v, (rows) => this.freeEnergy(rows));
      const s = await this.sigmas();
      return {
        'val/recon': { value: mean(recon), kind: 'info' },
        'val/free_energy': { value: mean(F), kind: 'info' },
        'val/sigma_mean': { value: mean(s), kind: 'info' },
        'val/sigma_min': { value: s.reduce((a, b) => Math.min(a, b), Infinity), kind: 'info' },
      };
    } finally {
      v.dispose();
    }
  }

  /** standard normals [n, D]: `sample` starts its chains at base + σ ⊙ noise */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need();
    return normal([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * `sampleSteps` Gibbs steps from base + σ ⊙ noise (the base: the data's running mean);
   * returns E[v | h] of the last step: for images clipped to [0, 1] (the mean shows the picture;
   * a draw adds per-pixel noise of size σ), for points a draw from p(v | h).
   */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    const p = this.need();
    const rng = mulberry32(seed ^ 0x5eed);
    const z = noise ?? this.noise(n, seed);
    const sigma = this.sigma();
    let v = tf.tidy(() => tf.add(p.base, tf.mul(z, sigma)) as tf.Tensor2D);
    if (z !== noise) z.dispose();
    try {
      for (let t = 0; t < this.config.sampleSteps - 1; t++) {
        const next = tf.tidy(() => this.sampleVisible(this.sampleHidden(v, sigma, rng.seed()), sigma, rng.seed()));
        v.dispose();
        v = next;
      }
      return tf.tidy(() => {
        const m = this.visibleMean(this.sampleHidden(v, sigma, rng.seed()));
        return (this.data?.kind === 'image' ? tf.clipByValue(m, 0, 1) : tf.add(m, tf.mul(normal(m.shape, rng.seed()), sigma))) as tf.Tensor2D;
      });
    } finally {
      tf.dispose([v, sigma]);
    }
  }

  /** the hidden units' weight vectors over the visible units: rows of Wᵀ, [H, D] */
  async filters(layer = 1): Promise<{ data: Float32Array; count: number; dim: number }> {
    const p = this.need();
    if (layer !== 1) throw new Error(`gbrbm.filters: a GB-RBM has one layer of weights (layer 1), not layer ${layer}`);
    const t = tf.transpose(p.W);
    try {
      return { data: Float32Array.from((await t.data()) as Float32Array), count: this.config.hidden, dim: this.D };
    } finally {
      t.dispose();
    }
  }

  /**
   * Block Gibbs h ~ p(h|v), v ~ p(v|h) in `n` chains; frames of E[v|h] (data units) every `every`
   * steps and after the last, the first frame the start (`init`, else base + σ ⊙ N(0, I)).
   * Clamped units keep init's values at every step.
   */
  async gibbs(req: GibbsRequest): Promise<Float32Array[]> {
    const p = this.need();
    const D = this.D;
    const { n, steps, every, init, mask } = gibbsInputs('gbrbm', req, D);
    const rng = mulberry32(req.seed);
    const sigma = this.sigma();
    const initT = init ? tf.tensor2d(init, [n, D]) : null;
    const maskT = mask ? tf.tensor2d(mask, [1, D]) : null;
    const start = initT ?? tf.tidy(() => tf.add(p.base, tf.mul(normal([n, D], rng.seed()), sigma)) as tf.Tensor2D);
    let v = tf.clone(start);
    const frames: Float32Array[] = [];
    try {
      frames.push(Float32Array.from((await start.data()) as Float32Array));
      for (let t = 1; t <= steps; t++) {
        const s1 = rng.seed();
        const s2 = rng.seed();
        const want = t % every === 0 || t === steps;
        const { next, frame } = tf.tidy((): { next: tf.Tensor2D; frame?: tf.Tensor2D } => {
          const h = this.sampleHidden(v, sigma, s1);
          let nv = this.sampleVisible(h, sigma, s2);
          if (maskT) nv = clampMix(nv, initT!, maskT);
          if (!want) return { next: nv };
          let m = this.visibleMean(h);
          if (maskT) m = clampMix(m, initT!, maskT);
          return { next: nv, frame: m };
        });
        v.dispose();
        v = next;
        if (frame) {
          try {
            frames.push(Float32Array.from((await frame.data()) as Float32Array));
          } finally {
            frame.dispose();
          }
        }
      }
    } finally {
      tf.dispose([v, start, sigma, maskT ?? []]);
    }
    return frames;
  }

  getWeights(): NamedWeight[] {
    const p = this.need();
    return [
      { name: 'gbrbm/W', tensor: p.W },
      { name: 'gbrbm/b', tensor: p.b },
      { name: 'gbrbm/c', tensor: p.c },
      { name: 'gbrbm/log_sigma_scaled', tensor: p.s },
      { name: 'gbrbm/sigma_floor', tensor: p.floor },
      { name: 'gbrbm/base_mean', tensor: p.base },
    ];
  }

  /** loads a checkpoint (log σ is stored as log σ / sigmaLr: load it into a model of the same sigmaLr) */
  setWeights(weights: NamedWeight[]): void {
    const p = this.need();
    const vars: Record<string, tf.Variable> = { 'gbrbm/W': p.W, 'gbrbm/b': p.b, 'gbrbm/c': p.c, 'gbrbm/log_sigma_scaled': p.s };
    for (const [k, t] of [['gbrbm/sigma_floor', p.floor], ['gbrbm/base_mean', p.base]] as const) if (weights.some((w) => w.name === k)) vars[k] = t;
    loadNamed(weights, vars);
    this.initialized = true;
    this.seen = 100;
    this.chains?.dispose();
    this.chains = null;
    this.version++;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    if (this.vars_) tf.dispose(Object.values(this.vars_));
    this.chains?.dispose();
    this.chains = null;
  }
}
