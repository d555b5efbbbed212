// An energy-based model on images: p_θ(x) = exp(−E_θ(x)) / Z_θ with E_θ an MLP on the
// image (grey levels, taken from [0, 1] to u = 2x − 1 in [−1, 1] inside the model).
//
// Maximum likelihood: ∇_θ (−log p(x)) = ∇_θ E(x) − E_{x'~p_θ} ∇_θ E(x'), so the step
// minimizes  mean E(x+) − mean E(x−)  over data x+ and model samples x− held constant
// (the contrastive-divergence loss), plus  λ (mean E(x+)² + mean E(x−)²)  that keeps the
// energies near 0 (without it they drift without bound: only differences matter).
//
// The model samples x− come from short-run Langevin dynamics
//   u ← u − (α/2) ∇_u E(u) + s z,   z ~ N(0, I)
// started from a replay buffer (Du & Mordatch 2019): each chain starts at a stored
// end point of an earlier chain with probability `replay` (0.95), else at fresh uniform
// noise; its end is written back where it came from. The theory's noise is s = √α; the
// common practice, followed by default here, is a much smaller s (0.01), which makes the
// chain closer to a noisy gradient descent on E; pixel values are clamped to [−1, 1].
//
// Samples are drawn from noise by a longer Langevin run (`sampleSteps`). There is no
// likelihood without log Z: the model has no testNll, and lab.evaluate scores samples.
import * as tf from '@tensorflow/tfjs';
import { normal, uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import { Mlp } from '../../nn/mlp';
import type { DataInfo, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics } from '../types';

export type EbmConfig = LatentLab.EbmConfig;

export interface LangevinOptions {
  steps: number;
  /** α: the gradient step is (α/2)∇E */
  stepSize: number;
  /** s: the std of the Gaussian noise added each step (√α is exact Langevin) */
  noise: number;
  seed: number;
  /** keep every value in [lo, hi] after each step (null: no clamping) */
  clamp?: [number, number] | null;
  /** called with the state after every `every` steps (and the last), not disposed by the caller */
  every?: number;
  onFrame?: (x: tf.Tensor2D, step: number) => void;
}

/**
 * Langevin dynamics on an energy: x ← x − (α/2)∇E(x) + s z for `steps` steps from x0.
 * With s = √α and small α its draws approach the Boltzmann distribution p(x) ∝ exp(−E(x)).
 * Returns a new tensor (x0 is left as it is).
 */
export function langevin(energy: (x: tf.Tensor2D) => tf.Tensor, x0: tf.Tensor2D, opts: LangevinOptions): tf.Tensor2D {
  const grad = tf.grad((x: tf.Tensor) => tf.sum(energy(x as tf.Tensor2D)));
  const every = Math.max(1, Math.floor(opts.every ?? opts.steps));
  let x = tf.clone(x0);
  for (let t = 1; t <= opts.steps; t++) {
    const next = tf.tidy(() => {
      const g = grad(x);
      let y = tf.add(tf.sub(x, tf.mul(g, opts.stepSize / 2)), tf.mul(normal(x.shape, opts.seed + t), opts.noise));
      if (opts.clamp) y = tf.clipByValue(y, opts.clamp[0], opts.clamp[1]);
      return y as tf.Tensor2D;
    });
    x.dispose();
    x = next;
    if (opts.onFrame && (t % every === 0 || t === opts.steps)) opts.onFrame(x, t);
  }
  return x;
}

export class Ebm implements Model {
  readonly family = 'ebm';
  readonly config: Required<Omit<EbmConfig, 'noise'>> & { noise: number };
  // the bare energy has no "best": its energies drift; keep the last checkpoint
  readonly optimizerDefaults = { beta1: 0, beta2: 0.999 };
  private net: Mlp | null = null;
  private D = 0;
  /** the replay buffer: end points of earlier chains, in model units u ∈ [−1, 1] (rows × D) */
  private buffer: Float32Array | null = null;
  private bufferSeed = 0;
  /** the indices and fresh-noise flags of the last step's chains (tests, the train/fresh metric) */
  lastReplay: { idx: Int32Array; fresh: Uint8Array } | null = null;

  constructor(cfg: EbmConfig = {}) {
    const c = {
      hidden: cfg.hidden ?? [256, 128],
      steps: cfg.steps ?? 30,
      stepSize: cfg.stepSize ?? 20,
      noise: cfg.noise ?? 0.01,
      bufferSize: cfg.bufferSize ?? 10000,
      replay: cfg.replay ?? 0.95,
      alpha: cfg.alpha ?? 0.1,
      sampleSteps: cfg.sampleSteps ?? 200,
    };
    const where = 'lab.models.ebm';
    if (!Array.isArray(c.hidden) || c.hidden.length < 1 || c.hidden.some((h) => !Number.isInteger(h) || h < 1)) throw new RangeError(`${where}: hidden must be a list of layer sizes, e.g. [256, 128]`);
    if (!Number.isInteger(c.steps) || c.steps < 1) throw new RangeError(`${where}: steps must be a whole number >= 1 (got ${cfg.steps})`);
    if (!Number.isInteger(c.sampleSteps) || c.sampleSteps < 1) throw new RangeError(`${where}: sampleSteps must be a whole number >= 1 (got ${cfg.sampleSteps})`);
    if (!(c.stepSize > 0)) throw new RangeError(`${where}: stepSize must be > 0 (got ${cfg.stepSize})`);
    if (!(c.noise >= 0)) throw new RangeError(`${where}: noise must be >= 0 (got ${cfg.noise})`);
    if (!Number.isInteger(c.bufferSize) || c.bufferSize < 1) throw new RangeError(`${where}: bufferSize must be a whole number >= 1 (got ${cfg.bufferSize})`);
    if (!(c.replay >= 0 && c.replay <= 1)) throw new RangeError(`${where}: replay must be a fraction from 0 to 1 (got ${cfg.replay})`);
    if (!(c.alpha >= 0)) throw new RangeError(`${where}: alpha must be >= 0 (got ${cfg.alpha})`);
    this.config = c;
  }

  get built(): boolean {
    return this.net !== null;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'train/cd': 'info',
      'train/e_data': 'info',
      'train/e_sample': 'info',
      'train/fresh': 'info',
      'val/e_data': 'info',
      'val/e_noise': 'info',
      'val/e_sample': 'info',
      'val/e_gap': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('ebm: model already built (create a new one per run)');
    if (data.kind !== 'image' && data.kind !== 'points') throw new Error(`lab.models.ebm: models images or points, not ${data.kind} data`);
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.net = new Mlp('ebm_energy', [this.D, ...this.config.hidden, 1], rng, 'leakyRelu');
    this.bufferSeed = Math.floor(rng.next() * 2 ** 31);
  }

  /** E(u) per row, u in model units [−1, 1] */
  energyU(u: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(this.net!.apply(u), [-1]) as tf.Tensor1D);
  }

  /** E(x) per row for images x in [0, 1] */
  energy(x: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => this.energyU(toU(x)));
  }

  /** the Langevin chain at the model's settings, from u0 (model units) */
  run(u0: tf.Tensor2D, steps: number, seed: number, onFrame?: (u: tf.Tensor2D, step: number) => void, every?: number): tf.Tensor2D {
    const c = this.config;
    return langevin((u) => this.energyU(u), u0, { steps, stepSize: c.stepSize, noise: c.noise, seed, clamp: [-1, 1], onFrame, every });
  }

  /**
   * The start of a step's chains: each of `n` rows is, with probability `replay`, a row of
   * the buffer picked at random, else fresh uniform noise in [−1, 1].
   */
  replayStart(n: number, seed: number): { u0: tf.Tensor2D; idx: Int32Array; fresh: Uint8Array } {
    const D = this.D;
    const size = this.config.bufferSize;
    if (!this.buffer) {
      // the buffer starts as uniform noise
      const v = uniformValues(this.bufferSeed, size * D);
      this.buffer = Float32Array.from(v, (a) => 2 * a - 1);
    }
    const pick = uniformValues(seed, 2 * n);
    const noise = uniformValues(seed + 1, n * D);
    const idx = new Int32Array(n);
    const fresh = new Uint8Array(n);
    const u0 = new Float32Array(n * D);
    for (let r = 0; r < n; r++) {
      idx[r] = Math.min(size - 1, Math.floor(pick[2 * r] * size));
      fresh[r] = pick[2 * r + 1] >= this.config.replay ? 1 : 0;
      if (fresh[r]) for (let i = 0; i < D; i++) u0[r * D + i] = 2 * noise[r * D + i] - 1;
      else u0.set(this.buffer.subarray(idx[r] * D, (idx[r] + 1) * D), r * D);
    }
    return { u0: tf.tensor2d(u0, [n, D]), idx, fresh };
  }

  /** the buffer's row `i` (model units), for tests and views */
  bufferRow(i: number): Float32Array | null {
    return this.buffer ? this.buffer.slice(i * this.D, (i + 1) * this.D) : null;
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    const n = x.shape[0];
    const { u0, idx, fresh } = this.replayStart(n, ctx.seed());
    const uNeg = this.run(u0, this.config.steps, ctx.seed());
    u0.dispose();
    const uPos = toU(x);
    const parts: tf.Scalar[] = [];
    try {
      const loss = ctx.minimize(
        'ebm',
        () => {
          const ePos = tf.mean(this.energyU(uPos)) as tf.Scalar;
          const eNeg = tf.mean(this.energyU(uNeg)) as tf.Scalar;
          parts.push(tf.keep(ePos), tf.keep(eNeg));
          const cd = tf.sub(ePos, eNeg);
          const reg = tf.mul(this.config.alpha, tf.add(tf.mean(tf.square(this.energyU(uPos))), tf.mean(tf.square(this.energyU(uNeg)))));
          return tf.add(cd, reg) as tf.Scalar;
        },
        this.net!.vars(),
      );
      // the chains' ends go back where they came from
      const ends = (await uNeg.data()) as Float32Array;
      for (let r = 0; r < n; r++) this.buffer!.set(ends.subarray(r * this.D, (r + 1) * this.D), idx[r] * this.D);
      this.lastReplay = { idx, fresh };
      const [ePos, eNeg] = parts.slice(-2);
      tf.dispose(parts.slice(0, -2));
      const cd = tf.sub(ePos, eNeg) as tf.Scalar;
      let f = 0;
      for (const v of fresh) f += v;
      return { 'train/loss': loss, 'train/cd': cd, 'train/e_data': ePos, 'train/e_sample': eNeg, 'train/fresh': f / n };
    } finally {
      tf.dispose([uNeg, uPos]);
    }
  }

  async evaluate(val: tf.Tensor2D, seed = 0): Promise<Record<string, MetricValue>> {
    const n = Math.min(64, val.shape[0]);
    const s = this.sampleU(n, this.noiseU(n, seed + 3), seed);
    const t = tf.tidy(() => {
      const ed = tf.mean(this.energy(val));
      const en = tf.mean(this.energyU(this.noiseU(n, seed + 5)));
      const es = tf.mean(this.energyU(s));
      return tf.stack([ed, en, es]);
    });
    s.dispose();
    const [ed, en, es] = await t.data();
    t.dispose();
    return {
      'val/e_data': { value: ed, kind: 'info' },
      'val/e_noise': { value: en, kind: 'info' },
      'val/e_sample': { value: es, kind: 'info' },
      // how far below noise the model puts held-out digits
      'val/e_gap': { value: en - ed, kind: 'info' },
    };
  }

  private noiseU(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.D], seed, -1, 1) as tf.Tensor2D;
  }

  private sampleU(n: number, start: tf.Tensor2D, seed: number): tf.Tensor2D {
    return this.run(start, this.config.sampleSteps, seed * 7919 + 31);
  }

  // a sample's randomness: its uniform start and the chain's noise (drawn from the seed)
  readonly hasLatent = false;

  /** the chain's start: uniform noise, as images in [0, 1] */
  noise(n: number, seed: number): tf.Tensor2D {
    return uniform([n, this.D], seed) as tf.Tensor2D;
  }

  /** images in [0, 1]: `sampleSteps` Langevin steps from uniform noise (or from `noise`) */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    const start = noise ? toU(noise) : this.noiseU(n, seed + 1);
    const u = this.sampleU(n, start, seed);
    start.dispose();
    const x = fromU(u);
    u.dispose();
    return x;
  }

  /** the chain from noise: frames (images in [0, 1]) every `every` steps, the first being the start */
  async chain(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array }): Promise<Float32Array[]> {
    const start = opts.init ? toU(tf.tensor2d(opts.init, [opts.n, this.D])) : this.noiseU(opts.n, opts.seed);
    const frames: tf.Tensor2D[] = [fromU(start)];
    const end = this.run(start, opts.steps, opts.seed * 7919 + 31, (u) => frames.push(fromU(u)), opts.every ?? 1);
    tf.dispose([start, end]);
    try {
      return (await Promise.all(frames.map((f) => f.data()))).map((v) => (v as Float32Array).slice());
    } finally {
      tf.dispose(frames);
    }
  }

  getWeights(): NamedWeight[] {
    return this.net!.named('energy');
  }

  setWeights(weights: NamedWeight[]): void {
    this.net!.load('energy', weights);
  }

  dispose(): void {
    this.net?.dispose();
    this.buffer = null;
  }
}

/** images in [0, 1] → model units in [−1, 1] */
function toU(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D);
}

/** model units → images in [0, 1] */
function fromU(u: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.clipByValue(tf.div(tf.add(u, 1), 2), 0, 1) as tf.Tensor2D);
}
