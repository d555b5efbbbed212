// Generative adversarial network (Goodfellow et al. 2014):
//   min_G max_D  E_data log D(x) + E_z log(1 - D(G(z))).
// D is trained with the usual cross-entropy on logits (D = sigmoid(logit)); G either
// minimizes E log(1 - D(G(z))) ('minimax', whose gradient vanishes while D rejects the
// samples confidently, i.e. early in training) or maximizes E log D(G(z))
// ('nonsaturating': the same fixed point, strong gradients early). With G fixed the best
// D is p_data / (p_data + p_g); at p_g = p_data it is 1/2 everywhere and the value of
// the game is -log 4. A GAN gives no likelihood: its evaluations are sample-based
// (mode distance / coverage on toy mixtures) or diagnostics of D.
import * as tf from '@tensorflow/tfjs';
import { AdversarialBase, fractionAbove, meanOf, PROBABILITY_CRITIC_KINDS, type ResolvedAdversarialConfig, type Stats } from './base';
import type { MetricKindName } from '../types';

export type GanLoss = 'nonsaturating' | 'minimax';

export type GanConfig = LatentLab.GanConfig;

export class Gan extends AdversarialBase {
  readonly criticKind = 'probability' as const;
  declare readonly config: ResolvedAdversarialConfig & { loss: GanLoss };

  constructor(cfg: GanConfig = {}, family = 'gan', defaults: { net?: 'mlp' | 'conv' } = {}, conditional = false) {
    super(family, cfg, defaults, conditional);
    const loss = cfg.loss ?? 'nonsaturating';
    if (loss !== 'nonsaturating' && loss !== 'minimax') throw new Error(`${family}: loss must be 'nonsaturating' or 'minimax', not '${String(loss)}'`);
    this.config.loss = loss;
  }

  protected familyMetricKinds(): Record<string, MetricKindName> {
    return { ...PROBABILITY_CRITIC_KINDS };
  }

  /** -log D(x) - log(1 - D(G(z))) with D = sigmoid(logit): softplus(-real) + softplus(fake) */
  protected discriminatorLoss(real: tf.Tensor2D, fake: tf.Tensor2D): { loss: tf.Scalar; stats: Stats } {
    const loss = tf.add(tf.mean(tf.softplus(tf.neg(real))), tf.mean(tf.softplus(fake))) as tf.Scalar;
    return { loss, stats: this.stats('train', real, fake) };
  }

  protected generatorLossPerRow(fake: tf.Tensor2D): tf.Tensor2D {
    return (this.config.loss === 'nonsaturating'
      ? tf.softplus(tf.neg(fake)) // -log D(G(z))
      : tf.neg(tf.softplus(fake))) as tf.Tensor2D; // log(1 - D(G(z)))
  }

  protected criticOutput(raw: tf.Tensor2D): tf.Tensor2D {
    return tf.sigmoid(raw) as tf.Tensor2D;
  }

  protected evalStats(real: tf.Tensor2D, fake: tf.Tensor2D): Record<string, tf.Scalar> {
    return this.stats('val', real, fake);
  }

  /** mean D on real and generated rows, and how often D tells them apart (D > 1/2 on real, < 1/2 on generated) */
  private stats(prefix: string, real: tf.Tensor2D, fake: tf.Tensor2D): Stats {
    return {
      [`${prefix}/d_real`]: meanOf(tf.sigmoid(real)),
      [`${prefix}/d_fake`]: meanOf(tf.sigmoid(fake)),
      [`${prefix}/d_accuracy`]: tf.mul(0.5, tf.add(fractionAbove(real, 0), fractionAbove(fake, 0, true))) as tf.Scalar,
    };
  }
}
