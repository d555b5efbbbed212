// What every adversarial family shares: a generator G(z) (and, for a cGAN, G(z, y)), a
// discriminator or critic D(x) (D(x, y)), the alternation of `dSteps` D updates with
// one G update, the sample metrics, the noise bank and the weights. A family differs
// only in its losses (and, for WGAN, in what it does to D after each update: clipping,
// or a gradient penalty inside D's loss), so those are the abstract part here.
//
// Networks: 'mlp' (any data) or 'conv' (images; DCGAN's shapes: G projects z to a small
// feature map and doubles it with stride-2 4x4 transposed convolutions, batch norm and
// ReLU; D halves the image with stride-2 4x4 convolutions and LeakyReLU(0.2), then one
// dense unit). D may drop units (`dropout`) and normalize every weight by its largest
// singular value (`spectralNorm`, ops/spectral-norm.ts). A GAN gives no likelihood:
// evaluations are sample-based (mode distance / coverage on toy mixtures) or diagnostics.
import * as tf from '@tensorflow/tfjs';
import { modeStats } from '../../eval/modes';
import { normal, uniform, uniformValues } from '../../ops/random';
import { SpectralNorm } from '../../nn/spectral-norm';
import type { Rng } from '../../util/rng';
import type { AdversarialModel } from './adversarial';
import type { DataInfo, MetricKindName, MetricValue, NamedWeight, StepContext, StepMetrics } from '../types';
import { glorot } from '../../nn/init';
import { classesOf, oneHotRows, type Labels } from '../../nn/one-hot';
import { Params } from '../../nn/params';
import { subSeed } from '../../nn/seeds';

export type AdversarialConfig = LatentLab.AdversarialConfig;

export interface ResolvedAdversarialConfig {
  [key: string]: unknown;
  latentDim: number | null;
  net: 'mlp' | 'conv';
  /** null until build when left to the default (it depends on the data) */
  hidden: number[] | null;
  dSteps: number;
  dropout: number;
  spectralNorm: boolean;
}

/** class labels as the caller has them: a one-hot tensor [n, classes], one class for every row, or a class per row */
/** a weight and its bias, optionally spectrally normalized */
interface Layer {
  W: tf.Variable;
  b: tf.Variable;
  sn: SpectralNorm | null;
}

function weightOf(l: { W: tf.Variable; sn: SpectralNorm | null }): tf.Tensor {
  return l.sn ? l.sn.normalize(l.W) : l.W;
}

/** batch normalization's parameters and running statistics (per channel) */
interface BatchNorm {
  gamma: tf.Variable;
  beta: tf.Variable;
  mean: tf.Variable;
  variance: tf.Variable;
}

const BN_EPS = 1e-5;
/** weight of a new batch's statistics in the running averages */
const BN_MOMENTUM = 0.1;
const K = 4; // 4x4 kernels at stride 2: each layer halves (or doubles) the image exactly

/** image geometry of a conv network: [H, W, C] and the side of its smallest feature map */
function imageShape(data: DataInfo, hidden: number[], who: string): [number, number, number] {
  if (data.kind !== 'image' || data.shape.length < 2 || data.shape.length > 3) {
    throw new Error(`${who}: net 'conv' models images (an H x W or H x W x C shape); use net 'mlp' for ${data.kind} data`);
  }
  const [H, W] = data.shape;
  const C = data.shape[2] ?? 1;
  const s = 2 ** hidden.length;
  if (H % s !== 0 || W % s !== 0) {
    throw new Error(`${who}: net 'conv' halves the image once per entry of hidden (${hidden.length}), so its height and width must divide by ${s}; ${H} x ${W} does not (use fewer channels in hidden, or net 'mlp')`);
  }
  return [H, W, C];
}

/** G: codes [n, L] (+ one-hot [n, classes]) -> examples [n, D]; images through a sigmoid into [0, 1] */
export class Generator {
  readonly params: Params;
  private readonly dense: Layer[] = [];
  private readonly deconvs: Layer[] = [];
  private readonly norms: BatchNorm[] = [];
  private readonly image: [number, number, number] | null;
  /** batch statistics of the last training-mode pass that asked for them (kept tensors) */
  private captured: { mean: tf.Tensor; variance: tf.Tensor }[] | null = null;

  constructor(
    name: string,
    readonly net: 'mlp' | 'conv',
    readonly hidden: number[],
    readonly inputs: number,
    readonly data: DataInfo,
    rng: Rng,
  ) {
    this.params = new Params(name);
    const D = data.shape.reduce((a, b) => a * b, 1);
    if (net === 'mlp') {
      this.image = null;
      const sizes = [inputs, ...hidden, D];
      for (let l = 0; l + 1 < sizes.length; l++) {
        this.dense.push({
          W: this.params.add(`W${l}`, glorot([sizes[l], sizes[l + 1]], sizes[l], sizes[l + 1], rng)),
          b: this.params.add(`b${l}`, tf.zeros([sizes[l + 1]])),
          sn: null,
        });
      }
      return;
    }
    const [H, W, C] = (this.image = imageShape(data, hidden, name));
    const s = 2 ** hidden.length;
    const rev = [...hidden].reverse();
    const first = (H / s) * (W / s) * rev[0];
    this.dense.push({ W: this.params.add('W0', glorot([inputs, first], inputs, first, rng)), b: this.params.add('b0', tf.zeros([first])), sn: null });
    this.norms.push(this.batchNorm('bn0', rev[0]));
    const outs = [...rev.slice(1), C];
    rev.forEach((cin, l) => {
      const cout = outs[l];
      // conv2dTranspose filters are [k, k, out, in]
      this.deconvs.push({ W: this.params.add(`deconv${l}`, glorot([K, K, cout, cin], K * K * cin, K * K * cout, rng)), b: this.params.add(`deconvb${l}`, tf.zeros([cout])), sn: null });
      if (l + 1 < rev.length) this.norms.push(this.batchNorm(`bn${l + 1}`, cout));
    });
  }

  private batchNorm(key: string, channels: number): BatchNorm {
    return {
      gamma: this.params.add(`${key}/gamma`, tf.ones([channels])),
      beta: this.params.add(`${key}/beta`, tf.zeros([channels])),
      mean: this.params.add(`${key}/mean`, tf.zeros([channels]), false),
      variance: this.params.add(`${key}/variance`, tf.ones([channels]), false),
    };
  }

  /** batch norm over every axis but the channels: batch statistics in training, running ones otherwise */
  private normalize(h: tf.Tensor4D, bn: BatchNorm, training: boolean, capture: boolean): tf.Tensor4D {
    let mean: tf.Tensor = bn.mean;
    let variance: tf.Tensor = bn.variance;
    if (training) {
      const m = tf.moments(h, [0, 1, 2]);
      mean = m.mean;
      variance = m.variance;
      if (capture) this.captured!.push({ mean: tf.keep(mean), variance: tf.keep(variance) });
    }
    const inv = tf.mul(bn.gamma, tf.rsqrt(tf.add(variance, BN_EPS)));
    return tf.add(tf.mul(tf.sub(h, mean), inv), bn.beta) as tf.Tensor4D;
  }

  /**
   * G(z) for codes with their labels already appended. `training`: batch norm uses the
   * batch's statistics; `capture`: and keeps them for updateStatistics().
   */
  apply(zy: tf.Tensor2D, training: boolean, capture = false): tf.Tensor2D {
    const B = zy.shape[0];
    if (capture) this.captured = [];
    let out: tf.Tensor2D;
    if (!this.image) {
      let h = zy;
      this.dense.forEach((l, i) => {
        h = tf.add(tf.matMul(h, l.W as tf.Tensor2D), l.b) as tf.Tensor2D;
        if (i + 1 < this.dense.length) h = tf.relu(h);
      });
      out = h;
    } else {
      const [H, W] = this.image;
      let s = 2 ** this.hidden.length;
      const d = this.dense[0];
      let h = tf.reshape(tf.add(tf.matMul(zy, d.W as tf.Tensor2D), d.b), [B, H / s, W / s, this.hidden[this.hidden.length - 1]]) as tf.Tensor4D;
      h = tf.relu(this.normalize(h, this.norms[0], training, capture));
      this.deconvs.forEach((l, i) => {
        s /= 2;
        const cout = l.W.shape[2] as number;
        h = tf.add(tf.conv2dTranspose(h, l.W as tf.Tensor4D, [B, H / s, W / s, cout], 2, 'same'), l.b) as tf.Tensor4D;
        if (i + 1 < this.deconvs.length) h = tf.relu(this.normalize(h, this.norms[i + 1], training, capture));
      });
      out = tf.reshape(h, [B, -1]) as tf.Tensor2D;
    }
    return this.data.kind === 'image' ? (tf.sigmoid(out) as tf.Tensor2D) : out;
  }

  /** fold the statistics captured by the last apply(…, capture) into the running averages */
  updateStatistics(): void {
    const cap = this.captured;
    this.captured = null;
    if (!cap) return;
    tf.tidy(() => {
      cap.forEach((c, i) => {
        const bn = this.norms[i];
        bn.mean.assign(tf.add(tf.mul(bn.mean, 1 - BN_MOMENTUM), tf.mul(c.mean, BN_MOMENTUM)));
        bn.variance.assign(tf.add(tf.mul(bn.variance, 1 - BN_MOMENTUM), tf.mul(c.variance, BN_MOMENTUM)));
      });
    });
    for (const c of cap) tf.dispose([c.mean, c.variance]);
  }

  vars(): tf.Variable[] {
    return this.params.vars();
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** D: examples [n, D] (+ one-hot [n, classes]) -> one logit or score per row [n, 1] */
export class Discriminator {
  readonly params: Params;
  private readonly dense: Layer[] = [];
  private readonly convs: Layer[] = [];
  private readonly image: [number, number, number] | null;
  /** conv net of a cGAN: the class embeddings V [features, classes] */
  private projection: { W: tf.Variable; sn: SpectralNorm | null } | null = null;

  constructor(
    name: string,
    readonly net: 'mlp' | 'conv',
    readonly hidden: number[],
    readonly classes: number,
    readonly data: DataInfo,
    readonly dropout: number,
    spectralNorm: boolean,
    rng: Rng,
  ) {
    this.params = new Params(name);
    const D = data.shape.reduce((a, b) => a * b, 1);
    const layer = (key: string, shape: number[], fanIn: number, fanOut: number, bias: number): Layer => {
      const W = this.params.add(key, glorot(shape, fanIn, fanOut, rng));
      const b = this.params.add(`${key}_b`, tf.zeros([bias]));
      return { W, b, sn: normalizer(key, W) };
    };
    const normalizer = (key: string, W: tf.Variable): SpectralNorm | null => {
      let sn: SpectralNorm | null = null;
      if (spectralNorm) {
        sn = new SpectralNorm(`${name}_${key}`, W.shape[W.shape.length - 1], rng);
        this.params.adopt(`${key}_sn_u`, sn.u, false);
      }
      return sn;
    };
    if (net === 'mlp') {
      this.image = null;
      const sizes = [D + classes, ...hidden, 1];
      for (let l = 0; l + 1 < sizes.length; l++) this.dense.push(layer(`W${l}`, [sizes[l], sizes[l + 1]], sizes[l], sizes[l + 1], sizes[l + 1]));
      return;
    }
    const [H, W, C] = (this.image = imageShape(data, hidden, name));
    let cin = C;
    hidden.forEach((c, l) => {
      this.convs.push(layer(`conv${l}`, [K, K, cin, c], K * K * cin, K * K * c, c));
      cin = c;
    });
    const s = 2 ** hidden.length;
    const flat = (H / s) * (W / s) * cin;
    this.dense.push(layer('W_out', [flat, 1], flat, 1, 1));
    // a cGAN's class enters by projection (Miyato & Koyama 2018): logit += <V_y, φ(x)>, one
    // column of V per class, on the features φ(x) of the last convolution
    if (classes > 0) {
      const V = this.params.add('V', glorot([flat, classes], flat, classes, rng));
      this.projection = { W: V, sn: normalizer('V', V) };
    }
  }

  /** one power-iteration step for each normalized weight (once per training step) */
  powerIterate(): void {
    for (const l of [...this.convs, ...this.dense, ...(this.projection ? [this.projection] : [])]) l.sn?.iterate(l.W).dispose();
  }

  /** drop units with the configured rate (inverted dropout), when a seed is given */
  private drop<T extends tf.Tensor>(h: T, seed: number | undefined, layer: number): T {
    if (seed === undefined || this.dropout <= 0) return h;
    const keep = tf.cast(tf.greaterEqual(uniform(h.shape, subSeed(seed, layer)), this.dropout), 'float32');
    return tf.mul(h, tf.div(keep, 1 - this.dropout)) as T;
  }

  /** raw output per row [n, 1]; `dropoutSeed`: training mode (units dropped with that seed) */
  apply(x: tf.Tensor2D, y: tf.Tensor2D | undefined, dropoutSeed?: number): tf.Tensor2D {
    const B = x.shape[0];
    let h: tf.Tensor2D;
    if (!this.image) {
      h = y ? (tf.concat([x, y], 1) as tf.Tensor2D) : x;
      this.dense.forEach((l, i) => {
        h = tf.add(tf.matMul(h, weightOf(l) as tf.Tensor2D), l.b) as tf.Tensor2D;
        if (i + 1 < this.dense.length) h = this.drop(tf.leakyRelu(h, 0.2), dropoutSeed, i);
      });
      return h;
    }
    const [H, W, C] = this.image;
    let m = tf.reshape(x, [B, H, W, C]) as tf.Tensor4D;
    this.convs.forEach((l, i) => {
      m = this.drop(tf.leakyRelu(tf.add(tf.conv2d(m, weightOf(l) as tf.Tensor4D, 2, 'same'), l.b), 0.2), dropoutSeed, i) as tf.Tensor4D;
    });
    const out = this.dense[0];
    const phi = tf.reshape(m, [B, -1]) as tf.Tensor2D;
    const logit = tf.add(tf.matMul(phi, weightOf(out) as tf.Tensor2D), out.b) as tf.Tensor2D;
    if (!this.projection || !y) return logit;
    return tf.add(logit, tf.sum(tf.mul(tf.matMul(phi, weightOf(this.projection) as tf.Tensor2D), y), 1, true)) as tf.Tensor2D;
  }

  /** clip every trainable parameter into [-c, c] (WGAN's crude Lipschitz constraint) */
  clip(c: number): void {
    tf.tidy(() => {
      for (const v of this.params.vars()) v.assign(tf.clipByValue(v, -c, c));
    });
  }

  vars(): tf.Variable[] {
    return this.params.vars();
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** the tensors a loss hands back besides itself, read once the update is done */
export type Stats = Record<string, tf.Scalar>;

/** Metric kinds of a discriminator that outputs a probability (gan, lsgan): D's mean on real and generated points and its accuracy. */
export const PROBABILITY_CRITIC_KINDS: Readonly<Record<string, MetricKindName>> = {
  'train/d_real': 'info',
  'train/d_fake': 'info',
  'train/d_accuracy': 'info',
  'val/d_real': 'info',
  'val/d_fake': 'info',
  'val/d_accuracy': 'info',
};

export abstract class AdversarialBase implements AdversarialModel {
  readonly adversarial = true as const;
  abstract readonly criticKind: 'probability' | 'score';
  readonly config: ResolvedAdversarialConfig;
  readonly conditional: boolean;
  bestMetric: { key: string; mode: 'max' | 'min' } | undefined = undefined;
  optimizerDefaults: { beta1?: number; beta2?: number } = { beta1: 0.5, beta2: 0.999 };
  protected G: Generator | null = null;
  protected D: Discriminator | null = null;
  protected data: DataInfo | null = null;
  private nClasses = 0;

  constructor(
    readonly family: string,
    cfg: AdversarialConfig,
    defaults: { dSteps?: number; net?: 'mlp' | 'conv' } = {},
    conditional = false,
  ) {
    const name = family;
    const net = cfg.net ?? defaults.net ?? 'mlp';
    if (net !== 'mlp' && net !== 'conv') throw new Error(`${name}: net must be 'mlp' or 'conv', not '${String(net)}'`);
    this.config = {
      latentDim: cfg.latentDim ?? null,
      net,
      hidden: cfg.hidden ?? (net === 'conv' ? [32, 64] : null),
      dSteps: cfg.dSteps ?? defaults.dSteps ?? 1,
      dropout: cfg.dropout ?? 0,
      spectralNorm: cfg.spectralNorm ?? false,
    };
    const c = this.config;
    this.conditional = conditional;
    if (c.latentDim !== null && !(Number.isInteger(c.latentDim) && c.latentDim >= 1)) throw new Error(`${name}: latentDim must be a whole number >= 1`);
    if (c.hidden !== null && !(Array.isArray(c.hidden) && c.hidden.every((h) => Number.isInteger(h) && h >= 1))) throw new Error(`${name}: hidden must be a list of whole numbers >= 1`);
    if (net === 'conv' && c.hidden!.length === 0) throw new Error(`${name}: net 'conv' needs at least one entry in hidden (the channels of each convolution)`);
    if (!(Number.isInteger(c.dSteps) && c.dSteps >= 1)) throw new Error(`${name}: dSteps (discriminator updates per generator update) must be a whole number >= 1`);
    if (!(typeof c.dropout === 'number' && c.dropout >= 0 && c.dropout < 1)) throw new Error(`${name}: dropout must be a rate in [0, 1)`);
    if (typeof c.spectralNorm !== 'boolean') throw new Error(`${name}: spectralNorm must be true or false`);
  }

  // ---- the family's losses -------------------------------------------------------

  /** D's (the critic's) loss from its raw outputs on a real and a generated batch, with any diagnostics to report */
  protected abstract discriminatorLoss(real: tf.Tensor2D, fake: tf.Tensor2D): { loss: tf.Scalar; stats: Stats };
  /** the generator's loss per generated row [n, 1] from D's raw output there (G minimizes its mean) */
  protected abstract generatorLossPerRow(fake: tf.Tensor2D): tf.Tensor2D;
  /** anything added to D's loss that needs the inputs themselves (WGAN-GP's penalty); inside the update's tape */
  protected extraDiscriminatorLoss(_real: tf.Tensor2D, _fake: tf.Tensor2D, _y: tf.Tensor2D | undefined, _seed: number): { loss: tf.Scalar; stats: Stats } | null {
    return null;
  }
  /** after each D update (WGAN's weight clipping) */
  protected afterDiscriminatorStep(): void {}
  /** what critic() returns from D's raw output */
  protected abstract criticOutput(raw: tf.Tensor2D): tf.Tensor2D;
  /** validation diagnostics from D's raw outputs on real and generated rows */
  protected abstract evalStats(real: tf.Tensor2D, fake: tf.Tensor2D): Record<string, tf.Scalar>;
  /** the family's training metric names and kinds (train/d_loss and train/g_loss are always there) */
  protected abstract familyMetricKinds(): Record<string, MetricKindName>;

  // ---- Model -------------------------------------------------------------------

  get built(): boolean {
    return this.G !== null;
  }

  /** dimensions of z (a cGAN's codes from noise() carry the one-hot class after them) */
  get latentDim(): number {
    return this.config.latentDim ?? (this.data?.kind === 'points' ? 2 : 64);
  }

  /** a cGAN's number of classes (0 before build or when unconditional) */
  get classes(): number {
    return this.nClasses;
  }

  /** codes decode without further randomness; a cGAN's code includes its class, so no straight paths between two */
  get hasLatent(): boolean {
    return !this.conditional;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/d_loss': 'loss',
      'train/g_loss': 'loss',
      ...this.familyMetricKinds(),
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    const name = this.family;
    if (this.built) throw new Error(`${name}: model already built (create a new one per run)`);
    const classes = classesOf(data, this.conditional, `${name}: a conditional GAN`, 'use an unconditional model');
    // MLPs: small on 2-D points (fast, and enough for 8 or 25 modes), wider on images
    this.config.hidden ??= data.kind === 'points' ? [64, 64] : [256, 256];
    const { net, hidden, dropout, spectralNorm } = this.config;
    if (net === 'conv') imageShape(data, hidden, name);
    this.data = data;
    this.config.latentDim = this.latentDim;
    this.nClasses = classes;
    this.G = new Generator(`${name}_g`, net, hidden, this.latentDim + this.nClasses, data, rng);
    this.D = new Discriminator(`${name}_d`, net, hidden, this.nClasses, data, dropout, spectralNorm, rng);
    if (data.modes) this.bestMetric = { key: 'val/mode_dist', mode: 'min' };
  }

  protected need(what: string): void {
    if (!this.built) throw new Error(`${this.family}.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** one-hot labels [n, classes] from labels as the caller has them (a new tensor) */
  oneHot(labels: Labels, n: number): tf.Tensor2D {
    return oneHotRows(labels, n, this.nClasses, this.family);
  }

  /** a conditional model's one-hot labels for `n` rows (given, or required), undefined when unconditional */
  private labelsFor(n: number, labels: Labels | undefined, what: string): tf.Tensor2D | undefined {
    if (!this.conditional) return undefined;
    if (labels === undefined) throw new Error(`${this.family}.${what}: a conditional GAN needs the class of each row (one-hot [${n}, ${this.nClasses}], a class index, or one per row)`);
    return this.oneHot(labels, n);
  }

  /** the classes of a generated batch of n rows: the real batch's when it has n rows, else uniform draws */
  private fakeLabels(n: number, ctx: StepContext, seed: number): tf.Tensor2D | undefined {
    if (!this.conditional) return undefined;
    if (ctx.labels && ctx.labels.shape[0] === n) return this.oneHot(ctx.labels, n);
    // the numbers uniform([n], seed) holds, drawn on the host (no tensor to read back)
    const cls = Array.from(uniformValues(seed, n), (v) => Math.min(this.nClasses - 1, Math.floor(v * this.nClasses)));
    return this.oneHot(cls, n);
  }

  /** codes z [n, L] and labels -> G's input */
  private withLabels(z: tf.Tensor2D, y: tf.Tensor2D | undefined): tf.Tensor2D {
    return y ? (tf.concat([z, y], 1) as tf.Tensor2D) : z;
  }

  /**
   * one discriminator (critic) update on the real batch x against a fresh generated batch;
   * its metrics are scalar tensors, not read back (the caller owns them: readMetrics)
   */
  discriminatorStep(x: tf.Tensor2D, ctx: StepContext): Record<string, tf.Scalar> {
    this.need('discriminatorStep');
    const B = x.shape[0];
    let y: tf.Tensor2D | undefined;
    if (this.conditional) {
      if (!ctx.labels) throw new Error(`${this.family}: the batch came without class labels (train a ${this.family} with lab.train on a labelled dataset, e.g. lab.data.mnist())`);
      y = this.oneHot(ctx.labels, B);
    }
    const zSeed = ctx.seed();
    const dropSeed = ctx.seed();
    const extraSeed = ctx.seed();
    if (this.config.spectralNorm) this.D!.powerIterate();
    // the generated batch is a constant for D's update: made outside the tape
    const fake = tf.tidy(() => {
      const z = normal([B, this.latentDim], zSeed) as tf.Tensor2D;
      return this.G!.apply(this.withLabels(z, y), true);
    });
    let stats: Stats = {};
    let dLoss: tf.Scalar;
    try {
      dLoss = ctx.minimize('d', () => {
        const real = this.D!.apply(x, y, this.config.dropout > 0 ? dropSeed : undefined);
        const fk = this.D!.apply(fake, y, this.config.dropout > 0 ? subSeed(dropSeed, 1) : undefined);
        const main = this.discriminatorLoss(real, fk);
        const extra = this.extraDiscriminatorLoss(x, fake, y, extraSeed);
        stats = { ...main.stats, ...(extra?.stats ?? {}) };
        for (const t of Object.values(stats)) tf.keep(t);
        return (extra ? tf.add(main.loss, extra.loss) : main.loss) as tf.Scalar;
      }, this.D!.vars());
    } catch (e) {
      tf.dispose(Object.values(stats));
      throw e;
    } finally {
      fake.dispose();
      y?.dispose();
    }
    try {
      this.afterDiscriminatorStep();
    } catch (e) {
      tf.dispose([dLoss, ...Object.values(stats)]);
      throw e;
    }
    return { 'train/d_loss': dLoss, ...stats };
  }

  /**
   * one generator update on n fresh codes (a cGAN: the classes of ctx.labels when it has n
   * rows, else uniform draws); its loss is a scalar tensor, not read back (the caller owns it)
   */
  generatorStep(n: number, ctx: StepContext): Record<string, tf.Scalar> {
    this.need('generatorStep');
    const zSeed = ctx.seed();
    const dropSeed = ctx.seed();
    const labelSeed = ctx.seed();
    const z = normal([n, this.latentDim], zSeed) as tf.Tensor2D;
    const y = this.fakeLabels(n, ctx, labelSeed);
    let gLoss: tf.Scalar;
    try {
      gLoss = ctx.minimize('g', () => {
        const fake = this.G!.apply(this.withLabels(z, y), true, true);
        const out = this.D!.apply(fake, y, this.config.dropout > 0 ? dropSeed : undefined);
        return tf.mean(this.generatorLossPerRow(out)) as tf.Scalar;
      }, this.G!.vars());
    } finally {
      tf.dispose([z, ...(y ? [y] : [])]);
    }
    try {
      this.G!.updateStatistics();
    } catch (e) {
      gLoss.dispose();
      throw e;
    }
    return { 'train/g_loss': gLoss };
  }

  /** the metrics are the last D update's and G's, as scalar tensors the trainer reads back and disposes */
  trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    let d: Record<string, tf.Scalar> = {};
    try {
      // `dSteps` updates of D on this batch (fresh codes each time), then one of G
      for (let k = 0; k < this.config.dSteps; k++) {
        tf.dispose(Object.values(d));
        d = {};
        d = this.discriminatorStep(x, ctx);
      }
      const g = this.generatorStep(x.shape[0], ctx);
      return { ...d, ...g };
    } catch (e) {
      tf.dispose(Object.values(d));
      throw e;
    }
  }

  /** D's output per row: a probability (gan, dcgan, cgan) or a score (wgan, wgan-gp, lsgan); no dropout */
  critic(x: tf.Tensor2D, labels?: tf.Tensor2D): tf.Tensor2D {
    this.need('critic');
    const y = this.labelsFor(x.shape[0], labels, 'critic');
    const out = tf.tidy(() => this.criticOutput(this.D!.apply(x, y)));
    y?.dispose();
    return out;
  }

  /** minus the gradient of the generator's loss with respect to a generated point x (where G's update pushes it) */
  generatorGradient(x: tf.Tensor2D, labels?: tf.Tensor2D): tf.Tensor2D {
    this.need('generatorGradient');
    const y = this.labelsFor(x.shape[0], labels, 'generatorGradient');
    const out = tf.tidy(() => {
      const g = tf.grad((p: tf.Tensor) => tf.sum(this.generatorLossPerRow(this.D!.apply(p as tf.Tensor2D, y))))(x);
      return tf.neg(g) as tf.Tensor2D;
    });
    y?.dispose();
    return out;
  }

  async evaluate(val: tf.Tensor2D, seed: number, labels?: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    this.need('evaluate');
    const n = Math.min(1000, Math.max(val.shape[0], 256));
    // a cGAN's samples cycle through the classes; its real rows come with their labels
    const z = this.noise(n, seed);
    const yReal = this.conditional && labels ? this.oneHot(labels, val.shape[0]) : undefined;
    const [samples, stats] = tf.tidy(() => {
      const yFake = this.conditional ? (tf.slice(z, [0, this.latentDim], [-1, this.nClasses]) as tf.Tensor2D) : undefined;
      const s = this.G!.apply(z, false);
      const fake = this.D!.apply(s, yFake);
      const st = this.conditional && !yReal ? {} : this.evalStats(this.D!.apply(val, yReal), fake);
      return [s, st] as const;
    });
    z.dispose();
    yReal?.dispose();
    const kinds = this.metricKinds();
    const out: Record<string, MetricValue> = {};
    const modes = this.data?.modes && this.data.shape.length === 1 && this.data.shape[0] === 2 ? this.data.modes : null;
    try {
      // every read at once: the statistics, and the samples where there are modes to measure them by
      const entries = Object.entries(stats);
      const [values, sampled] = await Promise.all([Promise.all(entries.map(([, t]) => t.data())), modes ? samples.data() : null]);
      entries.forEach(([k], i) => (out[k] = { value: values[i][0], kind: kinds[k] ?? 'info' }));
      if (modes) {
        const st = modeStats(sampled as Float32Array, modes, this.data!.modeStd ?? 0.05);
        out['val/mode_dist'] = { value: st.meanDist, kind: 'sample' };
        out['val/modes_covered'] = { value: st.covered, kind: 'sample' };
        out['val/high_quality'] = { value: st.highQuality, kind: 'sample' };
      }
    } finally {
      tf.dispose([samples, ...Object.values(stats)]);
    }
    return out;
  }

  /** standard normal codes [n, latentDim]; a cGAN appends the one-hot class i % classes to row i, so a grid shows every class */
  noise(n: number, seed: number): tf.Tensor2D {
    const z = normal([n, this.latentDim], seed) as tf.Tensor2D;
    if (!this.conditional) return z;
    this.need('noise');
    const y = this.oneHot(Array.from({ length: n }, (_, i) => i % this.nClasses), n);
    const out = tf.concat([z, y], 1) as tf.Tensor2D;
    tf.dispose([z, y]);
    return out;
  }

  /**
   * G's output for codes z [n, latentDim] (images in [0, 1]); a cGAN takes codes from
   * noise() (with the one-hot class) or z with `labels` (a class index, one per row, or one-hot)
   */
  decode(z: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    this.need('decode');
    const L = this.latentDim;
    if (!this.conditional) {
      if (z.shape[1] !== L) throw new Error(`${this.family}.decode: codes must have ${L} columns, not ${z.shape[1]}`);
      return tf.tidy(() => this.G!.apply(z, false));
    }
    if (labels === undefined) {
      if (z.shape[1] !== L + this.nClasses) {
        throw new Error(`${this.family}.decode: a conditional GAN generates x = G(z, y): give the class (decode(z, labels)), or codes [z, one-hot] from noise() (${L + this.nClasses} columns)`);
      }
      return tf.tidy(() => this.G!.apply(z, false));
    }
    if (z.shape[1] !== L) throw new Error(`${this.family}.decode: codes given with labels must have ${L} columns, not ${z.shape[1]}`);
    const y = this.oneHot(labels, z.shape[0]);
    const out = tf.tidy(() => this.G!.apply(tf.concat([z, y], 1) as tf.Tensor2D, false));
    y.dispose();
    return out;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need('sample');
    const z = noise ?? this.noise(n, seed);
    try {
      return this.decode(z);
    } finally {
      if (!noise) z.dispose();
    }
  }

  getWeights(): NamedWeight[] {
    this.need('getWeights');
    return [...this.G!.params.named('generator'), ...this.D!.params.named('discriminator')];
  }

  setWeights(weights: NamedWeight[]): void {
    this.need('setWeights');
    this.G!.params.load(weights, 'generator');
    this.D!.params.load(weights, 'discriminator');
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.G?.dispose();
    this.D?.dispose();
  }
}

/** mean over rows of a [n, 1] tensor, as a scalar */
export const meanOf = (t: tf.Tensor): tf.Scalar => tf.mean(t) as tf.Scalar;
/** the fraction of rows of `t` [n, 1] above (or, `below`, under) a threshold */
export const fractionAbove = (t: tf.Tensor, threshold: number, below = false): tf.Scalar =>
  tf.mean(tf.cast(below ? tf.less(t, threshold) : tf.greater(t, threshold), 'float32')) as tf.Scalar;
