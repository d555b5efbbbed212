// Implicit models, trained without a likelihood: the adversarial families (a generator
// against a discriminator or critic) and the generative moment matching network (a
// generator against a kernel two-sample statistic). Judged by their samples.
import { Cgan } from './cgan';
import { Dcgan } from './dcgan';
import { Gan } from './gan';
import { Gmmn } from './gmmn';
import { Lsgan } from './lsgan';
import { Wgan, WganGp } from './wgan';

export const adversarialModels = {
  gan: (cfg?) => new Gan(cfg),
  dcgan: (cfg?) => new Dcgan(cfg),
  wgan: (cfg?) => new Wgan(cfg),
  wganGp: (cfg?) => new WganGp(cfg),
  lsgan: (cfg?) => new Lsgan(cfg),
  cgan: (cfg?) => new Cgan(cfg),
  gmmn: (cfg?) => new Gmmn(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'gan' | 'dcgan' | 'wgan' | 'wganGp' | 'lsgan' | 'cgan' | 'gmmn'>;

export { adversarialViews } from './views';
