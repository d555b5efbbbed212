// Bernoulli naive Bayes: a generative classifier on binary images,
//   p(x, y) = p(y) prod_i p(x_i | y),   p(x_i = 1 | y = c) = theta_ci,
// fitted in closed form from counts with Laplace (additive) smoothing alpha:
//   p(y = c) = (N_c + alpha) / (N + C alpha),   theta_ci = (N_ci + alpha) / (N_c + 2 alpha),
// where N_c counts the rows of class c and N_ci those among them with pixel i on.
// Classification is Bayes' rule in log space, log p(y | x) = log p(x, y) - log p(x);
// the likelihood marginalises the class, log p(x) = logsumexp_c log p(x, y = c)
// (exact). Sampling draws each pixel of a class independently: the pixels of a class
// are independent given y, which is what makes the samples speckled.
//
// Training goes through the same trainer as every family: each step adds the batch's
// counts, and only one pass over the training rows is counted (see OnePass), so more
// steps leave the estimate as it is. The trainer gives the batch's labels because the
// model says it is `conditional`.
//
// The small helpers the other closed-form families share (OnePass, ExportedWeights,
// logSumExp64, rowsOf) live here too.
import * as tf from '@tensorflow/tfjs';
import { uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { ExportedWeights, weightOf } from '../../nn/params';
import { logSumExp64 } from '../../nn/reduce';
import { OnePass, readRows, rowsOf } from './one-pass';

export type NaiveBayesConfig = LatentLab.NaiveBayesConfig;

export class NaiveBayes implements Model {
  /** a fit from data: no sample before the first step */
  readonly samplesAfterTraining = true;
  readonly family = 'naive-bayes';
  readonly config: { alpha: number };
  /** the trainer passes each batch's labels (ctx.labels) and evaluate the validation labels */
  readonly conditional = true;
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private D = 0;
  private C = 0;
  private data: DataInfo | null = null;
  private pass = new OnePass(undefined);
  /** N_c and N_ci (float64 counts) */
  private classCounts = new Float64Array(0);
  private onCounts = new Float64Array(0);
  /** cached log parameters: log p(y), log theta, log (1 - theta); null when the counts changed */
  private cache: { logPrior: Float64Array; logOn: Float64Array; logOff: Float64Array } | null = null;
  private readonly exported = new ExportedWeights();

  constructor(cfg: NaiveBayesConfig = {}) {
    this.config = { alpha: cfg.alpha ?? 1 };
    if (!(typeof this.config.alpha === 'number' && this.config.alpha >= 0 && Number.isFinite(this.config.alpha))) {
      throw new Error(`naiveBayes: alpha (Laplace smoothing) must be a number >= 0, got ${String(cfg.alpha)}`);
    }
  }

  get built(): boolean {
    return this.data !== null;
  }

  /** the number of classes (the width of the one-hot labels), once built */
  get classes(): number {
    return this.C;
  }

  /** training rows counted so far */
  get rows(): number {
    return this.classCounts.reduce((a, b) => a + b, 0);
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/rows': 'info',
      'val/nll': 'exact',
      'val/bits_per_dim': 'exact',
      'val/accuracy': 'info',
      'test/nll': 'exact',
      'test/bits_per_dim': 'exact',
    };
  }

  build(data: DataInfo, _rng?: Rng): void {
    if (this.built) throw new Error('naiveBayes: model already built (create a new one per run)');
    if (!data.binary) throw new Error('naiveBayes: a Bernoulli naive Bayes models binary data: use binarized images, e.g. lab.data.mnist({ binarize: true })');
    if (!(Number.isInteger(data.classes) && data.classes! >= 2)) {
      throw new Error('naiveBayes: a naive Bayes classifier needs class labels and this dataset has none: use a labelled dataset (lab.data.mnist(), lab.data.fashionMnist())');
    }
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.C = data.classes!;
    this.pass = new OnePass(data.trainRows);
    this.classCounts = new Float64Array(this.C);
    this.onCounts = new Float64Array(this.C * this.D);
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`naiveBayes.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** adds the rows of x (0/1) with their classes to the counts */
  addCounts(x: Float32Array, y: ArrayLike<number>, n: number): void {
    const { D, C } = this;
    for (let r = 0; r < n; r++) {
      const c = y[r];
      if (!(Number.isInteger(c) && c >= 0 && c < C)) throw new Error(`naiveBayes: class ${c} is not one of 0..${C - 1}`);
      this.classCounts[c] += 1;
      const row = r * D;
      const on = c * D;
      for (let i = 0; i < D; i++) {
        const v = x[row + i];
        if (v === 1) this.onCounts[on + i] += 1;
        else if (v !== 0) throw new Error(`naiveBayes: the data must be binary (0/1), found ${v}: binarize the images`);
      }
    }
    this.cache = null;
  }

  async trainStep(batch: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    this.need('trainStep');
    if (!ctx.labels) throw new Error('naiveBayes: the batch came without class labels (train it with lab.train on a labelled dataset, e.g. lab.data.mnist())');
    const B = batch.shape[0];
    if (this.pass.take(B)) {
      const y = tf.tidy(() => tf.argMax(ctx.labels!, 1));
      let labels: Int32Array;
      try {
        labels = (await y.data()) as Int32Array;
      } finally {
        y.dispose();
      }
      this.addCounts((await batch.data()) as Float32Array, labels, B);
    }
    return { 'train/rows': this.rows };
  }

  private params(): { logPrior: Float64Array; logOn: Float64Array; logOff: Float64Array } {
    if (this.cache) return this.cache;
    const { D, C } = this;
    const a = this.config.alpha;
    const N = this.rows;
    const logPrior = new Float64Array(C);
    const logOn = new Float64Array(C * D);
    const logOff = new Float64Array(C * D);
    for (let c = 0; c < C; c++) {
      logPrior[c] = Math.log(this.classCounts[c] + a) - Math.log(N + C * a);
      const Nc = this.classCounts[c];
      for (let i = 0; i < D; i++) {
        const on = this.onCounts[c * D + i];
        logOn[c * D + i] = Math.log(on + a) - Math.log(Nc + 2 * a);
        logOff[c * D + i] = Math.log(Nc - on + a) - Math.log(Nc + 2 * a);
      }
    }
    return (this.cache = { logPrior, logOn, logOff });
  }

  /** log p(x, y = c) for every row and class: [n * C] (float64), row-major; a tensor's rows are read back (async) */
  logJoint(x: Float32Array): { values: Float64Array; n: number };
  logJoint(x: tf.Tensor2D): Promise<{ values: Float64Array; n: number }>;
  logJoint(x: tf.Tensor2D | Float32Array): { values: Float64Array; n: number } | Promise<{ values: Float64Array; n: number }> {
    this.need('logJoint');
    if (this.rows === 0) throw new Error('naiveBayes: no training rows counted yet (train it first)');
    if (x instanceof tf.Tensor) return readRows(x, this.D, 'naiveBayes').then(({ v, n }) => this.logJointOf(v, n));
    const { v, n } = rowsOf(x, this.D, 'naiveBayes');
    return this.logJointOf(v, n);
  }

  private logJointOf(v: Float32Array, n: number): { values: Float64Array; n: number } {
    const { D, C } = this;
    const { logPrior, logOn, logOff } = this.params();
    // log p(x, c) = log p(c) + sum_i log(1 - theta_ci) + sum_{i: x_i = 1} (log theta_ci - log(1 - theta_ci))
    const base = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = logPrior[c];
      for (let i = 0; i < D; i++) s += logOff[c * D + i];
      base[c] = s;
    }
    const out = new Float64Array(n * C);
    for (let r = 0; r < n; r++) {
      const row = r * D;
      for (let c = 0; c < C; c++) {
        let s = base[c];
        const p = c * D;
        for (let i = 0; i < D; i++) {
          const xi = v[row + i];
          if (xi === 1) s += logOn[p + i] - logOff[p + i];
          else if (xi !== 0) throw new Error(`naiveBayes: the data must be binary (0/1), found ${xi}: binarize the images`);
        }
        out[r * C + c] = s;
      }
    }
    return { values: out, n };
  }

  /** log p(y = c | x) per row and class, [n, C]: Bayes' rule in log space (each row's exp sums to 1); a tensor's rows are read back (async) */
  posterior(x: Float32Array): tf.Tensor2D;
  posterior(x: tf.Tensor2D): Promise<tf.Tensor2D>;
  posterior(x: tf.Tensor2D | Float32Array): tf.Tensor2D | Promise<tf.Tensor2D> {
    if (x instanceof tf.Tensor) return this.logJoint(x).then((j) => this.posteriorOf(j));
    return this.posteriorOf(this.logJoint(x));
  }

  private posteriorOf({ values, n }: { values: Float64Array; n: number }): tf.Tensor2D {
    const C = this.C;
    const out = new Float32Array(n * C);
    for (let r = 0; r < n; r++) {
      const lse = logSumExp64(values, r * C, (r + 1) * C);
      for (let c = 0; c < C; c++) out[r * C + c] = values[r * C + c] - lse;
    }
    return tf.tensor2d(out, [n, C]);
  }

  /** the most probable class of each row, argmax_c p(y = c | x); a tensor's rows are read back (async) */
  classify(x: Float32Array): Int32Array;
  classify(x: tf.Tensor2D): Promise<Int32Array>;
  classify(x: tf.Tensor2D | Float32Array): Int32Array | Promise<Int32Array> {
    if (x instanceof tf.Tensor) return this.logJoint(x).then((j) => this.classifyOf(j));
    return this.classifyOf(this.logJoint(x));
  }

  private classifyOf({ values, n }: { values: Float64Array; n: number }): Int32Array {
    const C = this.C;
    const out = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let best = 0;
      for (let c = 1; c < C; c++) if (values[r * C + c] > values[r * C + best]) best = c;
      out[r] = best;
    }
    return out;
  }

  /** -log p(x) per row in nats, the class marginalised: -logsumexp_c log p(x, c) (exact) */
  private async nllOf(x: tf.Tensor2D): Promise<Float32Array> {
    const { values, n } = await this.logJoint(x);
    const C = this.C;
    const out = new Float32Array(n);
    for (let r = 0; r < n; r++) out[r] = -logSumExp64(values, r * C, (r + 1) * C);
    return out;
  }

  /** -log p(x) per row, with the class summed out (exact). The labels are not used: this is p(x), not p(x|y). */
  async testNll(x: tf.Tensor2D, _seed?: number, _labels?: tf.Tensor2D): Promise<TestNll> {
    this.need('testNll');
    return { nll: await this.nllOf(x), kind: 'exact' };
  }

  async evaluate(val: tf.Tensor2D, _seed?: number, labels?: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    if (this.rows === 0) return {};
    const { values, n } = await this.logJoint(val);
    const C = this.C;
    let nll = 0;
    for (let r = 0; r < n; r++) nll -= logSumExp64(values, r * C, (r + 1) * C);
    nll /= n;
    const out: Record<string, MetricValue> = {
      'val/nll': { value: nll, kind: 'exact' },
      'val/bits_per_dim': { value: nll / (this.D * Math.LN2), kind: 'exact' },
    };
    if (labels) {
      const y = await labels.data();
      let right = 0;
      for (let r = 0; r < n; r++) {
        let best = 0;
        for (let c = 1; c < C; c++) if (values[r * C + c] > values[r * C + best]) best = c;
        if (y[r * C + best] === 1) right++;
      }
      out['val/accuracy'] = { value: right / n, kind: 'info' };
    }
    return out;
  }

  /** the fraction of rows of `split` classified right (split.y the true classes) */
  accuracy(split: { x: Float32Array; n: number; y?: Uint8Array }): number {
    this.need('accuracy');
    if (!split.y) throw new Error('naiveBayes.accuracy: the split has no labels (y)');
    const pred = this.classify(split.x);
    let right = 0;
    for (let r = 0; r < split.n; r++) if (pred[r] === split.y[r]) right++;
    return right / split.n;
  }

  /** p(y = c), one per class */
  classPrior(): Float64Array {
    this.need('classPrior');
    return this.params().logPrior.map(Math.exp);
  }

  /** p(x_i = 1 | y = c): [C * D] row-major, one image per class (the class means) */
  classMeans(): Float32Array {
    this.need('classMeans');
    return Float32Array.from(this.params().logOn, Math.exp);
  }

  /** the counts behind the fit: N_c [C] and N_ci [C * D] (copies) */
  counts(): { classes: Float64Array; on: Float64Array } {
    this.need('counts');
    return { classes: this.classCounts.slice(), on: this.onCounts.slice() };
  }

  /** one uniform per pixel: pixel i of row r is on when u < theta_{class(r), i} */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need('noise');
    return uniform([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * `n` images: row r is of class r mod classes (so a grid with `classes` columns
   * shows one class per column), each pixel drawn from p(x_i | y) with the uniforms of
   * `noise` (or drawn with `seed`).
   */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    this.need('sample');
    const classes = Int32Array.from({ length: n }, (_, r) => r % this.C);
    return this.draw(classes, noise ? ((await noise.data()) as Float32Array) : this.bank(n, seed));
  }

  /** `n` images of class `c`, each pixel drawn from p(x_i | y = c) */
  sampleClass(c: number, n = 16, seed = 0): tf.Tensor2D {
    this.need('sampleClass');
    if (!(Number.isInteger(c) && c >= 0 && c < this.C)) throw new Error(`naiveBayes.sampleClass: class ${c} is not one of 0..${this.C - 1}`);
    const rows = Math.max(1, Math.floor(n));
    return this.draw(new Int32Array(rows).fill(c), this.bank(rows, seed));
  }

  /** the values noise(n, seed) holds, without a tensor */
  private bank(n: number, seed: number): Float32Array {
    this.need('noise');
    return uniformValues(seed, n * this.D);
  }

  /** pixel i of row r is on when the bank's u (its rows reused in turn) is below theta_{classes[r], i} */
  private draw(classes: Int32Array, u: Float32Array): tf.Tensor2D {
    this.need('sample');
    const n = classes.length;
    const rowsInBank = u.length / this.D;
    const theta = this.classMeans();
    const D = this.D;
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const src = (r % rowsInBank) * D;
      const p = classes[r] * D;
      for (let i = 0; i < D; i++) out[r * D + i] = u[src + i] < theta[p + i] ? 1 : 0;
    }
    return tf.tensor2d(out, [n, D]);
  }

  getWeights(): NamedWeight[] {
    this.need('getWeights');
    return this.exported.set([
      { name: 'naive-bayes/class_counts', tensor: tf.tensor1d(Float32Array.from(this.classCounts)) },
      { name: 'naive-bayes/on_counts', tensor: tf.tensor2d(Float32Array.from(this.onCounts), [this.C, this.D]) },
    ]);
  }

  setWeights(weights: NamedWeight[]): void {
    this.need('setWeights');
    this.classCounts = Float64Array.from(weightOf(weights, 'naive-bayes/class_counts', this.C));
    this.onCounts = Float64Array.from(weightOf(weights, 'naive-bayes/on_counts', this.C * this.D));
    this.cache = null;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built, classes: this.C, rows: this.rows };
  }

  dispose(): void {
    this.exported.dispose();
  }
}
