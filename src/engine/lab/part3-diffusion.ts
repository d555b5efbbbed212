// lab.models.ddpm and its views.
import type { EngineContext } from '../context';

export const diffusionModels = {};

export function createDiffusionViews(_ctx: EngineContext) {
  return {};
}
