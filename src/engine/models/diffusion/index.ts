// Diffusion models: data dissolved into noise by a fixed forward process, and a network
// trained to undo it step by step; the variational bound on log p(x) is their number.
import { Ddpm } from './ddpm';

export const diffusionModels = {
  ddpm: (cfg?) => new Ddpm(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'ddpm'>;

export { diffusionViews } from './views';
