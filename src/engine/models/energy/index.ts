// Energy-based models: p(x) ∝ exp(−E(x)). A small Boltzmann machine is normalized
// exactly by enumeration; the RBM, DBN and DBM estimate log Z by annealed importance
// sampling; a Hopfield network stores patterns as minima of its energy.
import { Boltzmann } from './boltzmann';
import { Dbm } from './dbm';
import { Dbn } from './dbn';
import { Ebm } from './ebm';
import { ConvRbm } from './convrbm';
import { Gbrbm } from './gbrbm';
import { capacity, corrupt, Hopfield, overlap, randomPatterns } from './hopfield';
import { Rbm } from './rbm';

export const energyModels = {
  hopfield: Object.assign((cfg: { units: number }) => new Hopfield(cfg), { randomPatterns, corrupt, overlap, capacity }),
  boltzmann: (cfg?) => new Boltzmann(cfg),
  rbm: (cfg?) => new Rbm(cfg),
  gbrbm: (cfg?) => new Gbrbm(cfg),
  dbn: (cfg?) => new Dbn(cfg),
  dbm: (cfg?) => new Dbm(cfg),
  convrbm: (cfg?) => new ConvRbm(cfg),
  ebm: (cfg?) => new Ebm(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'hopfield' | 'boltzmann' | 'rbm' | 'gbrbm' | 'dbn' | 'dbm' | 'convrbm' | 'ebm'>;

export { energyViews } from './views';
export { convrbmViews } from './convrbm-views';
export { gbrbmViews } from './gbrbm-views';
export { ebmViews } from './ebm-views';
