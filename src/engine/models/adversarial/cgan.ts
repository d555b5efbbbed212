// Conditional GAN (Mirza & Osindero 2014): the class y enters both networks, G(z, y)
// and D(x, y), and the game is played per class:
//   min_G max_D  E_{x,y} log D(x, y) + E_{z,y} log(1 - D(G(z, y), y)).
// The one-hot label is appended to z (both nets) and to x (net 'mlp'); a convolutional D
// takes it by projection (Miyato & Koyama 2018): D(x, y) = ψ(φ(x)) + yᵀ V φ(x), φ the
// features of its last convolution and V one learned vector per class, which conditions
// D more strongly, and more cheaply, than label planes stacked on the image. Through the trainer's conditional
// mechanism trainStep receives the batch's labels (ctx.labels); generated batches take
// the same classes, so D sees real and generated rows of the same class mix.
// noise(n)/sample(n) make row i class i % classes, so a sample grid shows every class.
import * as tf from '@tensorflow/tfjs';
import { normal } from '../../ops/random';
import { Gan, type GanConfig } from './gan';

export type CganConfig = GanConfig;

export class Cgan extends Gan {
  declare readonly conditional: true;

  constructor(cfg: CganConfig = {}) {
    super(cfg, 'cgan', {}, true);
  }

  /** `n` samples of class `c` from codes drawn with `seed` */
  sampleClass(c: number, n: number, seed = 0): tf.Tensor2D {
    this.need('sampleClass');
    if (!(Number.isInteger(c) && c >= 0 && c < this.classes)) throw new Error(`cgan.sampleClass: class ${c} is not one of 0..${this.classes - 1}`);
    const z = normal([n, this.latentDim], seed) as tf.Tensor2D;
    try {
      return this.decode(z, c);
    } finally {
      z.dispose();
    }
  }
}
