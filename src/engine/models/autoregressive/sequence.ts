// What the categorical sequence families (WaveNet on mu-law audio, the character
// model on text) share. A network maps the one-hot sequence to the logits of every
// conditional p(x_t | x_<t) in one parallel pass; the chain rule makes the
// log-likelihood exact:  log p(x) = sum_t log softmax(l_t)[x_t].
// Sampling goes one position at a time with a fixed bank of uniforms (inverse CDF),
// so two runs' samples are comparable draw for draw.
import * as tf from '@tensorflow/tfjs';
import { uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { ChainRuleModel } from './chain-rule';
import type { DataInfo } from '../types';

export abstract class CategoricalSequence extends ChainRuleModel {
  /** sequence length and number of symbols */
  protected T = 0;
  protected K = 0;
  protected override evalChunk = 100;
  /** sampling temperature: the logits are divided by it (1: the model's own distribution) */
  temperature = 1;

  /**
   * logits [B, T, K] of p(x_t | x_<t) from a one-hot (or any real) encoding [B, T, K]
   * of the sequence: output t must not depend on inputs t, t+1, ...
   */
  abstract logitsFromOneHot(oh: tf.Tensor3D): tf.Tensor3D;
  /** how many earlier symbols output t sees (Infinity: all of them) */
  abstract context(): number;
  protected abstract buildLayers(T: number, K: number, rng: Rng): void;

  /** bits/dim is bits per symbol (per audio sample, per character) */
  protected dims(): number {
    return this.T;
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error(`${this.family}: model already built (create a new one per run)`);
    if (data.kind !== 'sequence' || !data.levels) {
      throw new Error(`${this.family} models sequences of symbols: use ${this.family === 'wavenet' ? 'lab.data.waveforms() or lab.data.wav(path)' : 'lab.data.text()'}`);
    }
    this.data = data;
    this.T = data.shape[0];
    this.K = data.levels;
    this.buildLayers(this.T, this.K, rng);
  }

  /** symbols per sequence, the number of symbols, and whether they are characters */
  get length(): number {
    return this.T;
  }
  get levels(): number {
    return this.K;
  }
  get isText(): boolean {
    return this.data?.text === true;
  }
  /** audio: samples per second of the training data (8000 when it did not say) */
  get sampleRate(): number {
    return this.data?.sampleRate ?? 8000;
  }

  oneHot(x: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => tf.oneHot(tf.cast(x, 'int32'), this.K).toFloat() as tf.Tensor3D);
  }

  logits(x: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => this.logitsFromOneHot(this.oneHot(x)));
  }

  /** -log p(x) per row in nats (exact) */
  nll(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const oh = this.oneHot(x);
      const l = this.logitsFromOneHot(oh);
      const lse = tf.logSumExp(l, 2);
      return tf.sum(tf.sub(lse, tf.sum(tf.mul(oh, l), 2)), 1) as tf.Tensor1D;
    });
  }

  /** the uniforms that pick each sampled symbol */
  noise(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.T], seed) as tf.Tensor2D;
  }

  async sample(n: number, noise?: tf.Tensor2D, seed = 0, onStep?: (t: number, x: Float32Array) => void): Promise<tf.Tensor2D> {
    // the given bank read back, or the values noise(n, seed) would hold
    const u = noise ? ((await noise.data()) as Float32Array) : uniformValues(seed, n * this.T);
    return tf.tensor2d(await this.generate(new Float32Array(0), 0, n, this.T, (r, t) => u[r * this.T + t], onStep), [n, this.T]);
  }

  /**
   * Continues `prefix` (row-major [n, p] symbols; p may be 0) to `total` symbols per
   * row, drawing position t with `u(row, t)`. Sequences longer than the model's
   * training length slide a window of that length. `pick` replaces the draw (it sees
   * the conditional probabilities: how tests check the chain rule through this loop).
   */
  async generate(
    prefix: Float32Array,
    p: number,
    n: number,
    total: number,
    u: (row: number, t: number) => number,
    onStep?: (t: number, x: Float32Array) => void,
    pick?: (t: number, probs: Float32Array, row: number) => number,
  ): Promise<Float32Array> {
    const steps = this.generating(prefix, p, n, total, u, pick);
    for (let r = await steps.next(); ; r = await steps.next()) {
      if (r.done) return r.value;
      onStep?.(r.value.t, r.value.x);
    }
  }

  /**
   * generate() one position at a time: yields after each with the partial rows (live views).
   * Each position's probabilities are read back (asynchronously) before it is drawn.
   */
  async *generating(
    prefix: Float32Array,
    p: number,
    n: number,
    total: number,
    u: (row: number, t: number) => number,
    pick?: (t: number, probs: Float32Array, row: number) => number,
  ): AsyncGenerator<{ t: number; x: Float32Array }, Float32Array> {
    const x = new Float32Array(n * total);
    for (let r = 0; r < n; r++) for (let t = 0; t < p; t++) x[r * total + t] = prefix[r * p + t];
    const win = Math.min(this.T, Number.isFinite(this.context()) ? this.context() + 1 : this.T);
    const probs = new Float32Array(this.K);
    for (let t = p; t < total; t++) {
      const start = Math.max(0, t + 1 - win);
      const len = t + 1 - start;
      const inp = new Float32Array(n * len);
      for (let r = 0; r < n; r++) inp.set(x.subarray(r * total + start, r * total + t + 1), r * len);
      const pr = tf.tidy(() => {
        const l = this.logits(tf.tensor2d(inp, [n, len]));
        return tf.softmax(tf.div(tf.reshape(tf.slice(l, [0, len - 1, 0], [n, 1, this.K]), [n, this.K]), this.temperature));
      });
      let pv: Float32Array;
      try {
        pv = (await pr.data()) as Float32Array;
      } finally {
        pr.dispose();
      }
      for (let r = 0; r < n; r++) {
        probs.set(pv.subarray(r * this.K, (r + 1) * this.K));
        x[r * total + t] = pick ? pick(t, probs, r) : inverseCdf(probs, u(r, t));
      }
      yield { t, x };
    }
    return x;
  }

}

/** the index k with cdf(k-1) <= u < cdf(k) (the last index when rounding leaves u above the total) */
export function inverseCdf(p: Float32Array, u: number): number {
  let c = 0;
  for (let k = 0; k < p.length; k++) {
    c += p[k];
    if (u < c) return k;
  }
  return p.length - 1;
}

/** h shifted `d` steps later in time along axis 1 (zeros enter at the start): causal by construction */
export function shiftRight(h: tf.Tensor3D, d: number): tf.Tensor3D {
  const [B, T, C] = h.shape;
  if (d <= 0) return h;
  if (d >= T) return tf.zeros([B, T, C]) as tf.Tensor3D;
  return tf.concat([tf.zeros([B, d, C]), tf.slice(h, [0, 0, 0], [B, T - d, C])], 1) as tf.Tensor3D;
}

/** [B, T, C] @ [C, D] + b -> [B, T, D] */
export function dense3(h: tf.Tensor3D, w: tf.Tensor2D, b?: tf.Tensor1D): tf.Tensor3D {
  const [B, T, C] = h.shape;
  let y: tf.Tensor2D = tf.matMul(tf.reshape(h, [B * T, C]), w);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [B, T, w.shape[1]]);
}
