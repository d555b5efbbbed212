// What every adversarial family exposes
// beyond Model, so one set of views (GAN Lab's: D's output as a heatmap, G's
// gradient as arrows, one D or G update at a time, D(x) histograms) serves them all.
import type * as tf from '@tensorflow/tfjs';
import type { Model, StepContext } from '../types';

export interface AdversarialModel extends Model {
  readonly adversarial: true;
  /**
   * what critic() returns: 'probability' = D(x) in (0, 1) (gan, dcgan, cgan);
   * 'score' = an unbounded critic or least-squares output (wgan, wgan-gp, lsgan)
   */
  readonly criticKind: 'probability' | 'score';
  /** the discriminator's (critic's) output per row, [n, 1]; one-hot labels for a conditional model */
  critic(x: tf.Tensor2D, labels?: tf.Tensor2D): tf.Tensor2D;
  /**
   * one discriminator (critic) update on the real batch x; trainStep does `dSteps` of these,
   * then one generatorStep. Its metrics are scalar tensors, not read back: the caller owns
   * them (the trainer's readMetrics reads and disposes them)
   */
  discriminatorStep(x: tf.Tensor2D, ctx: StepContext): Record<string, tf.Scalar>;
  /** one generator update on `n` fresh codes; its loss is a scalar tensor the caller owns */
  generatorStep(n: number, ctx: StepContext): Record<string, tf.Scalar>;
  /**
   * at points x [n, D]: minus the gradient of the generator's loss with respect to a
   * generated point, i.e. the direction the generator's update pushes a sample there
   * (GAN Lab's arrows); labels for a conditional model
   */
  generatorGradient(x: tf.Tensor2D, labels?: tf.Tensor2D): tf.Tensor2D;
}

export function isAdversarial(m: unknown): m is AdversarialModel {
  return !!m && typeof m === 'object' && (m as { adversarial?: unknown }).adversarial === true;
}
