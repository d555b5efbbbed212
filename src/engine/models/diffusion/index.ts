// Diffusion models: data dissolved into noise by a fixed forward process, and a network
// trained to undo it step by step; the variational bound on log p(x) is their number.
// Beside them the other continuous-noise families: score-based models (denoising score
// matching, annealed Langevin sampling) and flow matching (a velocity field integrated by an ODE).
import { Ddpm } from './ddpm';
import { FlowMatching } from './flow-matching';
import { Score } from './score';

export const diffusionModels = {
  ddpm: (cfg?) => new Ddpm(cfg),
  score: (cfg?) => new Score(cfg),
  flowMatching: (cfg?) => new FlowMatching(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'ddpm' | 'score' | 'flowMatching'>;

export { diffusionViews } from './views';
export { flowMatchingViews } from './flow-matching-views';
export { scoreViews } from './score-views';
