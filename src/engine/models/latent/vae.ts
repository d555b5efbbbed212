// Variational autoencoder (Kingma & Welling): an encoder q(z|x) = N(mu, diag sigma^2),
// a decoder p(x|z) (Bernoulli logits or Gaussian with a learned per-dim scale),
// reparameterized z = mu + sigma * eps, closed-form KL to N(0, I).
// ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) <= log p(x): reported as a *bound*.
//
// The networks are MLPs (net: 'mlp') or, on images, strided convolutions down and
// transposed convolutions up (net: 'conv'). IWAE-k (Burda et al.): log (1/k) sum_i
// p(x, z_i) / q(z_i|x) with z_i ~ q(z|x), a tighter bound that rises with k towards
// log p(x); it is the test NLL (testNll, with evalK samples) and, with
// objective: 'iwae', the training objective. A CVAE (conditional: true) gives the
// encoder q(z|x,y) and the decoder p(x|z,y) the one-hot class y of each row.
import * as tf from '@tensorflow/tfjs';
import { normal } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { uniqueName } from '../../nn/params';
import { Mlp } from '../../nn/mlp';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { CHECK_FACTOR, checkSeed, convergenceOf } from '../../eval/convergence';
import { classesOf, oneHotRows, type Labels } from '../../nn/one-hot';
import { subSeed } from '../../nn/seeds';
import { glorotLimit, uniformValues } from '../../nn/init';
import { decoderNll, streamIwae, VAE_METRIC_KINDS } from './bounds';

export type VaeConfig = LatentLab.VaeConfig;

type Resolved = Required<Omit<VaeConfig, 'likelihood'>> & { likelihood: 'bernoulli' | 'gaussian' | null };

/**
 * default evalK, the same for both nets so their test bounds compare: testNll on 1,000 MNIST
 * test images takes ~25 s (mlp [512, 256]) and ~55 s (conv [32, 64]) on wasm with 2 cores
 */
const EVAL_K = 500;

/** KL(N(mu, exp(logvar)) || N(0, I)) per row: 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2). */
export function gaussianKl(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(gaussianKlPerDim(mu, logvar), 1) as tf.Tensor1D);
}

/** the same, per latent dimension: [B, L] */
function gaussianKlPerDim(mu: tf.Tensor2D, logvar: tf.Tensor2D): tf.Tensor2D {
  return tf.mul(0.5, tf.sub(tf.add(tf.square(mu), tf.exp(logvar)), tf.add(1, logvar))) as tf.Tensor2D;
}

/** the examples the IWAE bound's convergence check runs at 4k on (the first ones of the split) */
export const IWAE_CHECK_ROWS = 100;

/** an encoder or decoder: [B, in] (+ one-hot [B, classes]) -> [B, out] */
interface Net {
  apply(x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D;
  vars(): tf.Variable[];
  named(prefix: string): NamedWeight[];
  load(prefix: string, weights: NamedWeight[]): void;
  dispose(): void;
}

const withLabels = (x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D => (y ? (tf.concat([x, y], 1) as tf.Tensor2D) : x);

class MlpNet implements Net {
  private readonly mlp: Mlp;
  constructor(name: string, sizes: number[], rng: Rng) {
    this.mlp = new Mlp(name, sizes, rng);
  }
  apply(x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D {
    return this.mlp.apply(withLabels(x, y));
  }
  vars(): tf.Variable[] {
    return this.mlp.vars();
  }
  named(prefix: string): NamedWeight[] {
    return this.mlp.named(prefix);
  }
  load(prefix: string, weights: NamedWeight[]): void {
    this.mlp.load(prefix, weights);
  }
  dispose(): void {
    this.mlp.dispose();
  }
}

interface Conv {
  W: tf.Variable;
  b: tf.Variable;
}

const K = 4; // 4x4 kernels at stride 2: each layer halves (or doubles) the image exactly, no checkerboard from uneven overlap

function convLayer(name: string, shape: [number, number, number, number], fanIn: number, fanOut: number, rng: Rng, outChannels: number): Conv {
  const w = uniformValues(shape.reduce((a, b) => a * b, 1), glorotLimit(K * K * fanIn, K * K * fanOut), rng);
  return { W: tf.variable(tf.tensor4d(w, shape), true, uniqueName(`${name}_W`)), b: tf.variable(tf.zeros([outChannels]), true, uniqueName(`${name}_b`)) };
}

function loadInto(v: tf.Variable, key: string, byName: Map<string, tf.Tensor>): void {
  const t = byName.get(key);
  if (!t) throw new Error(`setWeights: missing '${key}'`);
  if (t.shape.join('x') !== v.shape.join('x')) throw new Error(`setWeights: '${key}' has shape [${t.shape}] but the model expects [${v.shape}]`);
  v.assign(t);
}

/** [B, H W C] image -> stride-2 4x4 convolutions (relu) -> flatten (+ class) -> dense -> [B, out] */
class ConvEncoder implements Net {
  private readonly convs: Conv[] = [];
  private readonly head: Mlp;
  constructor(readonly image: [number, number, number], channels: number[], out: number, classes: number, rng: Rng) {
    const [H, W, C] = image;
    let cin = C;
    for (const c of channels) {
      this.convs.push(convLayer('vae_enc_conv', [K, K, cin, c], cin, c, rng, c));
      cin = c;
    }
    const s = 2 ** channels.length;
    this.head = new Mlp('vae_enc_head', [(H / s) * (W / s) * cin + classes, out], rng);
  }
  apply(x: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D {
    const [H, W, C] = this.image;
    const B = x.shape[0];
    let h = tf.reshape(x, [B, H, W, C]) as tf.Tensor4D;
    for (const { W: w, b } of this.convs) h = tf.relu(tf.add(tf.conv2d(h, w as tf.Tensor4D, 2, 'same'), b)) as tf.Tensor4D;
    return this.head.apply(withLabels(tf.reshape(h, [B, -1]) as tf.Tensor2D, y));
  }
  vars(): tf.Variable[] {
    return [...this.convs.flatMap(({ W, b }) => [W, b]), ...this.head.vars()];
  }
  named(prefix: string): NamedWeight[] {
    return [...this.convs.flatMap(({ W, b }, l) => [{ name: `${prefix}/conv${l}`, tensor: W }, { name: `${prefix}/convb${l}`, tensor: b }]), ...this.head.named(prefix)];
  }
  load(prefix: string, weights: NamedWeight[]): void {
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    this.convs.forEach(({ W, b }, l) => {
      loadInto(W, `${prefix}/conv${l}`, byName);
      loadInto(b, `${prefix}/convb${l}`, byName);
    });
    this.head.load(prefix, weights);
  }
  dispose(): void {
    for (const { W, b } of this.convs) tf.dispose([W, b]);
    this.head.dispose();
  }
}

/** [B, L] (+ class) -> dense (relu) -> [B, H/s, W/s, C_last] -> stride-2 4x4 transposed convolutions -> [B, H W C] */
class ConvDecoder implements Net {
  private readonly deconvs: Conv[] = [];
  private readonly head: Mlp;
  private readonly outs: number[];
  constructor(readonly image: [number, number, number], readonly channels: number[], latent: number, rng: Rng) {
    const [H, W, C] = image;
    const s = 2 ** channels.length;
    const rev = [...channels].reverse();
    this.head = new Mlp('vae_dec_head', [latent, (H / s) * (W / s) * rev[0]], rng);
    this.outs = [...rev.slice(1), C];
    rev.forEach((cin, l) => {
      const cout = this.outs[l];
      // conv2dTranspose filters are [k, k, out, in]
      this.deconvs.push(convLayer('vae_dec_deconv', [K, K, cout, cin], cin, cout, rng, cout));
    });
  }
  apply(z: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor2D {
    const [H, W] = this.image;
    const B = z.shape[0];
    let s = 2 ** this.channels.length;
    let h = tf.reshape(tf.relu(this.head.apply(withLabels(z, y))), [B, H / s, W / s, this.channels[this.channels.length - 1]]) as tf.Tensor4D;
    this.deconvs.forEach(({ W: w, b }, l) => {
      s /= 2;
      h = tf.add(tf.conv2dTranspose(h, w as tf.Tensor4D, [B, H / s, W / s, this.outs[l]], 2, 'same'), b) as tf.Tensor4D;
      if (l + 1 < this.deconvs.length) h = tf.relu(h);
    });
    return tf.reshape(h, [B, -1]) as tf.Tensor2D;
  }
  vars(): tf.Variable[] {
    return [...this.head.vars(), ...this.deconvs.flatMap(({ W, b }) => [W, b])];
  }
  named(prefix: string): NamedWeight[] {
    return [...this.head.named(prefix), ...this.deconvs.flatMap(({ W, b }, l) => [{ name: `${prefix}/deconv${l}`, tensor: W }, { name: `${prefix}/deconvb${l}`, tensor: b }])];
  }
  load(prefix: string, weights: NamedWeight[]): void {
    this.head.load(prefix, weights);
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    this.deconvs.forEach(({ W, b }, l) => {
      loadInto(W, `${prefix}/deconv${l}`, byName);
      loadInto(b, `${prefix}/deconvb${l}`, byName);
    });
  }
  dispose(): void {
    this.head.dispose();
    for (const { W, b } of this.deconvs) tf.dispose([W, b]);
  }
}

/** class labels as the caller has them: a one-hot tensor, one class for every row, or a class per row */

let logSigmaCount = 0;

export class Vae implements Model {
  readonly family: string;
  readonly config: Resolved;
  readonly conditional: boolean;
  bestMetric = { key: 'val/elbo', mode: 'max' as const };
  /** mean KL per latent dimension at each evaluation (steps, values), for lab.views.klPerDim */
  readonly klHistory: { steps: number[]; values: Float32Array[] } = { steps: [], values: [] };
  private enc: Net | null = null;
  private dec: Net | null = null;
  private logSigma: tf.Variable | null = null;
  private D = 0;
  private nClasses = 0;
  private data: DataInfo | null = null;
  private lastStep = 0;

  constructor(cfg: VaeConfig = {}) {
    const net = cfg.net ?? 'mlp';
    if (net !== 'mlp' && net !== 'conv') throw new Error(`vae: net must be 'mlp' or 'conv', not '${String(net)}'`);
    this.config = {
      latentDim: cfg.latentDim ?? 16,
      hidden: cfg.hidden ?? (net === 'conv' ? [32, 64] : [512, 256]),
      net,
      likelihood: cfg.likelihood ?? null,
      beta: cfg.beta ?? 1,
      klWarmup: cfg.klWarmup ?? 0,
      objective: cfg.objective ?? 'elbo',
      k: cfg.k ?? 1,
      evalK: cfg.evalK ?? EVAL_K,
      conditional: cfg.conditional ?? false,
    };
    const c = this.config;
    this.conditional = c.conditional === true;
    this.family = this.conditional ? 'cvae' : 'vae';
    const name = this.family;
    if (!(Number.isInteger(c.latentDim) && c.latentDim >= 1)) throw new Error(`${name}: latentDim must be a whole number >= 1`);
    if (!Array.isArray(c.hidden) || !c.hidden.every((h) => Number.isInteger(h) && h >= 1)) throw new Error(`${name}: hidden must be a list of whole numbers >= 1`);
    if (net === 'conv' && c.hidden.length === 0) throw new Error(`${name}: net 'conv' needs at least one entry in hidden (the channels of each convolution)`);
    if (c.likelihood !== null && !['bernoulli', 'gaussian'].includes(c.likelihood)) throw new Error(`${name}: likelihood must be 'bernoulli' or 'gaussian'`);
    if (c.objective !== 'elbo' && c.objective !== 'iwae') throw new Error(`${name}: objective must be 'elbo' or 'iwae'`);
    if (!(Number.isInteger(c.k) && c.k >= 1)) throw new Error(`${name}: k (posterior samples per example in training) must be a whole number >= 1`);
    if (!(Number.isInteger(c.evalK) && c.evalK >= 1)) throw new Error(`${name}: evalK (importance samples of the test bound) must be a whole number >= 1`);
    if (!(c.beta >= 0)) throw new Error(`${name}: beta must be >= 0`);
    if (!(c.klWarmup >= 0)) throw new Error(`${name}: klWarmup must be >= 0 steps`);
    if (typeof c.conditional !== 'boolean') throw new Error(`${name}: conditional must be true or false`);
  }

  get built(): boolean {
    return this.enc !== null;
  }

  get likelihood(): 'bernoulli' | 'gaussian' {
    return this.config.likelihood ?? (this.data?.binary ? 'bernoulli' : 'gaussian');
  }

  /** dimensions of z (a CVAE's codes from noise() carry the one-hot class after them) */
  get latentDim(): number {
    return this.config.latentDim;
  }

  /** a CVAE's number of classes, the width of its one-hot labels (0 before build or when unconditional) */
  get classes(): number {
    return this.nClasses;
  }

  metricKinds(): Record<string, MetricKindName> {
    return { ...VAE_METRIC_KINDS };
  }

  build(data: DataInfo, rng: Rng): void {
    const name = this.family;
    if (this.built) throw new Error(`${name}: model already built (create a new one per run)`);
    const classes = classesOf(data, this.conditional, 'cvae: a conditional VAE', 'use lab.models.vae() without conditional');
    const D = data.shape.reduce((a, b) => a * b, 1);
    const { hidden, latentDim, net } = this.config;
    let image: [number, number, number] | null = null;
    if (net === 'conv') {
      if (data.kind !== 'image' || data.shape.length < 2 || data.shape.length > 3) throw new Error(`${name}: net 'conv' models images (an H x W or H x W x C shape); use net 'mlp' for ${data.kind} data`);
      const [H, W, C = 1] = data.shape;
      const s = 2 ** hidden.length;
      if (H % s !== 0 || W % s !== 0) {
        throw new Error(`${name}: net 'conv' halves the image once per entry of hidden (${hidden.length}), so its height and width must divide by ${s}; ${H} x ${W} does not (use fewer channels in hidden, or net 'mlp')`);
      }
      image = [H, W, C];
    }
    this.data = data;
    this.config.likelihood = this.likelihood;
    this.D = D;
    this.nClasses = classes;
    const cls = this.nClasses;
    if (image) {
      this.enc = new ConvEncoder(image, hidden, 2 * latentDim, cls, rng);
      this.dec = new ConvDecoder(image, hidden, latentDim + cls, rng);
    } else {
      this.enc = new MlpNet('vae_enc', [D + cls, ...hidden, 2 * latentDim], rng);
      this.dec = new MlpNet('vae_dec', [latentDim + cls, ...[...hidden].reverse(), D], rng);
    }
    // tf's variable names are global: a counter keeps two models built from the same seed apart (a sweep builds many)
    if (this.likelihood === 'gaussian') this.logSigma = tf.variable(tf.zeros([D]), true, `vae_logsigma_${rng.seed()}_${++logSigmaCount}`);
  }

  private need(what: string): void {
    if (!this.built) throw new Error(`${this.family}.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** a CVAE's one-hot labels [n, classes] from labels as the caller has them (a new tensor) */
  oneHot(labels: Labels, n: number): tf.Tensor2D {
    return oneHotRows(labels, n, this.nClasses, 'cvae');
  }

  /** the one-hot labels the networks take for x's rows: given, or (CVAE without labels) the classes it finds most likely */
  private labelsFor(x: tf.Tensor2D, labels: Labels | undefined, what: string, infer = true): tf.Tensor2D | undefined {
    if (!this.conditional) return undefined;
    if (labels !== undefined) return this.oneHot(labels, x.shape[0]);
    if (!infer) throw new Error(`cvae.${what}: needs the class labels of the rows (one-hot [n, ${this.nClasses}]; lab.evaluate passes the split's y)`);
    // the classes classify() finds, one-hot, without reading them back
    const cls = this.classes1d(x, 0);
    const out = tf.tidy(() => tf.cast(tf.oneHot(cls, this.nClasses), 'float32') as tf.Tensor2D);
    cls.dispose();
    return out;
  }

  private encodeWith(x: tf.Tensor2D, y?: tf.Tensor2D): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    const h = this.enc!.apply(x, y);
    const L = this.config.latentDim;
    const mu = tf.slice(h, [0, 0], [-1, L]) as tf.Tensor2D;
    // keep log-variances in a sane range so exp() cannot overflow early in training
    const logvar = tf.clipByValue(tf.slice(h, [0, L], [-1, L]), -12, 8) as tf.Tensor2D;
    return { mu, logvar };
  }

  /**
   * q(z|x) (a CVAE: q(z|x,y)): its means and log-variances [n, latentDim]. A CVAE given
   * no labels encodes each row with the class it finds most likely (classify).
   */
  encode(x: tf.Tensor2D, labels?: Labels): { mu: tf.Tensor2D; logvar: tf.Tensor2D } {
    this.need('encode');
    const y = this.labelsFor(x, labels, 'encode');
    const out = tf.tidy(() => this.encodeWith(x, y));
    y?.dispose();
    return out;
  }

  private sigma(): tf.Tensor1D {
    return tf.exp(tf.clipByValue(this.logSigma!, -7, 2)) as tf.Tensor1D;
  }

  /** -log p(x|z) per row, in nats */
  private nll(x: tf.Tensor2D, z: tf.Tensor2D, y?: tf.Tensor2D): tf.Tensor1D {
    return decoderNll(this.dec!.apply(z, y), x, this.likelihood === 'bernoulli' ? null : this.logSigma!);
  }

  /** log p(x|z) per row [n] in nats (a CVAE: log p(x|z,y)) */
  logLikelihood(x: tf.Tensor2D, z: tf.Tensor2D, labels?: Labels): tf.Tensor1D {
    this.need('logLikelihood');
    const y = this.conditional ? this.labelsFor(x, labels, 'logLikelihood', false) : undefined;
    const out = tf.tidy(() => tf.neg(this.nll(x, z, y)) as tf.Tensor1D);
    y?.dispose();
    return out;
  }

  /**
   * k posterior draws z_i ~ q(z|x) per row (eps drawn with `seed`, [k, B, L]) and their log
   * weights' two parts, each [k, B]: logPx = log p(x|z_i) and logRatio = log p(z_i) - log q(z_i|x).
   * log p(x, z_i)/q(z_i|x) = logPx + logRatio.
   */
  private weights(x: tf.Tensor2D, y: tf.Tensor2D | undefined, mu: tf.Tensor2D, logvar: tf.Tensor2D, k: number, seed: number): { logPx: tf.Tensor2D; logRatio: tf.Tensor2D } {
    const [B, L] = mu.shape;
    const eps = normal([k, B, L], seed) as tf.Tensor3D;
    const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor3D; // [k, B, L]
    // row i*B + b of the flattened draws belongs to example b: tile x and y the same way
    const xs = k === 1 ? x : (tf.tile(x, [k, 1]) as tf.Tensor2D);
    const ys = y && k > 1 ? (tf.tile(y, [k, 1]) as tf.Tensor2D) : y;
    const logPx = tf.reshape(tf.neg(this.nll(xs, tf.reshape(z, [k * B, L]) as tf.Tensor2D, ys)), [k, B]) as tf.Tensor2D;
    // log N(z; 0, I) - log N(z; mu, sigma^2) = 0.5 * sum(eps^2 + logvar - z^2)  (the 2 pi terms cancel)
    const logRatio = tf.mul(0.5, tf.sum(tf.sub(tf.add(tf.square(eps), logvar), tf.square(z)), 2)) as tf.Tensor2D;
    return { logPx, logRatio };
  }

  /**
   * The log importance weights log p(x, z_i)/q(z_i|x) of k draws per row, in their two
   * parts ([k, n] each; see weights): for tests and views (e.g. a Monte Carlo KL = -mean logRatio).
   */
  logWeights(x: tf.Tensor2D, k: number, seed: number, labels?: Labels): { logPx: tf.Tensor2D; logRatio: tf.Tensor2D } {
    this.need('logWeights');
    const y = this.labelsFor(x, labels, 'logWeights', false);
    const out = tf.tidy(() => {
      const { mu, logvar } = this.encodeWith(x, y);
      return this.weights(x, y, mu, logvar, k, seed);
    });
    y?.dispose();
    return out;
  }

  /**
   * The IWAE-k bound per row, log (1/k) sum_i p(x, z_i)/q(z_i|x) with z_i ~ q(z|x) (nats,
   * <= log p(x); a CVAE: <= log p(x|y)). Computed in chunks of examples and of samples
   * so memory stays bounded whatever k, the mean over samples taken in float64.
   */
  async iwae(x: tf.Tensor2D, k: number, seed: number, labels?: Labels): Promise<Float32Array> {
    return (await this.iwaeStats(x, k, seed, labels)).bound;
  }

  /** the IWAE-k bound per row (see iwae), each row's effective sample size of its k weights, and the samples drawn */
  async iwaeStats(x: tf.Tensor2D, k: number, seed: number, labels?: Labels): Promise<{ bound: Float32Array; ess: Float64Array; samples: number }> {
    this.need('iwae');
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`${this.family}.iwae: k must be a whole number >= 1`);
    const y = this.labelsFor(x, labels, 'iwae', false);
    try {
      const n = x.shape[0];
      const { bound, ess } = await streamIwae(
        n,
        k,
        seed,
        (s, m) =>
          tf.tidy(() => {
            const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
            const ys = y ? (tf.slice(y, [s, 0], [m, -1]) as tf.Tensor2D) : undefined;
            return { xs, ys, ...this.encodeWith(xs, ys) };
          }),
        ({ xs, ys, mu, logvar }, kk, sd) => {
          const { logPx, logRatio } = this.weights(xs, ys, mu, logvar, kk, sd);
          return tf.add(logPx, logRatio);
        },
      );
      // every example gets k draws
      return { bound, ess: Float64Array.from(ess), samples: n * k };
    } finally {
      y?.dispose();
    }
  }

  /**
   * -IWAE-k per example with k = lab.evaluate's `k` (default: evalK), an upper bound on the NLL
   * that tightens with k. Unless `opts.convergence` is false, the bound is also computed at 4k
   * (independent seed) on the first IWAE_CHECK_ROWS examples, and `convergence` compares the two
   * there, with the mean effective sample size of the weights (see eval/convergence.ts).
   * details: { k, samples (log-weights drawn in all, both runs) }. A CVAE needs the rows' labels: it bounds -log p(x|y).
   */
  async testNll(x: tf.Tensor2D, seed: number, labels?: tf.Tensor2D, opts?: EstimatorOptions): Promise<TestNll> {
    this.need('testNll');
    if (this.conditional && !labels) throw new Error(`cvae.testNll: needs the class labels of the rows (the split's y, one-hot): it bounds -log p(x|y)`);
    const k = opts?.k ?? this.config.evalK;
    if (!(Number.isInteger(k) && k >= 1)) throw new Error(`${this.family}: lab.evaluate's k (importance samples of the test bound) must be a whole number >= 1, got ${k}`);
    const main = await this.iwaeStats(x, k, seed, labels);
    const nll = main.bound.map((v) => -v);
    const details: Record<string, number> = { k, samples: main.samples };
    if (opts?.convergence === false) return { nll, kind: 'bound', details };
    const rows = Math.min(IWAE_CHECK_ROWS, x.shape[0]);
    const [xs, ys] = tf.tidy(() => [tf.slice(x, [0, 0], [rows, -1]) as tf.Tensor2D, labels ? (tf.slice(labels, [0, 0], [rows, -1]) as tf.Tensor2D) : undefined] as const);
    let check: Awaited<ReturnType<Vae['iwaeStats']>>;
    try {
      check = await this.iwaeStats(xs, CHECK_FACTOR * k, checkSeed(seed), ys);
    } finally {
      tf.dispose([xs, ...(ys ? [ys] : [])]);
    }
    details.samples += check.samples;
    const meanOf = (a: ArrayLike<number>, sign = 1) => {
      let t = 0;
      for (let i = 0; i < rows; i++) t += sign * a[i];
      return t / rows;
    };
    const convergence = convergenceOf({ knob: 'k', at: k, nll: meanOf(main.bound, -1), at4x: CHECK_FACTOR * k, nll4x: meanOf(check.bound, -1), ess: meanOf(main.ess), essOf: k, ess4x: meanOf(check.ess), ...(rows < x.shape[0] ? { rows } : {}) });
    return { nll, kind: 'bound', details, convergence };
  }

  async trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): Promise<StepMetrics> {
    this.lastStep = step;
    const seed = ctx.seed();
    const { beta, klWarmup, objective, k } = this.config;
    const w = klWarmup > 0 ? beta * Math.min(1, step / klWarmup) : beta;
    let y: tf.Tensor2D | undefined;
    if (this.conditional) {
      if (!ctx.labels) throw new Error(`cvae: the batch came without class labels (train a cvae with lab.train on a labelled dataset, e.g. lab.data.mnist())`);
      y = this.oneHot(ctx.labels, x.shape[0]);
    }
    // the scalars the step reports, kept out of the loss's scope and read back after it
    const kept: { recon?: tf.Scalar; kl?: tf.Scalar; bound?: tf.Scalar } = {};
    let objectiveT: tf.Scalar;
    try {
      objectiveT = ctx.minimize(
        'vae',
        () => {
          const { mu, logvar } = this.encodeWith(x, y);
          const { logPx, logRatio } = this.weights(x, y, mu, logvar, k, seed);
          const r = tf.neg(tf.mean(logPx)) as tf.Scalar;
          const klc = tf.mean(gaussianKl(mu, logvar)) as tf.Scalar;
          kept.recon = tf.keep(r);
          kept.kl = tf.keep(klc);
          if (objective === 'elbo') {
            // the closed-form KL: an ELBO estimate with less variance than the sampled ratio
            return tf.add(r, tf.mul(w, klc)) as tf.Scalar;
          }
          // IWAE-k: log (1/k) sum_i exp(log p(x|z_i) + w (log p(z_i) - log q(z_i|x))), the KL weight
          // on the prior/posterior ratio (w = 1: the bound itself), averaged over the batch
          const lse = (lw: tf.Tensor2D) => tf.sub(tf.mean(tf.logSumExp(lw, 0)), Math.log(k)) as tf.Scalar;
          if (w !== 1) kept.bound = tf.keep(tf.tidy(() => lse(tf.add(logPx, logRatio) as tf.Tensor2D)));
          const obj = lse(tf.add(logPx, tf.mul(w, logRatio)) as tf.Tensor2D);
          if (w === 1) kept.bound = tf.keep(obj);
          return tf.neg(obj) as tf.Scalar;
        },
        this.vars(),
      );
    } catch (e) {
      tf.dispose(Object.values(kept));
      throw e;
    } finally {
      y?.dispose();
    }
    // one read of every number the step reports (the same values read one by one)
    const parts = [kept.recon!, kept.kl!, ...(kept.bound ? [kept.bound] : []), objectiveT];
    const all = tf.tidy(() => tf.stack(parts));
    let v: Float32Array;
    try {
      v = (await all.data()) as Float32Array;
    } finally {
      tf.dispose([all, ...parts]);
    }
    const recon = v[0];
    const kl = v[1];
    const bound = kept.bound ? v[2] : NaN;
    const objectiveValue = v[parts.length - 1];
    // train/loss: the negated bound being maximized (the ELBO, or IWAE-k), with the KL at full weight
    const out: Record<string, number> = { 'train/loss': objective === 'iwae' ? -bound : recon + kl, 'train/recon': recon, 'train/kl': kl };
    if (w !== 1) out['train/objective'] = objectiveValue;
    if (klWarmup > 0) out['train/kl_weight'] = w;
    return out;
  }

  async evaluate(val: tf.Tensor2D, seed: number, labels?: tf.Tensor2D): Promise<Record<string, MetricValue>> {
    if (this.conditional && !labels) throw new Error(`cvae.evaluate: needs the class labels of the rows (one-hot [n, ${this.nClasses}])`);
    const n = val.shape[0];
    let rec = 0;
    let kl = 0;
    const klPerDim = new Float64Array(this.config.latentDim);
    const chunk = 500;
    for (let s = 0; s < n; s += chunk) {
      const m = Math.min(chunk, n - s);
      const [r, kd] = tf.tidy(() => {
        const x = tf.slice(val, [s, 0], [m, -1]) as tf.Tensor2D;
        const y = labels ? (tf.slice(labels, [s, 0], [m, -1]) as tf.Tensor2D) : undefined;
        const { mu, logvar } = this.encodeWith(x, y);
        const eps = normal(mu.shape, seed + s);
        const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
        return [tf.sum(this.nll(x, z, y)), tf.sum(gaussianKlPerDim(mu, logvar), 0)];
      });
      let rv: Float32Array;
      let kdv: Float32Array;
      try {
        [rv, kdv] = (await Promise.all([r.data(), kd.data()])) as [Float32Array, Float32Array];
      } finally {
        tf.dispose([r, kd]);
      }
      rec += rv[0];
      for (let i = 0; i < kdv.length; i++) {
        klPerDim[i] += kdv[i];
        kl += kdv[i];
      }
    }
    rec /= n;
    kl /= n;
    const elbo = -(rec + kl);
    const perDim = Float32Array.from(klPerDim, (v) => v / n);
    this.klHistory.steps.push(this.lastStep);
    this.klHistory.values.push(perDim);
    // "active units": latent dims whose average KL is above 0.01 nats (posterior collapse check)
    const active = perDim.filter((v) => v > 0.01).length;
    return {
      'val/elbo': { value: elbo, kind: 'bound' },
      'val/bits_per_dim': { value: -elbo / (this.D * Math.LN2), kind: 'bound' },
      'val/recon': { value: rec, kind: 'info' },
      'val/kl': { value: kl, kind: 'info' },
      'val/active_units': { value: active, kind: 'info' },
    };
  }

  /** mean KL(q(z_j|x) || N(0,1)) over the rows of x, per latent dimension j (nats) */
  async klPerDim(x: tf.Tensor2D, labels?: Labels): Promise<Float32Array> {
    this.need('klPerDim');
    const y = this.labelsFor(x, labels, 'klPerDim');
    const n = x.shape[0];
    const acc = new Float64Array(this.config.latentDim);
    try {
      for (let s = 0; s < n; s += 500) {
        const m = Math.min(500, n - s);
        const kd = tf.tidy(() => {
          const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
          const ys = y ? (tf.slice(y, [s, 0], [m, -1]) as tf.Tensor2D) : undefined;
          const { mu, logvar } = this.encodeWith(xs, ys);
          return tf.sum(gaussianKlPerDim(mu, logvar), 0);
        });
        let v: Float32Array;
        try {
          v = (await kd.data()) as Float32Array;
        } finally {
          kd.dispose();
        }
        for (let i = 0; i < v.length; i++) acc[i] += v[i];
      }
    } finally {
      y?.dispose();
    }
    return Float32Array.from(acc, (v) => v / n);
  }

  /**
   * The class each row most likely belongs to under a CVAE: argmax_y ELBO(x, y) (p(x|y)
   * bounded with one posterior draw, the same draw for every class), a generative classifier.
   */
  async classify(x: tf.Tensor2D, seed = 0): Promise<Int32Array> {
    const cls = this.classes1d(x, seed);
    try {
      return Int32Array.from((await cls.data()) as Int32Array);
    } finally {
      cls.dispose();
    }
  }

  /** classify's classes as an int32 tensor [n], not read back */
  private classes1d(x: tf.Tensor2D, seed: number): tf.Tensor1D {
    this.need('classify');
    if (!this.conditional) throw new Error(`${this.family}.classify: only a conditional VAE (cvae) models p(x|y)`);
    const n = x.shape[0];
    const C = this.nClasses;
    const chunks: tf.Tensor1D[] = [];
    try {
      for (let s = 0; s < n; s += 500) {
        const m = Math.min(500, n - s);
        chunks.push(
          tf.tidy(() => {
            const xs = tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D;
            const eps = normal([m, this.config.latentDim], subSeed(seed, s, 0));
            const per: tf.Tensor1D[] = [];
            for (let c = 0; c < C; c++) {
              const y = tf.oneHot(tf.fill([m], c, 'int32') as tf.Tensor1D, C).toFloat() as tf.Tensor2D;
              const { mu, logvar } = this.encodeWith(xs, y);
              const z = tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), eps)) as tf.Tensor2D;
              per.push(tf.neg(tf.add(this.nll(xs, z, y), gaussianKl(mu, logvar))) as tf.Tensor1D);
            }
            return tf.argMax(tf.stack(per, 1), 1) as tf.Tensor1D;
          }),
        );
      }
    } catch (e) {
      tf.dispose(chunks);
      throw e;
    }
    if (chunks.length === 0) return tf.tensor1d([], 'int32');
    if (chunks.length === 1) return chunks[0];
    const out = tf.concat(chunks) as tf.Tensor1D;
    tf.dispose(chunks);
    return out;
  }

  /** the decoder's means for codes z [n, latentDim]: images in [0, 1] (a CVAE: codes from noise(), or z with labels) */
  decode(z: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    this.need('decode');
    const L = this.config.latentDim;
    let y: tf.Tensor2D | undefined;
    let zz = z;
    if (this.conditional) {
      if (z.shape[1] === L + this.nClasses && labels === undefined) {
        [zz, y] = tf.split(z, [L, this.nClasses], 1) as [tf.Tensor2D, tf.Tensor2D];
      } else if (labels === undefined) {
        throw new Error(`cvae.decode: a conditional VAE decodes p(x|z,y): give the class (decode(z, labels), labels a class index, one per row, or one-hot), or codes [z, one-hot] from noise()`);
      } else {
        y = this.oneHot(labels, z.shape[0]);
      }
    }
    if (zz.shape[1] !== L) throw new Error(`${this.family}.decode: codes must have ${L} columns${this.conditional ? ` (or ${L + this.nClasses} with the one-hot class)` : ''}, not ${zz.shape[1]}`);
    const out = tf.tidy(() => this.means(this.dec!.apply(zz, y)));
    if (zz !== z) zz.dispose();
    y?.dispose();
    return out;
  }

  private means(out: tf.Tensor2D): tf.Tensor2D {
    if (this.likelihood === 'bernoulli') return tf.sigmoid(out) as tf.Tensor2D;
    return this.data?.kind === 'image' ? (tf.clipByValue(out, 0, 1) as tf.Tensor2D) : out;
  }

  /** decode(z) of x's codes: the posterior means, or (given a seed) one draw z ~ q(z|x) */
  reconstruct(x: tf.Tensor2D, seed?: number, labels?: Labels): tf.Tensor2D {
    this.need('reconstruct');
    const y = this.labelsFor(x, labels, 'reconstruct');
    const out = tf.tidy(() => {
      const { mu, logvar } = this.encodeWith(x, y);
      const z = seed === undefined ? mu : (tf.add(mu, tf.mul(tf.exp(tf.mul(0.5, logvar)), normal(mu.shape, seed))) as tf.Tensor2D);
      return this.means(this.dec!.apply(z, y));
    });
    y?.dispose();
    return out;
  }

  get hasLatent(): boolean {
    // a CVAE's code includes the class: a straight path between two codes is not one between two examples
    if (this.conditional) return false;
    // a Gaussian decoder on points adds noise in sample(): only the mean is a path
    return this.likelihood === 'bernoulli' || this.data?.kind === 'image';
  }

  /** posterior means [n, latentDim] (a CVAE given no labels: at the classes it finds most likely) */
  encodeMean(x: tf.Tensor2D, labels?: Labels): tf.Tensor2D {
    const { mu, logvar } = this.encode(x, labels);
    logvar.dispose();
    return mu;
  }

  /** prior draws [n, latentDim]; a CVAE appends the one-hot class i % classes to row i, so a grid shows every class */
  noise(n: number, seed: number): tf.Tensor2D {
    const z = normal([n, this.config.latentDim], seed) as tf.Tensor2D;
    if (!this.conditional) return z;
    this.need('noise');
    const y = this.oneHot(Array.from({ length: n }, (_, i) => i % this.nClasses), n);
    const out = tf.concat([z, y], 1) as tf.Tensor2D;
    tf.dispose([z, y]);
    return out;
  }

  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.need('sample');
    const z = noise ?? this.noise(n, seed);
    let means: tf.Tensor2D;
    try {
      means = this.decode(z);
    } finally {
      if (!noise) z.dispose();
    }
    if (this.likelihood === 'bernoulli' || this.data?.kind === 'image') return means;
    // points: a draw from p(x|z), not just its mean
    const out = tf.tidy(() => tf.add(means, tf.mul(this.sigma(), normal(means.shape, seed + 1))) as tf.Tensor2D);
    means.dispose();
    return out;
  }

  /** `n` CVAE samples (decoder means) of class `cls`, from prior draws seeded with `seed` */
  sampleClass(n: number, cls: number, seed = 0): tf.Tensor2D {
    this.need('sampleClass');
    if (!this.conditional) throw new Error(`${this.family}.sampleClass: only a conditional VAE (cvae) samples a given class`);
    const z = normal([n, this.config.latentDim], seed) as tf.Tensor2D;
    try {
      return this.decode(z, cls);
    } finally {
      z.dispose();
    }
  }

  private vars(): tf.Variable[] {
    const v = [...this.enc!.vars(), ...this.dec!.vars()];
    if (this.logSigma) v.push(this.logSigma);
    return v;
  }

  getWeights(): NamedWeight[] {
    const w = [...this.enc!.named('encoder'), ...this.dec!.named('decoder')];
    if (this.logSigma) w.push({ name: 'decoder/log_sigma', tensor: this.logSigma });
    return w;
  }

  setWeights(weights: NamedWeight[]): void {
    this.enc!.load('encoder', weights);
    this.dec!.load('decoder', weights);
    if (this.logSigma) {
      const t = weights.find((w) => w.name === 'decoder/log_sigma');
      if (!t) throw new Error(`setWeights: missing 'decoder/log_sigma'`);
      this.logSigma.assign(t.tensor);
    }
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.enc?.dispose();
    this.dec?.dispose();
    this.logSigma?.dispose();
  }
}
