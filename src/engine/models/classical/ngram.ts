// An n-gram language model over symbol sequences (characters of lab.data.text): each
// symbol depends on the n - 1 before it,
//   p(x) = prod_t p(x_t | x_{t-n+1} .. x_{t-1}),
// where the first n - 2 positions of a row condition on the shorter history they have.
// The conditionals are count ratios with additive smoothing, interpolated down the
// orders (the hierarchical "add-k towards the lower order" estimate):
//   p_0(w) = 1 / V,
//   p_j(w | h) = (c(h, w) + k V p_{j-1}(w | h')) / (c(h) + k V),   j = 1 .. n,
// with h the j - 1 previous symbols, h' h without its oldest one, c counts from the
// training rows and V the vocabulary size. Each order adds k pseudo-counts per symbol,
// spread as the next lower order predicts, so an unseen context falls back to the lower
// order entirely and every p_j sums to 1 over the vocabulary. For j = 1 this is add-k
// (Laplace at k = 1) smoothing of the unigram.
//
// Training counts every j-gram (j = 1..n) of one pass over the training rows (see
// OnePass); more steps change nothing. The likelihood is exact (testNll kind 'exact',
// nats per row, so bits/dim is bits per character), and val/perplexity is exp of the
// nats per symbol. Sampling draws one symbol at a time from the same conditionals with a
// fixed bank of uniforms, like the neural sequence models; `complete` continues a prompt.
import * as tf from '@tensorflow/tfjs';
import { decodeText, encodeText } from '../../data/text';
import { uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { ExportedWeights, weightOf } from '../../nn/params';
import { OnePass, readRows, rowsOf } from './one-pass';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type NgramConfig = LatentLab.NgramConfig;

/** counts of one context: its total and each following symbol's */
interface Ctx {
  total: number;
  next: Map<number, number>;
}

export class Ngram implements Model {
  /** a fit from data: no sample before the first step */
  readonly samplesAfterTraining = true;
  readonly family = 'ngram';
  readonly config: { n: number; k: number };
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private data: DataInfo | null = null;
  private T = 0;
  private V = 0;
  private pass = new OnePass(undefined);
  /** tables[j - 1]: the contexts of order j (j - 1 symbols, as a number in base V) */
  private tables: Map<number, Ctx>[] = [];
  private rowsCounted = 0;
  private readonly exported = new ExportedWeights();

  constructor(cfg: NgramConfig = {}) {
    this.config = { n: cfg.n ?? 3, k: cfg.k ?? 0.05 };
    if (!(Number.isInteger(this.config.n) && this.config.n >= 1)) throw new Error(`ngram: n (the order) must be a whole number >= 1, got ${String(cfg.n)}`);
    if (!(typeof this.config.k === 'number' && this.config.k > 0 && Number.isFinite(this.config.k))) throw new Error(`ngram: k (pseudo-counts per symbol) must be a number > 0, got ${String(cfg.k)}`);
  }

  get built(): boolean {
    return this.data !== null;
  }

  /** the order n */
  get order(): number {
    return this.config.n;
  }

  /** symbols in the vocabulary V */
  get levels(): number {
    return this.V;
  }

  /** symbols per row T */
  get length(): number {
    return this.T;
  }

  /** training rows counted */
  get rows(): number {
    return this.rowsCounted;
  }

  /** distinct contexts of the top order seen in training */
  get contexts(): number {
    return this.tables.length ? this.tables[this.config.n - 1].size : 0;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/rows': 'info',
      'train/contexts': 'info',
      'val/nll': 'exact',
      'val/bits_per_dim': 'exact',
      'val/perplexity': 'exact',
      'test/nll': 'exact',
      'test/bits_per_dim': 'exact',
    };
  }

  build(data: DataInfo, _rng?: Rng): void {
    if (this.built) throw new Error('ngram: model already built (create a new one per run)');
    if (data.kind !== 'sequence' || !data.levels) throw new Error('ngram: an n-gram model counts symbol sequences: use lab.data.text() (or lab.data.waveforms())');
    const V = data.levels;
    // context keys are numbers in base V: they must stay exact integers
    const maxN = Math.floor(52 / Math.log2(V));
    if (this.config.n > maxN) throw new Error(`ngram: n must be at most ${maxN} for ${V} symbols (its contexts are kept as exact integers), got ${this.config.n}`);
    this.data = data;
    this.T = data.shape[0];
    this.V = V;
    this.pass = new OnePass(data.trainRows);
    this.tables = Array.from({ length: this.config.n }, () => new Map<number, Ctx>());
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`ngram.${what}: train the model first (lab.train builds it on its data)`);
  }

  private symbol(v: number): number {
    if (!(Number.isInteger(v) && v >= 0 && v < this.V)) throw new Error(`ngram: symbols must be whole numbers in 0..${this.V - 1}, found ${v}`);
    return v;
  }

  /** adds every j-gram (j = 1..n) of `n` rows of T symbols to the counts */
  addCounts(x: ArrayLike<number>, rows: number): void {
    this.need('addCounts');
    const { T, V } = this;
    const N = this.config.n;
    for (let r = 0; r < rows; r++) {
      const o = r * T;
      for (let t = 0; t < T; t++) {
        const w = this.symbol(x[o + t]);
        // the context of order j is x[t-j+1 .. t-1]; its key grows by one older symbol per order
        let key = 0;
        let scale = 1;
        for (let j = 1; j <= N && t - j + 1 >= 0; j++) {
          if (j > 1) {
            key += x[o + t - j + 1] * scale;
            scale *= V;
          }
          const table = this.tables[j - 1];
          let c = table.get(key);
          if (!c) table.set(key, (c = { total: 0, next: new Map() }));
          c.total += 1;
          c.next.set(w, (c.next.get(w) ?? 0) + 1);
        }
      }
    }
    this.rowsCounted += rows;
  }

  async trainStep(batch: tf.Tensor2D, _step: number, _ctx?: StepContext): Promise<StepMetrics> {
    this.need('trainStep');
    const B = batch.shape[0];
    if (this.pass.take(B)) this.addCounts((await readRows(batch, this.T, 'ngram')).v, B);
    return { 'train/rows': this.rowsCounted, 'train/contexts': this.contexts };
  }

  /** the keys of the contexts of orders 1..n that end just before position t of `seq` (shorter at the start) */
  private contextKeys(seq: ArrayLike<number>, o: number, t: number, keys: number[]): number {
    const { V } = this;
    const N = this.config.n;
    let key = 0;
    let scale = 1;
    let j = 1;
    for (; j <= N && t - j + 1 >= 0; j++) {
      if (j > 1) {
        key += seq[o + t - j + 1] * scale;
        scale *= V;
      }
      keys[j - 1] = key;
    }
    return j - 1;
  }

  /** p(w | context) by the interpolation recursion over the orders the context has */
  private probAt(keys: number[], orders: number, w: number): number {
    const kv = this.config.k * this.V;
    let p = 1 / this.V;
    for (let j = 1; j <= orders; j++) {
      const c = this.tables[j - 1].get(keys[j - 1]);
      if (!c) continue; // an unseen context: c(h) = 0, so p_j = p_{j-1}
      p = ((c.next.get(w) ?? 0) + kv * p) / (c.total + kv);
    }
    return p;
  }

  /** the whole conditional distribution over the V symbols for the given context keys */
  private distAt(keys: number[], orders: number): Float64Array {
    const V = this.V;
    const kv = this.config.k * V;
    const p = new Float64Array(V).fill(1 / V);
    for (let j = 1; j <= orders; j++) {
      const c = this.tables[j - 1].get(keys[j - 1]);
      if (!c) continue;
      const a = kv / (c.total + kv);
      for (let w = 0; w < V; w++) p[w] *= a;
      for (const [w, cnt] of c.next) p[w] += cnt / (c.total + kv);
    }
    return p;
  }

  private encode(context: string | ArrayLike<number>): number[] {
    if (typeof context === 'string') {
      if (!this.data?.text) throw new Error('ngram: a string context needs a model of text (lab.data.text)');
      return Array.from(encodeText(context));
    }
    return Array.from(context, (v) => this.symbol(v));
  }

  /**
   * p(next symbol | context) over the whole vocabulary [V]: the context is text (a model of
   * text) or symbols; only its last n - 1 symbols count.
   */
  distribution(context: string | ArrayLike<number> = []): Float64Array {
    this.need('distribution');
    const seq = this.encode(context);
    const keys: number[] = [];
    const orders = this.contextKeys([...seq, 0], 0, seq.length, keys);
    return this.distAt(keys, orders);
  }

  /** -log p(x) per row (nats, exact) */
  private nllOf(x: Float32Array, rows: number): Float32Array {
    const T = this.T;
    const out = new Float32Array(rows);
    const keys: number[] = [];
    for (let r = 0; r < rows; r++) {
      const o = r * T;
      let s = 0;
      for (let t = 0; t < T; t++) {
        const orders = this.contextKeys(x, o, t, keys);
        s -= Math.log(this.probAt(keys, orders, this.symbol(x[o + t])));
      }
      out[r] = s;
    }
    return out;
  }

  async testNll(x: tf.Tensor2D, _seed?: number): Promise<TestNll> {
    this.need('testNll');
    const { v, n } = await readRows(x, this.T, 'ngram');
    return { nll: this.nllOf(v, n), kind: 'exact' };
  }

  /** exp(mean nats per symbol) of the rows of x (a split's x) */
  perplexity(x: Float32Array): number {
    this.need('perplexity');
    const { v, n } = rowsOf(x, this.T, 'ngram');
    const nll = this.nllOf(v, n);
    return Math.exp(nll.reduce((a, b) => a + b, 0) / (n * this.T));
  }

  async evaluate(val: tf.Tensor2D, _seed?: number): Promise<Record<string, MetricValue>> {
    if (this.rowsCounted === 0) return {};
    const { v, n } = await readRows(val, this.T, 'ngram');
    const nll = this.nllOf(v, n).reduce((a, b) => a + b, 0) / n;
    return {
      'val/nll': { value: nll, kind: 'exact' },
      'val/bits_per_dim': { value: nll / (this.T * Math.LN2), kind: 'exact' },
      'val/perplexity': { value: Math.exp(nll / this.T), kind: 'exact' },
    };
  }

  /** the uniforms that pick each sampled symbol */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need('noise');
    return uniform([n, this.T], seed) as tf.Tensor2D;
  }

  /** continues rows of `prefix` symbols to `total` symbols, position t drawn with u(row, t) (inverse CDF) */
  generate(prefix: number[], n: number, total: number, u: (row: number, t: number) => number): Float32Array {
    this.need('generate');
    const p = prefix.length;
    const out = new Float32Array(n * total);
    const keys: number[] = [];
    for (let r = 0; r < n; r++) {
      const o = r * total;
      for (let t = 0; t < Math.min(p, total); t++) out[o + t] = prefix[t];
      for (let t = p; t < total; t++) {
        const orders = this.contextKeys(out, o, t, keys);
        const dist = this.distAt(keys, orders);
        const target = u(r, t);
        let acc = 0;
        let w = 0;
        for (; w < this.V - 1; w++) {
          acc += dist[w];
          if (target < acc) break;
        }
        out[o + t] = w;
      }
    }
    return out;
  }

  /** n rows of T symbols drawn from the model, with the noise's uniforms (or drawn with `seed`) */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0): Promise<tf.Tensor2D> {
    this.need('sample');
    const T = this.T;
    // the given bank read back, or the values noise(n, seed) would hold
    const u = noise ? ((await noise.data()) as Float32Array) : uniformValues(seed, n * T);
    const bankRows = u.length / T;
    return tf.tensor2d(this.generate([], n, T, (r, t) => u[(r % bankRows) * T + t]), [n, T]);
  }

  /** `n` continuations of a text prompt, `length` characters each (prompt included; default the row length) */
  complete(prompt: string, opts: { n?: number; length?: number; seed?: number } = {}): string[] {
    this.need('complete');
    if (!this.data?.text) throw new Error('ngram.complete: continues text; this model counts non-text symbols (use sample)');
    const n = Math.max(1, Math.floor(opts.n ?? 4));
    const codes = Array.from(encodeText(prompt));
    const total = Math.max(codes.length + 1, Math.floor(opts.length ?? this.T));
    // the values uniform([n, total], seed) holds
    const u = uniformValues(opts.seed ?? 0, n * total);
    const x = this.generate(codes, n, total, (r, t) => u[r * total + t]);
    return Array.from({ length: n }, (_, r) => decodeText(x.subarray(r * total, (r + 1) * total)));
  }

  /** every counted j-gram as rows [j, c_1 .. c_n, w, count] (context symbols oldest first, padded with -1) */
  private table(): { rows: Float32Array; count: number } {
    const N = this.config.n;
    const V = this.V;
    const W = N + 2;
    const list: number[] = [];
    this.tables.forEach((table, j0) => {
      for (const [key, c] of table) {
        const ctx = new Array<number>(N - 1).fill(-1);
        // the key holds the newest symbol in its lowest digit
        let k = key;
        for (let i = j0 - 1; i >= 0; i--) {
          ctx[i] = k % V;
          k = Math.floor(k / V);
        }
        for (const [w, cnt] of c.next) list.push(j0 + 1, ...ctx, w, cnt);
      }
    });
    return { rows: Float32Array.from(list), count: list.length / W };
  }

  getWeights(): NamedWeight[] {
    this.need('getWeights');
    const { rows, count } = this.table();
    return this.exported.set([
      { name: 'ngram/counts', tensor: tf.tensor2d(rows, [count, this.config.n + 2]) },
      { name: 'ngram/rows', tensor: tf.tensor1d([this.rowsCounted]) },
    ]);
  }

  setWeights(weights: NamedWeight[]): void {
    this.need('setWeights');
    const N = this.config.n;
    const W = N + 2;
    const rows = weightOf(weights, 'ngram/counts');
    if (rows.length % W !== 0) throw new Error(`setWeights: 'ngram/counts' must hold rows of ${W} values (an n-gram of order ${N})`);
    this.tables = Array.from({ length: N }, () => new Map<number, Ctx>());
    for (let r = 0; r < rows.length / W; r++) {
      const j = rows[r * W];
      let key = 0;
      let scale = 1;
      // oldest symbol first in the row: the newest is the lowest digit
      for (let i = j - 2; i >= 0; i--) {
        key += rows[r * W + 1 + i] * scale;
        scale *= this.V;
      }
      const w = rows[r * W + N];
      const cnt = rows[r * W + N + 1];
      const table = this.tables[j - 1];
      let c = table.get(key);
      if (!c) table.set(key, (c = { total: 0, next: new Map() }));
      c.total += cnt;
      c.next.set(w, (c.next.get(w) ?? 0) + cnt);
    }
    this.rowsCounted = weightOf(weights, 'ngram/rows', 1)[0];
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built, rows: this.rowsCounted, contexts: this.contexts };
  }

  dispose(): void {
    this.exported.dispose();
  }
}
