// Kernel density estimation (Parzen windows): a Gaussian kernel of bandwidth h on each
// of M stored training points p_m,
//   p(x) = (1/M) sum_m N(x; p_m, h^2 I),
//   log p(x) = logsumexp_m(-|x - p_m|^2 / (2 h^2)) - log M - (D/2) log(2 pi h^2).
// The bandwidth is a number, or 'validation' (default): the value of a log-spaced grid
// (relative to the data's spread) with the highest mean log-likelihood on the
// validation rows lab.train evaluates on; it is chosen again whenever the stored points
// changed. The reported val/nll is then measured on the rows the bandwidth was chosen
// on (a little optimistic); lab.evaluate on data.test is not.
//
// Training stores the rows of one pass over the training data (see OnePass), at most
// `maxPoints` of them. The likelihood is labelled an *estimate*: it is exact for this
// kernel density, but a Parzen window fitted to a model's samples is a poor judge of a
// high-dimensional model (Theis, van den Oord & Bethge 2016): it needs far more points
// than D allows to approach the model's log-likelihood, and it can rank models wrongly.
// Sampling picks a stored point at random and adds N(0, h^2 I) noise.
import * as tf from '@tensorflow/tfjs';
import { normal, uniform } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { ExportedWeights, weightOf } from '../../nn/params';
import { OnePass, readRows } from './one-pass';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type KdeConfig = LatentLab.KdeConfig;

const LOG_2PI = Math.log(2 * Math.PI);
/** query rows per chunk of the distance matrix */
const CHUNK = 256;
/** up to this many multiply-adds the distances are computed in float64 in JS; beyond, with tf.matMul in float32 */
const EXACT_WORK = 2e7;

export class Kde implements Model {
  /** a fit from data: no sample before the first step */
  readonly samplesAfterTraining = true;
  readonly family = 'kde';
  readonly config: { bandwidth: number | 'validation'; bandwidths: number[] | null; maxPoints: number };
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private data: DataInfo | null = null;
  private D = 0;
  private pass = new OnePass(undefined);
  private buf = new Float32Array(0);
  private M = 0;
  private h: number | null = null;
  /** the number of points the bandwidth was chosen with */
  private chosenFor = -1;
  /** the last validation search: each grid bandwidth's mean validation log-likelihood */
  private search: { bandwidths: number[]; logLik: number[] } | null = null;
  private readonly exported = new ExportedWeights();
  /** the last trainStep's step, batch size and the run's length (evaluate waits for the pass) */
  private progress = { step: 0, batch: 0, total: Infinity };

  constructor(cfg: KdeConfig = {}) {
    const bw = cfg.bandwidth ?? 'validation';
    if (!(bw === 'validation' || (typeof bw === 'number' && bw > 0 && Number.isFinite(bw)))) throw new Error(`kde: bandwidth must be a number > 0 or 'validation', got ${JSON.stringify(cfg.bandwidth)}`);
    if (cfg.bandwidths !== undefined && !(Array.isArray(cfg.bandwidths) && cfg.bandwidths.length > 0 && cfg.bandwidths.every((b) => typeof b === 'number' && b > 0 && Number.isFinite(b)))) {
      throw new Error('kde: bandwidths must be a non-empty list of numbers > 0');
    }
    const maxPoints = cfg.maxPoints ?? 10000;
    if (!(Number.isInteger(maxPoints) && maxPoints >= 1)) throw new Error(`kde: maxPoints must be a whole number >= 1, got ${String(cfg.maxPoints)}`);
    this.config = { bandwidth: bw, bandwidths: cfg.bandwidths ? [...cfg.bandwidths] : null, maxPoints };
    if (typeof bw === 'number') this.h = bw;
  }

  get built(): boolean {
    return this.data !== null;
  }

  /** points stored */
  get points(): number {
    return this.M;
  }

  /** the bandwidth in use (null while 'validation' has not chosen one) */
  get bandwidth(): number | null {
    return this.h;
  }

  /** the last validation search (bandwidth grid and mean validation log-likelihood of each), or null */
  get selection(): { bandwidths: number[]; logLik: number[] } | null {
    return this.search ? { bandwidths: [...this.search.bandwidths], logLik: [...this.search.logLik] } : null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/points': 'info',
      'val/nll': 'estimate',
      'val/bits_per_dim': 'estimate',
      'val/bandwidth': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
    };
  }

  build(data: DataInfo, _rng?: Rng): void {
    if (this.built) throw new Error('kde: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('kde: a Gaussian kernel density models real vectors (lab.data.toy2d, images), not symbol sequences');
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.pass = new OnePass(data.trainRows);
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`kde.${what}: train the model first (lab.train, or fit(x, n))`);
    if (this.M === 0) throw new Error(`kde.${what}: no points stored yet (train it first)`);
  }

  /** stores rows of x (row-major, D values each), up to maxPoints in all */
  addPoints(x: Float32Array, n: number): void {
    const D = this.D;
    const take = Math.min(n, this.config.maxPoints - this.M);
    if (take <= 0) return;
    if (this.buf.length < (this.M + take) * D) {
      const grown = new Float32Array(Math.min(this.config.maxPoints, Math.max(2 * this.M, this.M + take)) * D);
      grown.set(this.buf.subarray(0, this.M * D));
      this.buf = grown;
    }
    this.buf.set(x.subarray(0, take * D), this.M * D);
    this.M += take;
  }

  /**
   * Stores `n` rows of x directly (building the model for 'points' data of
   * D = x.length / n dimensions when it is not built), and with `val` rows chooses the
   * bandwidth when it is 'validation'.
   */
  async fit(x: Float32Array, n: number, val?: { x: Float32Array; n: number }): Promise<this> {
    if (!(x instanceof Float32Array) || !(Number.isInteger(n) && n >= 1 && x.length % n === 0)) throw new Error('kde.fit: x must be a Float32Array of n rows');
    if (!this.built) this.build({ kind: 'points', shape: [x.length / n], binary: false });
    if (x.length / n !== this.D) throw new Error(`kde.fit: the model has ${this.D} dimensions, x has ${x.length / n}`);
    this.addPoints(x, n);
    if (val) await this.selectBandwidth(val.x, val.n);
    return this;
  }

  async trainStep(batch: tf.Tensor2D, step: number, ctx?: StepContext): Promise<StepMetrics> {
    if (!this.built) throw new Error('kde.trainStep: build the model first');
    const B = batch.shape[0];
    this.progress = { step, batch: B, total: ctx?.totalSteps ?? Infinity };
    if (this.M < this.config.maxPoints && this.pass.take(B)) this.addPoints((await readRows(batch, this.D, 'kde')).v, B);
    return { 'train/points': this.M };
  }

  /** the data's spread: the root mean variance per dimension of the stored points */
  private spread(): number {
    const { D, M } = this;
    const mean = new Float64Array(D);
    for (let m = 0; m < M; m++) for (let d = 0; d < D; d++) mean[d] += this.buf[m * D + d] / M;
    let v = 0;
    for (let m = 0; m < M; m++) for (let d = 0; d < D; d++) v += (this.buf[m * D + d] - mean[d]) ** 2;
    return Math.sqrt(v / (M * D)) || 1;
  }

  /** the bandwidths 'validation' tries */
  grid(): number[] {
    this.need('grid');
    if (this.config.bandwidths) return [...this.config.bandwidths];
    const s = this.spread();
    const G = 24;
    return Array.from({ length: G }, (_, i) => s * Math.exp(Math.log(0.01) + ((Math.log(3) - Math.log(0.01)) * i) / (G - 1)));
  }

  /**
   * Squared distances from each query row to every stored point, a chunk of rows at a time:
   * `each(d2, rows, from)` sees [rows * M] values. Float64 sums in JS when the work is small
   * (2-D data, tests), tf.matMul in float32 otherwise (|x|^2 + |p|^2 - 2 x.p, clipped at 0,
   * each chunk read back before the next is computed).
   */
  private async distances(x: Float32Array, n: number, each: (d2: ArrayLike<number>, rows: number, from: number) => void): Promise<void> {
    const { D, M } = this;
    const pts = this.buf.subarray(0, M * D);
    if (n * M * D <= EXACT_WORK) {
      const d2 = new Float64Array(Math.min(CHUNK, n) * M);
      for (let s = 0; s < n; s += CHUNK) {
        const rows = Math.min(CHUNK, n - s);
        for (let r = 0; r < rows; r++) {
          const q = (s + r) * D;
          for (let m = 0; m < M; m++) {
            let a = 0;
            const p = m * D;
            for (let d = 0; d < D; d++) {
              const e = x[q + d] - pts[p + d];
              a += e * e;
            }
            d2[r * M + m] = a;
          }
        }
        each(d2, rows, s);
      }
      return;
    }
    const P = tf.tensor2d(pts, [M, D]);
    const pn = tf.tidy(() => tf.sum(tf.square(P), 1));
    try {
      for (let s = 0; s < n; s += CHUNK) {
        const rows = Math.min(CHUNK, n - s);
        const d2 = tf.tidy(() => {
          const q = tf.tensor2d(x.subarray(s * D, (s + rows) * D), [rows, D]);
          const qn = tf.sum(tf.square(q), 1, true);
          return tf.relu(tf.sub(tf.add(qn, pn), tf.mul(2, tf.matMul(q, P, false, true))));
        });
        let v: Float32Array;
        try {
          v = (await d2.data()) as Float32Array;
        } finally {
          d2.dispose();
        }
        each(v, rows, s);
      }
    } finally {
      tf.dispose([P, pn]);
    }
  }

  /** log p(x) per row for each bandwidth in hs: [hs.length][n] (float64) */
  private async logProbs(x: Float32Array, n: number, hs: number[]): Promise<Float64Array[]> {
    const { D, M } = this;
    const out = hs.map(() => new Float64Array(n));
    const inv = hs.map((h) => -0.5 / (h * h));
    const norm = hs.map((h) => -Math.log(M) - 0.5 * D * (LOG_2PI + 2 * Math.log(h)));
    await this.distances(x, n, (d2, rows, from) => {
      for (let r = 0; r < rows; r++) {
        const o = r * M;
        let min = Infinity;
        for (let m = 0; m < M; m++) if (d2[o + m] < min) min = d2[o + m];
        hs.forEach((_, g) => {
          // logsumexp of -d2 / (2 h^2), shifted by the nearest point
          const a = inv[g];
          let s = 0;
          // terms below e^-40 of the largest change the sum by less than M e^-40: skipped
          const cut = -40 / a;
          for (let m = 0; m < M; m++) {
            const e = d2[o + m] - min;
            if (e < cut) s += Math.exp(a * e);
          }
          out[g][from + r] = a * min + Math.log(s) + norm[g];
        });
      }
    });
    return out;
  }

  /**
   * Chooses the bandwidth of the grid with the highest mean log-likelihood on the given
   * rows (validation data) and uses it. Returns it.
   */
  async selectBandwidth(x: Float32Array | tf.Tensor2D, n?: number): Promise<number> {
    this.need('selectBandwidth');
    const rows = x instanceof tf.Tensor ? await readRows(x, this.D, 'kde') : { v: x, n: n ?? x.length / this.D };
    const hs = this.grid();
    const lps = await this.logProbs(rows.v, rows.n, hs);
    const logLik = lps.map((lp) => lp.reduce((a, b) => a + b, 0) / rows.n);
    let best = 0;
    for (let g = 1; g < hs.length; g++) if (logLik[g] > logLik[best]) best = g;
    if (!Number.isFinite(logLik[best])) throw new Error('kde: no bandwidth of the grid gives the validation rows a finite likelihood: give wider bandwidths');
    this.h = hs[best];
    this.chosenFor = this.M;
    this.search = { bandwidths: hs, logLik };
    return this.h;
  }

  private bandwidthOrThrow(what: string): number {
    if (this.h === null) throw new Error(`kde.${what}: bandwidth 'validation' is not chosen yet: train with lab.train (it chooses on validation data), or call selectBandwidth(val.x) or give a number`);
    return this.h;
  }

  /** log p(x) per row (nats, float64) with the current (or a given) bandwidth */
  async logProb(x: tf.Tensor2D | Float32Array, bandwidth?: number): Promise<Float64Array> {
    this.need('logProb');
    const h = bandwidth ?? this.bandwidthOrThrow('logProb');
    const { v, n } = await readRows(x, this.D, 'kde');
    return (await this.logProbs(v, n, [h]))[0];
  }

  /** -log p(x) per row: the Parzen estimate, with its bandwidth and number of points */
  async testNll(x: tf.Tensor2D, _seed?: number): Promise<TestNll> {
    const lp = await this.logProb(x);
    return { nll: Float32Array.from(lp, (v) => -v), kind: 'estimate', details: { bandwidth: this.h!, points: this.M } };
  }

  async evaluate(val: tf.Tensor2D, _seed?: number): Promise<Record<string, MetricValue>> {
    if (this.M === 0) return {};
    // while the pass is still being stored each evaluation would search the bandwidths again: wait for it (or the run's end)
    const { step, batch, total } = this.progress;
    if (step > 0 && step < total && !this.pass.done(batch) && this.M < this.config.maxPoints) return {};
    if (this.config.bandwidth === 'validation' && this.chosenFor !== this.M) await this.selectBandwidth(val);
    const lp = await this.logProb(val);
    const nll = -lp.reduce((a, b) => a + b, 0) / lp.length;
    return {
      'val/nll': { value: nll, kind: 'estimate' },
      'val/bits_per_dim': { value: nll / (this.D * Math.LN2), kind: 'estimate' },
      'val/bandwidth': { value: this.h!, kind: 'info' },
    };
  }

  /** the stored points [M * D] (a copy) */
  storedPoints(): Float32Array {
    return this.buf.slice(0, this.M * this.D);
  }

  /** a uniform (which point) and D standard normals per sample: [n, 1 + D] */
  noise(n: number, seed: number): tf.Tensor2D {
    if (!this.built) throw new Error('kde.noise: build the model first');
    return tf.tidy(() => tf.concat([uniform([n, 1], seed), normal([n, this.D], seed + 1)], 1) as tf.Tensor2D);
  }

  /** n draws: a stored point picked uniformly plus N(0, h^2 I) noise (images clipped to [0, 1]) */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    this.need('sample');
    const h = this.bandwidthOrThrow('sample');
    const { D, M } = this;
    const bank = noise ?? this.noise(n, seed);
    let u: Float32Array;
    try {
      u = (await bank.data()) as Float32Array;
    } finally {
      if (bank !== noise) bank.dispose();
    }
    const W = D + 1;
    const bankRows = u.length / W;
    const clip = this.data?.kind === 'image';
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const src = (r % bankRows) * W;
      const m = Math.min(M - 1, Math.floor(u[src] * M));
      for (let d = 0; d < D; d++) {
        const v = this.buf[m * D + d] + h * u[src + 1 + d];
        out[r * D + d] = clip ? Math.min(1, Math.max(0, v)) : v;
      }
    }
    return tf.tensor2d(out, [n, D]);
  }

  getWeights(): NamedWeight[] {
    if (!this.built) throw new Error('kde.getWeights: build the model first');
    return this.exported.set([
      { name: 'kde/points', tensor: tf.tensor2d(this.buf.slice(0, this.M * this.D), [this.M, this.D]) },
      { name: 'kde/bandwidth', tensor: tf.tensor1d([this.h ?? 0]) },
    ]);
  }

  setWeights(weights: NamedWeight[]): void {
    if (!this.built) throw new Error('kde.setWeights: build the model first');
    const pts = weightOf(weights, 'kde/points');
    if (pts.length % this.D !== 0) throw new Error(`setWeights: 'kde/points' must hold rows of ${this.D} values`);
    this.buf = Float32Array.from(pts);
    this.M = pts.length / this.D;
    const h = weightOf(weights, 'kde/bandwidth', 1)[0];
    this.h = h > 0 ? h : this.h;
    this.chosenFor = this.M;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built, points: this.M, bandwidth: this.h };
  }

  dispose(): void {
    this.exported.dispose();
  }
}
