// A plain (deterministic) autoencoder: x -> code -> x', trained to reconstruct.
// It gives no likelihood and no prior over codes: decoding codes drawn from
// N(0, I) shows why the VAE exists (its KL term is what makes random codes decode
// to something). Loss: Bernoulli cross-entropy on binary data, squared error
// otherwise, in nats-like units per example (summed over dimensions).
import * as tf from '@tensorflow/tfjs';
import { normal } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { Mlp } from '../../nn/mlp';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';

export type AutoencoderConfig = LatentLab.AutoencoderConfig;

export class Autoencoder implements Model {
  family = 'autoencoder';
  readonly config: { latentDim: number; hidden: number[]; loss: 'bce' | 'mse' | null };
  bestMetric = { key: 'val/recon', mode: 'min' as const };
  protected enc: Mlp | null = null;
  protected dec: Mlp | null = null;
  protected D = 0;
  protected data: DataInfo | null = null;

  constructor(cfg: AutoencoderConfig = {}, family = 'autoencoder') {
    this.family = family;
    this.config = { latentDim: cfg.latentDim ?? 16, hidden: cfg.hidden ?? [512, 256], loss: cfg.loss ?? null };
    const where = `lab.models.${family}`;
    if (!Number.isInteger(this.config.latentDim) || this.config.latentDim < 1) throw new RangeError(`${where}: latentDim must be a whole number >= 1 (got ${cfg.latentDim})`);
    if (!Array.isArray(this.config.hidden) || this.config.hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`${where}: hidden must be a list of layer sizes, e.g. [512, 256]`);
    if (this.config.loss !== null && !['bce', 'mse'].includes(this.config.loss)) throw new RangeError(`${where}: loss must be 'bce' or 'mse' (got ${JSON.stringify(cfg.loss)})`);
  }

  get built(): boolean {
    return this.enc !== null;
  }

  get loss(): 'bce' | 'mse' {
    return this.config.loss ?? (this.data?.binary ? 'bce' : 'mse');
  }

  get latentDim(): number {
    return this.config.latentDim;
  }

  metricKinds(): Record<string, MetricKindName> {
    return { 'train/loss': 'loss', 'val/recon': 'info', 'val/code_std': 'info' };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error(`${this.family}: model already built (create a new one per run)`);
    this.data = data;
    this.config.loss = this.loss;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    const { hidden, latentDim } = this.config;
    this.enc = new Mlp(`${this.family}_enc`, [this.D, ...hidden, latentDim], rng);
    this.dec = new Mlp(`${this.family}_dec`, [latentDim, ...[...hidden].reverse(), this.D], rng);
  }

  /** the code of each row */
  encode(x: tf.Tensor2D): tf.Tensor2D {
    return this.enc!.apply(x);
  }

  /** decoder output before the squashing (logits for 'bce') */
  protected decodeRaw(z: tf.Tensor2D): tf.Tensor2D {
    return this.dec!.apply(z);
  }

  /** the decoder's output as data: probabilities in [0, 1] for 'bce', values for 'mse' */
  decode(z: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const out = this.decodeRaw(z);
      if (this.loss === 'bce') return tf.sigmoid(out) as tf.Tensor2D;
      return this.data?.kind === 'image' ? (tf.clipByValue(out, 0, 1) as tf.Tensor2D) : out;
    });
  }

  /** reconstruction loss per row of `target` from the decoder's raw output */
  protected reconLoss(raw: tf.Tensor2D, target: tf.Tensor2D): tf.Tensor1D {
    if (this.loss === 'bce') return tf.sum(tf.sub(tf.softplus(raw), tf.mul(target, raw)), 1) as tf.Tensor1D;
    return tf.sum(tf.square(tf.sub(raw, target)), 1) as tf.Tensor1D;
  }

  reconstruct(x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => this.decode(this.encode(x)));
  }

  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const loss = ctx.minimize('ae', () => tf.mean(this.reconLoss(this.decodeRaw(this.encode(x)), x)) as tf.Scalar, this.vars());
    return { 'train/loss': loss };
  }

  async evaluate(val: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    const both = tf.tidy(() => {
      const z = this.encode(val);
      const r = tf.mean(this.reconLoss(this.decodeRaw(z), val));
      // the spread of the codes: nothing ties them to N(0, I), which is why random codes decode badly
      const s = tf.mean(tf.sqrt(tf.moments(z, 0).variance));
      return tf.stack([r, s]);
    });
    const [rec, std] = await both.data();
    both.dispose();
    return { 'val/recon': { value: rec, kind: 'info' }, 'val/code_std': { value: std, kind: 'info' } };
  }

  readonly hasLatent: boolean = true;

  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    return this.encode(x);
  }

  /** codes from N(0, I): what a VAE's prior would give; an autoencoder never learned to decode them */
  noise(n: number, seed: number): tf.Tensor2D {
    return normal([n, this.config.latentDim], seed) as tf.Tensor2D;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    return tf.tidy(() => this.decode(noise ?? this.noise(n, seed)));
  }

  protected vars(): tf.Variable[] {
    return [...this.enc!.vars(), ...this.dec!.vars()];
  }

  getWeights(): NamedWeight[] {
    return [...this.enc!.named('encoder'), ...this.dec!.named('decoder')];
  }

  setWeights(weights: NamedWeight[]): void {
    this.enc!.load('encoder', weights);
    this.dec!.load('decoder', weights);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.enc?.dispose();
    this.dec?.dispose();
  }
}
