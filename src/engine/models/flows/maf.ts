// MAF (Papamakarios et al. 2017) and IAF (Kingma et al. 2016): stacks of MADE-based
// affine autoregressive layers with the order reversed between layers. MAF evaluates
// a density in one pass and samples in D passes; IAF the other way round (so IAF is
// the one to use when sampling must be fast, MAF when training on data must be).
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import type { DataInfo, StepContext, StepMetrics } from '../types';
import { checkFlowConfig, FlowModel, type Preprocess, type Prior } from './flow';
import { ActNorm, AutoregressiveAffine, type FlowLayer } from './layers';

export type MafConfig = LatentLab.MafConfig;

/** layers alternate the natural and the reversed order (as a permutation between them would, without moving data) */
function stack(D: number, n: number, hidden: number[], rng: Rng, reversed: boolean): FlowLayer[] {
  return [new ActNorm(D), ...Array.from({ length: n }, (_, k) => new AutoregressiveAffine(D, hidden, rng, reversed, k % 2 === 1))];
}

export class Maf extends FlowModel {
  readonly family: string = 'maf';
  readonly config: { layers: number; hidden: number[]; prior: Prior; preprocess: Preprocess };
  constructor(cfg: MafConfig = {}) {
    super();
    this.config = { layers: cfg.layers ?? 5, hidden: cfg.hidden ?? [512], prior: cfg.prior ?? 'gaussian', preprocess: cfg.preprocess ?? 'logit' };
    checkFlowConfig(this.family, this.config.layers, this.config.hidden, this.config.prior, this.config.preprocess);
  }
  protected reversed(): boolean {
    return false;
  }
  protected buildLayers(D: number, _data: DataInfo, rng: Rng): FlowLayer[] {
    if (D < 2) throw new Error(`${this.family}: needs at least 2 dimensions`);
    return stack(D, this.config.layers, this.config.hidden, rng, this.reversed());
  }
}

/** past this many dimensions, training an IAF on data (D sequential passes per density) is refused */
export const IAF_MAX_TRAIN_DIM = 64;

export class Iaf extends Maf {
  override readonly family: string = 'iaf';
  protected override reversed(): boolean {
    return true;
  }
  override trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): StepMetrics {
    if (this.D > IAF_MAX_TRAIN_DIM) {
      throw new Error(`iaf: its density takes ${this.D} sequential passes per batch here, too slow to train on data of ${this.D} dimensions: use lab.models.maf (one-pass density) for images; an IAF samples fast`);
    }
    return super.trainStep(x, step, ctx);
  }
}
