// Denoising diffusion probabilistic model (Ho et al. 2020).
//
// Forward process: a fixed Markov chain q(x_t | x_{t-1}) = N(√(1−β_t) x_{t−1}, β_t I),
// t = 1..T, whose marginal has the closed form q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I)
// with ᾱ_t = Π_{s≤t} (1−β_s). A network ε_θ(x_t, t) learns to predict the noise ε of
// x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε from the simplified objective E_{t,x_0,ε} ‖ε − ε_θ(x_t, t)‖²
// (t uniform on 1..T). Sampling runs the reverse chain from x_T ~ N(0, I):
//   x̂_0 = (x_t − √(1−ᾱ_t) ε_θ) / √ᾱ_t,
//   x_{t−1} = (√ᾱ_{t−1} β_t / (1−ᾱ_t)) x̂_0 + (√α_t (1−ᾱ_{t−1}) / (1−ᾱ_t)) x_t + σ_t z,
// σ_t² = β_t or the posterior variance β̃_t = β_t (1−ᾱ_{t−1}) / (1−ᾱ_t), no noise on the
// last step. (Without clipping x̂_0 the mean equals (x_t − β_t/√(1−ᾱ_t) ε_θ)/√α_t.)
//
// Strided sampling (sampleSteps < T) runs the same sampler on a subsequence τ of the
// timesteps, with the betas that subsequence implies: β'_i = 1 − ᾱ_{τ_i} / ᾱ_{τ_{i−1}}
// (Nichol & Dhariwal's respacing). The network still sees the original t = τ_i.
//
// Images: pixels in [0, 1] are mapped to [−1, 1] for the diffusion and back (clipped)
// for samples. 2-D points are diffused as they are (the toy sets are on unit scale).
//
// The bound (testNll, kind 'bound'): on 8-bit images dequantized as u = (k + U)/256,
// −log p(x) ≤ E_q[ L_T + Σ_{t≥2} L_{t−1} + L_0 ] + D log 256 − D log 2 (the last term is
// the log-det of u ↦ 2u − 1), with L_{t−1} = KL(q(x_{t−1}|x_t,x_0) ‖ p_θ(x_{t−1}|x_t)) in
// closed form (Gaussians), L_T = KL(q(x_T|x_0) ‖ N(0, I)) and L_0 = −log N(x_0; μ_θ(x_1, 1), σ_1²)
// on the continuous dequantized value (σ_1² = β_1), for the model without x̂_0 clipping, one
// x_t per term drawn from q (an unbiased estimate of the bound, as Ho et al. report it); by
// default the sum over t is itself estimated from 100 of its terms (nllTimesteps).
//
// Networks: on points an MLP whose hidden layers each get a projection of a sinusoidal
// time embedding added; on images a tiny U-Net (residual 3×3 conv blocks with the time
// embedding added per block, self-attention at quarter resolution). On MNIST with the
// wasm backend the U-Net learned far more per second than a wide MLP (val loss 0.10 vs
// 0.55 after ~85 s), so it is the image default. Sampling, evaluation and testNll use an
// exponential moving average of the weights (`ema`).
import * as tf from '@tensorflow/tfjs';
import { pointValMetrics } from '../../eval/point-samples';
import { normal, uniform, uniformValues } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { Params, type Conv, type Dense } from '../../nn/params';
import { subSeed } from '../../nn/seeds';

export type DdpmSchedule = 'linear' | 'cosine';
export type DdpmVariance = 'beta' | 'posterior';
export type DdpmNet = 'mlp' | 'unet';

export type DdpmConfig = LatentLab.DdpmConfig;

type Resolved = {
  timesteps: number | null;
  schedule: DdpmSchedule;
  variance: DdpmVariance;
  net: DdpmNet | null;
  hidden: number[] | null;
  channels: number[];
  attention: boolean;
  timeEmbed: number | null;
  sampleSteps: number | null;
  clipDenoised: boolean | null;
  evalSamples: number;
  ema: number;
  nllTimesteps: number;
};

/** β_t, α_t, ᾱ_t for t = 1..T (index t−1), in float64 */
export interface NoiseSchedule {
  T: number;
  betas: Float64Array;
  alphas: Float64Array;
  alphaBars: Float64Array;
}

/** ᾱ_t with ᾱ_0 = 1 */
export function alphaBarAt(s: NoiseSchedule, t: number): number {
  return t <= 0 ? 1 : s.alphaBars[t - 1];
}

export function makeSchedule(kind: DdpmSchedule, T: number): NoiseSchedule {
  if (!Number.isInteger(T) || T < 2) throw new Error(`ddpm: timesteps must be an integer >= 2 (got ${T})`);
  const betas = new Float64Array(T);
  if (kind === 'linear') {
    const scale = 1000 / T;
    const lo = scale * 1e-4;
    const hi = scale * 0.02;
    for (let i = 0; i < T; i++) betas[i] = Math.min(0.999, lo + ((hi - lo) * i) / (T - 1));
  } else if (kind === 'cosine') {
    const s = 0.008;
    const f = (t: number) => Math.cos((((t / T) + s) / (1 + s)) * (Math.PI / 2)) ** 2;
    for (let i = 0; i < T; i++) betas[i] = Math.min(0.999, 1 - f(i + 1) / f(i));
  } else {
    throw new Error(`ddpm: schedule must be 'linear' | 'cosine' (got '${String(kind)}')`);
  }
  const alphas = betas.map((b) => 1 - b);
  const alphaBars = new Float64Array(T);
  let prod = 1;
  for (let i = 0; i < T; i++) alphaBars[i] = prod *= alphas[i];
  return { T, betas, alphas, alphaBars };
}

/**
 * The timesteps a reverse chain of `steps` steps visits, from T down to 1: all of them
 * when steps >= T, else `steps` evenly spaced ones that include T and 1.
 */
export function reverseTimesteps(T: number, steps: number): number[] {
  const K = Math.max(1, Math.min(T, Math.floor(steps)));
  if (K >= T) return Array.from({ length: T }, (_, i) => T - i);
  if (K === 1) return [T];
  const out: number[] = [];
  for (let i = 0; i < K; i++) out.push(Math.round(T - ((T - 1) * i) / (K - 1)));
  return [...new Set(out)];
}

/** sinusoidal features of the timesteps: [B, E], sin and cos of t·ω_k, ω_k = 10000^(−k/(E/2)) */
export function timeFeatures(t: tf.Tensor1D, E: number, T: number): tf.Tensor2D {
  return tf.tidy(() => {
    const half = Math.floor(E / 2);
    const freqs = new Float32Array(half);
    for (let k = 0; k < half; k++) freqs[k] = Math.exp((-Math.log(10000) * k) / Math.max(1, half));
    // t on the scale of a 1000-step chain, so every T spans the same frequencies
    const arg = tf.matMul(tf.reshape(tf.mul(t, 1000 / T), [-1, 1]), tf.tensor2d(freqs, [1, half]));
    return tf.concat([tf.sin(arg), tf.cos(arg)], 1) as tf.Tensor2D;
  });
}

const silu = (h: tf.Tensor) => tf.mul(h, tf.sigmoid(h));

// ---- parameters ---------------------------------------------------------------------


const dense = (x: tf.Tensor2D, d: Dense): tf.Tensor2D => tf.add(tf.matMul(x, d.W), d.b);
const conv = (x: tf.Tensor4D, c: Conv, stride = 1): tf.Tensor4D => tf.add(tf.conv2d(x, c.W, stride, 'same'), c.b);

/** ε_θ(x_t, t): [B, D] and the time features [B, E] → [B, D] */
export interface EpsNet {
  apply(x: tf.Tensor2D, temb: tf.Tensor2D): tf.Tensor2D;
}

/**
 * An MLP whose every hidden layer gets the time embedding added:
 * e = silu(dense(features(t))), h_0 = dense(x) + dense_0(e), h_l = dense(silu(h_{l−1})) + dense_l(e),
 * out = dense(silu(h_L)) (zero-initialized, so training starts from ε_θ = 0).
 */
class MlpEps implements EpsNet {
  private readonly embed: Dense;
  private readonly layers: { main: Dense; time: Dense }[] = [];
  private readonly out: Dense;
  constructor(p: Params, D: number, hidden: number[], E: number) {
    const H0 = hidden[0];
    this.embed = p.dense('eps/embed', E, H0);
    let nin = D;
    hidden.forEach((h, l) => {
      this.layers.push({ main: p.dense(`eps/h${l}`, nin, h), time: p.dense(`eps/t${l}`, H0, h) });
      nin = h;
    });
    this.out = p.dense('eps/out', nin, D, true);
  }
  apply(x: tf.Tensor2D, temb: tf.Tensor2D): tf.Tensor2D {
    const e = silu(dense(temb, this.embed)) as tf.Tensor2D;
    let h = x;
    for (const { main, time } of this.layers) h = silu(tf.add(dense(h, main), dense(e, time))) as tf.Tensor2D;
    return dense(h, this.out);
  }
}

/**
 * A tiny U-Net: 3×3 convolutions in residual blocks, each block adding a projection of
 * the time embedding to its channels; two stride-2 downsamplings (H → H/2 → H/4), two
 * 4×4 stride-2 transposed convolutions back up, with the skip connections concatenated;
 * optionally one self-attention layer over the H/4 × H/4 positions (the part that sees
 * the whole image at once; zero-initialized, so it starts as the identity).
 */
class UNetEps implements EpsNet {
  private readonly embed: Dense;
  private readonly inConv: Conv;
  private readonly blocks: { c1: Conv; c2: Conv; time: Dense; skip: Conv | null }[] = [];
  private readonly down1: Conv;
  private readonly down2: Conv;
  private readonly up1: Conv;
  private readonly up2: Conv;
  private readonly outConv: Conv;
  private readonly attn: { q: Dense; k: Dense; v: Dense; o: Dense } | null;
  constructor(p: Params, private readonly H: number, private readonly W: number, private readonly C: number, private readonly ch: number[], E: number, attention: boolean) {
    const [a, b, c] = ch;
    this.embed = p.dense('eps/embed', E, 4 * a);
    const block = (name: string, cin: number, cout: number) => ({
      c1: p.conv(`${name}/c1`, 3, cin, cout),
      c2: p.conv(`${name}/c2`, 3, cout, cout),
      time: p.dense(`${name}/t`, 4 * a, cout),
      skip: cin === cout ? null : p.conv(`${name}/skip`, 1, cin, cout),
    });
    this.inConv = p.conv('eps/in', 3, C, a);
    this.blocks.push(block('eps/b0', a, a)); // H
    this.down1 = p.conv('eps/down1', 3, a, b);
    this.blocks.push(block('eps/b1', b, b)); // H/2
    this.down2 = p.conv('eps/down2', 3, b, c);
    this.blocks.push(block('eps/b2', c, c)); // H/4
    this.attn = attention ? { q: p.dense('eps/attn/q', c, c), k: p.dense('eps/attn/k', c, c), v: p.dense('eps/attn/v', c, c), o: p.dense('eps/attn/o', c, c, true) } : null;
    this.up1 = p.deconv('eps/up1', 4, c, b);
    this.blocks.push(block('eps/b3', 2 * b, b)); // H/2, with the skip
    this.up2 = p.deconv('eps/up2', 4, b, a);
    this.blocks.push(block('eps/b4', 2 * a, a)); // H, with the skip
    this.outConv = p.conv('eps/out', 3, a, C, true);
  }
  private block(i: number, h: tf.Tensor4D, e: tf.Tensor2D): tf.Tensor4D {
    const { c1, c2, time, skip } = this.blocks[i];
    const B = h.shape[0];
    const cout = c1.b.shape[0];
    let y = conv(silu(h) as tf.Tensor4D, c1);
    y = tf.add(y, tf.reshape(dense(e, time), [B, 1, 1, cout]));
    y = conv(silu(y) as tf.Tensor4D, c2);
    return tf.add(y, skip ? conv(h, skip) : h);
  }
  /** h + softmax(Q Kᵀ/√c) V W_o over the positions, Q, K, V from the channel-normalized h */
  private attention(h: tf.Tensor4D): tf.Tensor4D {
    const { q, k, v, o } = this.attn!;
    const [B, hh, ww, c] = h.shape;
    const n = hh * ww;
    const flat = tf.reshape(h, [B * n, c]) as tf.Tensor2D;
    const { mean, variance } = tf.moments(flat, 1, true);
    const x = tf.div(tf.sub(flat, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
    const Q = tf.reshape(dense(x, q), [B, n, c]) as tf.Tensor3D;
    const K = tf.reshape(dense(x, k), [B, n, c]) as tf.Tensor3D;
    const V = tf.reshape(dense(x, v), [B, n, c]) as tf.Tensor3D;
    const A = tf.softmax(tf.mul(tf.matMul(Q, K, false, true), 1 / Math.sqrt(c)));
    const out = dense(tf.reshape(tf.matMul(A, V), [B * n, c]) as tf.Tensor2D, o);
    return tf.add(h, tf.reshape(out, [B, hh, ww, c]));
  }
  apply(x: tf.Tensor2D, temb: tf.Tensor2D): tf.Tensor2D {
    const { H, W, C } = this;
    const B = x.shape[0];
    const [a, b] = this.ch;
    const e = silu(dense(temb, this.embed)) as tf.Tensor2D;
    let h = conv(tf.reshape(x, [B, H, W, C]), this.inConv);
    const s1 = this.block(0, h, e);
    h = conv(s1, this.down1, 2);
    const s2 = this.block(1, h, e);
    h = conv(s2, this.down2, 2);
    h = this.block(2, h, e);
    if (this.attn) h = this.attention(h);
    h = tf.add(tf.conv2dTranspose(h, this.up1.W, [B, H / 2, W / 2, b], 2, 'same'), this.up1.b);
    h = this.block(3, tf.concat([h, s2], 3), e);
    h = tf.add(tf.conv2dTranspose(h, this.up2.W, [B, H, W, a], 2, 'same'), this.up2.b);
    h = this.block(4, tf.concat([h, s1], 3), e);
    return tf.reshape(conv(silu(h) as tf.Tensor4D, this.outConv), [B, H * W * C]);
  }
}

/** the settings of the diffusion family's time-conditioned networks (ddpm, flowMatching) */
interface TimeNetSettings {
  net?: DdpmNet | null;
  hidden?: number[] | null;
  channels?: number[];
  timeEmbed?: number | null;
  ema?: number;
  evalSamples?: number;
}

/** checks the time-conditioned network's settings a model was given (errors name `family`) */
export function checkTimeNetConfig(family: string, c: TimeNetSettings): void {
  if (c.net !== undefined && !['mlp', 'unet'].includes(c.net as string)) throw new Error(`${family}: net must be 'mlp' | 'unet' (got '${String(c.net)}')`);
  if (c.hidden !== undefined && (!Array.isArray(c.hidden) || c.hidden.length === 0 || c.hidden.some((h) => !Number.isInteger(h) || h < 1))) throw new Error(`${family}: hidden must be a non-empty list of positive integers, e.g. [128, 128, 128]`);
  if (c.channels !== undefined && (!Array.isArray(c.channels) || c.channels.length < 2 || c.channels.length > 3 || c.channels.some((h) => !Number.isInteger(h) || h < 1))) throw new Error(`${family}: channels must be two or three positive integers (full, half and quarter resolution), e.g. [16, 32, 64]`);
  if (c.timeEmbed !== undefined && (!Number.isInteger(c.timeEmbed) || (c.timeEmbed as number) < 2 || (c.timeEmbed as number) % 2 !== 0)) throw new Error(`${family}: timeEmbed must be an even integer >= 2 (got ${c.timeEmbed})`);
  if (c.ema !== undefined && !(typeof c.ema === 'number' && c.ema >= 0 && c.ema < 1)) throw new Error(`${family}: ema must be a decay in [0, 1) (0 = off; got ${c.ema})`);
  if (c.evalSamples !== undefined && (!Number.isInteger(c.evalSamples) || c.evalSamples < 2)) throw new Error(`${family}: evalSamples must be an integer >= 2 (got ${c.evalSamples})`);
}

/** the time-conditioned network of a model on `data`: the U-Net (images with sides divisible by 4) or the MLP */
export function buildTimeNet(family: string, p: Params, data: DataInfo, c: { net: DdpmNet; hidden: number[]; channels: number[]; timeEmbed: number; attention: boolean }): EpsNet {
  if (c.net === 'mlp') return new MlpEps(p, data.shape.reduce((a, b) => a * b, 1), c.hidden, c.timeEmbed);
  if (data.kind !== 'image' || data.shape.length < 2) throw new Error(`${family}: net 'unet' needs images ([H, W] or [H, W, C]); use net: 'mlp' on ${data.kind}`);
  const [H, W] = data.shape;
  if (H % 4 !== 0 || W % 4 !== 0) throw new Error(`${family}: net 'unet' halves the image twice: its sides must divide by 4 (got ${H}×${W}); use net: 'mlp'`);
  return new UNetEps(p, H, W, data.shape[2] ?? 1, c.channels, c.timeEmbed, c.attention);
}

/** sample metrics of 2-D `samples` (disposed here) against the validation rows: val/mmd, and a toy mixture's mode statistics */
export async function pointValMetricsOf(samples: tf.Tensor2D, val: tf.Tensor2D, data: DataInfo): Promise<Record<string, MetricValue>> {
  let pts: Float32Array;
  let v: Float32Array;
  try {
    [pts, v] = (await Promise.all([samples.data(), val.data()])) as [Float32Array, Float32Array];
  } finally {
    samples.dispose();
  }
  return pointValMetrics(pts, v, data);
}

const LOG_2PI = Math.log(2 * Math.PI);

/** options of a reverse chain run by hand (the views) */
export interface ReverseOptions {
  n: number;
  seed: number;
  /** x_T [n, D] (default: drawn with `seed`) */
  noise?: tf.Tensor2D;
  /** reverse steps (default: the model's sampleSteps) */
  steps?: number;
  /** record x_t at these t (0 = the final sample); each is moved to the nearest t the chain visits */
  keep?: number[];
  /** σ_t² of this chain (default: the model's variance) */
  variance?: DdpmVariance;
}

export interface ReverseResult {
  /** the final samples in data space [n·D] (images in [0, 1]) */
  samples: Float32Array;
  /** x_t at each kept t, in data space (images mapped to [0, 1] and clipped), in chain order (T first) */
  frames: Float32Array[];
  /** the t of each frame */
  t: number[];
}

export class Ddpm implements Model {
  readonly family = 'ddpm';
  readonly config: Resolved;
  bestMetric: { key: string; mode: 'max' | 'min' } | undefined = { key: 'val/loss', mode: 'min' };
  private params: Params | null = null;
  private eps: EpsNet | null = null;
  private data: DataInfo | null = null;
  private sched: NoiseSchedule | null = null;
  private override: ((xt: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D) | null = null;

  constructor(cfg: DdpmConfig = {}) {
    const c = cfg ?? {};
    const schedule = c.schedule ?? 'linear';
    if (!['linear', 'cosine'].includes(schedule)) throw new Error(`ddpm: schedule must be 'linear' | 'cosine' (got '${String(schedule)}')`);
    const variance = c.variance ?? 'beta';
    if (!['beta', 'posterior'].includes(variance)) throw new Error(`ddpm: variance must be 'beta' | 'posterior' (got '${String(variance)}')`);
    checkTimeNetConfig('ddpm', c);
    if (c.timesteps !== undefined && (!Number.isInteger(c.timesteps) || c.timesteps < 2 || c.timesteps > 100000)) throw new Error(`ddpm: timesteps must be an integer in [2, 100000] (got ${c.timesteps})`);
    if (c.sampleSteps !== undefined && (!Number.isInteger(c.sampleSteps) || c.sampleSteps < 1)) throw new Error(`ddpm: sampleSteps must be a positive integer (got ${c.sampleSteps})`);
    if (c.nllTimesteps !== undefined && (!Number.isInteger(c.nllTimesteps) || c.nllTimesteps < 1)) throw new Error(`ddpm: nllTimesteps must be a positive integer (got ${c.nllTimesteps})`);
    this.config = {
      timesteps: c.timesteps ?? null,
      schedule,
      variance,
      net: c.net ?? null,
      hidden: c.hidden ? [...c.hidden] : null,
      channels: c.channels ? (c.channels.length === 2 ? [...c.channels, c.channels[1]] : [...c.channels]) : [16, 32, 64],
      attention: c.attention ?? true,
      timeEmbed: c.timeEmbed ?? null,
      sampleSteps: c.sampleSteps ?? null,
      clipDenoised: c.clipDenoised ?? null,
      evalSamples: c.evalSamples ?? 1000,
      ema: c.ema ?? 0.999,
      nllTimesteps: c.nllTimesteps ?? 100,
    };
  }

  get built(): boolean {
    return this.eps !== null;
  }

  /** what the model was built on (null before lab.train) */
  get dataInfo(): DataInfo | null {
    return this.data;
  }

  private get image(): boolean {
    return this.data?.kind === 'image';
  }

  private get D(): number {
    return this.data!.shape.reduce((a, b) => a * b, 1);
  }

  /** T for data of this kind: the configured one, or the default (1000 images, 100 points) */
  timestepsFor(kind: DataInfo['kind']): number {
    return this.config.timesteps ?? (kind === 'image' ? 1000 : 100);
  }

  /** the noise schedule (built: the model's; else the one it would use on data of `kind`) */
  schedule(kind: DataInfo['kind'] = this.data?.kind ?? 'points'): NoiseSchedule {
    if (this.sched) return this.sched;
    return makeSchedule(this.config.schedule, this.timestepsFor(kind));
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'val/loss': 'loss',
      'val/mmd': 'sample',
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('ddpm: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('ddpm: diffuses images and 2-D points (continuous data), not sequences');
    const image = data.kind === 'image';
    const c = this.config;
    c.timesteps = this.timestepsFor(data.kind);
    c.net ??= image ? 'unet' : 'mlp';
    c.hidden ??= image ? [512, 512, 512] : [128, 128, 128];
    c.timeEmbed ??= image ? 64 : 32;
    c.sampleSteps = Math.min(c.sampleSteps ?? Math.min(c.timesteps, 100), c.timesteps);
    c.clipDenoised ??= image;
    const p = new Params('ddpm', rng);
    this.eps = buildTimeNet('ddpm', p, data, { ...c, net: c.net, hidden: c.hidden, timeEmbed: c.timeEmbed });
    this.params = p;
    this.data = data;
    this.sched = makeSchedule(c.schedule, c.timesteps);
    if (c.ema > 0) p.startEma();
    this.bestMetric = data.modes || (data.kind === 'points' && data.shape[0] === 2) ? { key: 'val/mmd', mode: 'min' } : { key: 'val/loss', mode: 'min' };
  }

  private requireBuilt(what: string): void {
    if (!this.built) throw new Error(`ddpm.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** data space → diffusion space ([0,1] pixels → [−1,1]) */
  toDiffusion(x: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D) : x;
  }

  /** diffusion space → data space (images clipped to [0, 1]) */
  toData(y: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.clipByValue(tf.mul(tf.add(y, 1), 0.5), 0, 1) as tf.Tensor2D) : (tf.clone(y) as tf.Tensor2D);
  }

  /** ε_θ(x_t, t) for rows x_t [B, D] (diffusion space) at timesteps t [B] (1..T), with the averaged weights */
  predictNoise(xt: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    this.requireBuilt('predictNoise');
    return this.params!.withEma(() => tf.tidy(() => this.epsAt(xt, t)));
  }

  /** ε_θ(x_t, t), or the predictor set with setNoisePredictor */
  private epsAt(xt: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D {
    if (this.override) return this.override(xt, t);
    return this.eps!.apply(xt, timeFeatures(t, this.config.timeEmbed!, this.sched!.T));
  }

  /**
   * Replace ε_θ by a function of (x_t [B, D] in diffusion space, t [B]) → [B, D] in the
   * sampler, the validation loss and the bound (null: back to the network). For analysis:
   * e.g. the analytic optimum on Gaussian data, ε*(x_t) = √(1−ᾱ_t)(x_t − √ᾱ_t μ)/(ᾱ_t s² + 1 − ᾱ_t).
   */
  setNoisePredictor(f: ((xt: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D) | null): void {
    this.requireBuilt('setNoisePredictor');
    this.override = f;
  }

  /** √ᾱ_t and √(1−ᾱ_t) of integer timesteps (1..T) as [B, 1] columns */
  private coefs(t: Int32Array): { a: tf.Tensor2D; s: tf.Tensor2D } {
    const ab = this.sched!.alphaBars;
    const a = new Float32Array(t.length);
    const s = new Float32Array(t.length);
    for (let i = 0; i < t.length; i++) {
      a[i] = Math.sqrt(ab[t[i] - 1]);
      s[i] = Math.sqrt(1 - ab[t[i] - 1]);
    }
    return { a: tf.tensor2d(a, [t.length, 1]), s: tf.tensor2d(s, [t.length, 1]) };
  }

  /** B timesteps uniform on 1..T from `seed` */
  private drawTimesteps(B: number, seed: number): Int32Array {
    const v = uniformValues(seed, B);
    const T = this.sched!.T;
    return Int32Array.from(v, (x) => Math.min(T, 1 + Math.floor(x * T)));
  }

  /**
   * A draw of q(x_t | x_0) = N(√ᾱ_t x_0, (1−ᾱ_t) I) in diffusion space, one t per row
   * (`t` a single step or one per row); also returns the noise ε it used.
   */
  diffuse(x0: tf.Tensor2D, t: number | Int32Array, seed: number): { xt: tf.Tensor2D; eps: tf.Tensor2D } {
    return tf.tidy(() => {
      const B = x0.shape[0];
      const ts = typeof t === 'number' ? new Int32Array(B).fill(t) : t;
      const eps = normal(x0.shape, seed) as tf.Tensor2D;
      if (ts.every((v) => v === 0)) return { xt: tf.clone(x0), eps };
      const { a, s } = this.coefs(ts);
      return { xt: tf.add(tf.mul(a, x0), tf.mul(s, eps)) as tf.Tensor2D, eps };
    });
  }

  /** the simplified loss: mean over rows and dims of (ε − ε_θ(x_t, t))² (x0 in diffusion space) */
  private loss(x0: tf.Tensor2D, t: Int32Array, seed: number): tf.Scalar {
    const { xt, eps } = this.diffuse(x0, t, seed);
    const tt = tf.tensor1d(Float32Array.from(t));
    const pred = this.epsAt(xt, tt);
    return tf.mean(tf.square(tf.sub(eps, pred)));
  }

  trainStep(batch: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const B = batch.shape[0];
    const t = this.drawTimesteps(B, ctx.seed());
    const seed = ctx.seed();
    const x0 = this.toDiffusion(batch);
    try {
      const loss = ctx.minimize('eps', () => this.loss(x0, t, seed), this.params!.vars());
      this.params!.updateEma(this.config.ema);
      return { 'train/loss': loss };
    } finally {
      if (x0 !== batch) x0.dispose();
    }
  }

  /** the simplified loss on rows of `x` (data space) with t and ε drawn from `seed`, in chunks */
  async validationLoss(x: tf.Tensor2D, seed: number): Promise<number> {
    this.requireBuilt('validationLoss');
    // every chunk's loss with the averaged weights, then read back (outside withEma: it swaps the weights)
    const losses = this.params!.withEma(() => this.validationLosses(x, seed));
    let values: Float32Array;
    try {
      values = (await losses.all.data()) as Float32Array;
    } finally {
      losses.all.dispose();
    }
    let sum = 0;
    losses.rows.forEach((m, k) => (sum += values[k] * m));
    return sum / x.shape[0];
  }

  /** the loss of each chunk of rows as one tensor [chunks], and the chunks' sizes */
  private validationLosses(x: tf.Tensor2D, seed: number): { all: tf.Tensor1D; rows: number[] } {
    const n = x.shape[0];
    const chunk = this.config.net === 'unet' ? 250 : 2000;
    const parts: tf.Scalar[] = [];
    const rows: number[] = [];
    try {
      for (let i = 0; i < n; i += chunk) {
        const m = Math.min(chunk, n - i);
        const t = this.drawTimesteps(m, subSeed(seed, i, 1));
        parts.push(tf.tidy(() => this.loss(this.toDiffusion(tf.slice(x, [i, 0], [m, -1])), t, subSeed(seed, i, 2))));
        rows.push(m);
      }
      return { all: (parts.length > 0 ? tf.stack(parts) : tf.tensor1d([])) as tf.Tensor1D, rows };
    } finally {
      tf.dispose(parts);
    }
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const out: Record<string, MetricValue> = { 'val/loss': { value: await this.validationLoss(val, seed), kind: 'loss' } };
    if (this.data?.kind === 'points' && this.D === 2) Object.assign(out, await pointValMetricsOf(this.sample(this.config.evalSamples, undefined, subSeed(seed, 3, 0)), val, this.data));
    return out;
  }

  /** x_T ~ N(0, I): [n, D] */
  noise(n: number, seed: number): tf.Tensor2D {
    this.requireBuilt('noise');
    return normal([n, this.D], seed) as tf.Tensor2D;
  }

  /** `n` samples by the reverse chain (sampleSteps steps) from x_T = `noise` (or drawn with `seed`); data space */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.requireBuilt('reverse');
    return this.params!.withEma(() => this.reverseNow({ n, seed, noise })).out;
  }

  /**
   * The reverse chain, keeping x_t at the asked t (frames for the views). The chain's
   * per-step noise comes from `seed`; x_T from `noise` or, if not given, from `seed` too.
   */
  async reverse(opts: ReverseOptions): Promise<ReverseResult> {
    this.requireBuilt('reverse');
    // the chain runs with the averaged weights; its frames are read back after (withEma swaps the weights)
    const r = this.params!.withEma(() => this.reverseNow(opts));
    const all = [r.out, ...r.frames];
    try {
      const values = (await Promise.all(all.map((t) => t.data()))) as Float32Array[];
      return { samples: values[0].slice(), frames: values.slice(1).map((v) => v.slice()), t: r.t };
    } finally {
      tf.dispose(all);
    }
  }

  /** the reverse chain's samples [n, D] and kept frames in data space, as tensors (the caller disposes them) */
  private reverseNow(opts: ReverseOptions): { out: tf.Tensor2D; frames: tf.Tensor2D[]; t: number[] } {
    const { n, seed } = opts;
    if (opts.variance !== undefined && !['beta', 'posterior'].includes(opts.variance)) throw new Error(`ddpm: variance must be 'beta' | 'posterior' (got '${String(opts.variance)}')`);
    const s = this.sched!;
    const taus = reverseTimesteps(s.T, opts.steps ?? this.config.sampleSteps ?? s.T);
    // each asked t moves to the nearest visited t (or 0, the output)
    const visited = [...taus, 0];
    const keep = new Set<number>();
    for (const want of opts.keep ?? []) {
      let best = visited[0];
      for (const v of visited) if (Math.abs(v - want) < Math.abs(best - want)) best = v;
      keep.add(best);
    }
    const frames: tf.Tensor2D[] = [];
    const ts: number[] = [];
    const record = (x: tf.Tensor2D, t: number) => {
      if (!keep.has(t)) return;
      frames.push(tf.tidy(() => this.toData(x)));
      ts.push(t);
    };
    let x: tf.Tensor2D = opts.noise ? tf.clone(opts.noise) : (normal([n, this.D], subSeed(seed, 0, 7)) as tf.Tensor2D);
    if (x.shape[0] !== n || x.shape[1] !== this.D) throw new Error(`ddpm.sample: noise must be [${n}, ${this.D}] (got [${x.shape}])`);
    record(x, taus[0]);
    const clip = this.config.clipDenoised!;
    const chunk = this.config.net === 'unet' ? 128 : 4096;
    for (let i = 0; i < taus.length; i++) {
      const t = taus[i];
      const prev = i + 1 < taus.length ? taus[i + 1] : 0;
      const abT = alphaBarAt(s, t);
      const abP = alphaBarAt(s, prev);
      const beta = 1 - abT / abP;
      const alpha = 1 - beta;
      const c0 = (Math.sqrt(abP) * beta) / (1 - abT);
      const ct = (Math.sqrt(alpha) * (1 - abP)) / (1 - abT);
      const variance = (opts.variance ?? this.config.variance) === 'beta' ? beta : (beta * (1 - abP)) / (1 - abT);
      const next = tf.tidy(() => {
        const parts: tf.Tensor2D[] = [];
        for (let r = 0; r < n; r += chunk) {
          const m = Math.min(chunk, n - r);
          const xr = m === n ? x : (tf.slice(x, [r, 0], [m, -1]) as tf.Tensor2D);
          const e = this.epsAt(xr, tf.fill([m], t) as tf.Tensor1D);
          let x0 = tf.div(tf.sub(xr, tf.mul(e, Math.sqrt(1 - abT))), Math.sqrt(abT));
          if (clip) x0 = tf.clipByValue(x0, -1, 1);
          parts.push(tf.add(tf.mul(x0, c0), tf.mul(xr, ct)) as tf.Tensor2D);
        }
        let mean = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
        if (prev > 0) mean = tf.add(mean, tf.mul(normal([n, this.D], subSeed(seed, i + 1, 11)), Math.sqrt(variance))) as tf.Tensor2D;
        return mean;
      });
      x.dispose();
      x = next;
      record(x, prev);
    }
    const out = tf.tidy(() => this.toData(x));
    x.dispose();
    return { out, frames, t: ts };
  }

  /**
   * −log p(x) bound per example, in nats on the 8-bit scale, for images with 8-bit
   * pixels (k/255): the variational bound on dequantized pixels (see the file's header),
   * for the model without x̂_0 clipping. One x_t per term; the sum over t is every term
   * or a stratified estimate of it (nllTimesteps).
   */
  async testNll(x: tf.Tensor2D, seed: number): Promise<TestNll> {
    this.requireBuilt('testNll');
    if (!this.image) throw new Error('ddpm.testNll: the bound is defined on 8-bit images (dequantized); on 2-D points judge the samples (val/mmd)');
    const s = this.sched!;
    const n = x.shape[0];
    const D = this.D;
    const T = s.T;
    const nll = new Float64Array(n);
    const chunk = this.config.net === 'unet' ? 100 : 500;
    for (let r = 0; r < n; r += chunk) {
      const m = Math.min(chunk, n - r);
      // a chunk's terms with the averaged weights, then read back (outside withEma: it swaps the weights)
      const { terms, weights } = this.params!.withEma(() => this.boundTerms(x, seed, r, m));
      let v: Float32Array;
      try {
        v = (await terms.data()) as Float32Array;
      } finally {
        terms.dispose();
      }
      const acc = new Float64Array(m);
      weights.forEach((weight, j) => {
        for (let i = 0; i < m; i++) acc[i] += weight * v[j * m + i];
      });
      // density of u = (y + 1)/2 is 2^D that of y; then the 8-bit scale: + D log 256
      for (let i = 0; i < m; i++) nll[r + i] = acc[i] - D * Math.log(2) + D * Math.log(256);
    }
    const res = Float32Array.from(nll);
    for (const v of res) if (!Number.isFinite(v)) throw new Error(`ddpm.testNll: a non-finite bound (${v})`);
    return { nll: res, kind: 'bound', details: { timesteps: T, termsPerExample: Math.min(T, this.config.nllTimesteps) } };
  }

  /**
   * The bound's terms for rows r..r+m of x, each [m], stacked as [terms, m] (L_T first, then
   * the slots of boundSlots), with the weight of each in the sum; not read back.
   */
  private boundTerms(x: tf.Tensor2D, seed: number, r: number, m: number): { terms: tf.Tensor2D; weights: number[] } {
    const s = this.sched!;
    const D = this.D;
    const T = s.T;
    // dequantize: u = (k + U)/256 with k = round(255·x), then y = 2u − 1
    const y0 = tf.tidy(() => {
      const k = tf.round(tf.mul(tf.slice(x, [r, 0], [m, -1]), 255));
      return tf.sub(tf.mul(tf.div(tf.add(k, uniform([m, D], subSeed(seed, r, 1))), 256), 2), 1) as tf.Tensor2D;
    });
    const parts: tf.Tensor[] = [];
    const weights: number[] = [];
    const add = (v: tf.Tensor, weight = 1) => {
      parts.push(v);
      weights.push(weight);
    };
    try {
      // L_T = KL(N(√ᾱ_T y0, (1−ᾱ_T)) ‖ N(0, 1)) summed over dims
      {
        const abT = s.alphaBars[T - 1];
        add(tf.tidy(() => tf.sum(tf.mul(0.5, tf.add(tf.mul(tf.square(y0), abT), (1 - abT) - 1 - Math.log(1 - abT))), 1)));
      }
      this.boundSlots(T, m, subSeed(seed, r, 3)).forEach(({ t, weight }, slot) => {
        // per row: ᾱ_t, β_t, α_t, σ_t² and the KL's coefficients, as [m, 1] columns
        const cols = { abT: new Float32Array(m), beta: new Float32Array(m), alpha: new Float32Array(m), coef: new Float32Array(m), konst: new Float32Array(m), sigma2: new Float32Array(m) };
        for (let i = 0; i < m; i++) {
          const ti = t[i];
          const abT = alphaBarAt(s, ti);
          const abP = alphaBarAt(s, ti - 1);
          const beta = s.betas[ti - 1];
          const alpha = s.alphas[ti - 1];
          // the decoder p(x_0 | x_1) has σ_1² = β_1 under either choice (β̃_1 = 0)
          const sigma2 = this.config.variance === 'beta' || ti === 1 ? beta : (beta * (1 - abP)) / (1 - abT);
          const tilde = (beta * (1 - abP)) / (1 - abT);
          const c = beta / (Math.sqrt(alpha) * Math.sqrt(1 - abT));
          cols.abT[i] = abT;
          cols.beta[i] = beta;
          cols.alpha[i] = alpha;
          cols.sigma2[i] = sigma2;
          cols.coef[i] = (c * c) / (2 * sigma2);
          cols.konst[i] = ti === 1 ? 0 : 0.5 * (tilde / sigma2 - 1 - Math.log(tilde / sigma2));
        }
        const decoder = t[0] === 1; // a slot is either L_0 for every row or KL terms for every row
        add(
          tf.tidy(() => {
            const col = (v: Float32Array) => tf.tensor2d(v, [m, 1]);
            const abT = col(cols.abT);
            const eps = normal([m, D], subSeed(seed, r, 100 + slot)) as tf.Tensor2D;
            const xt = tf.add(tf.mul(y0, tf.sqrt(abT)), tf.mul(eps, tf.sqrt(tf.sub(1, abT)))) as tf.Tensor2D;
            const e = this.epsAt(xt, tf.tensor1d(Float32Array.from(t)));
            if (decoder) {
              // L_0 = −log N(y0; μ_θ(x_1, 1), σ_1²), μ_θ = (x_t − β_t/√(1−ᾱ_t) ε_θ)/√α_t (no clipping in the bound)
              const beta = cols.beta[0];
              const mu = tf.div(tf.sub(xt, tf.mul(e, beta / Math.sqrt(1 - cols.abT[0]))), Math.sqrt(cols.alpha[0]));
              return tf.sum(tf.add(tf.div(tf.square(tf.sub(y0, mu)), 2 * beta), 0.5 * (LOG_2PI + Math.log(beta))), 1);
            }
            // L_{t−1} = KL(N(μ̃, β̃) ‖ N(μ_θ, σ²)) = ‖μ̃ − μ_θ‖²/(2σ²) + D·½(β̃/σ² − 1 − log(β̃/σ²)),
            // with μ̃ − μ_θ = β_t/(√α_t √(1−ᾱ_t)) (ε_θ − ε)
            return tf.add(tf.mul(tf.sum(tf.square(tf.sub(e, eps)), 1, true), col(cols.coef)), tf.mul(col(cols.konst), D)).reshape([m]);
          }),
          weight,
        );
      });
      return { terms: tf.stack(parts) as tf.Tensor2D, weights };
    } finally {
      y0.dispose();
      tf.dispose(parts);
    }
  }

  /**
   * The terms of the bound's sum over t = 1..T that testNll evaluates, as slots of one t
   * per row with a weight: every t (weight 1) when nllTimesteps >= T. Else the first
   * ⌊nllTimesteps/2⌋ terms exactly (L_0, the decoder's log-density, and the small-t KL
   * terms, which are the largest and fall off like 1/t), and for each of the remaining
   * slots an equal stratum of the later t, one t per row drawn uniformly in it and weighted
   * by its size: an unbiased estimate of each row's sum.
   */
  private boundSlots(T: number, m: number, seed: number): { t: Int32Array; weight: number }[] {
    const K = Math.min(T, this.config.nllTimesteps);
    const exact = K >= T ? T : Math.max(1, Math.floor(K / 2));
    const out = Array.from({ length: exact }, (_, i) => ({ t: new Int32Array(m).fill(i + 1), weight: 1 }));
    if (exact >= T) return out;
    const rng = mulberry32(seed);
    const strata = Math.max(1, K - exact);
    const rest = T - exact; // t = exact+1 .. T
    for (let k = 0; k < strata; k++) {
      const lo = exact + Math.round((k * rest) / strata);
      const hi = exact + Math.round(((k + 1) * rest) / strata);
      if (hi > lo) out.push({ t: Int32Array.from({ length: m }, () => lo + 1 + rng.int(hi - lo)), weight: hi - lo });
    }
    return out;
  }

  getWeights(): NamedWeight[] {
    this.requireBuilt('getWeights');
    return this.params!.named();
  }

  setWeights(weights: NamedWeight[]): void {
    this.requireBuilt('setWeights');
    this.params!.load(weights);
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.params?.dispose();
    this.params = null;
    this.eps = null;
  }
}
