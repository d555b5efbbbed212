// lab.models builders of the adversarial families (gan, dcgan, wgan, wgan-gp, lsgan, cgan).
import { Cgan, type CganConfig } from '../models/cgan';
import { Dcgan, type DcganConfig } from '../models/dcgan';
import { Gan, type GanConfig } from '../models/gan';
import { Lsgan, type LsganConfig } from '../models/lsgan';
import { Wgan, WganGp, type WganConfig, type WganGpConfig } from '../models/wgan';

export const adversarialModels = {
  /** GAN with MLP (or conv) networks: minimax or non-saturating G loss, dSteps, dropout and spectral norm in D */
  gan: (cfg?: GanConfig): Gan => new Gan(cfg),
  /** DCGAN: transposed convolutions + batch norm + ReLU in G, strided convolutions + LeakyReLU in D (images) */
  dcgan: (cfg?: DcganConfig): Dcgan => new Dcgan(cfg),
  /** WGAN: a critic without sigmoid, weight clipping (±0.01), 5 critic steps per G step */
  wgan: (cfg?: WganConfig): Wgan => new Wgan(cfg),
  /** WGAN-GP: a critic with the gradient penalty λ(‖∇D(x̂)‖ - 1)² (λ = 10) */
  wganGp: (cfg?: WganGpConfig): WganGp => new WganGp(cfg),
  /** LSGAN: least-squares losses (a = 0, b = 1, c = 1) */
  lsgan: (cfg?: LsganConfig): Lsgan => new Lsgan(cfg),
  /** conditional GAN: the one-hot class goes into G and D (labelled data) */
  cgan: (cfg?: CganConfig): Cgan => new Cgan(cfg),
};
