// Energy-based models: p(x) ∝ exp(−E(x)). A small Boltzmann machine is normalized
// exactly by enumeration; the RBM, DBN and DBM estimate log Z by annealed importance
// sampling; a Hopfield network stores patterns as minima of its energy.
import { Boltzmann } from './boltzmann';
import { Dbm } from './dbm';
import { Dbn } from './dbn';
import { Ebm } from './ebm';
import { capacity, corrupt, Hopfield, overlap, randomPatterns } from './hopfield';
import { Rbm } from './rbm';

export const energyModels = {
  hopfield: Object.assign((cfg: { units: number }) => new Hopfield(cfg), { randomPatterns, corrupt, overlap, capacity }),
  boltzmann: (cfg?) => new Boltzmann(cfg),
  rbm: (cfg?) => new Rbm(cfg),
  dbn: (cfg?) => new Dbn(cfg),
  dbm: (cfg?) => new Dbm(cfg),
  ebm: (cfg?) => new Ebm(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'hopfield' | 'boltzmann' | 'rbm' | 'dbn' | 'dbm' | 'ebm'>;

export { energyViews } from './views';
