// Probabilistic PCA (Tipping & Bishop 1999): a linear Gaussian latent-variable model,
//   z ~ N(0, I_q),   x = W z + mu + eps,   eps ~ N(0, sigma^2 I_D),
// so p(x) = N(mu, C) with C = W W^T + sigma^2 I. Its maximum-likelihood fit is closed
// form from the data's mean mu and covariance S = U Lambda U^T (eigenvalues descending):
//   sigma^2 = the mean of the D - q discarded eigenvalues,
//   W = U_q (Lambda_q - sigma^2 I)^{1/2}   (up to a rotation, taken as I).
// The log-likelihood is exact (testNll kind 'exact'), computed in the eigenbasis: with
// e = x - mu and p = U_q^T e,
//   log p(x) = -1/2 [D log 2 pi + sum_i log lambda_i + (D - q) log sigma^2
//                    + sum_i p_i^2 / lambda_i + (|e|^2 - |p|^2) / sigma^2].
// The posterior is E[z | x] = M^{-1} W^T e with M = W^T W + sigma^2 I = Lambda_q (encodeMean);
// reconstruct() is the orthogonal projection mu + U_q p (what plain PCA reconstructs;
// decoding the posterior mean shrinks it towards mu). With q = D - 1 the model is the
// full-covariance Gaussian N(mu, S).
//
// On 8-bit grey images (not binarized) the data are dequantized as the flows do,
// u = (k + U[0,1)) / 256 for grey level k/255, and the NLL is reported on the 8-bit scale,
// -log p(u) + D ln 256, so this linear baseline's bits/dim compare with NICE's, RealNVP's
// and Glow's (exact for the given dequantization noise). Points and binary images are
// modelled as they are (a density on binary values is not comparable with Bernoulli
// likelihoods).
//
// Training accumulates the mean and covariance over one pass of the training rows (see
// OnePass), in float64 around a reference point (the first batch's mean) so the
// covariance keeps its digits. The eigen-decomposition runs when the model is next
// used: Jacobi (symEig, float64) for small D; for large D (784-pixel images) the top
// q + 10 eigenvectors by subspace iteration with Rayleigh-Ritz steps (float64 too). The
// iteration's products run on tf and are read back, so for large D the fit is computed
// by the async paths (the last counted training batch, fit, addRows, evaluate, sample,
// encodeMean, decode, reconstruct, getWeights); the methods that answer at once use it.
import * as tf from '@tensorflow/tfjs';
import { fingerprint } from '../../data/split';
import type { Dataset, Split } from '../../data/types';
import { symEig } from '../../ops/linalg';
import { normal, uniformValues } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { ExportedWeights, weightOf } from '../../nn/params';
import { OnePass, readRows, rowsOf } from './one-pass';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type PcaConfig = LatentLab.PcaConfig;

const LOG_2PI = Math.log(2 * Math.PI);
/** up to this D the full eigen-decomposition (Jacobi) is used; above it, subspace iteration for the top q */
const FULL_EIG_MAX_D = 96;
/** extra vectors carried by subspace iteration (they speed up the convergence of the top q) */
const OVERSAMPLE = 10;

export interface ExplainedVariance {
  /** the top q eigenvalues of the data's covariance (variance along each principal axis) */
  values: number[];
  /** each one's share of the total variance */
  ratio: number[];
  /** the running sum of the ratios */
  cumulative: number[];
  /** the total variance (trace of the covariance) */
  total: number;
  /** sigma^2, the variance the model gives every discarded direction */
  sigma2: number;
}

interface Fitted {
  mu: Float64Array;
  U: Float64Array;
  lambda: Float64Array;
  sigma2: number;
  trace: number;
  iterations: number;
}

export class Pca implements Model {
  /** a fit from data: no sample before the first step */
  readonly samplesAfterTraining = true;
  readonly family = 'pca';
  readonly config: { components: number | null };
  readonly hasLatent = true;
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private data: DataInfo | null = null;
  private D = 0;
  private q = 0;
  private pass = new OnePass(undefined);
  /** accumulators around the reference point c: count, sum (x - c), sum (x - c)(x - c)^T */
  private count = 0;
  private ref: Float64Array | null = null;
  private s1 = new Float64Array(0);
  private s2 = new Float64Array(0);
  /** the fit: mu [D], U_q as q rows of D, lambda [q], sigma^2, the covariance's trace; null when stale */
  private fitted: Fitted | null = null;
  private readonly exported = new ExportedWeights();
  /** the last trainStep's step, batch size and the run's length (evaluate waits for the pass) */
  private progress = { step: 0, batch: 0, total: Infinity };

  constructor(cfg: PcaConfig = {}) {
    this.config = { components: cfg.components ?? null };
    const q = this.config.components;
    if (q !== null && !(Number.isInteger(q) && q >= 1)) throw new Error(`pca: components must be a whole number >= 1, got ${String(cfg.components)}`);
  }

  get built(): boolean {
    return this.data !== null;
  }

  /** latent dimensions q */
  get latentDim(): number {
    return this.q;
  }

  /** training rows accumulated */
  get rows(): number {
    return this.count;
  }

  /** 8-bit grey images are dequantized (u = (k + U) / 256) and scored on the 8-bit scale */
  get dequantized(): boolean {
    return this.data?.kind === 'image' && !this.data.binary;
  }

  /** the rows as the density sees them: dequantized grey levels for 8-bit images */
  private prepareRows(v: Float32Array, n: number, seed: number): Float32Array {
    if (!this.dequantized) return v;
    // the values uniform([n, D], seed) holds
    const u = uniformValues(seed, n * this.D);
    const out = new Float32Array(n * this.D);
    for (let i = 0; i < out.length; i++) out[i] = (Math.round(v[i] * 255) + u[i]) / 256;
    return out;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/rows': 'info',
      'val/nll': 'exact',
      'val/bits_per_dim': 'exact',
      'val/explained_variance': 'info',
      'val/sigma2': 'info',
      'test/nll': 'exact',
      'test/bits_per_dim': 'exact',
    };
  }

  build(data: DataInfo, _rng?: Rng): void {
    if (this.built) throw new Error('pca: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('pca: probabilistic PCA models real vectors (lab.data.toy2d, images), not symbol sequences');
    const D = data.shape.reduce((a, b) => a * b, 1);
    if (D < 2) throw new Error('pca: needs data of at least 2 dimensions');
    const q = this.config.components ?? Math.min(16, D - 1);
    if (q > D - 1) throw new Error(`pca: components must be 1..${D - 1} for ${D}-dimensional data (q = D would leave no variance for sigma^2), got ${q}`);
    this.config.components = q;
    this.data = data;
    this.D = D;
    this.q = q;
    this.pass = new OnePass(data.trainRows);
    this.s1 = new Float64Array(D);
    this.s2 = new Float64Array(D * D);
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`pca.${what}: train the model first (lab.train, or fit(x, n))`);
    if (this.count < 2) throw new Error(`pca.${what}: needs at least 2 training rows (train it first)`);
  }

  /** adds rows of x to the mean and covariance accumulators, and fits them (a fit for large D must be computed asynchronously) */
  async addRows(x: Float32Array, n: number): Promise<void> {
    await this.accumulate(x, n);
    if (this.D > FULL_EIG_MAX_D) await this.ensureFitted();
  }

  /** adds rows of x to the mean and covariance accumulators */
  private async accumulate(x: Float32Array, n: number): Promise<void> {
    const D = this.D;
    if (!this.ref) {
      const c = new Float64Array(D);
      for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) c[d] += x[r * D + d] / n;
      this.ref = c;
    }
    const c = this.ref;
    const centred = new Float32Array(n * D);
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) centred[r * D + d] = x[r * D + d] - c[d];
    const small = n * D * D <= 2e7;
    let gv: Float32Array | null = null;
    if (!small) {
      // large D: the scatter matrix of the batch by one matMul (float32), summed in float64
      const xt = tf.tensor2d(centred, [n, D]);
      const g = tf.matMul(xt, xt, true, false);
      try {
        gv = (await g.data()) as Float32Array;
      } finally {
        tf.dispose([xt, g]);
      }
    }
    // the accumulators change only once the batch's products are in (never half a batch)
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) this.s1[d] += x[r * D + d] - c[d];
    if (small) {
      for (let r = 0; r < n; r++) {
        const o = r * D;
        for (let i = 0; i < D; i++) {
          const ei = centred[o + i];
          if (ei === 0) continue;
          const si = i * D;
          for (let j = i; j < D; j++) this.s2[si + j] += ei * centred[o + j];
        }
      }
    } else {
      for (let i = 0; i < D; i++) for (let j = i; j < D; j++) this.s2[i * D + j] += gv![i * D + j];
    }
    this.count += n;
    this.fitted = null;
  }

  /** accumulates `n` rows of x directly (building the model as 'points' data of D = x.length / n when it is not built) */
  async fit(x: Float32Array, n: number): Promise<this> {
    if (!(x instanceof Float32Array) || !(Number.isInteger(n) && n >= 1 && x.length % n === 0)) throw new Error('pca.fit: x must be a Float32Array of n rows');
    if (!this.built) this.build({ kind: 'points', shape: [x.length / n], binary: false });
    if (x.length / n !== this.D) throw new Error(`pca.fit: the model has ${this.D} dimensions, x has ${x.length / n}`);
    await this.addRows(x, n);
    return this;
  }

  async trainStep(batch: tf.Tensor2D, step: number, ctx?: StepContext): Promise<StepMetrics> {
    if (!this.built) throw new Error('pca.trainStep: build the model first');
    const B = batch.shape[0];
    const seed = ctx?.seed ? ctx.seed() : step;
    this.progress = { step, batch: B, total: ctx?.totalSteps ?? Infinity };
    if (this.pass.take(B)) {
      await this.accumulate(this.prepareRows((await readRows(batch, this.D, 'pca')).v, B, seed), B);
      // the pass is complete: fit now (once), so the methods that answer at once find the fit
      if (this.pass.done(B) && this.D > FULL_EIG_MAX_D) await this.ensureFitted();
    }
    return { 'train/rows': this.count };
  }

  /** the data's mean and (maximum-likelihood, divide-by-N) covariance, float64 */
  moments(): { mean: Float64Array; cov: Float64Array } {
    this.need('moments');
    const { D, count: N } = this;
    const m = this.s1.map((v) => v / N);
    const cov = new Float64Array(D * D);
    for (let i = 0; i < D; i++) {
      for (let j = i; j < D; j++) {
        const v = this.s2[i * D + j] / N - m[i] * m[j];
        cov[i * D + j] = v;
        cov[j * D + i] = v;
      }
    }
    return { mean: m.map((v, d) => v + this.ref![d]), cov };
  }

  /**
   * The fit of the rows counted so far, for the methods that answer at once: computed here
   * for small D (Jacobi, in JS); for large D it must have been computed (ensureFitted).
   */
  private fit_(what: string): Fitted {
    if (this.fitted) return this.fitted;
    const { D, q } = this;
    if (D > FULL_EIG_MAX_D) {
      throw new Error(`pca.${what}: the rows counted since the last fit are not fitted yet: with more than ${FULL_EIG_MAX_D} dimensions the fit is computed asynchronously (lab.train does it after its pass, fit() at once, and so do evaluate, sample, encodeMean and getWeights)`);
    }
    const { mean, cov } = this.moments();
    let trace = 0;
    for (let d = 0; d < D; d++) trace += cov[d * D + d];
    const { values, vectors } = symEig(cov, D);
    const U = new Float64Array(q * D);
    for (let i = 0; i < q; i++) for (let d = 0; d < D; d++) U[i * D + d] = vectors[d * D + i];
    return this.finishFit(mean, trace, U, values.slice(0, q), 0);
  }

  /**
   * Computes the fit of the rows counted so far if they changed since the last one (needs
   * 2 rows): for large D the top q eigenvectors by subspace iteration, its products on tf.
   */
  async ensureFitted(): Promise<void> {
    const { D, q } = this;
    while (!this.fitted && this.built && this.count >= 2) {
      if (D <= FULL_EIG_MAX_D) {
        this.fit_('fit');
        return;
      }
      const countAt = this.count;
      const { mean, cov } = this.moments();
      let trace = 0;
      for (let d = 0; d < D; d++) trace += cov[d * D + d];
      const { U, lambda, iterations } = await topEigen(cov, D, q);
      // rows counted meanwhile make this fit stale: then it is computed again
      if (this.count === countAt) this.finishFit(mean, trace, U, lambda, iterations);
    }
  }

  private finishFit(mean: Float64Array, trace: number, U: Float64Array, lambda: Float64Array, iterations: number): Fitted {
    const { D, q } = this;
    // sigma^2: the mean variance of the discarded directions, floored so a flat direction stays finite
    const floor = 1e-9 * (trace / D || 1);
    const rest = trace - lambda.reduce((a, b) => a + b, 0);
    const sigma2 = Math.max(rest / (D - q), floor);
    for (let i = 0; i < q; i++) lambda[i] = Math.max(lambda[i], sigma2);
    return (this.fitted = { mu: mean, U, lambda, sigma2, trace, iterations });
  }

  /**
   * log p(x) per row in nats (float64, exact): the Gaussian density of the rows as given
   * (for 8-bit images, testNll dequantizes first and shifts to the 8-bit scale)
   */
  logProb(x: Float32Array): Float64Array {
    this.need('logProb');
    const { D, q } = this;
    const { mu, U, lambda, sigma2 } = this.fit_('logProb');
    const { v, n } = rowsOf(x, D, 'pca');
    let logDet = (D - q) * Math.log(sigma2);
    for (let i = 0; i < q; i++) logDet += Math.log(lambda[i]);
    const out = new Float64Array(n);
    const e = new Float64Array(D);
    for (let r = 0; r < n; r++) {
      let ee = 0;
      for (let d = 0; d < D; d++) {
        e[d] = v[r * D + d] - mu[d];
        ee += e[d] * e[d];
      }
      let pp = 0;
      let maha = 0;
      for (let i = 0; i < q; i++) {
        let p = 0;
        const o = i * D;
        for (let d = 0; d < D; d++) p += U[o + d] * e[d];
        pp += p * p;
        maha += (p * p) / lambda[i];
      }
      maha += Math.max(0, ee - pp) / sigma2;
      out[r] = -0.5 * (D * LOG_2PI + logDet + maha);
    }
    return out;
  }

  /** -log p(x) per row in nats: exact; for 8-bit images of the rows dequantized with `seed`, on the 8-bit scale */
  async testNll(x: tf.Tensor2D, seed = 0): Promise<TestNll> {
    this.need('testNll');
    const { v, n } = await readRows(x, this.D, 'pca');
    await this.ensureFitted();
    const shift = this.dequantized ? this.D * Math.log(256) : 0;
    return { nll: Float32Array.from(this.logProb(this.prepareRows(v, n, seed)), (lp) => shift - lp), kind: 'exact' };
  }

  async evaluate(val: tf.Tensor2D, seed = 0): Promise<Record<string, MetricValue>> {
    if (this.count < 2) return {};
    // while the pass is still being counted each evaluation would refit: wait for it (or the run's end)
    const { step, batch, total } = this.progress;
    if (step > 0 && step < total && !this.pass.done(batch)) return {};
    const per = (await this.testNll(val, seed)).nll;
    const nll = per.reduce((a, b) => a + b, 0) / per.length;
    const ev = this.explainedVariance();
    return {
      'val/nll': { value: nll, kind: 'exact' },
      'val/bits_per_dim': { value: nll / (this.D * Math.LN2), kind: 'exact' },
      'val/explained_variance': { value: ev.cumulative[this.q - 1], kind: 'info' },
      'val/sigma2': { value: ev.sigma2, kind: 'info' },
    };
  }

  /** the top q eigenvalues, their share of the total variance, the running share, and sigma^2 */
  explainedVariance(): ExplainedVariance {
    this.need('explainedVariance');
    const { lambda, trace, sigma2 } = this.fit_('explainedVariance');
    const values = Array.from(lambda);
    const ratio = values.map((v) => v / trace);
    let acc = 0;
    return { values, ratio, cumulative: ratio.map((r) => (acc += r)), total: trace, sigma2 };
  }

  /** the parameters: mean [D], W [D x q] row-major, sigma^2 */
  parameters(): { mean: Float64Array; W: Float64Array; sigma2: number } {
    this.need('parameters');
    const { D, q } = this;
    const { mu, U, lambda, sigma2 } = this.fit_('parameters');
    const W = new Float64Array(D * q);
    for (let i = 0; i < q; i++) {
      const s = Math.sqrt(Math.max(0, lambda[i] - sigma2));
      for (let d = 0; d < D; d++) W[d * q + i] = U[i * D + d] * s;
    }
    return { mean: mu.slice(), W, sigma2 };
  }

  /** the principal axes U_q: q unit vectors of D values, largest variance first */
  components(): Float32Array {
    this.need('components');
    return Float32Array.from(this.fit_('components').U);
  }

  /** the principal axes for lab.views.filters (each drawn as an image) */
  filters(): { data: Float32Array; count: number; dim: number } {
    return { data: this.components(), count: this.q, dim: this.D };
  }

  /** scores p = U_q^T (x - mu) per row: [n * q] (float64) */
  private project(v: Float32Array, n: number, what: string): Float64Array {
    const { D, q } = this;
    const { mu, U } = this.fit_(what);
    const out = new Float64Array(n * q);
    for (let r = 0; r < n; r++) {
      for (let i = 0; i < q; i++) {
        let p = 0;
        for (let d = 0; d < D; d++) p += U[i * D + d] * (v[r * D + d] - mu[d]);
        out[r * q + i] = p;
      }
    }
    return out;
  }

  /** E[z | x] = M^{-1} W^T (x - mu) per row: [n, q] (the posterior mean; z has prior N(0, I)); x is read back */
  async encodeMean(x: tf.Tensor2D): Promise<tf.Tensor2D> {
    this.need('encodeMean');
    const { q } = this;
    await this.ensureFitted();
    const { lambda, sigma2 } = this.fit_('encodeMean');
    const { v, n } = await readRows(x, this.D, 'pca');
    const p = this.project(v, n, 'encodeMean');
    const out = new Float32Array(n * q);
    for (let r = 0; r < n; r++) for (let i = 0; i < q; i++) out[r * q + i] = (Math.sqrt(Math.max(0, lambda[i] - sigma2)) * p[r * q + i]) / lambda[i];
    return tf.tensor2d(out, [n, q]);
  }

  /** the mean of p(x | z), mu + W z, per row [n, D] (images clipped to [0, 1]); z is read back */
  async decode(z: tf.Tensor2D): Promise<tf.Tensor2D> {
    this.need('decode');
    const { D, q } = this;
    const { v, n } = await readRows(z, q, 'pca.decode');
    await this.ensureFitted();
    return tf.tensor2d(this.decodeRows(v, n, q, null, 'decode'), [n, D]);
  }

  /** mu + W z (+ sigma eps when eps is given), for rows of `width` values starting with z */
  private decodeRows(v: Float32Array, n: number, width: number, epsAt: number | null, what: string): Float32Array {
    const { D, q } = this;
    const { mu, U, lambda, sigma2 } = this.fit_(what);
    const s = Array.from(lambda, (l) => Math.sqrt(Math.max(0, l - sigma2)));
    const sd = Math.sqrt(sigma2);
    const clip = this.data?.kind === 'image';
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const o = r * width;
      for (let d = 0; d < D; d++) {
        let x = mu[d];
        for (let i = 0; i < q; i++) x += U[i * D + d] * s[i] * v[o + i];
        if (epsAt !== null) x += sd * v[o + epsAt + d];
        out[r * D + d] = clip ? Math.min(1, Math.max(0, x)) : x;
      }
    }
    return out;
  }

  /** the projection of x onto the principal subspace, mu + U_q U_q^T (x - mu) (images clipped to [0, 1]); x is read back */
  async reconstruct(x: tf.Tensor2D, _seed?: number): Promise<tf.Tensor2D> {
    this.need('reconstruct');
    const { D, q } = this;
    await this.ensureFitted();
    const { mu, U } = this.fit_('reconstruct');
    const { v, n } = await readRows(x, D, 'pca');
    const p = this.project(v, n, 'reconstruct');
    const clip = this.data?.kind === 'image';
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      for (let d = 0; d < D; d++) {
        let y = mu[d];
        for (let i = 0; i < q; i++) y += U[i * D + d] * p[r * q + i];
        out[r * D + d] = clip ? Math.min(1, Math.max(0, y)) : y;
      }
    }
    return tf.tensor2d(out, [n, D]);
  }

  /** z and eps per sample: [n, q + D] standard normals */
  noise(n: number, seed: number): tf.Tensor2D {
    if (!this.built) throw new Error('pca.noise: build the model first');
    return normal([n, this.q + this.D], seed) as tf.Tensor2D;
  }

  /**
   * Draws x = mu + W z + sigma eps from noise() rows [z, eps] (q + D columns). Given codes
   * of q columns only (interpolation between encodeMean codes), it returns the means
   * mu + W z, without the isotropic noise. Images are clipped to [0, 1].
   */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    this.need('sample');
    const { D, q } = this;
    const bank = noise ?? this.noise(n, seed);
    const width = bank.shape[1] as number;
    let u: Float32Array;
    try {
      u = (await bank.data()) as Float32Array;
    } finally {
      if (bank !== noise) bank.dispose();
    }
    if (width !== q && width !== q + D) throw new Error(`pca.sample: noise must have ${q + D} columns (z and eps, from noise()) or ${q} (codes z), not ${width}`);
    await this.ensureFitted();
    const bankRows = u.length / width;
    const rows = new Float32Array(n * width);
    for (let r = 0; r < n; r++) rows.set(u.subarray((r % bankRows) * width, (r % bankRows + 1) * width), r * width);
    return tf.tensor2d(this.decodeRows(rows, n, width, width === q ? null : q, 'sample'), [n, D]);
  }

  /**
   * A dataset of the principal-component scores U_q^T (x - mu) of every split of `data`
   * (q-dimensional points; labels kept): e.g. MNIST reduced for a Gaussian mixture.
   */
  reduce(data: Dataset): Dataset {
    this.need('reduce');
    if (!data || data.dim !== this.D) throw new Error(`pca.reduce: needs a dataset of ${this.D}-dimensional rows (the data the model was fitted on)`);
    const q = this.q;
    const split = (s: Split): Split => ({ x: Float32Array.from(this.project(s.x, s.n, 'reduce')), n: s.n, ...(s.y ? { y: s.y } : {}) });
    const settings = { source: data.name, sourceFingerprint: data.fingerprint, components: q, fittedRows: this.count };
    return {
      name: `${data.name}-pca${q}`,
      kind: 'points',
      shape: [q],
      dim: q,
      binary: false,
      train: split(data.train),
      val: split(data.val),
      test: split(data.test),
      settings,
      fingerprint: fingerprint({ name: `${data.name}-pca${q}`, ...settings }),
      ...(data.classes ? { classes: data.classes, classNames: data.classNames } : {}),
    };
  }

  /** the fit as named tensors (checkpoints); a fit still to compute for large D makes it async */
  getWeights(): NamedWeight[] | Promise<NamedWeight[]> {
    this.need('getWeights');
    if (!this.fitted && this.D > FULL_EIG_MAX_D) return this.ensureFitted().then(() => this.exportWeights());
    return this.exportWeights();
  }

  private exportWeights(): NamedWeight[] {
    const { D, q } = this;
    const { mu, U, lambda, sigma2, trace } = this.fit_('getWeights');
    return this.exported.set([
      { name: 'pca/mean', tensor: tf.tensor1d(Float32Array.from(mu)) },
      { name: 'pca/components', tensor: tf.tensor2d(Float32Array.from(U), [q, D]) },
      { name: 'pca/eigenvalues', tensor: tf.tensor1d(Float32Array.from(lambda)) },
      { name: 'pca/sigma2', tensor: tf.tensor1d([sigma2, trace, this.count]) },
    ]);
  }

  setWeights(weights: NamedWeight[]): void {
    if (!this.built) throw new Error('pca.setWeights: build the model first');
    const { D, q } = this;
    const mu = Float64Array.from(weightOf(weights, 'pca/mean', D));
    const U = Float64Array.from(weightOf(weights, 'pca/components', q * D));
    const lambda = Float64Array.from(weightOf(weights, 'pca/eigenvalues', q));
    const [sigma2, trace, count] = weightOf(weights, 'pca/sigma2', 3);
    this.fitted = { mu, U, lambda, sigma2, trace, iterations: 0 };
    // the loaded fit stands for the accumulated moments
    this.count = Math.max(2, count);
    this.ref = mu.slice();
    this.s1 = new Float64Array(D);
    this.s2 = new Float64Array(D * D);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built, rows: this.count };
  }

  dispose(): void {
    this.exported.dispose();
  }
}

/**
 * The top q eigenpairs of a symmetric positive semi-definite D x D matrix A by subspace
 * iteration: Q <- orth(A Q) on q + OVERSAMPLE vectors, with a Rayleigh-Ritz step (the
 * eigen-decomposition of Q^T A Q) each time. The products A Q run on tf.matMul (float32,
 * the only O(D^2) work per iteration); everything else is float64. It stops when the top
 * q Ritz values change by less than `tol` (relative), or when float32's rounding keeps
 * them from settling further (the smallest change so far has not shrunk for 5
 * iterations), then takes one last Rayleigh-Ritz step with A Q in float64, so the
 * eigenvalues are accurate to about the square of the subspace's error (~1e-8 relative
 * on MNIST). Returns U as q rows of D.
 */
export async function topEigen(A: Float64Array, D: number, q: number, opts: { tol?: number; maxIter?: number } = {}): Promise<{ U: Float64Array; lambda: Float64Array; iterations: number }> {
  const tol = opts.tol ?? 1e-8;
  const maxIter = opts.maxIter ?? 150;
  const p = Math.min(D, q + OVERSAMPLE);
  const rng = mulberry32(0x9ca);
  let Q: Float64Array[] = Array.from({ length: p }, () => Float64Array.from({ length: D }, () => rng.normal()));
  orthonormalize(Q);
  const At = tf.tensor2d(Float32Array.from(A), [D, D]);
  const timesF32 = async (vs: Float64Array[]): Promise<Float64Array[]> => {
    const flat = new Float32Array(p * D);
    vs.forEach((v, k) => flat.set(v, k * D));
    const z = tf.tidy(() => tf.matMul(tf.tensor2d(flat, [p, D]), At, false, true));
    let zv: Float32Array;
    try {
      zv = (await z.data()) as Float32Array;
    } finally {
      z.dispose();
    }
    return vs.map((_, k) => Float64Array.from(zv.subarray(k * D, (k + 1) * D)));
  };
  const times64 = (vs: Float64Array[]): Float64Array[] =>
    vs.map((v) => {
      const out = new Float64Array(D);
      for (let i = 0; i < D; i++) {
        let s = 0;
        const o = i * D;
        for (let j = 0; j < D; j++) s += A[o + j] * v[j];
        out[i] = s;
      }
      return out;
    });
  /** Ritz values and vectors of span(Q) given Z = A Q */
  const rayleighRitz = (Qs: Float64Array[], Z: Float64Array[]) => {
    const T = new Float64Array(p * p);
    for (let a = 0; a < p; a++) for (let b = a; b < p; b++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += Qs[a][d] * Z[b][d];
      T[a * p + b] = s;
      T[b * p + a] = s;
    }
    const { values, vectors } = symEig(T, p);
    const rot = (vs: Float64Array[]) =>
      Array.from({ length: p }, (_, k) => {
        const out = new Float64Array(D);
        for (let a = 0; a < p; a++) {
          const c = vectors[a * p + k];
          if (c === 0) continue;
          const va = vs[a];
          for (let d = 0; d < D; d++) out[d] += c * va[d];
        }
        return out;
      });
    return { values, rot };
  };
  let prev: Float64Array | null = null;
  let smallest = Infinity;
  let stalled = 0;
  let it = 0;
  try {
    for (; it < maxIter; it++) {
      const Z = await timesF32(Q);
      const { values, rot } = rayleighRitz(Q, Z);
      const top = values.slice(0, q);
      let change = Infinity;
      if (prev !== null) {
        change = 0;
        top.forEach((v, i) => (change = Math.max(change, Math.abs(v - prev![i]) / Math.max(Math.abs(v), 1e-300))));
      }
      prev = top;
      if (change < smallest) {
        smallest = change;
        stalled = 0;
      } else stalled++;
      if (change <= tol || stalled >= 5) break;
      Q = rot(Z);
      orthonormalize(Q);
    }
  } finally {
    At.dispose();
  }
  const { values, rot } = rayleighRitz(Q, times64(Q));
  const R = rot(Q);
  const U = new Float64Array(q * D);
  for (let i = 0; i < q; i++) U.set(R[i], i * D);
  return { U, lambda: values.slice(0, q), iterations: it + 1 };
}

/** modified Gram-Schmidt, twice (re-orthogonalisation), in place; a vanishing vector is replaced by a seeded random one */
function orthonormalize(vs: Float64Array[]): void {
  const D = vs[0].length;
  const rng = mulberry32(0x5eed);
  for (let pass = 0; pass < 2; pass++) {
    for (let k = 0; k < vs.length; k++) {
      const v = vs[k];
      for (let attempt = 0; ; attempt++) {
        for (let j = 0; j < k; j++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += v[d] * vs[j][d];
          for (let d = 0; d < D; d++) v[d] -= dot * vs[j][d];
        }
        let norm = 0;
        for (let d = 0; d < D; d++) norm += v[d] * v[d];
        norm = Math.sqrt(norm);
        if (norm > 1e-150) {
          for (let d = 0; d < D; d++) v[d] /= norm;
          break;
        }
        if (attempt >= 10) throw new Error('pca: could not find orthogonal directions (the subspace iteration broke down)');
        for (let d = 0; d < D; d++) v[d] = rng.normal();
      }
    }
  }
}
