// Latent-variable models: a code z behind each example. The VAE (and its conditional
// form) bounds log p(x) from below; the plain and denoising autoencoders have no
// likelihood and are judged by their samples.
import { Autoencoder } from './autoencoder';
import { Dae } from './dae';
import { Gsn } from './gsn';
import { Sbn } from './sbn';
import { Vae } from './vae';
import { Hvae } from './hvae';

export const latentModels = {
  vae: (cfg?) => new Vae(cfg),
  cvae: (cfg?) => new Vae({ ...cfg, conditional: true }),
  autoencoder: (cfg?) => new Autoencoder(cfg),
  dae: (cfg?) => new Dae(cfg),
  sbn: (cfg?) => new Sbn(cfg),
  hvae: (cfg?) => new Hvae(cfg),
  gsn: (cfg?) => new Gsn(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'vae' | 'cvae' | 'autoencoder' | 'dae' | 'sbn' | 'hvae' | 'gsn'>;

export { latentViews } from './views';
export { sbnViews } from './sbn-views';
