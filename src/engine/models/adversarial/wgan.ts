// Wasserstein GAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017). The
// critic D has no sigmoid: by Kantorovich-Rubinstein duality
//   W1(p_data, p_g) = sup_{‖D‖_L <= 1} E_data D(x) - E_g D(x),
// so the critic maximizes E_data D(x) - E_z D(G(z)) over (roughly) 1-Lipschitz
// functions and G minimizes -E_z D(G(z)). The constraint is what differs:
// - wgan: clip every critic parameter into [-c, c] after each update (c = 0.01): crude,
//   it bounds the Lipschitz constant by some K and biases the critic towards simple
//   functions; the estimate of W1 is then off by that unknown K.
// - wgan-gp: add λ E_x̂ (‖∇_x̂ D(x̂)‖₂ - 1)² at random interpolates x̂ = x + ε (G(z) - x),
//   ε ~ U[0, 1] (the optimal critic has unit gradient norm on the lines between coupled
//   points). Differentiating it with respect to the critic's parameters takes a second
//   derivative: a tf.grad inside the loss that ctx.minimize differentiates. Every op in
//   the critic has a differentiable gradient on every backend: LeakyReLU's gradient
//   (a mask times dy) is differentiable in dy with a zero derivative in x, and the
//   convolutions' input gradients (Conv2DBackpropInput) have gradients of their own.
// The critic takes `dSteps` = 5 updates per generator update, and the optimizer
// defaults to Adam without momentum (β1 = 0: RMSprop with bias correction), β2 = 0.9,
// since momentum destabilizes the clipped critic (the WGAN paper) and WGAN-GP's
// authors use β1 = 0, β2 = 0.9.
import * as tf from '@tensorflow/tfjs';
import { uniform } from '../../ops/random';
import { AdversarialBase, meanOf, type AdversarialConfig, type ResolvedAdversarialConfig, type Stats } from './base';
import type { MetricKindName } from '../types';

export type WganConfig = LatentLab.WganConfig;

export type WganGpConfig = LatentLab.WganGpConfig;

/** the Wasserstein losses both variants share */
abstract class WassersteinBase extends AdversarialBase {
  readonly criticKind = 'score' as const;

  constructor(family: string, cfg: AdversarialConfig) {
    super(family, cfg, { dSteps: 5 });
    this.optimizerDefaults = { beta1: 0, beta2: 0.9 };
  }

  protected familyMetricKinds(): Record<string, MetricKindName> {
    return {
      'train/d_real': 'info',
      'train/d_fake': 'info',
      'train/w_dist': 'info',
      'val/d_real': 'info',
      'val/d_fake': 'info',
      'val/w_dist': 'info',
    };
  }

  /** the critic minimizes E D(G(z)) - E D(x) (minus its estimate of W1) */
  protected discriminatorLoss(real: tf.Tensor2D, fake: tf.Tensor2D): { loss: tf.Scalar; stats: Stats } {
    const loss = tf.sub(tf.mean(fake), tf.mean(real)) as tf.Scalar;
    return { loss, stats: this.stats('train', real, fake) };
  }

  protected generatorLossPerRow(fake: tf.Tensor2D): tf.Tensor2D {
    return tf.neg(fake) as tf.Tensor2D;
  }

  protected criticOutput(raw: tf.Tensor2D): tf.Tensor2D {
    return tf.clone(raw);
  }

  protected evalStats(real: tf.Tensor2D, fake: tf.Tensor2D): Record<string, tf.Scalar> {
    return this.stats('val', real, fake);
  }

  /** mean scores and their gap, the critic's estimate of W1 (times its Lipschitz bound) */
  private stats(prefix: string, real: tf.Tensor2D, fake: tf.Tensor2D): Stats {
    const r = meanOf(real);
    const f = meanOf(fake);
    return { [`${prefix}/d_real`]: r, [`${prefix}/d_fake`]: f, [`${prefix}/w_dist`]: tf.sub(r, f) as tf.Scalar };
  }
}

export class Wgan extends WassersteinBase {
  declare readonly config: ResolvedAdversarialConfig & { clip: number };

  constructor(cfg: WganConfig = {}) {
    super('wgan', cfg);
    const clip = cfg.clip ?? 0.01;
    if (!(typeof clip === 'number' && clip > 0 && Number.isFinite(clip))) throw new Error(`wgan: clip must be a number > 0 (the critic's parameters are kept in [-clip, clip])`);
    this.config.clip = clip;
  }

  protected override afterDiscriminatorStep(): void {
    this.D!.clip(this.config.clip);
  }

  override build(...args: Parameters<AdversarialBase['build']>): void {
    super.build(...args);
    // the critic starts inside the box it is kept in
    this.D!.clip(this.config.clip);
  }
}

export class WganGp extends WassersteinBase {
  declare readonly config: ResolvedAdversarialConfig & { lambda: number };

  constructor(cfg: WganGpConfig = {}) {
    super('wgan-gp', cfg);
    const lambda = cfg.lambda ?? 10;
    if (!(typeof lambda === 'number' && lambda >= 0 && Number.isFinite(lambda))) throw new Error(`wgan-gp: lambda (the gradient penalty's weight) must be a number >= 0`);
    this.config.lambda = lambda;
  }

  protected override familyMetricKinds(): Record<string, MetricKindName> {
    return { ...super.familyMetricKinds(), 'train/gp': 'loss', 'train/grad_norm': 'info' };
  }

  /**
   * λ mean_i (‖∇_x̂ D(x̂_i)‖₂ - 1)² at x̂_i = x_i + ε_i (fake_i - x_i), ε_i ~ U[0, 1] drawn with
   * `seed`; differentiable with respect to the critic's parameters (a second derivative).
   * Also returns the mean gradient norm.
   */
  gradientPenalty(real: tf.Tensor2D, fake: tf.Tensor2D, seed: number, labels?: tf.Tensor2D): { penalty: tf.Scalar; gradNorm: tf.Scalar } {
    this.need('gradientPenalty');
    return tf.tidy(() => {
      const B = real.shape[0];
      const eps = uniform([B, 1], seed);
      const xhat = tf.add(real, tf.mul(eps, tf.sub(fake, real))) as tf.Tensor2D;
      const g = tf.grad((p: tf.Tensor) => tf.sum(this.D!.apply(p as tf.Tensor2D, labels)))(xhat);
      // sqrt(Σ g² + tiny): the norm's own gradient stays finite at g = 0
      const norm = tf.sqrt(tf.add(tf.sum(tf.square(g), 1), 1e-12));
      const penalty = tf.mul(this.config.lambda, tf.mean(tf.square(tf.sub(norm, 1)))) as tf.Scalar;
      return { penalty, gradNorm: tf.mean(norm) as tf.Scalar };
    });
  }

  protected override extraDiscriminatorLoss(real: tf.Tensor2D, fake: tf.Tensor2D, y: tf.Tensor2D | undefined, seed: number): { loss: tf.Scalar; stats: Stats } | null {
    const { penalty, gradNorm } = this.gradientPenalty(real, fake, seed, y);
    const gp = tf.div(penalty, Math.max(this.config.lambda, 1e-30)) as tf.Scalar;
    return { loss: penalty, stats: { 'train/gp': this.config.lambda > 0 ? gp : tf.scalar(0), 'train/grad_norm': gradNorm } };
  }
}
