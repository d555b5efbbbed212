// Fully visible sigmoid belief network: one logistic regression per pixel on the
// pixels before it, p(x_i = 1 | x_<i) = s(b_i + sum_{j<i} W_ji x_j). A strictly
// lower-triangular masked linear layer: O(D^2) parameters, exact log-likelihood.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { BinaryAutoregressive } from './chain-rule';
import { loadNamed, uniqueName } from '../../nn/params';
import { seededMatrix } from '../../nn/init';
import type { NamedWeight } from '../types';

export type FvsbnConfig = Record<string, never>;

/** M[j, i] = 1 when j < i: input j may feed output i */
export function strictlyLowerMask(D: number): tf.Tensor2D {
  const m = new Float32Array(D * D);
  for (let j = 0; j < D; j++) for (let i = j + 1; i < D; i++) m[j * D + i] = 1;
  return tf.tensor2d(m, [D, D]);
}

export class Fvsbn extends BinaryAutoregressive {
  readonly family = 'fvsbn';
  readonly config: Record<string, unknown> = {};
  private W: tf.Variable | null = null;
  private b: tf.Variable | null = null;
  private mask: tf.Tensor2D | null = null;

  constructor(cfg: FvsbnConfig = {}) {
    super();
  }

  get built(): boolean {
    return this.W !== null;
  }

  protected buildLayers(D: number, rng: Rng): void {
    this.W = seededMatrix(D, D, 0.01, rng, uniqueName('fvsbn_W'));
    this.b = tf.variable(tf.zeros([D]), true, uniqueName('fvsbn_b'));
    this.mask = strictlyLowerMask(D);
  }

  logits(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.add(tf.matMul(x, tf.mul(this.W!, this.mask!) as tf.Tensor2D), this.b!) as tf.Tensor2D);
  }

  /** Ancestral sampling with running logits: after pixel j, every later logit gains W_ji x_j. */
  override async sample(n: number, noise?: tf.Tensor2D, seed = 0, onStep?: (i: number, x: Float32Array) => void): Promise<tf.Tensor2D> {
    const u = await this.uniforms(n, noise, seed);
    const D = this.D;
    const [W, b] = (await Promise.all([this.W!.data(), this.b!.data()])) as Float32Array[];
    const x = new Float32Array(n * D);
    const logit = new Float64Array(n * D);
    for (let r = 0; r < n; r++) logit.set(b, r * D);
    for (let i = 0; i < D; i++) {
      for (let r = 0; r < n; r++) {
        const bit = u[r * D + i] < 1 / (1 + Math.exp(-logit[r * D + i])) ? 1 : 0;
        x[r * D + i] = bit;
        if (bit) for (let k = i + 1; k < D; k++) logit[r * D + k] += W[i * D + k];
      }
      onStep?.(i, x);
    }
    return tf.tensor2d(x, [n, D]);
  }

  protected vars(): tf.Variable[] {
    return [this.W!, this.b!];
  }

  getWeights(): NamedWeight[] {
    return [{ name: 'fvsbn/W', tensor: this.W! }, { name: 'fvsbn/b', tensor: this.b! }];
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, { 'fvsbn/W': this.W!, 'fvsbn/b': this.b! });
  }

  protected disposeLayers(): void {
    for (const t of [this.W, this.b, this.mask]) t?.dispose();
  }
}
