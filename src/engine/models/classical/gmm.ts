// Gaussian mixture fitted by expectation-maximisation (Dempster, Laird & Rubin 1977):
//   p(x) = sum_k pi_k N(x; mu_k, Sigma_k),
// with the covariances 'full' (one D x D matrix per component), 'diag' (a variance per
// dimension and component), 'spherical' (one variance per component) or 'tied' (one
// full matrix shared by all components).
//
// Initialisation: k-means++ seeding (Arthur & Vassilvitskii 2007) from the model's seed,
// a few Lloyd iterations of k-means from those seeds, then one M-step from the hard
// assignment of every row to its nearest centre. EM climbs
// to a local maximum only; fit() and select() can run from several seedings
// (`restarts`) and keep the best.
// E-step (in log space): r_nk = exp(log pi_k + log N(x_n; mu_k, Sigma_k) - log p(x_n)).
// M-step (closed form): N_k = sum_n r_nk, pi_k = N_k / N, mu_k = sum_n r_nk x_n / N_k,
//   Sigma_k = sum_n r_nk (x_n - mu_k)(x_n - mu_k)^T / N_k (full), its diagonal (diag),
//   the mean of that diagonal (spherical), or sum_k N_k Sigma_k / N (tied);
//   `reg` is added to every variance so a component cannot collapse onto one point.
// Each EM iteration never lowers the log-likelihood of the data it is run on (with
// reg = 0 exactly; a small reg moves it by about reg / variance).
//
// Through lab.train, one trainStep is one EM iteration on the batch it is given: with
// batchSize = data.train.n that is exact, full-batch EM (steps = iterations); with
// smaller batches each step refits to a different batch, a stochastic EM whose
// parameters jitter from batch to batch instead of converging. `fit(x, n)` runs EM on
// an array directly, and `selectGmm` (lab.models.gmm.select) chooses K by BIC.
// The likelihood is an exact density (testNll kind 'exact', nats): on continuous data it
// can be negative and is not comparable with the probabilities of binary data.
import * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../../data/types';
import { cholesky } from '../../ops/linalg';
import { normal, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { ExportedWeights, weightOf } from '../../nn/params';
import { logSumExp64 } from '../../nn/reduce';
import { readRows, rowsOf } from './one-pass';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export const COVARIANCES = ['full', 'diag', 'spherical', 'tied'] as const;
export type Covariance = (typeof COVARIANCES)[number];

export type GmmConfig = LatentLab.GmmConfig;

export interface GmmFitOptions {
  /** most EM iterations (default 100) */
  iters?: number;
  /** stop when an iteration raises the mean log-likelihood by less than this, in nats per example (default 1e-6) */
  tol?: number;
  /**
   * when the mixture has no parameters yet: EM runs from this many k-means++ seedings and
   * keeps the one that ends with the highest likelihood (default 1). EM finds a local
   * maximum; a few restarts avoid the common bad ones (two components on one cluster).
   */
  restarts?: number;
}

export interface GmmFitResult {
  /** mean log-likelihood per example (nats) after the initialisation and after each EM iteration */
  logLik: number[];
  /** EM iterations run (by the restart kept) */
  iters: number;
  /** whether it stopped because the gain fell below tol */
  converged: boolean;
}

const LOG_2PI = Math.log(2 * Math.PI);
/** a component whose responsibilities sum to less than this keeps its previous mean and covariance */
const DEAD = 1e-10;
/** most Lloyd iterations of the k-means initialisation */
const KMEANS_ITERS = 10;

export function checkCovariance(c: unknown, what = 'gmm'): Covariance {
  if (!(COVARIANCES as readonly unknown[]).includes(c)) throw new Error(`${what}: covariance must be 'full' | 'diag' | 'spherical' | 'tied', not ${JSON.stringify(c)}`);
  return c as Covariance;
}

export class Gmm implements Model {
  /** a fit from data: no sample before the first step */
  readonly samplesAfterTraining = true;
  readonly family = 'gmm';
  readonly config: { components: number; covariance: Covariance; reg: number | null; seed: number | null };
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private data: DataInfo | null = null;
  private D = 0;
  private K = 0;
  private rng: Rng | null = null;
  private ready = false;
  private regUsed = 0;
  /** pi [K], mu [K * D], and the covariance: full [K * D * D], tied [D * D], diag [K * D], spherical [K] */
  private pi: Float64Array = new Float64Array(0);
  private mu: Float64Array = new Float64Array(0);
  private cov: Float64Array = new Float64Array(0);
  /** derived: Cholesky factors (full [K * D * D], tied [D * D]) or inverse variances (diag, spherical), and log |Sigma_k| */
  private chol: Float64Array = new Float64Array(0);
  private invVar: Float64Array = new Float64Array(0);
  private logDet: Float64Array = new Float64Array(0);
  private readonly exported = new ExportedWeights();

  constructor(cfg: GmmConfig = {}) {
    this.config = { components: cfg.components ?? 3, covariance: checkCovariance(cfg.covariance ?? 'full'), reg: cfg.reg ?? null, seed: cfg.seed ?? null };
    const c = this.config;
    if (!(Number.isInteger(c.components) && c.components >= 1)) throw new Error(`gmm: components must be a whole number >= 1, got ${String(cfg.components)}`);
    if (c.reg !== null && !(typeof c.reg === 'number' && c.reg >= 0 && Number.isFinite(c.reg))) throw new Error(`gmm: reg must be a number >= 0, got ${String(cfg.reg)}`);
    if (c.seed !== null && !Number.isInteger(c.seed)) throw new Error(`gmm: seed must be a whole number, got ${String(cfg.seed)}`);
  }

  get built(): boolean {
    return this.data !== null;
  }

  /** whether the parameters exist (after the first EM step, fit() or setWeights) */
  get fitted(): boolean {
    return this.ready;
  }

  get components(): number {
    return this.config.components;
  }

  get dim(): number {
    return this.D;
  }

  /** the regularisation added to the variances (resolved from the data when not given) */
  get reg(): number {
    return this.regUsed;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loglik': 'exact',
      'val/nll': 'exact',
      'val/bits_per_dim': 'exact',
      'test/nll': 'exact',
      'test/bits_per_dim': 'exact',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('gmm: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('gmm: a Gaussian mixture models real vectors (lab.data.toy2d, images), not symbol sequences (use lab.models.ngram for text)');
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.K = this.config.components;
    this.rng = this.config.seed !== null ? mulberry32(this.config.seed) : rng;
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`gmm.${what}: train the model first (lab.train, or fit(x, n))`);
    if (!this.ready) throw new Error(`gmm.${what}: the mixture has no parameters yet (train it first: lab.train, or fit(x, n))`);
  }

  // --- initialisation ---

  /** k-means++ seeds, Lloyd iterations of k-means, a hard assignment to the nearest centre, and one M-step from it */
  private initialize(x: Float32Array, n: number): void {
    const { D, K } = this;
    if (n < K) throw new Error(`gmm: ${K} components need at least ${K} rows to start from, got ${n}`);
    // the data's scale: mean variance per dimension
    const mean = new Float64Array(D);
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) mean[d] += x[r * D + d] / n;
    let v = 0;
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) v += (x[r * D + d] - mean[d]) ** 2;
    const scale = v / (n * D) || 1;
    this.regUsed = this.config.reg ?? 1e-6 * scale;
    const rng = this.rng!;
    const seeds: number[] = [rng.int(n)];
    const d2 = new Float64Array(n).fill(Infinity);
    const dist2 = (r: number, s: number) => {
      let a = 0;
      for (let d = 0; d < D; d++) a += (x[r * D + d] - x[s * D + d]) ** 2;
      return a;
    };
    while (seeds.length < K) {
      const last = seeds[seeds.length - 1];
      let total = 0;
      for (let r = 0; r < n; r++) {
        d2[r] = Math.min(d2[r], dist2(r, last));
        total += d2[r];
      }
      let pick = rng.int(n);
      if (total > 0) {
        let u = rng.next() * total;
        for (let r = 0; r < n; r++) {
          u -= d2[r];
          if (u < 0) {
            pick = r;
            break;
          }
        }
      }
      seeds.push(pick);
    }
    // Lloyd's k-means from the seeds: assign each row to its nearest centre, move each centre to its rows' mean
    const centres = new Float64Array(K * D);
    for (let k = 0; k < K; k++) for (let d = 0; d < D; d++) centres[k * D + d] = x[seeds[k] * D + d];
    const label = new Int32Array(n).fill(-1);
    for (let it = 0; it <= KMEANS_ITERS; it++) {
      let moved = 0;
      for (let r = 0; r < n; r++) {
        let best = 0;
        let bestD = Infinity;
        for (let k = 0; k < K; k++) {
          let dd = 0;
          for (let d = 0; d < D; d++) dd += (x[r * D + d] - centres[k * D + d]) ** 2;
          if (dd < bestD) {
            bestD = dd;
            best = k;
          }
        }
        if (label[r] !== best) moved++;
        label[r] = best;
      }
      if (moved === 0 || it === KMEANS_ITERS) break;
      const sums = new Float64Array(K * D);
      const counts = new Float64Array(K);
      for (let r = 0; r < n; r++) {
        counts[label[r]]++;
        for (let d = 0; d < D; d++) sums[label[r] * D + d] += x[r * D + d];
      }
      // a centre that lost all its rows stays where it is
      for (let k = 0; k < K; k++) if (counts[k] > 0) for (let d = 0; d < D; d++) centres[k * D + d] = sums[k * D + d] / counts[k];
    }
    const resp = new Float64Array(n * K);
    for (let r = 0; r < n; r++) resp[r * K + label[r]] = 1;
    // a component no row chose starts at its centre with the data's variance
    this.pi = new Float64Array(K);
    this.mu = centres;
    const cv = this.config.covariance;
    this.cov = new Float64Array(cv === 'full' ? K * D * D : cv === 'tied' ? D * D : cv === 'diag' ? K * D : K);
    if (cv === 'full' || cv === 'tied') {
      for (let k = 0; k < (cv === 'full' ? K : 1); k++) for (let d = 0; d < D; d++) this.cov[k * D * D + d * D + d] = scale;
    } else this.cov.fill(scale);
    this.mstep(x, n, resp);
    this.ready = true;
  }

  // --- E-step ---

  /** derived quantities of the covariances: Cholesky factors or inverse variances, log-determinants */
  private prepare(): void {
    const { D, K } = this;
    const cv = this.config.covariance;
    this.logDet = new Float64Array(K);
    const factor = (m: Float64Array, k: number): Float64Array => {
      try {
        return cholesky(m, D);
      } catch {
        throw new Error(`gmm: the covariance of component ${k} is singular (not positive definite): raise reg (now ${this.regUsed.toExponential(2)}) or use fewer components`);
      }
    };
    if (cv === 'full') {
      this.chol = new Float64Array(K * D * D);
      for (let k = 0; k < K; k++) {
        const L = factor(this.cov.subarray(k * D * D, (k + 1) * D * D), k);
        this.chol.set(L, k * D * D);
        let ld = 0;
        for (let d = 0; d < D; d++) ld += 2 * Math.log(L[d * D + d]);
        this.logDet[k] = ld;
      }
    } else if (cv === 'tied') {
      this.chol = factor(this.cov, 0);
      let ld = 0;
      for (let d = 0; d < D; d++) ld += 2 * Math.log(this.chol[d * D + d]);
      this.logDet.fill(ld);
    } else {
      this.invVar = this.cov.map((v) => 1 / v);
      for (let k = 0; k < K; k++) {
        if (cv === 'diag') {
          let ld = 0;
          for (let d = 0; d < D; d++) ld += Math.log(this.cov[k * D + d]);
          this.logDet[k] = ld;
        } else this.logDet[k] = D * Math.log(this.cov[k]);
      }
      for (const v of this.cov) {
        if (!(v > 0)) throw new Error(`gmm: a variance is ${v}: raise reg (now ${this.regUsed.toExponential(2)})`);
      }
    }
  }

  /** log pi_k + log N(x_r; mu_k, Sigma_k) for every row and component: [n * K] (float64) */
  private logJoint(x: Float32Array, n: number): Float64Array {
    const { D, K } = this;
    const cv = this.config.covariance;
    const out = new Float64Array(n * K);
    const diff = new Float64Array(D);
    const y = new Float64Array(D);
    const logPi = this.pi.map(Math.log);
    for (let r = 0; r < n; r++) {
      const row = r * D;
      for (let k = 0; k < K; k++) {
        const m = k * D;
        let maha = 0;
        if (cv === 'full' || cv === 'tied') {
          const L = this.chol;
          const o = cv === 'full' ? k * D * D : 0;
          for (let d = 0; d < D; d++) diff[d] = x[row + d] - this.mu[m + d];
          // forward substitution L y = x - mu; the Mahalanobis distance is |y|^2
          for (let i = 0; i < D; i++) {
            let s = diff[i];
            const li = o + i * D;
            for (let j = 0; j < i; j++) s -= L[li + j] * y[j];
            y[i] = s / L[li + i];
            maha += y[i] * y[i];
          }
        } else if (cv === 'diag') {
          for (let d = 0; d < D; d++) {
            const e = x[row + d] - this.mu[m + d];
            maha += e * e * this.invVar[m + d];
          }
        } else {
          for (let d = 0; d < D; d++) maha += (x[row + d] - this.mu[m + d]) ** 2;
          maha *= this.invVar[k];
        }
        out[r * K + k] = logPi[k] - 0.5 * (D * LOG_2PI + this.logDet[k] + maha);
      }
    }
    return out;
  }

  /** responsibilities [n * K] (turned in place from the log joint) and the total log-likelihood */
  private estep(x: Float32Array, n: number): { resp: Float64Array; total: number } {
    const K = this.K;
    const resp = this.logJoint(x, n);
    let total = 0;
    for (let r = 0; r < n; r++) {
      const lse = logSumExp64(resp, r * K, (r + 1) * K);
      if (!Number.isFinite(lse)) throw new Error(`gmm: row ${r} has log-likelihood ${lse}: every component gives it zero density (raise reg)`);
      total += lse;
      for (let k = 0; k < K; k++) resp[r * K + k] = Math.exp(resp[r * K + k] - lse);
    }
    return { resp, total };
  }

  // --- M-step ---

  private mstep(x: Float32Array, n: number, resp: Float64Array): void {
    const { D, K } = this;
    const cv = this.config.covariance;
    const reg = this.regUsed;
    const Nk = new Float64Array(K);
    for (let r = 0; r < n; r++) for (let k = 0; k < K; k++) Nk[k] += resp[r * K + k];
    for (let k = 0; k < K; k++) this.pi[k] = Nk[k] / n;
    const live = Array.from({ length: K }, (_, k) => Nk[k] > DEAD);
    for (let k = 0; k < K; k++) {
      if (!live[k]) continue;
      const m = new Float64Array(D);
      for (let r = 0; r < n; r++) {
        const w = resp[r * K + k];
        if (w === 0) continue;
        for (let d = 0; d < D; d++) m[d] += w * x[r * D + d];
      }
      for (let d = 0; d < D; d++) this.mu[k * D + d] = m[d] / Nk[k];
    }
    const diff = new Float64Array(D);
    if (cv === 'full' || cv === 'tied') {
      const tiedAcc = cv === 'tied' ? new Float64Array(D * D) : null;
      for (let k = 0; k < K; k++) {
        if (!live[k]) continue;
        const S = tiedAcc ?? new Float64Array(D * D);
        for (let r = 0; r < n; r++) {
          const w = resp[r * K + k];
          if (w === 0) continue;
          for (let d = 0; d < D; d++) diff[d] = x[r * D + d] - this.mu[k * D + d];
          for (let i = 0; i < D; i++) {
            const wi = w * diff[i];
            const si = i * D;
            for (let j = i; j < D; j++) S[si + j] += wi * diff[j];
          }
        }
        if (!tiedAcc) this.cov.set(finishCov(S, D, Nk[k], reg), k * D * D);
      }
      if (tiedAcc) this.cov.set(finishCov(tiedAcc, D, n, reg));
    } else {
      for (let k = 0; k < K; k++) {
        if (!live[k]) continue;
        const s = new Float64Array(D);
        for (let r = 0; r < n; r++) {
          const w = resp[r * K + k];
          if (w === 0) continue;
          for (let d = 0; d < D; d++) s[d] += w * (x[r * D + d] - this.mu[k * D + d]) ** 2;
        }
        if (cv === 'diag') for (let d = 0; d < D; d++) this.cov[k * D + d] = s[d] / Nk[k] + reg;
        else this.cov[k] = s.reduce((a, b) => a + b, 0) / (D * Nk[k]) + reg;
      }
    }
    this.prepare();
  }

  // --- fitting ---

  /**
   * EM on `n` rows of `x` (row-major, D values each) until the mean log-likelihood gains
   * less than `tol` per iteration or `iters` iterations ran. Starts from k-means++ the
   * first time; later calls continue from the current parameters. Builds the model
   * (as 'points' data of D = x.length / n dimensions) when it is not built yet.
   */
  fit(x: Float32Array, n: number, opts: GmmFitOptions = {}): GmmFitResult {
    if (!(x instanceof Float32Array)) throw new Error('gmm.fit: x must be a Float32Array of rows (e.g. data.train.x)');
    if (!(Number.isInteger(n) && n >= 1 && x.length % n === 0)) throw new Error(`gmm.fit: n must be the number of rows of x (x has ${x.length} values)`);
    const iters = Math.max(0, Math.floor(opts.iters ?? 100));
    const tol = opts.tol ?? 1e-6;
    const restarts = opts.restarts ?? 1;
    if (!(tol >= 0)) throw new Error('gmm.fit: tol must be >= 0');
    if (!(Number.isInteger(restarts) && restarts >= 1)) throw new Error(`gmm.fit: restarts must be a whole number >= 1, got ${String(opts.restarts)}`);
    if (!this.built) this.build({ kind: 'points', shape: [x.length / n], binary: false }, mulberry32(this.config.seed ?? 0));
    if (x.length / n !== this.D) throw new Error(`gmm.fit: the model has ${this.D} dimensions, x has ${x.length / n}`);
    if (this.ready) return this.em(x, n, iters, tol);
    let best: { fit: GmmFitResult; state: [Float64Array, Float64Array, Float64Array] } | null = null;
    for (let r = 0; r < restarts; r++) {
      this.initialize(x, n);
      const fit = this.em(x, n, iters, tol);
      if (!best || fit.logLik[fit.logLik.length - 1] > best.fit.logLik[best.fit.logLik.length - 1]) best = { fit, state: [this.pi.slice(), this.mu.slice(), this.cov.slice()] };
    }
    [this.pi, this.mu, this.cov] = best!.state;
    this.prepare();
    return best!.fit;
  }

  /** EM from the current parameters */
  private em(x: Float32Array, n: number, iters: number, tol: number): GmmFitResult {
    let { resp, total } = this.estep(x, n);
    const logLik = [total / n];
    let converged = false;
    let it = 0;
    while (it < iters) {
      this.mstep(x, n, resp);
      it++;
      ({ resp, total } = this.estep(x, n));
      logLik.push(total / n);
      if (logLik[it] - logLik[it - 1] < tol) {
        converged = true;
        break;
      }
    }
    return { logLik, iters: it, converged };
  }

  /** one EM iteration on the batch: the E-step's mean log-likelihood (before the update) as train/loglik */
  async trainStep(batch: tf.Tensor2D, _step: number, _ctx?: StepContext): Promise<StepMetrics> {
    if (!this.built) throw new Error('gmm.trainStep: build the model first (lab.train builds it on its data)');
    const { v, n } = await readRows(batch, this.D, 'gmm');
    if (!this.ready) this.initialize(v, n);
    const { resp, total } = this.estep(v, n);
    this.mstep(v, n, resp);
    return { 'train/loglik': total / n };
  }

  /** log p(x) per row in nats (float64) */
  logProb(x: Float32Array): Float64Array {
    this.need('logProb');
    const { v, n } = rowsOf(x, this.D, 'gmm');
    const K = this.K;
    const lj = this.logJoint(v, n);
    const out = new Float64Array(n);
    for (let r = 0; r < n; r++) out[r] = logSumExp64(lj, r * K, (r + 1) * K);
    return out;
  }

  /** p(component k | x) per row: [n * K] row-major (float64) */
  responsibilities(x: Float32Array): Float64Array {
    this.need('responsibilities');
    const { v, n } = rowsOf(x, this.D, 'gmm');
    return this.estep(v, n).resp;
  }

  /** -log p(x) per row in nats: an exact density (negative where the density exceeds 1) */
  async testNll(x: tf.Tensor2D, _seed?: number): Promise<TestNll> {
    this.need('testNll');
    const { v } = await readRows(x, this.D, 'gmm');
    return { nll: Float32Array.from(this.logProb(v), (lp) => -lp), kind: 'exact' };
  }

  async evaluate(val: tf.Tensor2D, _seed?: number): Promise<Record<string, MetricValue>> {
    if (!this.ready) return {};
    const lp = this.logProb((await readRows(val, this.D, 'gmm')).v);
    const nll = -lp.reduce((a, b) => a + b, 0) / lp.length;
    return {
      'val/nll': { value: nll, kind: 'exact' },
      'val/bits_per_dim': { value: nll / (this.D * Math.LN2), kind: 'exact' },
    };
  }

  /** free parameters: K D means, K - 1 weights, and the covariances' own */
  parameterCount(): number {
    const { D, K } = this;
    const cv = this.config.covariance;
    const covParams = cv === 'full' ? (K * D * (D + 1)) / 2 : cv === 'tied' ? (D * (D + 1)) / 2 : cv === 'diag' ? K * D : K;
    return K * D + (K - 1) + covParams;
  }

  /** BIC = -2 log L + p log N on the rows of x (log L summed over them): lower is better */
  bic(x: Float32Array): number {
    const lp = this.logProb(x);
    const total = lp.reduce((a, b) => a + b, 0);
    return -2 * total + this.parameterCount() * Math.log(lp.length);
  }

  /** mixture weights pi_k */
  weights(): Float64Array {
    this.need('weights');
    return this.pi.slice();
  }

  /** means [K * D] row-major */
  means(): Float64Array {
    this.need('means');
    return this.mu.slice();
  }

  /** component k's covariance as a full D x D matrix (row-major), whatever the type */
  covariance(k: number): Float64Array {
    this.need('covariance');
    const { D, K } = this;
    if (!(Number.isInteger(k) && k >= 0 && k < K)) throw new Error(`gmm.covariance: component ${k} is not one of 0..${K - 1}`);
    const cv = this.config.covariance;
    if (cv === 'full') return this.cov.slice(k * D * D, (k + 1) * D * D);
    if (cv === 'tied') return this.cov.slice();
    const out = new Float64Array(D * D);
    for (let d = 0; d < D; d++) out[d * D + d] = cv === 'diag' ? this.cov[k * D + d] : this.cov[k];
    return out;
  }

  /** a uniform (which component) and D standard normals per sample: [n, 1 + D] */
  noise(n: number, seed: number): tf.Tensor2D {
    if (!this.built) throw new Error('gmm.noise: build the model first');
    return tf.tidy(() => tf.concat([uniform([n, 1], seed), normal([n, this.D], seed + 1)], 1) as tf.Tensor2D);
  }

  /** n draws x = mu_k + L_k z, k ~ pi, from the noise's uniforms and normals (images clipped to [0, 1]) */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    this.need('sample');
    const { D, K } = this;
    const bank = noise ?? this.noise(n, seed);
    let u: Float32Array;
    try {
      u = (await bank.data()) as Float32Array;
    } finally {
      if (bank !== noise) bank.dispose();
    }
    const W = D + 1;
    if (u.length % W !== 0) throw new Error(`gmm.sample: noise must have ${W} columns (from noise())`);
    const bankRows = u.length / W;
    const cdf = new Float64Array(K);
    let acc = 0;
    for (let k = 0; k < K; k++) cdf[k] = acc += this.pi[k];
    const cv = this.config.covariance;
    const clip = this.data?.kind === 'image';
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const src = (r % bankRows) * W;
      const target = u[src] * acc;
      let k = 0;
      while (k < K - 1 && cdf[k] <= target) k++;
      const z = u.subarray(src + 1, src + W);
      for (let i = 0; i < D; i++) {
        let s = this.mu[k * D + i];
        if (cv === 'full' || cv === 'tied') {
          const o = (cv === 'full' ? k * D * D : 0) + i * D;
          for (let j = 0; j <= i; j++) s += this.chol[o + j] * z[j];
        } else s += Math.sqrt(cv === 'diag' ? this.cov[k * D + i] : this.cov[k]) * z[i];
        out[r * D + i] = clip ? Math.min(1, Math.max(0, s)) : s;
      }
    }
    return tf.tensor2d(out, [n, D]);
  }

  private covShape(): number[] {
    const { D, K } = this;
    const cv = this.config.covariance;
    return cv === 'full' ? [K, D, D] : cv === 'tied' ? [D, D] : cv === 'diag' ? [K, D] : [K];
  }

  getWeights(): NamedWeight[] {
    this.need('getWeights');
    return this.exported.set([
      { name: 'gmm/weights', tensor: tf.tensor1d(Float32Array.from(this.pi)) },
      { name: 'gmm/means', tensor: tf.tensor2d(Float32Array.from(this.mu), [this.K, this.D]) },
      { name: 'gmm/covariances', tensor: tf.tensor(Float32Array.from(this.cov), this.covShape()) },
      { name: 'gmm/reg', tensor: tf.tensor1d([this.regUsed]) },
    ]);
  }

  setWeights(weights: NamedWeight[]): void {
    if (!this.built) throw new Error('gmm.setWeights: build the model first');
    const { D, K } = this;
    this.pi = Float64Array.from(weightOf(weights, 'gmm/weights', K));
    this.mu = Float64Array.from(weightOf(weights, 'gmm/means', K * D));
    this.cov = Float64Array.from(weightOf(weights, 'gmm/covariances', this.covShape().reduce((a, b) => a * b, 1)));
    this.regUsed = weightOf(weights, 'gmm/reg', 1)[0];
    this.ready = true;
    this.prepare();
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built, fitted: this.ready, ...(this.ready ? { weights: Array.from(this.pi) } : {}) };
  }

  dispose(): void {
    this.exported.dispose();
  }
}

/** the upper triangle of a scatter matrix S -> S / N + reg I, symmetric */
function finishCov(S: Float64Array, D: number, N: number, reg: number): Float64Array {
  const out = new Float64Array(D * D);
  for (let i = 0; i < D; i++) {
    for (let j = i; j < D; j++) {
      const v = S[i * D + j] / N;
      out[i * D + j] = v;
      out[j * D + i] = v;
    }
    out[i * D + i] += reg;
  }
  return out;
}

export interface GmmSelectOptions {
  /** the numbers of components to try (default 1..8) */
  ks?: number[];
  /** covariance type (default 'full') */
  covariance?: Covariance;
  /** seed of each fit's k-means++ initialisation (default 1) */
  seed?: number;
  /** EM runs per K from different k-means++ seedings, the best kept (default 3) */
  restarts?: number;
  /** EM iterations per fit (default 200) and its tolerance (default 1e-6 nats per example) */
  iters?: number;
  tol?: number;
  /** added to the variances (default 1e-6 x the data's scale) */
  reg?: number;
}

/** lab.models.gmm.select's result, with the engine's own mixture */
export type GmmSelection = Omit<LatentLab.GmmSelection, 'model'> & { model: Gmm };

/** Fits a mixture for each K in `ks` to data.train by EM and picks the K with the lowest BIC. */
export function selectGmm(data: Dataset, opts: GmmSelectOptions = {}): GmmSelection {
  if (!data || !data.train || !(data.train.x instanceof Float32Array)) throw new Error('gmm.select: the first argument must be a dataset from lab.data (it fits data.train)');
  const ks = opts.ks ?? [1, 2, 3, 4, 5, 6, 7, 8];
  if (!Array.isArray(ks) || ks.length === 0 || !ks.every((k) => Number.isInteger(k) && k >= 1)) throw new Error('gmm.select: ks must be a list of whole numbers >= 1, e.g. [1, 2, 3, 4]');
  const covariance = checkCovariance(opts.covariance ?? 'full', 'gmm.select');
  const seed = opts.seed ?? 1;
  const { x, n } = data.train;
  const bic: number[] = [];
  const logLik: number[] = [];
  const params: number[] = [];
  const models: Gmm[] = [];
  for (const k of ks) {
    const m = new Gmm({ components: k, covariance, seed, ...(opts.reg !== undefined ? { reg: opts.reg } : {}) });
    m.build({ kind: data.kind, shape: data.shape, binary: data.binary, trainRows: n }, mulberry32(seed));
    const fit = m.fit(x, n, { iters: opts.iters ?? 200, tol: opts.tol ?? 1e-6, restarts: opts.restarts ?? 3 });
    const total = fit.logLik[fit.logLik.length - 1] * n;
    logLik.push(total);
    params.push(m.parameterCount());
    bic.push(-2 * total + m.parameterCount() * Math.log(n));
    models.push(m);
  }
  let best = 0;
  for (let i = 1; i < ks.length; i++) if (bic[i] < bic[best]) best = i;
  models.forEach((m, i) => i !== best && m.dispose());
  return { k: ks[best], ks: ks.slice(), bic, logLik, params, n, covariance, model: models[best] };
}
