// What the binary autoregressive families (FVSBN, NADE, MADE) share. Each computes,
// in one parallel pass, the logit of every conditional p(x_i = 1 | x_<i) in a fixed
// order; the chain rule makes the log-likelihood exact:
//   log p(x) = sum_i [x_i log s(l_i) + (1 - x_i) log(1 - s(l_i))] = -sum_i (softplus(l_i) - x_i l_i).
// Sampling takes D passes, one position at a time, with a fixed bank of uniforms
// (the run's sample seed), so two runs' grids are comparable draw for draw.
import * as tf from '@tensorflow/tfjs';
import { uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { chunkedNll } from '../../nn/batched';
import { exactEvaluation, exactLikelihoodKinds } from '../exact';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';

/**
 * What every model with a chain-rule likelihood shares (binary autoregressive models,
 * sequence models): an exact NLL per row, maximum-likelihood training, and
 * evaluation in chunks with bits/dim over `dims()`.
 */
export abstract class ChainRuleModel implements Model {
  abstract readonly family: string;
  abstract readonly config: Record<string, unknown>;
  bestMetric = { key: 'val/nll', mode: 'min' as const };
  protected data: DataInfo | null = null;
  /** examples per evaluation pass (convolutional models hold large activations: they lower it) */
  protected evalChunk = 500;

  /** -log p(x) per row, in nats (exact) */
  abstract nll(x: tf.Tensor2D): tf.Tensor1D;
  /** what bits/dim divides by: pixels, audio samples, characters */
  protected abstract dims(): number;
  abstract build(data: DataInfo, rng: Rng): void;
  abstract noise(n: number, seed: number): tf.Tensor2D;
  abstract sample(n: number, noise?: tf.Tensor2D, seed?: number): Promise<tf.Tensor2D>;
  protected abstract vars(): tf.Variable[];
  abstract getWeights(): NamedWeight[];
  abstract setWeights(weights: NamedWeight[]): void;
  protected abstract disposeLayers(): void;
  abstract get built(): boolean;

  metricKinds(): Record<string, MetricKindName> {
    return exactLikelihoodKinds();
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const loss = ctx.minimize(this.family, () => tf.mean(this.nll(x)) as tf.Scalar, this.vars());
    return { 'train/loss': loss };
  }

  /** per-example exact NLL in nats, in chunks */
  async testNll(x: tf.Tensor2D): Promise<{ nll: Float32Array; kind: 'exact' }> {
    return { nll: await chunkedNll(x, this.evalChunk, (c) => this.nll(c)), kind: 'exact' };
  }

  async evaluate(val: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    return exactEvaluation((await this.testNll(val)).nll, this.dims());
  }

  dispose(): void {
    this.disposeLayers();
  }
}

export abstract class BinaryAutoregressive extends ChainRuleModel {
  protected D = 0;

  /** logits of p(x_i = 1 | x_<i) for every i, [B, D], in data order ("<i": earlier in `order()`) */
  abstract logits(x: tf.Tensor2D): tf.Tensor2D;

  /** the order positions are generated in (data indices); the identity unless a model says otherwise */
  order(): Int32Array {
    return Int32Array.from({ length: this.D }, (_, i) => i);
  }
  protected abstract buildLayers(D: number, rng: Rng): void;

  protected dims(): number {
    return this.D;
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error(`${this.family}: model already built (create a new one per run)`);
    if (!data.binary) {
      throw new Error(`${this.family} models binary data: use lab.data.mnist({ binarize: true }) or another binary dataset`);
    }
    this.data = data;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.buildLayers(this.D, rng);
  }

  /** -log p(x) per row, in nats (exact) */
  nll(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const l = this.logits(x);
      return tf.sum(tf.sub(tf.softplus(l), tf.mul(x, l)), 1) as tf.Tensor1D;
    });
  }

  /** the bank's values: the given one's (read back), or those `noise(n, seed)` would hold */
  protected async uniforms(n: number, noise: tf.Tensor2D | undefined, seed: number): Promise<Float32Array> {
    return noise ? ((await noise.data()) as Float32Array) : uniformValues(seed, n * this.D);
  }

  /** the uniforms that decide each sampled bit */
  noise(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * Ancestral sampling, one position per pass: x_i = 1 when u_i < p(x_i = 1 | x_<i).
   * `onStep(i, x)` sees the partial sample after each position (the live view).
   */
  async sample(n: number, noise?: tf.Tensor2D, seed = 0, onStep?: (i: number, x: Float32Array) => void): Promise<tf.Tensor2D> {
    const u = await this.uniforms(n, noise, seed);
    const steps = this.sampling(n, u);
    for (let r = await steps.next(); ; r = await steps.next()) {
      if (r.done) return tf.tensor2d(r.value, [n, this.D]);
      onStep?.(r.value.i, r.value.x);
    }
  }

  /**
   * The ancestral sampler one position at a time (live views pause between steps):
   * yields after each drawn position with the partial samples `x` (filled in place)
   * and returns them. `given` rows with `keep(d)` true are held fixed: completion.
   * Each position's probabilities are read back (asynchronously) before it is drawn.
   */
  async *sampling(n: number, u: Float32Array, given?: Float32Array, keep?: (d: number) => boolean): AsyncGenerator<{ i: number; x: Float32Array }, Float32Array> {
    const D = this.D;
    const x = given ? Float32Array.from(given) : new Float32Array(n * D);
    for (const i of this.order()) {
      if (keep?.(i)) continue;
      const p = tf.tidy(() => tf.sigmoid(tf.slice(this.logits(tf.tensor2d(x, [n, D])), [0, i], [n, 1])));
      let pv: Float32Array;
      try {
        pv = (await p.data()) as Float32Array;
      } finally {
        p.dispose();
      }
      for (let r = 0; r < n; r++) x[r * D + i] = u[r * D + i] < pv[r] ? 1 : 0;
      yield { i, x };
    }
    return x;
  }

  /** per-image data shape [h, w] (or [1, D] for flat data) */
  imageShape(): [number, number] {
    const s = this.data?.shape ?? [1, this.D];
    return s.length >= 2 ? [s[0], s[1]] : [1, s[0]];
  }

}
