// Diffusion models: data dissolved into noise by a fixed forward process, and a network
// trained to undo it step by step; the variational bound on log p(x) is their number.
import { Ddpm } from './ddpm';
import { Score } from './score';

export const diffusionModels = {
  ddpm: (cfg?) => new Ddpm(cfg),
  score: (cfg?) => new Score(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'ddpm' | 'score'>;

export { diffusionViews } from './views';
export { scoreViews } from './score-views';
