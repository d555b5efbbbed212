// Convolutional RBM with probabilistic max-pooling (Lee, Grosse, Ranganath & Ng 2009) on
// binary images v (Hv × Wv). K filters W^k (F × F) are shared across the image; hidden map k
// is the "valid" size Hh × Wh = (Hv − F + 1) × (Wv − F + 1), split into C × C pooling blocks
// B_α in which AT MOST ONE hidden unit is on. With I^k_ij = c_k + (W̃^k ⋆ v)_ij (⋆: the
// valid cross-correlation, i.e. the filter slid over the image):
//   E(v, h) = −Σ_k Σ_ij h^k_ij I^k_ij − b Σ_i v_i,   subject to Σ_{ij ∈ B_α} h^k_ij ≤ 1
// (b is one visible bias shared by every pixel). The conditionals:
//   p(h^k_ij = 1 | v) = exp(I^k_ij) / (1 + Σ_{i'j' ∈ B_α} exp(I^k_i'j')),  p(block off | v) = 1 / (1 + Σ …)
//   p(v_i = 1 | h) = σ(b + (Σ_k W^k ∗ h^k)_i)     (∗: the full convolution, the adjoint of ⋆)
// and with h summed out block by block, the free energy is closed-form:
//   F(v) = −b Σ_i v_i − Σ_k Σ_α log(1 + Σ_{ij ∈ B_α} exp(I^k_ij)),   −log p(v) = F(v) + log Z.
// The pooling unit p^k_α (on when any unit of its block is on) is what a second layer would see.
//
// Training: CD-k (negatives from k Gibbs sweeps started at the batch) or PCD (`persistent`),
// through the run's optimizer, minimizing
//   mean F(v_data) − mean F(v_neg)    (v_neg held constant: the log-likelihood gradient)
// plus the sparsity update of Lee et al. (2008, 2009), which keeps each map's mean activation
// q_k = mean over the batch and map k of p(h^k_ij = 1 | v_data) near a small target p: the
// hidden bias c_k alone gets the extra gradient λ·(Hh·Wh)·(q_k − p) (as in their practice, only
// the biases are regularized). The shared visible bias starts at the logit of the first batch's mean pixel.
// Sampling h draws each block's state by the Gumbel-max trick; the block sums and maxima are
// average- and max-pooling, so everything stays in the [n, Hh, Wh, K] layout.
//
// log Z: exactly by enumerating v when the image has at most 20 pixels (tests), else by
// annealed importance sampling (`convAis`) from a base model with W = 0, c = 0 and per-pixel
// visible biases b_A (logits of a running mean of the training pixels):
//   log p*_β(v) = (1−β) b_Aᵀv + β b Σ v + Σ_{k,α} log(1 + Σ_{ij ∈ B_α} exp(β I^k_ij))
// whose conditionals are the same block softmax with β I and σ((1−β) b_A + β (b + Σ_k W^k ∗ h^k)).
// At β = 0: log Z_0 = Σ_i ζ(b_A,i) + K·(#blocks)·log(C² + 1) (each block has C² + 1 legal states).
import * as tf from '@tensorflow/tfjs';
import { betaSchedule, binaryStates, logMeanExp } from '../../eval/ais';
import { bernoulli, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { checkAis, clampMix, gibbsInputs, logit, perRow, requireBinary, type AisSettings, type GibbsRequest } from './rbm';

export type ConvRbmConfig = LatentLab.ConvRbmConfig;

/** images of at most this many pixels get an exact log Z (2^D visible states) */
export const CONV_EXACT_MAX_PIXELS = 20;

/** |Δ log Z| between the schedule used and 4× it below which an AIS estimate counts as converged (nats) */
export const AIS_TOLERANCE = 0.5;

const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** The parameters and geometry of a convolutional RBM, as the conditionals, F and AIS use them. */
export interface ConvParams {
  /** filters [F, F, 1, K] */
  W: tf.Tensor4D;
  /** shared visible bias [1] */
  b: tf.Tensor1D;
  /** hidden biases [K] */
  c: tf.Tensor1D;
  /** visible image height and width */
  Hv: number;
  Wv: number;
  /** pooling block side C */
  pool: number;
}

/** sizes derived from the parameters */
export function geometry(p: ConvParams): { F: number; K: number; Hh: number; Wh: number; Hb: number; Wb: number; D: number; blocks: number } {
  const [F, , , K] = p.W.shape;
  const Hh = p.Hv - F + 1;
  const Wh = p.Wv - F + 1;
  const Hb = Hh / p.pool;
  const Wb = Wh / p.pool;
  return { F, K, Hh, Wh, Hb, Wb, D: p.Hv * p.Wv, blocks: Hb * Wb * K };
}

/** I^k_ij = c_k + (W̃^k ⋆ v)_ij for rows v [n, D]: [n, Hh, Wh, K] */
export function hiddenInput(p: ConvParams, v: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    const img = tf.reshape(v, [v.shape[0], p.Hv, p.Wv, 1]) as tf.Tensor4D;
    return tf.add(tf.conv2d(img, p.W, 1, 'valid'), p.c) as tf.Tensor4D;
  });
}

/** each block's value repeated over its C × C units: [n, Hb, Wb, K] → [n, Hh, Wh, K] */
export function upsample(p: ConvParams, x: tf.Tensor4D): tf.Tensor4D {
  const { Hh, Wh } = geometry(p);
  return p.pool === 1 ? x : tf.image.resizeNearestNeighbor(x, [Hh, Wh]);
}

/** the sum over each C × C block: [n, Hh, Wh, K] → [n, Hb, Wb, K] */
export function blockSum(p: ConvParams, x: tf.Tensor4D): tf.Tensor4D {
  const C = p.pool;
  return C === 1 ? x : tf.tidy(() => tf.mul(tf.avgPool(x, C, C, 'valid'), C * C));
}

/** the max over each block and the "off" state's 0: m [n, Hb, Wb, K] */
function blockMax(p: ConvParams, x: tf.Tensor4D): tf.Tensor4D {
  const C = p.pool;
  return tf.tidy(() => tf.maximum(C === 1 ? x : tf.maxPool(x, C, C, 'valid'), 0));
}

/**
 * The block softmax of inputs a [n, Hh, Wh, K] (one block = its C² units and "off" with input 0):
 * lse = log(1 + Σ_block e^a) [n, Hb, Wb, K], P = p(unit on) [n, Hh, Wh, K], off = p(block off).
 * Stable: everything is shifted by the block's max (and 0).
 */
function blockSoftmax(p: ConvParams, a: tf.Tensor4D): { lse: tf.Tensor4D; P: tf.Tensor4D; off: tf.Tensor4D } {
  return tf.tidy(() => {
    const m = blockMax(p, a);
    const e = tf.exp(tf.sub(a, upsample(p, m)));
    const eOff = tf.exp(tf.neg(m));
    const S = tf.add(blockSum(p, e as tf.Tensor4D), eOff);
    return { lse: tf.add(m, tf.log(S)) as tf.Tensor4D, P: tf.div(e, upsample(p, S as tf.Tensor4D)) as tf.Tensor4D, off: tf.div(eOff, S) as tf.Tensor4D };
  });
}

/** log(1 + Σ_block e^a) per block, with the gradient p(unit on) (its exact derivative) */
function blockLse(p: ConvParams, a: tf.Tensor4D): tf.Tensor4D {
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const { lse, P } = blockSoftmax(p, x as tf.Tensor4D);
    save([P]);
    return { value: lse, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(upsample(p, dy as tf.Tensor4D), saved[0]) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(a) as tf.Tensor4D;
}

/** Σ_{k,α} log(1 + Σ_{ij ∈ B_α} exp(β I^k_ij)) per row: [n] */
function blockLogPartitions(p: ConvParams, v: tf.Tensor2D, beta = 1): tf.Tensor1D {
  return tf.tidy(() => {
    const I = hiddenInput(p, v);
    return tf.sum(blockLse(p, beta === 1 ? I : tf.mul(I, beta)), [1, 2, 3]) as tf.Tensor1D;
  });
}

/** F(v) = −b Σ v − Σ_{k,α} log(1 + Σ_{ij ∈ B_α} exp(I^k_ij)) per row: [n] */
export function freeEnergyOf(p: ConvParams, v: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.neg(tf.add(tf.mul(tf.sum(v, 1), p.b), blockLogPartitions(p, v))) as tf.Tensor1D);
}

/** p(h^k_ij = 1 | v) [n, Hh, Wh, K] and p(pool unit on | v) [n, Hb, Wb, K] */
export function hiddenProbsOf(p: ConvParams, v: tf.Tensor2D, beta = 1): { h: tf.Tensor4D; pool: tf.Tensor4D } {
  return tf.tidy(() => {
    const I = hiddenInput(p, v);
    const { P, off } = blockSoftmax(p, beta === 1 ? I : (tf.mul(I, beta) as tf.Tensor4D));
    return { h: P, pool: tf.sub(1, off) as tf.Tensor4D };
  });
}

/**
 * One draw from the block softmax of inputs a [n, Hh, Wh, K] by the Gumbel-max trick: every
 * unit and every block's "off" state gets an independent Gumbel(0, 1) draw; the unit whose
 * a + g is the largest of its block, and larger than the off state's g, is on. Exact: the
 * argmax of log-weights plus Gumbel noise is distributed as the softmax.
 */
export function sampleBlocks(p: ConvParams, a: tf.Tensor4D, seed: number): tf.Tensor4D {
  const { Hb, Wb, K } = geometry(p);
  return tf.tidy(() => {
    const n = a.shape[0];
    const rng = mulberry32(seed);
    const gumbel = (shape: number[]) => tf.neg(tf.log(tf.neg(tf.log(tf.clipByValue(uniform(shape, rng.seed()), 1e-12, 1 - 1e-7)))));
    const G = tf.add(a, gumbel(a.shape)) as tf.Tensor4D;
    const C = p.pool;
    const top = C === 1 ? G : tf.maxPool(G, C, C, 'valid');
    const win = tf.maximum(top, gumbel([n, Hb, Wb, K]));
    return tf.cast(tf.greaterEqual(G, upsample(p, win as tf.Tensor4D)), 'float32') as tf.Tensor4D;
  });
}

/** h ~ p_β(h | v) under the pooling constraint: [n, Hh, Wh, K] binary, at most one unit on per block */
export function sampleHiddenOf(p: ConvParams, v: tf.Tensor2D, seed: number, beta = 1): tf.Tensor4D {
  return tf.tidy(() => {
    const I = hiddenInput(p, v);
    return sampleBlocks(p, beta === 1 ? I : (tf.mul(I, beta) as tf.Tensor4D), seed);
  });
}

/** b + (Σ_k W^k ∗ h^k): the logits of p(v | h), [n, D] */
export function visibleLogitsOf(p: ConvParams, h: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const n = h.shape[0];
    const back = tf.conv2dTranspose(h, p.W, [n, p.Hv, p.Wv, 1], 1, 'valid');
    return tf.add(tf.reshape(back, [n, p.Hv * p.Wv]), p.b) as tf.Tensor2D;
  });
}

export interface ConvAisOptions {
  chains?: number;
  /** intermediate distributions K (spaced by eval/ais's betaSchedule) */
  betas?: number;
  seed?: number;
  /** the base model's per-pixel visible logits b_A [D] (default 0) */
  base?: ArrayLike<number>;
}

export interface ConvAisResult {
  logZ: number;
  /** delta-method standard error of log Z: std(w) / (√M · mean(w)) */
  stderr: number;
  logZ0: number;
  chains: number;
  betas: number;
  /** the chains' final log weights (without log Z_0) */
  logW: Float64Array;
  /** effective sample size (Σw)² / Σw² of the weights */
  ess: number;
}

/** (Σw)² / Σw² from log weights */
export function effectiveSampleSize(logW: ArrayLike<number>): number {
  let max = -Infinity;
  for (let m = 0; m < logW.length; m++) max = Math.max(max, logW[m]);
  let s = 0;
  let s2 = 0;
  for (let m = 0; m < logW.length; m++) {
    const w = Math.exp(logW[m] - max);
    s += w;
    s2 += w * w;
  }
  return (s * s) / s2;
}

const AIS_READ_EVERY = 64;

/**
 * log Z of a convolutional RBM by annealed importance sampling (see the top of this file).
 * Each step adds log p*_k(v) − log p*_{k−1}(v); per block the change of log(1 + Σ exp(β I)) is
 * log Σ_s π_s exp(Δβ I_s) = log1p(Σ_s π_s expm1(Δβ I_s)) with π the block softmax at β_{k−1}
 * (no cancellation between two large log-sums), then one Gibbs sweep leaves p_k invariant.
 */
export async function convAis(p: ConvParams, opts: ConvAisOptions = {}): Promise<ConvAisResult> {
  const { D, blocks } = geometry(p);
  const M = Math.max(1, Math.floor(opts.chains ?? 100));
  const betas = betaSchedule(opts.betas ?? 2000);
  const K = betas.length - 1;
  const baseArr = opts.base !== undefined ? Float32Array.from(opts.base) : new Float32Array(D);
  if (baseArr.length !== D) throw new Error(`convrbm AIS: base needs ${D} values, got ${baseArr.length}`);
  const rng = mulberry32((opts.seed ?? 0) ^ 0x6c0f5a3d);
  let logZ0 = blocks * Math.log(p.pool * p.pool + 1);
  for (const a of baseArr) logZ0 += softplus64(a);
  const logW = new Float64Array(M);
  const bA = tf.tensor1d(baseArr);
  // b Σ v − b_Aᵀv = vᵀ(b − b_A)
  const bDiff = tf.tidy(() => tf.reshape(tf.sub(p.b, bA), [D, 1]));
  let x = tf.tidy(() => bernoulli(tf.tile(tf.reshape(tf.sigmoid(bA), [1, D]), [M, 1]), rng.seed()) as tf.Tensor2D);
  let unread: tf.Tensor[] = [];
  const readBack = async () => {
    const incs = unread;
    unread = [];
    if (incs.length === 0) return;
    const all = tf.tidy(() => tf.stack(incs));
    try {
      const d = await all.data();
      for (let j = 0; j < incs.length; j++) for (let m = 0; m < M; m++) logW[m] += d[j * M + m];
    } finally {
      tf.dispose(incs);
      all.dispose();
    }
  };
  try {
    for (let k = 1; k <= K; k++) {
      const bPrev = betas[k - 1];
      const bk = betas[k];
      const db = bk - bPrev;
      const last = k === K;
      const s1 = rng.seed();
      const s2 = rng.seed();
      const { inc, next } = tf.tidy((): { inc: tf.Tensor; next?: tf.Tensor2D } => {
        const I = hiddenInput(p, x);
        const d = tf.mul(I, db) as tf.Tensor4D;
        // per block: log Σ_s π_s e^{Δβ I_s} over the block softmax π at β_{k−1} (off: Δβ·0 = 0)
        const prev = blockSoftmax(p, tf.mul(I, bPrev) as tf.Tensor4D);
        const stable = tf.log1p(tf.maximum(blockSum(p, tf.mul(prev.P, tf.expm1(tf.clipByValue(d, -20, 20))) as tf.Tensor4D), -1 + 1e-7));
        const plain = tf.sub(blockSoftmax(p, tf.mul(I, bk) as tf.Tensor4D).lse, prev.lse);
        const perBlock = tf.where(tf.less(blockMax(p, tf.abs(d) as tf.Tensor4D), 20), stable, plain);
        const hidden = tf.sum(perBlock, [1, 2, 3]);
        const lin = tf.mul(tf.reshape(tf.matMul(x, bDiff), [M]), db);
        const inc = tf.add(lin, hidden);
        if (last) return { inc };
        const h = sampleBlocks(p, tf.mul(I, bk) as tf.Tensor4D, s1);
        const field = tf.add(tf.mul(bA, 1 - bk), tf.mul(visibleLogitsOf(p, h), bk));
        return { inc, next: bernoulli(tf.sigmoid(field), s2) as tf.Tensor2D };
      });
      unread.push(inc);
      if (next) {
        x.dispose();
        x = next;
      }
      if (unread.length >= AIS_READ_EVERY || last) await readBack();
    }
  } finally {
    tf.dispose([x, bA, bDiff, ...unread]);
  }
  for (let m = 0; m < M; m++) if (!Number.isFinite(logW[m])) throw new Error(`convrbm AIS: a non-finite importance weight (${logW[m]}): the parameters are not finite or too large`);
  const { value, stderr } = logMeanExp(logW);
  return { logZ: logZ0 + value, stderr, logZ0, chains: M, betas: K, logW, ess: effectiveSampleSize(logW) };
}

/** log Z by enumerating all 2^D binary images (D ≤ 20): logsumexp_v −F(v), summed in float64 */
export async function convExactLogZ(p: ConvParams): Promise<number> {
  const { D } = geometry(p);
  if (D > CONV_EXACT_MAX_PIXELS) throw new Error(`convrbm: exact log Z enumerates the 2^D images, so at most ${CONV_EXACT_MAX_PIXELS} pixels (this image has ${D})`);
  const total = 2 ** D;
  const chunk = Math.min(total, 4096);
  let max = -Infinity;
  let acc = 0;
  for (let start = 0; start < total; start += chunk) {
    const n = Math.min(chunk, total - start);
    const t = tf.tidy(() => tf.neg(freeEnergyOf(p, tf.tensor2d(binaryStates(D, start, n), [n, D]))));
    let f: tf.TypedArray;
    try {
      f = (await t.data()) as tf.TypedArray;
    } finally {
      t.dispose();
    }
    for (let r = 0; r < n; r++) {
      const v = f[r];
      if (v > max) {
        acc = acc * Math.exp(max - v) + 1;
        max = v;
      } else acc += Math.exp(v - max);
    }
  }
  return max + Math.log(acc);
}

interface Partition {
  logZ: number;
  stderr: number;
  exact: boolean;
  chains: number;
  betas: number;
  ess: number;
}

const meanOf = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / Math.max(1, a.length);
};

export class ConvRbm implements Model {
  readonly family = 'convrbm';
  readonly config: { filters: number; filterSize: number; pool: number; k: number; persistent: boolean; sparsity: number; sparsityCost: number; initScale: number; sampleSteps: number; ais: Required<AisSettings> };
  private W: tf.Variable | null = null;
  private b: tf.Variable | null = null;
  private c: tf.Variable | null = null;
  /** running mean of the training pixels: the AIS base model and the start of `sample` */
  private baseMean: tf.Variable | null = null;
  private Hv = 0;
  private Wv = 0;
  private initialized = false;
  private seen = 0;
  private chains: tf.Tensor2D | null = null;
  private version = 0;
  private cachedZ = new Map<string, Partition>();

  constructor(cfg: ConvRbmConfig = {}) {
    this.config = {
      filters: cfg.filters ?? 24,
      filterSize: cfg.filterSize ?? 7,
      pool: cfg.pool ?? 2,
      k: cfg.k ?? 1,
      persistent: cfg.persistent ?? false,
      sparsity: cfg.sparsity ?? 0.02,
      sparsityCost: cfg.sparsityCost ?? 1,
      initScale: cfg.initScale ?? 0.01,
      sampleSteps: cfg.sampleSteps ?? 1000,
      ais: checkAis('convrbm', cfg.ais),
    };
    const c = this.config;
    const posInt = (v: number) => Number.isInteger(v) && v >= 1;
    if (!posInt(c.filters)) throw new Error(`convrbm: filters must be an integer >= 1, got ${cfg.filters}`);
    if (!posInt(c.filterSize)) throw new Error(`convrbm: filterSize must be an integer >= 1, got ${cfg.filterSize}`);
    if (!posInt(c.pool)) throw new Error(`convrbm: pool must be an integer >= 1, got ${cfg.pool}`);
    if (!posInt(c.k)) throw new Error(`convrbm: k must be an integer >= 1, got ${cfg.k}`);
    if (!(c.sparsity > 0 && c.sparsity < 1)) throw new Error(`convrbm: sparsity (the target mean activation) must be in (0, 1), got ${cfg.sparsity}`);
    if (!(c.sparsityCost >= 0)) throw new Error(`convrbm: sparsityCost must be >= 0, got ${cfg.sparsityCost}`);
    if (!(c.initScale >= 0)) throw new Error('convrbm: initScale must be >= 0');
    if (!posInt(c.sampleSteps)) throw new Error('convrbm: sampleSteps must be an integer >= 1');
  }

  get built(): boolean {
    return this.W !== null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/recon': 'info',
      'train/free_energy_gap': 'info',
      'train/sparsity': 'info',
      'val/recon': 'info',
      'val/free_energy': 'info',
      'val/pseudo_ll': 'info',
      'val/sparsity': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('convrbm: model already built (create a new one per run)');
    if (data.kind !== 'image' || !data.binary) throw new Error('convrbm: models binary images (e.g. lab.data.mnist({ binarize: true }))');
    const D = data.shape.reduce((a, b) => a * b, 1);
    let [Hv, Wv] = data.shape.length === 2 ? data.shape : [Math.round(Math.sqrt(D)), Math.round(Math.sqrt(D))];
    if (Hv * Wv !== D) [Hv, Wv] = [1, D];
    const { filterSize: F, pool: C, filters: K } = this.config;
    const Hh = Hv - F + 1;
    const Wh = Wv - F + 1;
    if (Hh < 1 || Wh < 1) throw new Error(`convrbm: ${F}×${F} filters do not fit in ${Hv}×${Wv} images`);
    if (Hh % C !== 0 || Wh % C !== 0) throw new Error(`convrbm: the hidden maps (${Hh}×${Wh} = image − filterSize + 1) must split into ${C}×${C} pooling blocks; pick filterSize or pool so that ${C} divides both sides`);
    this.Hv = Hv;
    this.Wv = Wv;
    const w = new Float32Array(F * F * K);
    for (let i = 0; i < w.length; i++) w[i] = this.config.initScale * rng.normal();
    this.W = tf.variable(tf.tensor4d(w, [F, F, 1, K]), true, uniqueName('convrbm_W'));
    this.b = tf.variable(tf.zeros([1]), true, uniqueName('convrbm_b'));
    // hidden biases start negative so the maps start sparse (Lee et al. start them small and negative)
    this.c = tf.variable(tf.fill([K], -2), true, uniqueName('convrbm_c'));
    this.baseMean = tf.variable(tf.fill([D], 0.5), false, uniqueName('convrbm_base'));
  }

  private need(): ConvParams {
    if (!this.W) throw new Error('convrbm: build the model first (lab.train builds it on its data)');
    return { W: this.W as tf.Tensor4D, b: this.b as tf.Tensor1D, c: this.c as tf.Tensor1D, Hv: this.Hv, Wv: this.Wv, pool: this.config.pool };
  }

  /** the parameters and geometry (for AIS and tests) */
  params(): ConvParams {
    return this.need();
  }

  get D(): number {
    return this.Hv * this.Wv;
  }

  /** F(v) per row: −log p(v) = F(v) + log Z */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    return freeEnergyOf(this.need(), v);
  }

  /** p(h^k_ij = 1 | v) [n, Hh, Wh, K] and p(pool on | v) [n, Hb, Wb, K] */
  hiddenProbs(v: tf.Tensor2D): { h: tf.Tensor4D; pool: tf.Tensor4D } {
    return hiddenProbsOf(this.need(), v);
  }

  /** a draw h ~ p(h | v), [n, Hh, Wh, K] */
  sampleHidden(v: tf.Tensor2D, seed: number): tf.Tensor4D {
    return sampleHiddenOf(this.need(), v, seed);
  }

  /** p(v_i = 1 | h) = σ(b + Σ_k W^k ∗ h^k), [n, D] */
  visibleProb(h: tf.Tensor4D): tf.Tensor2D {
    const p = this.need();
    return tf.tidy(() => tf.sigmoid(visibleLogitsOf(p, h)));
  }

  private sampleVisible(h: tf.Tensor4D, seed: number): tf.Tensor2D {
    const p = this.need();
    return tf.tidy(() => bernoulli(tf.sigmoid(visibleLogitsOf(p, h)), seed) as tf.Tensor2D);
  }

  /** first batch: the shared visible bias from the mean pixel; every batch: the base's running mean */
  private observe(x: tf.Tensor2D): void {
    const base = this.baseMean!;
    if (!this.initialized) {
      tf.tidy(() => {
        const m = tf.clipByValue(tf.mean(x), 1e-3, 1 - 1e-3);
        this.b!.assign(tf.reshape(tf.log(tf.div(m, tf.sub(1, m))), [1]));
        base.assign(tf.mean(x, 0));
      });
      this.initialized = true;
      this.seen = 1;
      return;
    }
    this.seen = Math.min(this.seen + 1, 100);
    const rate = 1 / this.seen;
    tf.tidy(() => base.assign(tf.add(base, tf.mul(tf.sub(tf.mean(x, 0), base), rate))));
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    const p = this.need();
    this.observe(x);
    const rng = mulberry32(ctx.seed());
    const B = x.shape[0];
    const { k, persistent, sparsity, sparsityCost } = this.config;
    if (persistent && (!this.chains || this.chains.shape[0] !== B)) {
      this.chains?.dispose();
      this.chains = tf.clone(x);
    }
    const start = persistent ? this.chains! : x;
    const { neg, recon } = tf.tidy(() => {
      let v = start;
      let recon: tf.Scalar | null = null;
      for (let t = 0; t < k; t++) {
        const h = this.sampleHidden(v, rng.seed());
        if (t === 0 && !persistent) recon = tf.mean(tf.sum(tf.square(tf.sub(x, this.visibleProb(h))), 1)) as tf.Scalar;
        v = this.sampleVisible(h, rng.seed());
      }
      recon ??= tf.mean(tf.sum(tf.square(tf.sub(x, this.visibleProb(this.sampleHidden(x, rng.seed())))), 1)) as tf.Scalar;
      return { neg: v, recon };
    });
    // each map's mean activation on the batch: the sparsity target's error q_k − p
    const qErr = tf.tidy(() => tf.sub(tf.mean(hiddenProbsOf(p, x).h, [0, 1, 2]), sparsity));
    const units = geometry(p).Hh * geometry(p).Wh;
    let gap: tf.Scalar | null = null;
    const loss = ctx.minimize(
      'convrbm',
      () => {
        // the data's hidden inputs serve both F(v_data) and the sparsity term
        const g = tf.sub(tf.mean(freeEnergyOf(p, x)), tf.mean(freeEnergyOf(p, neg))) as tf.Scalar;
        gap = tf.keep(tf.clone(g));
        // gradient λ·(units per map)·(q_k − p) on the hidden bias c_k only (q held constant): Lee et al.'s sparsity update
        return tf.add(g, tf.mul(sparsityCost * units, tf.sum(tf.mul(qErr, this.c!)))) as tf.Scalar;
      },
      [this.W!, this.b!, this.c!],
    );
    const act = tf.tidy(() => tf.add(tf.mean(qErr), sparsity) as tf.Scalar);
    qErr.dispose();
    loss.dispose();
    if (persistent) {
      this.chains!.dispose();
      this.chains = neg;
    } else neg.dispose();
    this.version++;
    return { 'train/recon': recon, 'train/free_energy_gap': gap!, 'train/sparsity': act };
  }

  /** log Z exactly by enumerating v (images of at most 20 pixels) */
  exactLogZ(): Promise<number> {
    return convExactLogZ(this.need());
  }

  /** the AIS base model's per-pixel logits: logits of the running pixel means */
  async aisBase(): Promise<Float32Array> {
    const m = (await this.baseMean!.data()) as Float32Array;
    return Float32Array.from(m, (q) => logit(Math.min(1 - 1e-3, Math.max(1e-3, q))));
  }

  /** log Z by AIS; defaults: the config's chains and betas, seed 0 */
  async logZ(opts: { chains?: number; betas?: number; seed?: number } = {}): Promise<ConvAisResult> {
    const p = this.need();
    return convAis(p, { chains: opts.chains ?? this.config.ais.chains, betas: opts.betas ?? this.config.ais.betas, seed: opts.seed ?? 0, base: await this.aisBase() });
  }

  private async partition(settings: Required<AisSettings>, seed: number): Promise<Partition> {
    const key = `${this.version}:${seed}:${settings.chains}:${settings.betas}`;
    const hit = this.cachedZ.get(key);
    if (hit) return hit;
    const p = this.need();
    let value: Partition;
    if (this.D <= CONV_EXACT_MAX_PIXELS) value = { logZ: await convExactLogZ(p), stderr: 0, exact: true, chains: 0, betas: 0, ess: 0 };
    else {
      const r = await convAis(p, { chains: settings.chains, betas: settings.betas, seed, base: await this.aisBase() });
      value = { logZ: r.logZ, stderr: r.stderr, exact: false, chains: r.chains, betas: r.betas, ess: r.ess };
    }
    if (this.cachedZ.size > 8) this.cachedZ.clear();
    this.cachedZ.set(key, value);
    return value;
  }

  /**
   * −log p(v) = F(v) + log Z per row, in nats. log Z is exact for images of at most 20 pixels
   * (kind 'exact'), else an AIS estimate (kind 'estimate') with `opts.ais` (or the config's)
   * chains and temperatures; unless `opts.convergence === false` AIS runs again at 4× the
   * temperatures, and `convergence` reports both, with the weights' effective sample size. An
   * unconverged estimate (|Δ| ≥ 0.5 nats) gets a stderr that covers the gap.
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts: EstimatorOptions = {}): Promise<TestNll> {
    const p = this.need();
    await requireBinary('convrbm', x);
    const settings = checkAis('convrbm', { chains: opts.ais?.chains ?? this.config.ais.chains, betas: opts.ais?.betas ?? this.config.ais.betas });
    const F = await perRow(x, (rows) => freeEnergyOf(p, rows), 500);
    const Z = await this.partition(settings, seed);
    const nll = Float32Array.from(F, (f) => f + Z.logZ);
    for (const v of nll) if (!Number.isFinite(v)) throw new Error(`convrbm: a non-finite NLL (${v}): the model diverged`);
    if (Z.exact) return { nll, kind: 'exact', details: { logZ: Z.logZ } };
    const details: Record<string, number> = { logZ: Z.logZ, logZStderr: Z.stderr, chains: Z.chains, betas: Z.betas, ess: Z.ess };
    if (opts.convergence === false) return { nll, kind: 'estimate', stderr: Z.stderr, details };
    const Z4 = await this.partition({ chains: settings.chains, betas: 4 * settings.betas }, seed + 1);
    const mean = meanOf(nll);
    const gap = Z4.logZ - Z.logZ;
    const converged = Math.abs(gap) < AIS_TOLERANCE;
    details.logZ4x = Z4.logZ;
    return {
      nll,
      kind: 'estimate',
      stderr: converged ? Z.stderr : Math.max(Z.stderr, Math.abs(gap)),
      details,
      convergence: { knob: 'betas', at: settings.betas, nll: mean, at4x: 4 * settings.betas, nll4x: mean + gap, tolerance: AIS_TOLERANCE, converged, ess: Z.ess, essOf: settings.chains },
    };
  }

  /**
   * Cheap numbers for the training curve (no log Z): reconstruction error, mean free energy,
   * the stochastic pseudo-log-likelihood D · log σ(F(ṽ) − F(v)) (ṽ: one random pixel flipped),
   * and the mean hidden activation (the sparsity the regularizer aims at).
   */
  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const p = this.need();
    const n = val.shape[0];
    const D = this.D;
    const rng = mulberry32(seed);
    const hs = rng.seed();
    const recon = await perRow(val, (rows, s) => tf.tidy(() => tf.sum(tf.square(tf.sub(rows, this.visibleProb(this.sampleHidden(rows, hs + s)))), 1) as tf.Tensor1D), 500);
    const act = await perRow(val, (rows) => tf.tidy(() => tf.mean(hiddenProbsOf(p, rows).h, [1, 2, 3]) as tf.Tensor1D), 500);
    const F = await perRow(val, (rows) => freeEnergyOf(p, rows), 500);
    const flip = new Float32Array(n * D);
    for (let r = 0; r < n; r++) flip[r * D + rng.int(D)] = 1;
    const flips = tf.tensor2d(flip, [n, D]);
    let pl: Float32Array;
    try {
      pl = await perRow(
        val,
        (rows, s) =>
          tf.tidy(() => {
            const f = tf.slice(flips, [s, 0], [rows.shape[0], D]);
            const flipped = tf.add(tf.mul(rows, tf.sub(1, tf.mul(2, f))), f) as tf.Tensor2D;
            return tf.mul(-D, tf.softplus(tf.sub(freeEnergyOf(p, rows), freeEnergyOf(p, flipped)))) as tf.Tensor1D;
          }),
        500,
      );
    } finally {
      flips.dispose();
    }
    return {
      'val/recon': { value: meanOf(recon), kind: 'info' },
      'val/free_energy': { value: meanOf(F), kind: 'info' },
      'val/pseudo_ll': { value: meanOf(pl), kind: 'info' },
      'val/sparsity': { value: meanOf(act), kind: 'info' },
    };
  }

  /** uniform draws [n, D]: `sample` starts each pixel on where the draw is below the data's pixel mean */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need();
    return uniform([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * `sampleSteps` block-Gibbs sweeps from independent pixels with the data's means (the AIS
   * base model, through `noise`); returns p(v | h) of the last sweep, in [0, 1].
   */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need();
    const rng = mulberry32(seed ^ 0x5eed);
    const z = noise ?? this.noise(n, seed);
    let v = tf.tidy(() => tf.cast(tf.less(z, tf.clipByValue(this.baseMean!, 1e-3, 1 - 1e-3)), 'float32') as tf.Tensor2D);
    if (z !== noise) z.dispose();
    let mean: tf.Tensor2D | null = null;
    for (let t = 0; t < this.config.sampleSteps; t++) {
      const h = this.sampleHidden(v, rng.seed());
      const last = t === this.config.sampleSteps - 1;
      if (last) mean = this.visibleProb(h);
      else {
        const next = this.sampleVisible(h, rng.seed());
        v.dispose();
        v = next;
      }
      h.dispose();
    }
    v.dispose();
    return mean!;
  }

  /** the K filters as rows [K, F·F] (for lab.views.filters) */
  async filters(layer = 1): Promise<{ data: Float32Array; count: number; dim: number }> {
    const p = this.need();
    if (layer !== 1) throw new Error(`convrbm.filters: one layer of filters (layer 1), not layer ${layer}`);
    const { F, K } = geometry(p);
    const t = tf.tidy(() => tf.transpose(tf.reshape(p.W, [F * F, K])));
    try {
      return { data: Float32Array.from((await t.data()) as Float32Array), count: K, dim: F * F };
    } finally {
      t.dispose();
    }
  }

  /**
   * Block Gibbs sampling h ~ p(h | v) (block softmax), v ~ p(v | h), `n` chains: frames of
   * p(v | h) (n × D) after every `every` sweeps and after the last; the first frame is the start
   * (`init`, else each pixel 0/1 with probability ½). Clamped pixels keep init's values.
   */
  async gibbs(req: GibbsRequest): Promise<Float32Array[]> {
    this.need();
    const D = this.D;
    const { n, steps, every, init, mask } = gibbsInputs('convrbm', req, D);
    const rng = mulberry32(req.seed);
    const initT = init ? tf.tensor2d(init, [n, D]) : null;
    const maskT = mask ? tf.tensor2d(mask, [1, D]) : null;
    const start = initT ?? (tf.tidy(() => tf.cast(tf.less(uniform([n, D], rng.seed()), 0.5), 'float32')) as tf.Tensor2D);
    let v = tf.clone(start);
    const frames: Float32Array[] = [];
    try {
      frames.push(Float32Array.from((await start.data()) as Float32Array));
      for (let t = 1; t <= steps; t++) {
        const s1 = rng.seed();
        const s2 = rng.seed();
        const want = t % every === 0 || t === steps;
        const { next, frame } = tf.tidy((): { next: tf.Tensor2D; frame?: tf.Tensor2D } => {
          const h = this.sampleHidden(v, s1);
          let nv = this.sampleVisible(h, s2);
          if (maskT) nv = clampMix(nv, initT!, maskT);
          if (!want) return { next: nv };
          let m = this.visibleProb(h);
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
      tf.dispose([v, start, maskT ?? []]);
    }
    return frames;
  }

  getWeights(): NamedWeight[] {
    this.need();
    return [
      { name: 'convrbm/W', tensor: this.W! },
      { name: 'convrbm/b', tensor: this.b! },
      { name: 'convrbm/c', tensor: this.c! },
      { name: 'convrbm/base_mean', tensor: this.baseMean! },
    ];
  }

  setWeights(weights: NamedWeight[]): void {
    this.need();
    const vars: Record<string, tf.Variable> = { 'convrbm/W': this.W!, 'convrbm/b': this.b!, 'convrbm/c': this.c! };
    if (weights.some((w) => w.name === 'convrbm/base_mean')) vars['convrbm/base_mean'] = this.baseMean!;
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
    tf.dispose([this.W ?? [], this.b ?? [], this.c ?? [], this.baseMean ?? []]);
    this.chains?.dispose();
    this.chains = null;
  }
}
