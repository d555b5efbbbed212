// lab.models builders of the classical families (gmm, naiveBayes, kde, ngram, pca) and their views.
import type { EngineContext } from '../context';

export const classicalModels = {};

export function createClassicalViews(_ctx: EngineContext) {
  return {};
}
