// NICE (Dinh et al. 2014): additive couplings on alternating halves of the units
// (log-det 0 each), then a diagonal scaling (log-det sum s), under a logistic prior.
import type { Rng } from '../../util/rng';
import type { DataInfo } from '../types';
import { checkFlowConfig, FlowModel, type Preprocess, type Prior } from './flow';
import { ActNorm, Coupling, DiagScale, type FlowLayer } from './layers';
import { alternateMask } from './masks';

export type NiceConfig = LatentLab.NiceConfig;

export class Nice extends FlowModel {
  readonly family = 'nice';
  readonly config: { couplings: number; hidden: number[]; prior: Prior; preprocess: Preprocess };
  constructor(cfg: NiceConfig = {}) {
    super();
    this.config = { couplings: cfg.couplings ?? 4, hidden: cfg.hidden ?? [256, 256], prior: cfg.prior ?? 'logistic', preprocess: cfg.preprocess ?? 'none' };
    checkFlowConfig('nice', this.config.couplings, this.config.hidden, this.config.prior, this.config.preprocess);
  }
  protected buildLayers(D: number, _data: DataInfo, rng: Rng): FlowLayer[] {
    // ActNorm first: starts every unit at unit scale (a per-unit scaling, as NICE's own final one)
    const layers: FlowLayer[] = [new ActNorm(D)];
    for (let k = 0; k < this.config.couplings; k++) layers.push(new Coupling(alternateMask(D, k), this.config.hidden, 'additive', rng));
    layers.push(new DiagScale(D));
    return layers;
  }
}
