// RealNVP (Dinh et al. 2016), with fully connected coupling networks: affine couplings
// y = m x + (1 - m)(x exp(s) + t), log-det sum s, alternating a checkerboard mask and
// its complement over the image (alternate units for other data), Gaussian prior,
// logit pre-transform on images. (The paper's convolutional multi-scale architecture,
// with squeeze and channel masks, is not built yet.)
import type { Rng } from '../../util/rng';
import type { DataInfo } from '../types';
import { FlowModel, type Preprocess, type Prior } from './flow';
import { ActNorm, Coupling, type FlowLayer } from './layers';
import { checkerboardMask, halvesMask } from './masks';
import { checkFlowConfig } from './nice';

export interface RealNvpConfig {
  /** coupling layers (default 8) */
  couplings?: number;
  /** hidden layers of each coupling's network (default [256, 256]) */
  hidden?: number[];
  /** 'checkerboard' (default; alternate units off images) or 'halves' */
  mask?: 'checkerboard' | 'halves';
  prior?: Prior;
  preprocess?: Preprocess;
}

export class RealNvp extends FlowModel {
  readonly family = 'realnvp';
  readonly config: { couplings: number; hidden: number[]; mask: 'checkerboard' | 'halves'; prior: Prior; preprocess: Preprocess };
  constructor(cfg: RealNvpConfig = {}) {
    super();
    this.config = { couplings: cfg.couplings ?? 8, hidden: cfg.hidden ?? [256, 256], mask: cfg.mask ?? 'checkerboard', prior: cfg.prior ?? 'gaussian', preprocess: cfg.preprocess ?? 'logit' };
    checkFlowConfig('realnvp', this.config.couplings, this.config.hidden, this.config.prior, this.config.preprocess);
    if (this.config.mask !== 'checkerboard' && this.config.mask !== 'halves') throw new Error(`realnvp: mask is 'checkerboard' or 'halves' (got '${this.config.mask}')`);
  }
  protected buildLayers(D: number, data: DataInfo, rng: Rng): FlowLayer[] {
    const layers: FlowLayer[] = [new ActNorm(D)];
    for (let k = 0; k < this.config.couplings; k++) {
      const mask = this.config.mask === 'checkerboard' ? checkerboardMask(data.shape, k) : halvesMask(D, k);
      layers.push(new Coupling(mask, this.config.hidden, 'affine', rng));
    }
    return layers;
  }
}
