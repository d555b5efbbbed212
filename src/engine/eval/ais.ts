// The partition function of a bipartite Boltzmann machine (an RBM): by annealed
// importance sampling (Neal 2001; Salakhutdinov & Murray 2008), or exactly by
// enumerating the smaller side when it has at most 20 units.
//
// One routine serves the RBM, the DBN's top RBM and the two-layer DBM: a DBM
// (v, h1, h2) is bipartite too, with x = (v, h2) on one side and h1 on the other
// (W = [W1; W2ᵀ], visible biases [b; c2], hidden biases c1).
//
// The machine, with x the "visible" side (V units) and h binary (H units):
//   bernoulli x:  E(x, h) = −bᵀx − cᵀh − xᵀWh
//   gaussian  x:  E(x, h) = ½‖x − b‖² − cᵀh − xᵀWh          (unit variance)
// and with h summed out, −F(x) = log Σ_h exp(−E(x, h)):
//   bernoulli:  −F(x) = bᵀx + Σ_j ζ(c_j + (xW)_j)
//   gaussian:   −F(x) = −½‖x − b‖² + Σ_j ζ(c_j + (xW)_j)
//
// AIS anneals from a base model A with W = 0 and visible biases b_A (the data's
// pixel-mean logits, or the data's means for gaussian x) through
//   log p*_β(x) = (1−β)·bA-part + β·(b-part) + Σ_j ζ(β (c_j + (xW)_j)),  β_0 = 0 < … < β_K = 1,
// whose conditionals are p_β(h_j=1|x) = σ(β(c_j + (xW)_j)) and
// p_β(x|h) = Bernoulli(σ((1−β)b_A + β(b + Wh))) or N((1−β)b_A + β(b + Wh), I).
// At β = 0 the base partition function is closed-form:
//   bernoulli: log Z_0 = H log 2 + Σ_i ζ(b_A,i);   gaussian: log Z_0 = H log 2 + (V/2) log 2π.
// Each of M chains starts with an exact draw from the base, then alternates
//   log w += log p*_k(x) − log p*_{k−1}(x)   and   x ← T_k(x)  (one Gibbs sweep leaving p_k invariant),
// and log Z ≈ log Z_0 + log mean_m w_m. Its standard error (delta method, in log space)
// is std(w) / (√M · mean(w)). The log weights are accumulated in float64.
import * as tf from '@tensorflow/tfjs';
import { bernoulli, normal, uniform } from '../ops/random';
import { mulberry32 } from '../util/rng';

export type VisibleKind = 'bernoulli' | 'gaussian';

/** An RBM's parameters: W [V, H], b [V], c [H]. */
export interface Bipartite {
  W: tf.Tensor2D;
  b: tf.Tensor1D;
  c: tf.Tensor1D;
  visible: VisibleKind;
}

export interface AisOptions {
  /** independent annealing runs (default 100) */
  chains?: number;
  /** intermediate distributions K (default 2000), spaced by betaSchedule; or the full list β_0 = 0 … β_K = 1 */
  betas?: number | ArrayLike<number>;
  /** seed of every draw (default 0) */
  seed?: number;
  /**
   * the base model's visible biases b_A [V]: logits (bernoulli) or means (gaussian);
   * default 0. The data's pixel-mean logits make the base close to the data, which keeps the
   * estimate's variance low; any finite choice gives an unbiased estimate of Z.
   */
  base?: ArrayLike<number>;
}

export interface AisResult {
  /** the estimate of log Z */
  logZ: number;
  /** its standard error by the delta method: std(w) / (√M · mean(w)) */
  stderr: number;
  /** the base model's log partition function (closed form) */
  logZ0: number;
  chains: number;
  /** intermediate distributions K (the schedule has K + 1 values) */
  betas: number;
  /** the chains' final log importance weights (log w_m, without log Z_0) */
  logW: Float64Array;
  /** the effective sample size (Σw)²/Σw² of those weights, in [1, chains] */
  ess: number;
}

const LOG2 = Math.LN2;
const LOG_2PI = Math.log(2 * Math.PI);

const softplus64 = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/**
 * K + 1 inverse temperatures from 0 to 1, denser near 1 where the distributions change
 * fastest (after Salakhutdinov & Murray): 10% of the steps on [0, 0.5], 30% on [0.5, 0.9],
 * 60% on [0.9, 1].
 */
export function betaSchedule(K: number): Float64Array {
  K = Math.floor(K);
  if (!(K >= 1)) throw new Error(`ais: betas must be >= 1, got ${K}`);
  if (K < 3) return Float64Array.from({ length: K + 1 }, (_, i) => i / K);
  const k1 = Math.max(1, Math.round(0.1 * K));
  const k2 = Math.max(1, Math.round(0.3 * K));
  const k3 = K - k1 - k2;
  const out = new Float64Array(K + 1);
  let i = 0;
  const seg = (from: number, to: number, n: number) => {
    for (let s = 0; s < n; s++) out[i++] = from + ((to - from) * s) / n;
  };
  seg(0, 0.5, k1);
  seg(0.5, 0.9, k2);
  seg(0.9, 1, k3);
  out[K] = 1;
  return out;
}

function scheduleOf(betas: AisOptions['betas']): Float64Array {
  if (betas === undefined) return betaSchedule(2000);
  if (typeof betas === 'number') return betaSchedule(betas);
  const s = Float64Array.from(betas);
  if (s.length < 2 || s[0] !== 0 || s[s.length - 1] !== 1) throw new Error('ais: a beta schedule must run from 0 to 1');
  for (let k = 1; k < s.length; k++) if (!(s[k] > s[k - 1])) throw new Error('ais: a beta schedule must increase');
  return s;
}

/** log mean exp of log weights, and the delta-method standard error of that log mean */
export function logMeanExp(logW: ArrayLike<number>): { value: number; stderr: number } {
  const M = logW.length;
  let max = -Infinity;
  for (let m = 0; m < M; m++) if (logW[m] > max) max = logW[m];
  if (!Number.isFinite(max)) return { value: max, stderr: NaN };
  let s = 0;
  let s2 = 0;
  for (let m = 0; m < M; m++) {
    const w = Math.exp(logW[m] - max);
    s += w;
    s2 += w * w;
  }
  const mean = s / M;
  const variance = M > 1 ? Math.max(0, (s2 - M * mean * mean) / (M - 1)) : NaN;
  return { value: max + Math.log(mean), stderr: Math.sqrt(variance) / (Math.sqrt(M) * mean) };
}

/**
 * The effective sample size (Σw)²/Σw² of importance weights given as log w: M when the
 * weights are equal, 1 when one weight dominates. Few effective samples mean the
 * delta-method standard error (which assumes the sample variance is right) is not to be trusted.
 */
export function effectiveSampleSize(logW: ArrayLike<number>): number {
  let max = -Infinity;
  for (let m = 0; m < logW.length; m++) if (logW[m] > max) max = logW[m];
  if (!Number.isFinite(max)) return NaN;
  let s = 0;
  let s2 = 0;
  for (let m = 0; m < logW.length; m++) {
    const w = Math.exp(logW[m] - max);
    s += w;
    s2 += w * w;
  }
  return (s * s) / s2;
}

/** log Z of the base model (W = 0, visible biases `base`) */
export function baseLogZ(visible: VisibleKind, base: ArrayLike<number>, hidden: number): number {
  let z = hidden * LOG2;
  if (visible === 'gaussian') return z + 0.5 * base.length * LOG_2PI;
  for (let i = 0; i < base.length; i++) z += softplus64(base[i]);
  return z;
}

/** ζ(y + d) − ζ(y) without the cancellation of two large softplus values: log1p(σ(y)·expm1(d)) */
function softplusStep(y: tf.Tensor, d: tf.Tensor): tf.Tensor {
  const stable = tf.log1p(tf.mul(tf.sigmoid(y), tf.expm1(tf.clipByValue(d, -20, 20))));
  const plain = tf.sub(tf.softplus(tf.add(y, d)), tf.softplus(y));
  return tf.where(tf.less(tf.abs(d), 20), stable, plain);
}

/** annealing steps whose log-weight increments are read back together (one wait on a GPU) */
const AIS_READ_EVERY = 64;

/** Estimate log Z of an RBM by annealed importance sampling (see the top of this file). */
export async function ais(p: Bipartite, opts: AisOptions = {}): Promise<AisResult> {
  const [V, H] = p.W.shape;
  const M = Math.max(1, Math.floor(opts.chains ?? 100));
  const betas = scheduleOf(opts.betas);
  const K = betas.length - 1;
  const baseArr = opts.base !== undefined ? Float32Array.from(opts.base) : new Float32Array(V);
  if (baseArr.length !== V) throw new Error(`ais: base needs ${V} values, got ${baseArr.length}`);
  for (const v of baseArr) if (!Number.isFinite(v)) throw new Error('ais: the base biases must be finite');
  const rng = mulberry32((opts.seed ?? 0) ^ 0x2545f491);
  const gaussian = p.visible === 'gaussian';
  const logZ0 = baseLogZ(p.visible, baseArr, H);
  const logW = new Float64Array(M);

  // gaussian: the −½‖b‖² parts of log p*_β, interpolated like the biases
  let halfNormDiff = 0;
  if (gaussian) {
    const bb = await p.b.data();
    let nb = 0;
    let na = 0;
    for (let i = 0; i < V; i++) {
      nb += bb[i] * bb[i];
      na += baseArr[i] * baseArr[i];
    }
    halfNormDiff = 0.5 * (nb - na);
  }
  const bA = tf.tensor1d(baseArr);
  const bDiff = tf.tidy(() => tf.reshape(tf.sub(p.b, bA), [V, 1]));
  // an exact draw from the base model
  let x = tf.tidy(() => {
    if (gaussian) return tf.add(normal([M, V], rng.seed()), bA) as tf.Tensor2D;
    return tf.cast(tf.less(uniform([M, V], rng.seed()), tf.sigmoid(bA)), 'float32') as tf.Tensor2D;
  });
  // increments not read yet, in step order: read in batches, added in the same order
  let unread: tf.Tensor[] = [];
  const readBack = async () => {
    const incs = unread;
    unread = [];
    if (incs.length === 0) return;
    const all = incs.length === 1 ? incs[0] : tf.tidy(() => tf.stack(incs));
    try {
      const d = await all.data();
      for (let j = 0; j < incs.length; j++) for (let m = 0; m < M; m++) logW[m] += d[j * M + m];
    } finally {
      tf.dispose(incs);
      if (all !== incs[0]) all.dispose();
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
        const a = tf.add(tf.matMul(x, p.W), p.c);
        // log p*_k(x) − log p*_{k−1}(x)
        const lin = tf.reshape(tf.matMul(x, bDiff), [M]);
        const sp = tf.sum(softplusStep(tf.mul(a, bPrev), tf.mul(a, db)), 1);
        const inc = tf.add(tf.mul(gaussian ? tf.sub(lin, halfNormDiff) : lin, db), sp);
        if (last) return { inc };
        // one Gibbs sweep that leaves p_k invariant
        const h = bernoulli(tf.sigmoid(tf.mul(a, bk)), s1);
        const field = tf.add(tf.mul(bA, 1 - bk), tf.mul(tf.add(tf.matMul(h, p.W, false, true), p.b), bk));
        const xn = gaussian ? tf.add(field, normal([M, V], s2)) : bernoulli(tf.sigmoid(field), s2);
        return { inc, next: xn as tf.Tensor2D };
      });
      unread.push(inc);
      if (next) {
        x.dispose();
        x = next as tf.Tensor2D;
      }
      if (unread.length >= AIS_READ_EVERY || last) await readBack();
    }
  } finally {
    tf.dispose([x, bA, bDiff, ...unread]);
  }
  for (let m = 0; m < M; m++) if (!Number.isFinite(logW[m])) throw new Error(`ais: a non-finite importance weight (${logW[m]}): the model's parameters are not finite or too large`);
  const { value, stderr } = logMeanExp(logW);
  return { logZ: logZ0 + value, stderr, logZ0, chains: M, betas: K, logW, ess: effectiveSampleSize(logW) };
}

/** rows start..start+count of all 2^d binary states (bit i of the state index = unit i), [count, d] */
export function binaryStates(d: number, start = 0, count = 2 ** d - start): Float32Array {
  const out = new Float32Array(count * d);
  for (let r = 0; r < count; r++) {
    const s = start + r;
    for (let i = 0; i < d; i++) out[r * d + i] = Math.floor(s / 2 ** i) % 2;
  }
  return out;
}

/** the most units the exact partition function enumerates (2^20 states) */
export const EXACT_MAX_UNITS = 20;

/** which side exactLogZ enumerates and how many multiply-adds it costs; null when neither side is small enough */
export function exactPlan(V: number, H: number, visible: VisibleKind): { side: 'visible' | 'hidden'; bits: number; cost: number } | null {
  const hiddenOk = H <= EXACT_MAX_UNITS;
  const visibleOk = visible === 'bernoulli' && V <= EXACT_MAX_UNITS;
  if (!hiddenOk && !visibleOk) return null;
  const side = hiddenOk && (!visibleOk || H <= V) ? 'hidden' : 'visible';
  const bits = side === 'hidden' ? H : V;
  return { side, bits, cost: 2 ** bits * V * H };
}

/**
 * log Z exactly, by enumerating the smaller side (at most 20 units; a gaussian RBM always
 * enumerates h):
 *   over h:  log Z = logsumexp_h [cᵀh + Σ_i ζ(b_i + (Wh)_i)]                  (bernoulli x)
 *            log Z = (V/2) log 2π + logsumexp_h [cᵀh + ½‖b + Wh‖² − ½‖b‖²]   (gaussian x)
 *   over x:  log Z = logsumexp_x [−F(x)]
 * The terms are computed in float32 in chunks and summed in float64.
 */
export async function exactLogZ(p: Bipartite): Promise<number> {
  const [V, H] = p.W.shape;
  const plan = exactPlan(V, H, p.visible);
  if (!plan) throw new Error(`exact log Z enumerates one side of the RBM: one of them must have at most ${EXACT_MAX_UNITS} units (${p.visible === 'gaussian' ? 'the hidden side, for gaussian visible units' : 'visible or hidden'}); this one has ${V} visible and ${H} hidden`);
  const total = 2 ** plan.bits;
  const chunk = Math.max(1, Math.min(total, Math.floor(2 ** 22 / Math.max(V, H)), 8192));
  let max = -Infinity;
  let acc = 0;
  let halfB = 0;
  if (p.visible === 'gaussian') {
    const bb = await p.b.data();
    for (let i = 0; i < V; i++) halfB += 0.5 * bb[i] * bb[i];
  }
  for (let start = 0; start < total; start += chunk) {
    const n = Math.min(chunk, total - start);
    const t = tf.tidy(() => {
      const s = tf.tensor2d(binaryStates(plan.bits, start, n), [n, plan.bits]);
      if (plan.side === 'visible') {
        return tf.add(tf.reshape(tf.matMul(s, tf.reshape(p.b, [V, 1])), [n]), tf.sum(tf.softplus(tf.add(tf.matMul(s, p.W), p.c)), 1));
      }
      const lin = tf.reshape(tf.matMul(s, tf.reshape(p.c, [H, 1])), [n]);
      const field = tf.add(tf.matMul(s, p.W, false, true), p.b);
      if (p.visible === 'gaussian') return tf.add(lin, tf.mul(0.5, tf.sum(tf.square(field), 1)));
      return tf.add(lin, tf.sum(tf.softplus(field), 1));
    });
    let f: tf.TypedArray;
    try {
      f = (await t.data()) as tf.TypedArray;
    } finally {
      t.dispose();
    }
    for (let r = 0; r < n; r++) {
      const v = f[r] - halfB;
      if (v > max) {
        acc = acc * Math.exp(max - v) + 1;
        max = v;
      } else acc += Math.exp(v - max);
    }
  }
  const logZ = max + Math.log(acc) + (p.visible === 'gaussian' ? 0.5 * V * LOG_2PI : 0);
  if (!Number.isFinite(logZ)) throw new Error(`exact log Z is not finite (${logZ}): the model's parameters are not finite`);
  return logZ;
}
