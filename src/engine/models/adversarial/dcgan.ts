// DCGAN (Radford et al. 2016): the GAN game with convolutional networks for images. G
// projects z to a small feature map and doubles it with stride-2 transposed
// convolutions, batch norm and ReLU (a sigmoid on the last); D halves the image with
// stride-2 convolutions and LeakyReLU(0.2), then one dense logit. No pooling, no batch
// norm in D (so it also suits a gradient penalty or spectral normalization). The loss
// is gan.ts's; the networks are adversarial-base.ts's net 'conv'. Default channels
// [32, 64] (D; G mirrors them) keep a step on 28x28 images at a few tenths of a
// second on wasm with two cores.
import { Gan, type GanConfig } from './gan';

export type DcganConfig = Omit<GanConfig, 'net'> & {
  /** always 'conv' (the family is the convolutional GAN) */
  net?: 'conv';
};

export class Dcgan extends Gan {
  constructor(cfg: DcganConfig = {}) {
    if (cfg.net !== undefined && cfg.net !== 'conv') throw new Error(`dcgan: the networks are convolutional (net 'conv'); for MLPs use lab.models.gan()`);
    super({ ...cfg, net: 'conv' }, 'dcgan');
  }
}
