// Classical models, fitted in closed form or by EM from counts and moments: the
// baselines a deep model should beat (GMM, naive Bayes, KDE, n-grams, probabilistic PCA).
import { Gmm, selectGmm } from './gmm';
import { Kde } from './kde';
import { NaiveBayes } from './naive-bayes';
import { Ngram } from './ngram';
import { Pca } from './pca';

export const classicalModels = {
  gmm: Object.assign((cfg?: LatentLab.GmmConfig) => new Gmm(cfg), { select: selectGmm }),
  naiveBayes: (cfg?) => new NaiveBayes(cfg),
  kde: (cfg?) => new Kde(cfg),
  ngram: (cfg?) => new Ngram(cfg),
  pca: (cfg?) => new Pca(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'gmm' | 'naiveBayes' | 'kde' | 'ngram' | 'pca'>;

export { classicalViews } from './views';
