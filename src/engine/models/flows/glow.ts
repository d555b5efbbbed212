// Glow (Kingma & Dhariwal 2018), with fully connected coupling networks: each level
// squeezes the image (H x W x C -> H/2 x W/2 x 4C, a reordering with log-det 0), then
// K steps of ActNorm (data-dependent init) -> invertible 1x1 convolution (a C x C
// matrix applied at every pixel, LU-parameterized: log-det H W sum log|s|) -> affine
// coupling on half the channels. On 2-D points the "1x1 convolution" is a 2 x 2
// invertible linear map. Multi-scale: after every level but the last, half the
// channels are factored out to the prior and the next level squeezes the rest
// (`factorOut: false` keeps every unit to the end). Coupling networks are MLPs, or
// with `net: 'conv'` 3x3 convolutions over the squeezed image, as in the paper.
import * as tf from '@tensorflow/tfjs';
import { invert, luDecompose, randomRotation } from '../../ops/linalg';
import type { Rng } from '../../util/rng';
import { uniqueName } from '../../nn/params';
import type { DataInfo, NamedWeight } from '../types';
import { checkFlowConfig, FlowModel, type Preprocess, type Prior } from './flow';
import { ActNorm, Coupling, type FlowLayer } from './layers';
import { channelMask } from './masks';
import { ChannelSplit, FactorOut, Squeeze } from './multiscale';

/**
 * Invertible 1x1 convolution: y_p = W x_p at each of P pixels, W = Pm (L + I)(U + diag(sign * exp(logS)))
 * with L strictly lower, U strictly upper (trainable), Pm and sign fixed from the LU of a
 * random rotation. log|det| = P sum logS. The inverse is computed in float64 on the CPU.
 */
export class InvConv1x1 implements FlowLayer {
  readonly kind = 'invconv1x1';
  private readonly L: tf.Variable;
  private readonly U: tf.Variable;
  private readonly logS: tf.Variable;
  private readonly perm: tf.Tensor2D;
  private readonly sign: tf.Tensor1D;
  private readonly lower: tf.Tensor2D;
  private readonly upper: tf.Tensor2D;
  private readonly eye: tf.Tensor2D;

  constructor(readonly C: number, readonly pixels: number, rng: Rng) {
    const q = randomRotation(C, () => rng.normal());
    const { perm, L, U } = luDecompose(q, C);
    // P q = L U  =>  q = P^T L U; row i of P q is row perm[i] of q, so P^T[perm[i], i] = 1
    const pt = new Float32Array(C * C);
    perm.forEach((r, i) => (pt[r * C + i] = 1));
    const diag = Array.from({ length: C }, (_, i) => U[i * C + i]);
    const strictU = Float32Array.from(U, (v, k) => (Math.floor(k / C) < k % C ? v : 0));
    const lowerMask = Float32Array.from({ length: C * C }, (_, k) => (Math.floor(k / C) > k % C ? 1 : 0));
    this.perm = tf.tensor2d(pt, [C, C]);
    this.sign = tf.tensor1d(diag.map((d) => Math.sign(d)));
    this.L = tf.variable(tf.tensor2d(Float32Array.from(L), [C, C]), true, uniqueName('invconv_L'));
    this.U = tf.variable(tf.tensor2d(strictU, [C, C]), true, uniqueName('invconv_U'));
    this.logS = tf.variable(tf.tensor1d(diag.map((d) => Math.log(Math.abs(d)))), true, uniqueName('invconv_logS'));
    this.lower = tf.tensor2d(lowerMask, [C, C]);
    this.upper = tf.tensor2d(lowerMask.map((_, k) => (Math.floor(k / C) < k % C ? 1 : 0)), [C, C]);
    this.eye = tf.eye(C) as tf.Tensor2D;
  }

  /** the current C x C matrix */
  weight(): tf.Tensor2D {
    return tf.tidy(() => {
      const l = tf.add(tf.mul(this.L, this.lower), this.eye);
      // diag(v) as eye * v (tf.diag has no gradient)
      const u = tf.add(tf.mul(this.U, this.upper), tf.mul(this.eye, tf.mul(this.sign, tf.exp(this.logS))));
      return tf.matMul(this.perm, tf.matMul(l as tf.Tensor2D, u as tf.Tensor2D)) as tf.Tensor2D;
    });
  }

  forward(x: tf.Tensor2D): { y: tf.Tensor2D; logdet: tf.Tensor1D } {
    const [B, D] = x.shape;
    const y = tf.reshape(tf.matMul(tf.reshape(x, [B * this.pixels, this.C]), this.weight(), false, true), [B, D]) as tf.Tensor2D;
    return { y, logdet: tf.mul(tf.ones([B]), tf.mul(this.pixels, tf.sum(this.logS))) as tf.Tensor1D };
  }

  async inverse(y: tf.Tensor2D): Promise<tf.Tensor2D> {
    const [B, D] = y.shape;
    const w = this.weight();
    let wv: Float32Array;
    try {
      wv = (await w.data()) as Float32Array;
    } finally {
      w.dispose();
    }
    return tf.tidy(() => {
      const inv = tf.tensor2d(Float32Array.from(invert(wv, this.C)), [this.C, this.C]);
      return tf.reshape(tf.matMul(tf.reshape(y, [B * this.pixels, this.C]), inv, false, true), [B, D]) as tf.Tensor2D;
    });
  }

  vars(): tf.Variable[] {
    return [this.L, this.U, this.logS];
  }

  named(prefix: string): NamedWeight[] {
    return [{ name: `${prefix}/L`, tensor: this.L }, { name: `${prefix}/U`, tensor: this.U }, { name: `${prefix}/logS`, tensor: this.logS }];
  }

  dispose(): void {
    tf.dispose([this.L, this.U, this.logS, this.perm, this.sign, this.lower, this.upper, this.eye]);
  }
}

export type GlowConfig = LatentLab.GlowConfig;

export class Glow extends FlowModel {
  readonly family = 'glow';
  readonly config: { levels: number; steps: number; hidden: number[]; net: 'mlp' | 'conv'; factorOut: boolean; prior: Prior; preprocess: Preprocess };
  constructor(cfg: GlowConfig = {}) {
    super();
    const net = cfg.net ?? 'mlp';
    if (net !== 'mlp' && net !== 'conv') throw new Error(`glow: net is 'mlp' or 'conv' (got '${String(net)}')`);
    this.config = { levels: cfg.levels ?? 2, steps: cfg.steps ?? 4, hidden: cfg.hidden ?? (net === 'conv' ? [64, 64] : [256, 256]), net, factorOut: cfg.factorOut ?? true, prior: cfg.prior ?? 'gaussian', preprocess: cfg.preprocess ?? 'logit' };
    checkFlowConfig('glow', this.config.steps, this.config.hidden, this.config.prior, this.config.preprocess);
    if (!Number.isInteger(this.config.levels) || this.config.levels < 0) throw new Error('glow: levels must be a whole number >= 0');
  }
  protected buildLayers(D: number, data: DataInfo, rng: Rng): FlowLayer[] {
    // an image is [H, W] or [H, W, C]; anything else is one "pixel" of D channels
    if (data.shape.length < 2) {
      if (this.config.net === 'conv') throw new Error("glow: net 'conv' needs images; use net 'mlp' on points");
      return this.level([1, 1, D], 0, 1, rng, false);
    }
    const [H, W] = data.shape;
    return this.level([H, W, data.shape[2] ?? 1], 0, this.config.levels, rng, true);
  }

  /** level l of an [H, W, C] image: squeeze, K steps, and (multi-scale) the next levels on half the channels */
  private level([H, W, C]: number[], l: number, levels: number, rng: Rng, image: boolean): FlowLayer[] {
    if (l === levels) return [];
    const layers: FlowLayer[] = [];
    if (image) {
      if (H % 2 || W % 2) throw new Error(`glow: ${H} x ${W} cannot be squeezed ${levels - l} more times; use fewer levels`);
      layers.push(new Squeeze(H, W, C));
      [H, W, C] = [H / 2, W / 2, 4 * C];
    }
    const D = H * W * C;
    for (let k = 0; k < this.config.steps; k++) {
      layers.push(new ActNorm(D), new InvConv1x1(C, H * W, rng), new Coupling(channelMask(H * W, C, k), this.config.hidden, 'affine', rng, this.config.net === 'conv' ? [H, W, C] : undefined));
    }
    if (l + 1 < levels) {
      if (this.config.factorOut) {
        // half the channels leave for the prior; the next level works on the other half
        layers.push(new ChannelSplit(H * W, C), new FactorOut(D, D / 2, this.level([H, W, C / 2], l + 1, levels, rng, image)));
      } else layers.push(...this.level([H, W, C], l + 1, levels, rng, image));
    }
    return layers;
  }
}
