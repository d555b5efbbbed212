// lab.models.gmmn and the views for adversarial models on 2-D data (GAN Lab's ideas).
import type { EngineContext } from '../context';

export const gmmnModels = {};

export function createGanViews(_ctx: EngineContext) {
  return {};
}
