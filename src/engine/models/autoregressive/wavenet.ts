// WaveNet (van den Oord et al. 2016) for 8-bit mu-law audio: a stack of causal
// dilated convolutions with kernel size 2 and gated units,
//   z = tanh(W_f * h) . sigmoid(W_g * h),   h <- h + W_r z,   skip += W_s z,
// dilations 1, 2, 4, ... per stack, and a 256-way softmax over the next sample:
//   logits = W_2 relu(W_1 relu(skip)).
// The input is shifted one step later before the first layer, so output t sees
// x_{t-R} .. x_{t-1} and never x_t (R, the receptive field, is context()).
// A kernel-2 causal convolution with dilation d is one matmul of [h_{t-d}, h_t]:
// no conv kernels are needed, so it trains at matmul speed on every backend.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import { glorotLimit, seededMatrix } from '../../nn/init';
import { CategoricalSequence, dense3, shiftRight } from './sequence';
import type { NamedWeight } from '../types';

export type WavenetConfig = LatentLab.WavenetConfig;

interface Block {
  fg: tf.Variable; // [2C, 2C]: filter and gate from [h_{t-d}, h_t]
  bfg: tf.Variable;
  res: tf.Variable; // [C, C]
  skip: tf.Variable; // [C, S]
  dilation: number;
}

export class Wavenet extends CategoricalSequence {
  readonly family = 'wavenet';
  readonly config: { channels: number; skipChannels: number; layers: number; stacks: number };
  private v: Record<string, tf.Variable> = {};
  private blocks: Block[] = [];

  constructor(cfg: WavenetConfig = {}) {
    super();
    this.config = { channels: cfg.channels ?? 32, skipChannels: cfg.skipChannels ?? 64, layers: cfg.layers ?? 6, stacks: cfg.stacks ?? 2 };
    for (const [k, v] of Object.entries(this.config)) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`wavenet: ${k} must be a whole number >= 1 (got ${String(v)})`);
    }
    if (this.config.layers > 14) throw new Error('wavenet: layers must be <= 14 (a dilation of 2^13 already exceeds any window here)');
  }

  get built(): boolean {
    return this.blocks.length > 0;
  }

  /** earlier samples output t sees: 1 (the shift) + 1 (the first causal layer) + the dilations */
  context(): number {
    const { layers, stacks } = this.config;
    return 2 + stacks * (2 ** layers - 1);
  }

  protected buildLayers(_T: number, K: number, rng: Rng): void {
    const { channels: C, skipChannels: S, layers, stacks } = this.config;
    const mat = (r: number, c: number, name: string, scale = 1) => seededMatrix(r, c, scale * glorotLimit(r, c), rng, uniqueName(`wavenet_${name}`));
    const zeros = (n: number, name: string) => tf.variable(tf.zeros([n]), true, uniqueName(`wavenet_${name}`));
    this.v = {
      input: mat(2 * K, C, 'input'), // the first causal layer, from [x_{t-2}, x_{t-1}] one-hot
      bInput: zeros(C, 'b_input'),
      out1: mat(S, S, 'out1'),
      bOut1: zeros(S, 'b_out1'),
      out2: mat(S, K, 'out2'),
      bOut2: zeros(K, 'b_out2'),
    };
    this.blocks = [];
    for (let s = 0; s < stacks; s++) {
      for (let l = 0; l < layers; l++) {
        const i = this.blocks.length;
        this.blocks.push({
          fg: mat(2 * C, 2 * C, `fg${i}`),
          bfg: zeros(2 * C, `bfg${i}`),
          res: mat(C, C, `res${i}`, 0.5),
          skip: mat(C, S, `skip${i}`),
          dilation: 2 ** l,
        });
      }
    }
  }

  logitsFromOneHot(oh: tf.Tensor3D): tf.Tensor3D {
    return tf.tidy(() => {
      const C = this.config.channels;
      const inp = shiftRight(oh, 1); // position t holds x_{t-1}
      let h = tf.tanh(dense3(tf.concat([shiftRight(inp, 1), inp], 2) as tf.Tensor3D, this.v.input as tf.Tensor2D, this.v.bInput as tf.Tensor1D));
      let skip: tf.Tensor3D | null = null;
      for (const b of this.blocks) {
        const fg = dense3(tf.concat([shiftRight(h, b.dilation), h], 2) as tf.Tensor3D, b.fg as tf.Tensor2D, b.bfg as tf.Tensor1D);
        const [f, g] = tf.split(fg, [C, C], 2) as tf.Tensor3D[];
        const z = tf.mul(tf.tanh(f), tf.sigmoid(g)) as tf.Tensor3D;
        const s = dense3(z, b.skip as tf.Tensor2D);
        skip = skip ? (tf.add(skip, s) as tf.Tensor3D) : s;
        h = tf.add(h, dense3(z, b.res as tf.Tensor2D)) as tf.Tensor3D;
      }
      const o = tf.relu(dense3(tf.relu(skip!), this.v.out1 as tf.Tensor2D, this.v.bOut1 as tf.Tensor1D));
      return dense3(o, this.v.out2 as tf.Tensor2D, this.v.bOut2 as tf.Tensor1D);
    });
  }

  protected vars(): tf.Variable[] {
    return [...Object.values(this.v), ...this.blocks.flatMap((b) => [b.fg, b.bfg, b.res, b.skip])];
  }

  private named(): Record<string, tf.Variable> {
    const out: Record<string, tf.Variable> = { ...this.v };
    this.blocks.forEach((b, i) => Object.assign(out, { [`fg${i}`]: b.fg, [`bfg${i}`]: b.bfg, [`res${i}`]: b.res, [`skip${i}`]: b.skip }));
    return out;
  }

  getWeights(): NamedWeight[] {
    return Object.entries(this.named()).map(([name, tensor]) => ({ name, tensor }));
  }

  setWeights(weights: NamedWeight[]): void {
    loadNamed(weights, this.named());
  }

  protected disposeLayers(): void {
    tf.dispose(this.vars());
    this.v = {};
    this.blocks = [];
  }
}
