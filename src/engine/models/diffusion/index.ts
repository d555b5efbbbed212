// Diffusion models: data dissolved into noise by a fixed forward process, and a network
// trained to undo it step by step; the variational bound on log p(x) is their number.
import { Ddpm } from './ddpm';
import { FlowMatching } from './flow-matching';

export const diffusionModels = {
  ddpm: (cfg?) => new Ddpm(cfg),
  flowMatching: (cfg?) => new FlowMatching(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'ddpm' | 'flowMatching'>;

export { diffusionViews } from './views';
export { flowMatchingViews } from './flow-matching-views';
