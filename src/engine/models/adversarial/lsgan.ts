// Least-squares GAN (Mao et al. 2017): D outputs a score and regresses it onto targets,
//   D: min ½ E_data (D(x) - b)² + ½ E_z (D(G(z)) - a)²,   G: min ½ E_z (D(G(z)) - c)²,
// with a = 0 (generated), b = 1 (real), c = 1 (G wants its samples scored as real).
// Unlike the cross-entropy, the square keeps penalizing generated points that sit on
// the right side of the boundary but far from the data, so G's gradient does not
// vanish there; with b - c = 1 and b - a = 2 the game minimizes a Pearson χ² divergence
// (the paper's a = -1, b = 1, c = 0); the 0-1-1 targets used here work as well in practice.
import * as tf from '@tensorflow/tfjs';
import { AdversarialBase, fractionAbove, meanOf, PROBABILITY_CRITIC_KINDS, type ResolvedAdversarialConfig, type Stats } from './base';
import type { MetricKindName } from '../types';

export type LsganConfig = LatentLab.LsganConfig;

export class Lsgan extends AdversarialBase {
  readonly criticKind = 'score' as const;
  declare readonly config: ResolvedAdversarialConfig & { a: number; b: number; c: number };

  constructor(cfg: LsganConfig = {}) {
    super('lsgan', cfg);
    const a = cfg.a ?? 0;
    const b = cfg.b ?? 1;
    const c = cfg.c ?? 1;
    for (const [k, v] of Object.entries({ a, b, c })) if (!(typeof v === 'number' && Number.isFinite(v))) throw new Error(`lsgan: ${k} must be a finite number`);
    if (a === b) throw new Error(`lsgan: a (the target for generated points) and b (for real points) must differ`);
    Object.assign(this.config, { a, b, c });
  }

  protected familyMetricKinds(): Record<string, MetricKindName> {
    return { ...PROBABILITY_CRITIC_KINDS };
  }

  protected discriminatorLoss(real: tf.Tensor2D, fake: tf.Tensor2D): { loss: tf.Scalar; stats: Stats } {
    const { a, b } = this.config;
    const loss = tf.mul(0.5, tf.add(tf.mean(tf.square(tf.sub(real, b))), tf.mean(tf.square(tf.sub(fake, a))))) as tf.Scalar;
    return { loss, stats: this.stats('train', real, fake) };
  }

  protected generatorLossPerRow(fake: tf.Tensor2D): tf.Tensor2D {
    return tf.mul(0.5, tf.square(tf.sub(fake, this.config.c))) as tf.Tensor2D;
  }

  protected criticOutput(raw: tf.Tensor2D): tf.Tensor2D {
    return tf.clone(raw);
  }

  protected evalStats(real: tf.Tensor2D, fake: tf.Tensor2D): Record<string, tf.Scalar> {
    return this.stats('val', real, fake);
  }

  /** mean scores, and how often the score is nearer the right target (the midpoint of a and b as the boundary) */
  private stats(prefix: string, real: tf.Tensor2D, fake: tf.Tensor2D): Stats {
    const { a, b } = this.config;
    const mid = (a + b) / 2;
    const up = b > a;
    return {
      [`${prefix}/d_real`]: meanOf(real),
      [`${prefix}/d_fake`]: meanOf(fake),
      [`${prefix}/d_accuracy`]: tf.mul(0.5, tf.add(fractionAbove(real, mid, !up), fractionAbove(fake, mid, up))) as tf.Scalar,
    };
  }
}
