// RealNVP (Dinh et al. 2016), with fully connected coupling networks: affine couplings
// y = m x + (1 - m)(x exp(s) + t), log-det sum s, Gaussian prior, logit pre-transform
// on images. On images it is multi-scale, as in the paper: per scale 3 couplings with
// checkerboard masks, a squeeze (H x W x C -> H/2 x W/2 x 4C), 3 couplings with channel
// masks, then half the channels are factored out (they go to the prior) and the next
// scale works on the rest; 4 checkerboard couplings finish. `scales: 0` (and any
// non-image data) is one stack of `couplings` couplings with alternating masks.
// Coupling networks are MLPs, or with `net: 'conv'` 3x3 convolutions over the image as
// it is at that point (the paper's are convolutional ResNets).
import type { Rng } from '../../util/rng';
import type { DataInfo } from '../types';
import { checkFlowConfig, FlowModel, type Preprocess, type Prior } from './flow';
import { ActNorm, Coupling, type FlowLayer } from './layers';
import { channelMask, checkerboardMask, halvesMask } from './masks';
import { ChannelSplit, FactorOut, Squeeze } from './multiscale';

export type RealNvpConfig = LatentLab.RealNvpConfig;

export class RealNvp extends FlowModel {
  readonly family = 'realnvp';
  readonly config: { couplings: number; scales: number; hidden: number[]; net: 'mlp' | 'conv'; mask: 'checkerboard' | 'halves'; prior: Prior; preprocess: Preprocess };
  constructor(cfg: RealNvpConfig = {}) {
    super();
    const net = cfg.net ?? 'mlp';
    if (net !== 'mlp' && net !== 'conv') throw new Error(`realnvp: net is 'mlp' or 'conv' (got '${String(net)}')`);
    this.config = { couplings: cfg.couplings ?? 8, scales: cfg.scales ?? 2, hidden: cfg.hidden ?? (net === 'conv' ? [64, 64] : [256, 256]), net, mask: cfg.mask ?? 'checkerboard', prior: cfg.prior ?? 'gaussian', preprocess: cfg.preprocess ?? 'logit' };
    checkFlowConfig('realnvp', this.config.couplings, this.config.hidden, this.config.prior, this.config.preprocess);
    if (this.config.mask !== 'checkerboard' && this.config.mask !== 'halves') throw new Error(`realnvp: mask is 'checkerboard' or 'halves' (got '${this.config.mask}')`);
    if (!Number.isInteger(this.config.scales) || this.config.scales < 0) throw new Error('realnvp: scales must be a whole number >= 0');
  }
  protected buildLayers(D: number, data: DataInfo, rng: Rng): FlowLayer[] {
    const layers: FlowLayer[] = [new ActNorm(D)];
    const image = data.shape.length >= 2;
    if (this.config.net === 'conv' && !image) throw new Error("realnvp: net 'conv' needs images; use net 'mlp' on points");
    if (this.config.net === 'conv' && this.config.mask === 'halves') throw new Error("realnvp: net 'conv' uses checkerboard and channel masks; drop mask 'halves'");
    if (image && this.config.scales > 0) {
      const [H, W] = data.shape;
      let s = 0;
      for (let h = H, w = W; s < this.config.scales && h % 2 === 0 && w % 2 === 0; s++, h /= 2, w /= 2);
      if (s < this.config.scales) throw new Error(`realnvp: a ${H} x ${W} image cannot be squeezed ${this.config.scales} times; use scales: ${s}`);
      return [...layers, ...this.scale([H, W, data.shape[2] ?? 1], this.config.scales, rng)];
    }
    for (let k = 0; k < this.config.couplings; k++) {
      const mask = this.config.mask === 'checkerboard' ? checkerboardMask(data.shape, k) : halvesMask(D, k);
      layers.push(new Coupling(mask, this.config.hidden, 'affine', rng, this.imageShape(data.shape)));
    }
    return layers;
  }

  /** the image shape a convolutional coupling network works on (undefined: an MLP) */
  private imageShape(shape: number[]): [number, number, number] | undefined {
    return this.config.net === 'conv' ? [shape[0], shape[1], shape[2] ?? 1] : undefined;
  }

  /** one scale on an [H, W, C] image, the next ones inside its factor-out */
  private scale([H, W, C]: number[], left: number, rng: Rng): FlowLayer[] {
    const D = H * W * C;
    const coupling = (mask: Float32Array, shape = [H, W, C]) => new Coupling(mask, this.config.hidden, 'affine', rng, this.imageShape(shape));
    if (left === 0) return [0, 1, 2, 3].map((k) => coupling(checkerboardMask([H, W, C], k)));
    const P = (H / 2) * (W / 2);
    return [
      ...[0, 1, 2].map((k) => coupling(checkerboardMask([H, W, C], k))),
      new Squeeze(H, W, C),
      ...[0, 1, 2].map((k) => coupling(channelMask(P, 4 * C, k), [H / 2, W / 2, 4 * C])),
      new ChannelSplit(P, 4 * C),
      new FactorOut(D, D / 2, this.scale([H / 2, W / 2, 2 * C], left - 1, rng)),
    ];
  }
}
