// What the variational family's bounds share (vae, hvae): the decoder's -log p(x|z)
// (Bernoulli logits or a Gaussian with a learned per-dimension scale), the IWAE-k bound
// streamed over chunks of examples and of samples, with the effective sample size of
// its importance weights, and its convergence in k (the bound at k and at 4k).
import * as tf from '@tensorflow/tfjs';
import { subSeed } from '../../nn/seeds';

/** the metrics every variational model here reports (the ELBO's parts in training, the bound on validation and test), by kind */
export const VAE_METRIC_KINDS: Readonly<Record<string, LatentLab.MetricKind>> = {
  'train/loss': 'loss',
  'train/recon': 'loss',
  'train/kl': 'loss',
  'train/objective': 'loss',
  'train/kl_weight': 'info',
  'val/elbo': 'bound',
  'val/bits_per_dim': 'bound',
  'val/recon': 'info',
  'val/kl': 'info',
  'val/active_units': 'info',
  'test/nll': 'bound',
  'test/bits_per_dim': 'bound',
};

export const LOG_2PI = Math.log(2 * Math.PI);
/** rows (examples x samples) decoded at once by a streamed IWAE bound: bounds its memory */
export const IWAE_ROWS = 4096;
/** nats: how far the IWAE bound at 4k may move from the bound at k for it to count as converged in k */
export const IWAE_TOLERANCE = 0.5;

/**
 * -log p(x|z) per row in nats, from the decoder's output for z: Bernoulli logits, or the
 * mean of a Gaussian whose per-dimension log-scale is `logSigma` (clipped to [-7, 2]).
 */
export function decoderNll(out: tf.Tensor2D, x: tf.Tensor2D, logSigma: tf.Tensor | null): tf.Tensor1D {
  if (!logSigma) {
    // -log Bernoulli(x; sigmoid(l)) = softplus(l) - x * l
    return tf.sum(tf.sub(tf.softplus(out), tf.mul(x, out)), 1) as tf.Tensor1D;
  }
  const ls = tf.clipByValue(logSigma, -7, 2);
  const zsc = tf.div(tf.sub(x, out), tf.exp(ls));
  return tf.sum(tf.add(tf.add(0.5 * LOG_2PI, ls), tf.mul(0.5, tf.square(zsc))), 1) as tf.Tensor1D;
}

/**
 * log(1/k sum_i exp(a_i)) over a stream of chunks, in float64, per example, and the
 * effective sample size (sum_i w_i)^2 / sum_i w_i^2 of the weights w_i = exp(a_i)
 */
export class LogMeanExp {
  private readonly max: Float64Array;
  private readonly sum: Float64Array;
  private readonly sum2: Float64Array;
  private count = 0;
  constructor(readonly m: number) {
    this.max = new Float64Array(m).fill(-Infinity);
    this.sum = new Float64Array(m);
    this.sum2 = new Float64Array(m);
  }
  /** `lw`: [kc, m] row-major, kc samples of each of the m examples */
  add(lw: Float32Array, kc: number): void {
    const { m, max, sum, sum2 } = this;
    for (let b = 0; b < m; b++) {
      let mx = max[b];
      for (let i = 0; i < kc; i++) mx = Math.max(mx, lw[i * m + b]);
      if (mx === -Infinity) continue; // every weight so far is zero
      const r = sum[b] === 0 ? 0 : Math.exp(max[b] - mx);
      let s = sum[b] * r;
      let s2 = sum2[b] * r * r;
      for (let i = 0; i < kc; i++) {
        const e = Math.exp(lw[i * m + b] - mx);
        s += e;
        s2 += e * e;
      }
      max[b] = mx;
      sum[b] = s;
      sum2[b] = s2;
    }
    this.count += kc;
  }
  result(): Float64Array {
    return this.max.map((mx, b) => mx + Math.log(this.sum[b]) - Math.log(this.count));
  }
  /** per example: the effective sample size of its weights, 1 .. the samples seen */
  ess(): Float64Array {
    return this.sum.map((s, b) => (this.sum2[b] > 0 ? (s * s) / this.sum2[b] : 0));
  }
}

/** one streamed IWAE-k bound: per example, log (1/k) sum_i w_i and the effective sample size of its w_i */
export interface IwaeResult {
  bound: Float32Array;
  ess: Float32Array;
}

/**
 * The IWAE-k bound of n examples, streamed so memory stays bounded whatever k: `prepare(s, m)`
 * makes what examples s .. s+m-1 need for their draws (their encodings; disposed after
 * them), `logWeights(state, kk, seed)` the log weights log p(x, z_i)/q(z_i|x) of kk more
 * draws of each, [kk, m]. Draw j of block s is seeded with subSeed(seed, s, j).
 */
export async function streamIwae<S extends Record<string, tf.Tensor | undefined>>(
  n: number,
  k: number,
  seed: number,
  prepare: (s: number, m: number) => S,
  logWeights: (state: S, kk: number, seed: number) => tf.Tensor2D,
): Promise<IwaeResult> {
  const bound = new Float32Array(n);
  const ess = new Float32Array(n);
  const m = Math.max(1, Math.min(n, Math.floor(IWAE_ROWS / Math.min(k, IWAE_ROWS))));
  const kc = Math.max(1, Math.min(k, Math.floor(IWAE_ROWS / m)));
  for (let s = 0; s < n; s += m) {
    const mm = Math.min(m, n - s);
    const state = prepare(s, mm);
    try {
      const acc = new LogMeanExp(mm);
      for (let i = 0, j = 0; i < k; i += kc, j++) {
        const kk = Math.min(kc, k - i);
        const lw = tf.tidy(() => logWeights(state, kk, subSeed(seed, s, j)));
        try {
          acc.add((await lw.data()) as Float32Array, kk);
        } finally {
          lw.dispose();
        }
      }
      bound.set(acc.result(), s);
      ess.set(acc.ess(), s);
    } finally {
      tf.dispose(Object.values(state).filter((t): t is tf.Tensor => t !== undefined));
    }
  }
  return { bound, ess };
}

const meanOf = (v: Float32Array): number => v.reduce((a, b) => a + b, 0) / v.length;

/** the convergence in k of an IWAE bound: its mean NLL at k and at 4k (`at4x`), and the mean effective sample size at k */
export function iwaeConvergence(k: number, atK: IwaeResult, at4k: IwaeResult): LatentLab.Convergence {
  const nll = -meanOf(atK.bound);
  const nll4x = -meanOf(at4k.bound);
  return { knob: 'k', at: k, nll, at4x: 4 * k, nll4x, tolerance: IWAE_TOLERANCE, converged: Math.abs(nll4x - nll) < IWAE_TOLERANCE, ess: meanOf(atK.ess), essOf: k };
}
