// A small fully connected Boltzmann machine (Ackley, Hinton & Sejnowski 1985) over
// binary units x = (v, h): the data's D visible units plus `hidden` ones, with
//   E(x) = -1/2 x^T U x - b^T x,   U symmetric with a zero diagonal,
//   P(x) = exp(-E(x)) / Z.
// Small enough (at most 20 units) that everything is exact by enumeration:
//   F(v) = log sum_h exp(-E(v, h)) for every visible configuration v,
//   log Z = logsumexp_v F(v),   log p(v) = F(v) - log Z.
// Training minimizes the exact mean NLL, log Z - mean F(v_data), by autodiff
// through the enumerated logsumexps. Its gradient is the classic learning rule:
//   d(-NLL)/dU_ij = <x_i x_j>_data - <x_i x_j>_model (the pair U_ij, U_ji together),
//   d(-NLL)/db_i  = <x_i>_data - <x_i>_model,
// where <.>_data clamps v to the data and averages h over p(h|v) (positive phase)
// and <.>_model averages over P(x) (negative phase).
// Sampling draws v exactly from the enumerated p(v); `gibbs` runs the usual
// unit-by-unit chain (with clamped units for completion) to watch it mix.
import * as tf from '@tensorflow/tfjs';
import { uniform, uniformValues } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { logSumExp64 } from '../../nn/reduce';

/** the most units (visible + hidden) a Boltzmann machine may have: it enumerates 2^units states */
export const BOLTZMANN_MAX_UNITS = 20;

export type BoltzmannConfig = LatentLab.BoltzmannConfig;

type Rows = ArrayLike<number> | ArrayLike<number>[];

export interface GibbsOptions {
  /** chains (default 16) */
  n?: number;
  /** sweeps; one sweep updates every unclamped unit once, in index order (visible, then hidden) (default 100) */
  steps?: number;
  /** seed of the chains' draws (default 0) */
  seed?: number;
  /** starting visible states: n rows of D values (0/1), or one row for every chain (default: random) */
  init?: Rows;
  /** starting hidden states, n rows or one row of H values (default: random) */
  initHidden?: Rows;
  /** D flags (1/true: held at its `init` value for the whole chain: completion) */
  clamp?: ArrayLike<number | boolean>;
  /** a frame every this many sweeps (default 1) */
  every?: number;
}

export interface GibbsResult {
  /** the visible states [n * D] (0/1): the start, then every `every` sweeps, and the end */
  frames: Float32Array[];
  /** final visible states [n * D] */
  visible: Float32Array;
  /** final hidden states [n * H] */
  hidden: Float32Array;
  n: number;
  sweeps: number;
}

/** the values of every noise bank `noise` made: `sample` reads its uniforms on the host */
const noiseBanks = new WeakMap<tf.Tensor, Float32Array>();

/** all 2^d binary rows, [2^d, d]: bit i of the row index is unit i */
export function allBinaryStates(d: number): Float32Array {
  const x = new Float32Array((1 << d) * d);
  for (let s = 0; s < 1 << d; s++) for (let i = 0; i < d; i++) x[s * d + i] = (s >> i) & 1;
  return x;
}

/** p(v) from F(v): exp(F(v) − log Z) */
function probabilitiesOf(F: Float64Array): Float64Array {
  const logZ = logSumExp64(F);
  return F.map((f) => Math.exp(f - logZ));
}

export class Boltzmann implements Model {
  readonly family = 'boltzmann';
  readonly config: { hidden: number; initScale: number };
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  private U: tf.Variable | null = null;
  private b: tf.Variable | null = null;
  /** symmetrizes U and zeroes its diagonal */
  private mask: tf.Tensor2D | null = null;
  private V: tf.Tensor2D | null = null;
  private Hs: tf.Tensor2D | null = null;
  private D = 0;
  private data: DataInfo | null = null;
  /**
   * F(v) of every visible configuration for the current weights, read back after every
   * change (`sample` is synchronous and draws from p(v) on the host)
   */
  private hostF: Float64Array | null = null;
  /** identifies the read of hostF under way after build or setWeights (which cannot wait for it) */
  private pendingF: object | null = null;
  private pendingError: unknown = null;

  constructor(cfg: BoltzmannConfig = {}) {
    this.config = { hidden: cfg.hidden ?? 0, initScale: cfg.initScale ?? 0.1 };
    if (!Number.isInteger(this.config.hidden) || this.config.hidden < 0) throw new Error(`boltzmann: hidden must be an integer >= 0, got ${cfg.hidden}`);
    if (this.config.hidden > BOLTZMANN_MAX_UNITS) throw new Error(`boltzmann: ${this.config.hidden} hidden units exceed the limit of ${BOLTZMANN_MAX_UNITS} units in all (it enumerates every state)`);
    if (!(this.config.initScale >= 0)) throw new Error(`boltzmann: initScale must be >= 0`);
  }

  get built(): boolean {
    return this.U !== null;
  }

  /** visible units D */
  get visible(): number {
    return this.D;
  }

  get hidden(): number {
    return this.config.hidden;
  }

  /** all units, visible then hidden */
  get units(): number {
    return this.D + this.config.hidden;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'val/nll': 'exact',
      'val/bits_per_dim': 'exact',
      'val/log_z': 'info',
      'test/nll': 'exact',
      'test/bits_per_dim': 'exact',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('boltzmann: model already built (create a new one per run)');
    if (!data.binary) throw new Error('boltzmann models binary data: use lab.data.barsAndStripes() or another binary dataset');
    const D = data.shape.reduce((a, b) => a * b, 1);
    const H = this.config.hidden;
    const K = D + H;
    if (K > BOLTZMANN_MAX_UNITS) {
      throw new Error(
        `boltzmann: ${D} visible + ${H} hidden = ${K} units exceed the limit of ${BOLTZMANN_MAX_UNITS} (log Z is computed by enumerating all 2^units states): use smaller images (e.g. lab.data.barsAndStripes({ size: 3 })) or fewer hidden units`,
      );
    }
    this.data = data;
    this.D = D;
    const s = this.config.initScale;
    const u = new Float32Array(K * K);
    for (let i = 0; i < K; i++) {
      for (let j = i + 1; j < K; j++) {
        const w = (2 * rng.next() - 1) * s;
        u[i * K + j] = w;
        u[j * K + i] = w;
      }
    }
    const m = new Float32Array(K * K).fill(0.5);
    for (let i = 0; i < K; i++) m[i * K + i] = 0;
    this.mask = tf.tensor2d(m, [K, K]);
    this.U = tf.variable(tf.tensor2d(u, [K, K]), true, uniqueName('boltzmann_U'));
    this.b = tf.variable(tf.zeros([K]), true, uniqueName('boltzmann_b'));
    this.V = tf.tensor2d(allBinaryStates(D), [1 << D, D]);
    if (H > 0) this.Hs = tf.tensor2d(allBinaryStates(H), [1 << H, H]);
    this.readMarginalsLater();
  }

  /** starts reading F(v) of the current weights back into hostF (see `sample`) */
  private readMarginalsLater(): void {
    const F = this.logMarginalTensor();
    this.hostF = null;
    this.pendingError = null;
    const token = {};
    this.pendingF = token;
    void (async () => {
      try {
        const v = await F.data();
        if (this.pendingF === token) this.hostF = Float64Array.from(v);
      } catch (e) {
        if (this.pendingF === token) this.pendingError = e;
      } finally {
        F.dispose();
        if (this.pendingF === token) this.pendingF = null;
      }
    })();
  }

  /** F(v) of the current weights on the host, for `sample` */
  private marginalsOnHost(): Float64Array {
    if (this.pendingError) throw this.pendingError;
    if (!this.hostF) throw new Error('boltzmann.sample: the new weights are still being read back (await a training step, testNll or probabilities() first)');
    return this.hostF;
  }

  private need(): void {
    if (!this.built) throw new Error('boltzmann: build the model first (lab.train builds it on its data)');
  }

  /** the couplings the energy uses: (U + U^T)/2 with a zero diagonal */
  private couplingsTensor(): tf.Tensor2D {
    return tf.mul(tf.add(this.U!, tf.transpose(this.U!)), this.mask!) as tf.Tensor2D;
  }

  /**
   * F(v) = log sum_h exp(-E(v, h)) for all 2^D visible configurations (index: bit i =
   * visible unit i), differentiable in U and b. With x = (v, h):
   * -E = 1/2 v^T Uvv v + bv^T v + 1/2 h^T Uhh h + bh^T h + v^T Uvh h.
   */
  logMarginalTensor(): tf.Tensor1D {
    this.need();
    return tf.tidy(() => {
      const D = this.D;
      const H = this.config.hidden;
      const Us = this.couplingsTensor();
      const V = this.V!;
      const Uvv = tf.slice(Us, [0, 0], [D, D]);
      const bv = tf.reshape(tf.slice(this.b!, [0], [D]), [D, 1]);
      const quadV = tf.mul(0.5, tf.sum(tf.mul(tf.matMul(V, Uvv), V), 1));
      let F = tf.add(quadV, tf.reshape(tf.matMul(V, bv), [-1]));
      if (H > 0) {
        const Hs = this.Hs!;
        const Uhh = tf.slice(Us, [D, D], [H, H]);
        const Uvh = tf.slice(Us, [0, D], [D, H]);
        const bh = tf.reshape(tf.slice(this.b!, [D], [H]), [H, 1]);
        const Ah = tf.add(tf.mul(0.5, tf.sum(tf.mul(tf.matMul(Hs, Uhh), Hs), 1)), tf.reshape(tf.matMul(Hs, bh), [-1]));
        const cross = tf.matMul(tf.matMul(V, Uvh), Hs, false, true); // [2^D, 2^H]
        F = tf.add(F, tf.logSumExp(tf.add(cross, tf.reshape(Ah, [1, 1 << H])), 1));
      }
      return F as tf.Tensor1D;
    });
  }

  /** F(v) for every visible configuration, in float64 */
  async logMarginals(): Promise<Float64Array> {
    const F = this.logMarginalTensor();
    try {
      return Float64Array.from(await F.data());
    } finally {
      F.dispose();
    }
  }

  /** log Z, exact */
  async logPartition(): Promise<number> {
    return logSumExp64(await this.logMarginals());
  }

  /**
   * The exact p(v) of every one of the 2^D visible configurations; configuration k has
   * visible unit i = bit i of k (pixel i in row-major order).
   */
  async probabilities(): Promise<Float64Array> {
    return probabilitiesOf(await this.logMarginals());
  }

  /** the configuration index of each row (bit i = unit i); rows must be 0/1 */
  async configIndex(x: Float32Array | tf.Tensor2D): Promise<Int32Array> {
    return this.indexOf(x instanceof Float32Array ? x : ((await x.data()) as Float32Array));
  }

  private indexOf(v: Float32Array): Int32Array {
    const D = this.D;
    if (v.length % D !== 0) throw new Error(`boltzmann: rows of ${D} values expected`);
    const n = v.length / D;
    const idx = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      let k = 0;
      for (let i = 0; i < D; i++) {
        const a = v[r * D + i];
        if (a === 1) k |= 1 << i;
        else if (a !== 0) throw new Error(`boltzmann: the data must be binary (0/1), found ${a}`);
      }
      idx[r] = k;
    }
    return idx;
  }

  /** the exact mean NLL of a batch (a scalar tensor, differentiable): log Z - mean_rows F(v) */
  async meanNll(x: tf.Tensor2D): Promise<tf.Scalar> {
    return this.meanNllOf(await this.configIndex(x));
  }

  /** meanNll of the rows with these configuration indices */
  private meanNllOf(idx: Int32Array): tf.Scalar {
    const w = new Float32Array(1 << this.D);
    for (const k of idx) w[k] += 1 / idx.length;
    return tf.tidy(() => {
      const F = this.logMarginalTensor();
      return tf.sub(tf.logSumExp(F), tf.sum(tf.mul(F, tf.tensor1d(w)))) as tf.Scalar;
    });
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    this.need();
    const idx = await this.configIndex(x);
    this.pendingF = null;
    this.hostF = null;
    const loss = ctx.minimize('boltzmann', () => this.meanNllOf(idx), [this.U!, this.b!]);
    // F(v) of the updated weights for `sample`, read back with the loss
    let F: tf.Tensor1D | null = null;
    try {
      F = this.logMarginalTensor();
      const [l, f] = await Promise.all([loss.data(), F.data()]);
      this.hostF = Float64Array.from(f);
      this.pendingError = null;
      return { 'train/loss': l[0] };
    } finally {
      tf.dispose([loss, F ?? []]);
    }
  }

  /** -log p(v) per row in nats, exact */
  async testNll(x: tf.Tensor2D, _seed?: number): Promise<TestNll> {
    this.need();
    const idx = await this.configIndex(x);
    const F = await this.logMarginals();
    const logZ = logSumExp64(F);
    const nll = new Float32Array(idx.length);
    for (let r = 0; r < idx.length; r++) nll[r] = logZ - F[idx[r]];
    return { nll, kind: 'exact', details: { logZ } };
  }

  async evaluate(val: tf.Tensor2D, _seed?: number): Promise<Record<string, MetricValue>> {
    const { nll, details } = await this.testNll(val);
    let mean = 0;
    for (const v of nll) mean += v / nll.length;
    return {
      'val/nll': { value: mean, kind: 'exact' },
      'val/bits_per_dim': { value: mean / (this.D * Math.LN2), kind: 'exact' },
      'val/log_z': { value: details!.logZ, kind: 'info' },
    };
  }

  /** one uniform per sample: the exact sampler inverts p(v)'s cumulative distribution at it */
  noise(n: number, seed: number): tf.Tensor2D {
    const bank = uniform([n, 1], seed) as tf.Tensor2D;
    noiseBanks.set(bank, uniformValues(seed, n));
    return bank;
  }

  /**
   * n exact draws from p(v), [n, D] 0/1. `noise` must come from `noise` (its uniforms are
   * known on the host without a read).
   */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need();
    let u: Float32Array;
    if (noise) {
      const known = noiseBanks.get(noise);
      if (!known) throw new Error('boltzmann.sample: the noise must come from model.noise(n, seed)');
      u = known;
    } else u = uniformValues(seed, n); // the values of this.noise(n, seed)
    const p = probabilitiesOf(this.marginalsOnHost());
    const cdf = new Float64Array(p.length);
    let acc = 0;
    for (let k = 0; k < p.length; k++) cdf[k] = acc += p[k];
    const D = this.D;
    const out = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      const target = u[r % u.length] * acc;
      let lo = 0;
      let hi = p.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cdf[mid] > target) hi = mid;
        else lo = mid + 1;
      }
      for (let i = 0; i < D; i++) out[r * D + i] = (lo >> i) & 1;
    }
    return tf.tensor2d(out, [n, D]);
  }

  /** the couplings and biases the energy uses: U (K x K, symmetric, zero diagonal) and b (K); units are visible, then hidden */
  async couplings(): Promise<{ U: Float32Array; b: Float32Array; visible: number; hidden: number }> {
    this.need();
    const Us = this.couplingsTensor();
    try {
      const [U, b] = await Promise.all([Us.data(), this.b!.data()]);
      return { U: Float32Array.from(U as Float32Array), b: Float32Array.from(b as Float32Array), visible: this.D, hidden: this.config.hidden };
    } finally {
      Us.dispose();
    }
  }

  /**
   * Gibbs sampling unit by unit: p(x_i = 1 | rest) = s(b_i + sum_j U_ij x_j). Each sweep
   * updates every unit that is not clamped, visible then hidden; clamped visible units
   * keep their `init` values, so the chain samples p(free | clamped).
   */
  async gibbs(opts: GibbsOptions = {}): Promise<GibbsResult> {
    this.need();
    const D = this.D;
    const H = this.config.hidden;
    const K = D + H;
    const n = Math.max(1, Math.floor(opts.n ?? 16));
    const sweeps = Math.max(0, Math.floor(opts.steps ?? 100));
    const every = Math.max(1, Math.floor(opts.every ?? 1));
    const rng = mulberry32(opts.seed ?? 0);
    const { U, b } = await this.couplings();
    const clamped = new Uint8Array(D);
    if (opts.clamp !== undefined) {
      if (opts.clamp.length !== D) throw new Error(`boltzmann.gibbs: clamp needs ${D} flags (one per visible unit), got ${opts.clamp.length}`);
      if (opts.init === undefined) throw new Error('boltzmann.gibbs: clamp needs init (the values to hold)');
      for (let i = 0; i < D; i++) clamped[i] = opts.clamp[i] ? 1 : 0;
    }
    const x = new Float32Array(n * K);
    const fill = (rows: Rows | undefined, offset: number, width: number, what: string) => {
      if (width === 0) return;
      if (rows === undefined) {
        for (let r = 0; r < n; r++) for (let i = 0; i < width; i++) x[r * K + offset + i] = rng.next() < 0.5 ? 1 : 0;
        return;
      }
      const nested = rows.length > 0 && typeof (rows as ArrayLike<unknown>)[0] !== 'number';
      const flat: ArrayLike<number> = nested ? (rows as ArrayLike<number>[]).flatMap((row) => Array.from(row)) : (rows as ArrayLike<number>);
      if (flat.length !== width && flat.length !== n * width) throw new Error(`boltzmann.gibbs: ${what} needs ${n} rows of ${width} values (or one row), got ${flat.length} values`);
      const one = flat.length === width;
      for (let r = 0; r < n; r++) for (let i = 0; i < width; i++) x[r * K + offset + i] = flat[one ? i : r * width + i] >= 0.5 ? 1 : 0;
    };
    fill(opts.init, 0, D, 'init');
    fill(opts.initHidden, D, H, 'initHidden');
    const visible = () => {
      const v = new Float32Array(n * D);
      for (let r = 0; r < n; r++) for (let i = 0; i < D; i++) v[r * D + i] = x[r * K + i];
      return v;
    };
    const frames = [visible()];
    let last = 0;
    for (let t = 1; t <= sweeps; t++) {
      for (let r = 0; r < n; r++) {
        const row = r * K;
        for (let i = 0; i < K; i++) {
          if (i < D && clamped[i]) continue;
          let a = b[i];
          const ui = i * K;
          for (let j = 0; j < K; j++) a += U[ui + j] * x[row + j];
          x[row + i] = rng.next() < 1 / (1 + Math.exp(-a)) ? 1 : 0;
        }
      }
      if (t % every === 0) {
        frames.push(visible());
        last = t;
      }
    }
    if (last !== sweeps) frames.push(visible());
    const hidden = new Float32Array(n * H);
    for (let r = 0; r < n; r++) for (let i = 0; i < H; i++) hidden[r * H + i] = x[r * K + D + i];
    return { frames, visible: visible(), hidden, n, sweeps };
  }

  getWeights(): NamedWeight[] {
    this.need();
    return [
      { name: 'boltzmann/U', tensor: this.U! },
      { name: 'boltzmann/b', tensor: this.b! },
    ];
  }

  /** loads U (made symmetric with a zero diagonal) and b */
  setWeights(weights: NamedWeight[]): void {
    this.need();
    loadNamed(weights, { 'boltzmann/U': this.U!, 'boltzmann/b': this.b! });
    const Us = this.couplingsTensor();
    this.U!.assign(Us);
    Us.dispose();
    this.readMarginalsLater();
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    for (const t of [this.U, this.b, this.mask, this.V, this.Hs]) t?.dispose();
  }
}
