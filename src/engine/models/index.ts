// Every model family of the lab, by kind (the taxonomy of the textbooks the app
// teaches), and the views that explain them. lab.models and lab.views are these lists.
import type { EngineContext } from '../context';
import { likelihoodViews } from '../views/likelihood';
import { sampleViews } from '../views/samples';
import { adversarialModels, adversarialViews } from './adversarial';
import { autoregressiveModels, autoregressiveViews } from './autoregressive';
import { classicalModels, classicalViews } from './classical';
import { convrbmViews, ebmViews, energyViews, energyModels, gbrbmViews } from './energy';
import { diffusionViews, diffusionModels, flowMatchingViews, scoreViews } from './diffusion';
import { flowViews, flowModels } from './flows';
import { latentViews, latentModels, sbnViews } from './latent';
import { hvaeViews } from './latent/hvae-views';

export const models = {
  ...autoregressiveModels,
  ...flowModels,
  ...latentModels,
  ...energyModels,
  ...adversarialModels,
  ...diffusionModels,
  ...classicalModels,
} satisfies LatentLab.ModelsApi;

export function createViews(ctx: EngineContext): LatentLab.Views {
  return {
    ...likelihoodViews(ctx),
    ...sampleViews(ctx),
    ...autoregressiveViews(ctx),
    ...flowViews(ctx),
    ...latentViews(ctx),
    ...sbnViews(ctx),
    ...hvaeViews(ctx),
    ...energyViews(ctx),
    ...gbrbmViews(ctx),
    ...convrbmViews(ctx),
    ...ebmViews(ctx),
    ...adversarialViews(ctx),
    ...diffusionViews(ctx),
    ...flowMatchingViews(ctx),
    ...scoreViews(ctx),
    ...classicalViews(ctx),
  };
}
