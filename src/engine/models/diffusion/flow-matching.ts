// Flow matching (conditional flow matching, Lipman et al. 2023; rectified flow, Liu et al. 2023).
//
// A velocity field v_θ(x, t), t ∈ [0, 1], carries the base N(0, I) at t = 0 to the data at
// t = 1 along the ODE dx/dt = v_θ(x, t). It is trained by regression on the velocity of a
// straight path between a base draw x_0 and a data point x_1:
//   x_t = (1 − (1 − σ_min) t) x_0 + t x_1,   u_t = x_1 − (1 − σ_min) x_0,
//   L(θ) = E_{t ~ U[0,1], x_0, x_1} ‖v_θ(x_t, t) − u_t‖²   (mean over dimensions here),
// whose minimizer is the marginal velocity E[u_t | x_t] (σ_min = 0: rectified flow).
// Sampling integrates the ODE from x_0 ~ N(0, I) at t = 0 to t = 1 with a fixed-step solver
// (Euler, midpoint or classical RK4; `odeSteps` steps).
//
// Likelihood by the instantaneous change of variables (Chen et al. 2018):
//   d log p_t(x(t))/dt = −∇·v_θ(x(t), t),  so  log p_1(x) = log N(x(0); 0, I) − ∫_0^1 ∇·v_θ(x(t), t) dt,
// integrating the state and the divergence backwards from x(1) = x to t = 0 with the same
// solver. The divergence is Hutchinson's trace estimator, ∇·v = E_ε[εᵀ (∂v/∂x) ε] with
// Rademacher (or Gaussian) probes ε, εᵀJ from one backward pass of εᵀv (tf.grad); each
// probe stays fixed along a trajectory (FFJORD). testNll averages `probes` probes per
// example and reports the spread over probes as the estimate's standard error, and (unless
// opts.convergence === false) the estimate at 4× the probes: kind 'estimate'. For small D
// (≤ 16) the trace is also computed exactly (D backward passes with the unit vectors as
// probes), at the solver's steps and at twice them: the gap between those two is the
// solver's discretization error, which no number of probes removes.
//
// Images: pixels in [0, 1] map to [−1, 1] for the flow and back (clipped) for samples. The
// likelihood is of the 8-bit data dequantized as u = (k + U)/256, reported on the 8-bit
// scale the flows use: nll_8bit = −log p(2u − 1) − D log 2 + D log 256.
//
// Networks: the diffusion family's time-conditioned MLP (points) and small U-Net (images),
// with t ∈ [0, 1] on the sinusoidal embedding's 0..1000 scale; the output layer starts at
// zero, so training starts from v = 0. Sampling, evaluation and testNll use an exponential
// moving average of the weights (`ema`).
import * as tf from '@tensorflow/tfjs';
import { normal, uniform, uniformValues } from '../../ops/random';
import type { Rng } from '../../util/rng';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';
import { Params } from '../../nn/params';
import { subSeed } from '../../nn/seeds';
import { buildTimeNet, checkTimeNetConfig, pointValMetricsOf, timeFeatures, type EpsNet } from './ddpm';

export type OdeSolver = 'euler' | 'midpoint' | 'rk4';
export type FlowMatchingConfig = LatentLab.FlowMatchingConfig;
/** a velocity in flow space: rows x [B, D] at times t [B] → [B, D] */
export type VelocityFn = (x: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;
/** the right-hand side of an ODE over a state of several tensors */
export type Dynamics = (state: tf.Tensor[], t: number) => tf.Tensor[];

const SOLVERS: OdeSolver[] = ['euler', 'midpoint', 'rk4'];
/** model evaluations per step of each solver */
export const SOLVER_STAGES: Record<OdeSolver, number> = { euler: 1, midpoint: 2, rk4: 4 };
const LOG_2PI = Math.log(2 * Math.PI);
/** the exact trace (D backward passes) is computed beside Hutchinson's up to this dimension */
const EXACT_TRACE_MAX_DIM = 16;

const axpy = (x: tf.Tensor[], k: tf.Tensor[], h: number): tf.Tensor[] => x.map((v, i) => tf.add(v, tf.mul(k[i], h)));

/** one fixed step of `solver` from t to t + h (h may be negative) */
export function odeStep(f: Dynamics, x: tf.Tensor[], t: number, h: number, solver: OdeSolver): tf.Tensor[] {
  return tf.tidy(() => {
    if (solver === 'euler') return axpy(x, f(x, t), h);
    if (solver === 'midpoint') return axpy(x, f(axpy(x, f(x, t), h / 2), t + h / 2), h);
    const k1 = f(x, t);
    const k2 = f(axpy(x, k1, h / 2), t + h / 2);
    const k3 = f(axpy(x, k2, h / 2), t + h / 2);
    const k4 = f(axpy(x, k3, h), t + h);
    return x.map((v, i) => tf.add(v, tf.mul(tf.addN([k1[i], tf.mul(k2[i], 2), tf.mul(k3[i], 2), k4[i]]), h / 6)));
  });
}

/**
 * The state at t1 from the state at t0 (not consumed) in `steps` equal steps of `solver`;
 * `onStep` sees the state after each step (it must not keep it without cloning).
 */
export function odeSolve(f: Dynamics, x0: tf.Tensor[], t0: number, t1: number, steps: number, solver: OdeSolver, onStep?: (state: tf.Tensor[], t: number) => void): tf.Tensor[] {
  const h = (t1 - t0) / steps;
  let x = x0.map((v) => tf.clone(v));
  for (let k = 0; k < steps; k++) {
    const next = odeStep(f, x, t0 + k * h, h, solver);
    tf.dispose(x);
    x = next;
    onStep?.(x, k + 1 === steps ? t1 : t0 + (k + 1) * h);
  }
  return x;
}

/**
 * εᵀ (∂v/∂x) ε for K probes per row: x [m, D], probes [K·m, D] (block k holds probe k of
 * every row) → [K, m]. One forward and one backward pass over the K·m tiled rows.
 */
export function probedDivergence(v: VelocityFn, x: tf.Tensor2D, t: number, probes: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const [m] = x.shape;
    const K = probes.shape[0] / m;
    const xr = K === 1 ? x : (tf.tile(x, [K, 1]) as tf.Tensor2D);
    const tr = tf.fill([K * m], t) as tf.Tensor1D;
    const g = tf.grad((z: tf.Tensor) => tf.sum(tf.mul(v(z as tf.Tensor2D, tr), probes)))(xr);
    return tf.reshape(tf.sum(tf.mul(g, probes), 1), [K, m]) as tf.Tensor2D;
  });
}

/** K·m probes [K·m, D]: Rademacher (±1) or standard normal entries */
export function drawProbes(kind: 'rademacher' | 'gaussian', rows: number, D: number, seed: number): tf.Tensor2D {
  if (kind === 'gaussian') return normal([rows, D], seed) as tf.Tensor2D;
  return tf.tidy(() => tf.sub(tf.mul(tf.cast(tf.greater(uniform([rows, D], seed), 0.5), 'float32'), 2), 1) as tf.Tensor2D);
}

/** the unit vectors as probes of m rows: [D·m, D], block d is e_d in every row (Σ_d e_dᵀ J e_d = tr J) */
export function basisProbes(m: number, D: number): tf.Tensor2D {
  return tf.tidy(() => tf.reshape(tf.tile(tf.reshape(tf.eye(D), [D, 1, D]), [1, m, 1]), [D * m, D]) as tf.Tensor2D);
}

type Resolved = {
  net: 'mlp' | 'unet' | null;
  hidden: number[] | null;
  channels: number[];
  attention: boolean;
  timeEmbed: number | null;
  solver: OdeSolver;
  odeSteps: number;
  sigmaMin: number;
  probes: number;
  probe: 'rademacher' | 'gaussian';
  ema: number;
  evalSamples: number;
};

/** log N(x; 0, I) per row */
const baseLogProb = (x: tf.Tensor2D): tf.Tensor1D => tf.mul(-0.5, tf.sum(tf.add(tf.square(x), LOG_2PI), 1)) as tf.Tensor1D;

export class FlowMatching implements Model {
  readonly family = 'flowMatching';
  readonly config: Resolved;
  readonly hasLatent = true;
  bestMetric: { key: string; mode: 'max' | 'min' } | undefined = { key: 'val/loss', mode: 'min' };
  private params: Params | null = null;
  private net: EpsNet | null = null;
  private data: DataInfo | null = null;
  private override: VelocityFn | null = null;

  constructor(cfg: FlowMatchingConfig = {}) {
    const c = cfg ?? {};
    const solver = c.solver ?? 'rk4';
    if (!SOLVERS.includes(solver)) throw new Error(`flowMatching: solver must be 'euler' | 'midpoint' | 'rk4' (got '${String(solver)}')`);
    if (c.odeSteps !== undefined && (!Number.isInteger(c.odeSteps) || c.odeSteps < 1 || c.odeSteps > 10000)) throw new Error(`flowMatching: odeSteps must be an integer in [1, 10000] (got ${c.odeSteps})`);
    checkTimeNetConfig('flowMatching', c);
    if (c.sigmaMin !== undefined && !(typeof c.sigmaMin === 'number' && c.sigmaMin >= 0 && c.sigmaMin < 1)) throw new Error(`flowMatching: sigmaMin must be in [0, 1) (got ${c.sigmaMin})`);
    if (c.probes !== undefined) checkProbes(c.probes);
    const probe = c.probe ?? 'rademacher';
    if (probe !== 'rademacher' && probe !== 'gaussian') throw new Error(`flowMatching: probe must be 'rademacher' | 'gaussian' (got '${String(probe)}')`);
    this.config = {
      net: c.net ?? null,
      hidden: c.hidden ? [...c.hidden] : null,
      channels: c.channels ? (c.channels.length === 2 ? [...c.channels, c.channels[1]] : [...c.channels]) : [16, 32, 64],
      attention: c.attention ?? true,
      timeEmbed: c.timeEmbed ?? null,
      solver,
      odeSteps: c.odeSteps ?? 20,
      sigmaMin: c.sigmaMin ?? 0,
      probes: c.probes ?? 4,
      probe,
      ema: c.ema ?? 0.999,
      evalSamples: c.evalSamples ?? 1000,
    };
  }

  get built(): boolean {
    return this.net !== null;
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

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/loss': 'loss',
      'val/loss': 'loss',
      'val/mmd': 'sample',
      'val/mode_dist': 'sample',
      'val/modes_covered': 'sample',
      'val/high_quality': 'sample',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('flowMatching: model already built (create a new one per run)');
    if (data.kind === 'sequence') throw new Error('flowMatching: a density on continuous data (2-D points, grey-level images), not sequences');
    if (data.binary) throw new Error('flowMatching: a density on continuous data: use grey levels (lab.data.mnist({ binarize: false })) or 2-D points, not binarized pixels');
    const image = data.kind === 'image';
    const c = this.config;
    c.net ??= image ? 'unet' : 'mlp';
    c.hidden ??= image ? [512, 512, 512] : [128, 128, 128];
    c.timeEmbed ??= image ? 64 : 32;
    const p = new Params('flowMatching', rng);
    this.net = buildTimeNet('flowMatching', p, data, { ...c, net: c.net, hidden: c.hidden, timeEmbed: c.timeEmbed });
    this.params = p;
    this.data = data;
    if (c.ema > 0) p.startEma();
    this.bestMetric = data.modes || (data.kind === 'points' && data.shape[0] === 2) ? { key: 'val/mmd', mode: 'min' } : { key: 'val/loss', mode: 'min' };
  }

  private requireBuilt(what: string): void {
    if (!this.built) throw new Error(`flowMatching.${what}: train the model first (lab.train builds it on its data)`);
  }

  /** data space → flow space ([0, 1] pixels → [−1, 1]) */
  toFlow(x: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.sub(tf.mul(x, 2), 1) as tf.Tensor2D) : x;
  }

  /** flow space → data space (images clipped to [0, 1]) */
  toData(y: tf.Tensor2D): tf.Tensor2D {
    return this.image ? (tf.clipByValue(tf.mul(tf.add(y, 1), 0.5), 0, 1) as tf.Tensor2D) : (tf.clone(y) as tf.Tensor2D);
  }

  /** v_θ(x, t) (the current weights), or the field set with setVelocity */
  private velocityAt: VelocityFn = (x, t) => {
    if (this.override) return this.override(x, t);
    return this.net!.apply(x, timeFeatures(t, this.config.timeEmbed!, 1));
  };

  /** v_θ(x, t) at one time t for rows x [B, D] in flow space, with the averaged weights */
  velocity(x: tf.Tensor2D, t: number): tf.Tensor2D {
    this.requireBuilt('velocity');
    return this.params!.withEma(() => tf.tidy(() => this.velocityAt(x, tf.fill([x.shape[0]], t) as tf.Tensor1D)));
  }

  /**
   * Replace v_θ by a function of (x [B, D] in flow space, t [B]) → [B, D] in the sampler,
   * the likelihood and the validation loss (null: back to the network). For analysis: e.g.
   * the exact marginal velocity between two Gaussians.
   */
  setVelocity(f: VelocityFn | null): void {
    this.requireBuilt('setVelocity');
    this.override = f;
  }

  /** the conditional path's point x_t and target velocity u_t for base draws x0 and data x1 (flow space), t [B, 1] */
  private path(x0: tf.Tensor2D, x1: tf.Tensor2D, t: tf.Tensor2D): { xt: tf.Tensor2D; u: tf.Tensor2D } {
    const a = 1 - this.config.sigmaMin;
    return {
      xt: tf.add(tf.mul(tf.sub(1, tf.mul(t, a)), x0), tf.mul(t, x1)) as tf.Tensor2D,
      u: tf.sub(x1, tf.mul(x0, a)) as tf.Tensor2D,
    };
  }

  /** the flow-matching loss: mean over rows and dims of (v_θ(x_t, t) − u_t)², x1 in flow space, t and x_0 from `seed` */
  private loss(x1: tf.Tensor2D, seed: number): tf.Scalar {
    const B = x1.shape[0];
    const t = uniformValues(subSeed(seed, 0, 1), B);
    const x0 = normal(x1.shape, subSeed(seed, 0, 2)) as tf.Tensor2D;
    const { xt, u } = this.path(x0, x1, tf.tensor2d(t, [B, 1]));
    return tf.mean(tf.square(tf.sub(this.velocityAt(xt, tf.tensor1d(t)), u)));
  }

  trainStep(batch: tf.Tensor2D, _step: number, ctx: StepContext): StepMetrics {
    const seed = ctx.seed();
    const x1 = this.toFlow(batch);
    try {
      const loss = ctx.minimize('v', () => this.loss(x1, seed), this.params!.vars());
      this.params!.updateEma(this.config.ema);
      return { 'train/loss': loss };
    } finally {
      if (x1 !== batch) x1.dispose();
    }
  }

  /** the loss on rows of `x` (data space), t and x_0 drawn from `seed`, with the averaged weights */
  async validationLoss(x: tf.Tensor2D, seed: number): Promise<number> {
    this.requireBuilt('validationLoss');
    const n = x.shape[0];
    const chunk = this.config.net === 'unet' ? 250 : 2000;
    // each chunk's summed loss with the averaged weights, read back after (withEma swaps the weights)
    const total = this.params!.withEma(() =>
      tf.tidy(() => {
        const parts: tf.Scalar[] = [];
        for (let i = 0; i < n; i += chunk) {
          const m = Math.min(chunk, n - i);
          parts.push(tf.mul(this.loss(this.toFlow(tf.slice(x, [i, 0], [m, -1])), subSeed(seed, i, 3)), m));
        }
        return tf.addN(parts);
      }),
    );
    try {
      return ((await total.data()) as Float32Array)[0] / n;
    } finally {
      total.dispose();
    }
  }

  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const out: Record<string, MetricValue> = { 'val/loss': { value: await this.validationLoss(val, seed), kind: 'loss' } };
    if (this.data?.kind === 'points' && this.D === 2) Object.assign(out, await pointValMetricsOf(this.sample(this.config.evalSamples, undefined, subSeed(seed, 3, 0)), val, this.data));
    return out;
  }

  /** x_0 ~ N(0, I): [n, D] */
  noise(n: number, seed: number): tf.Tensor2D {
    this.requireBuilt('noise');
    return normal([n, this.D], seed) as tf.Tensor2D;
  }

  /**
   * Rows x [B, D] in flow space carried by the ODE from time `from` to `to` (either
   * direction) with the model's solver and steps (or those given), with the averaged
   * weights; `onStep` sees x after each step. Not read back.
   */
  integrate(x: tf.Tensor2D, from: number, to: number, opts: { steps?: number; solver?: OdeSolver; onStep?: (x: tf.Tensor2D, t: number) => void } = {}): tf.Tensor2D {
    this.requireBuilt('integrate');
    const solver = opts.solver ?? this.config.solver;
    if (!SOLVERS.includes(solver)) throw new Error(`flowMatching: solver must be 'euler' | 'midpoint' | 'rk4' (got '${String(solver)}')`);
    const steps = Math.max(1, Math.floor(opts.steps ?? this.config.odeSteps));
    const f: Dynamics = ([s], t) => [this.velocityAt(s as tf.Tensor2D, tf.fill([s.shape[0]], t) as tf.Tensor1D)];
    const onStep = opts.onStep;
    return this.params!.withEma(() => odeSolve(f, [x], from, to, steps, solver, onStep ? ([s], t) => onStep(s as tf.Tensor2D, t) : undefined)[0] as tf.Tensor2D);
  }

  /** `n` samples (data space): x_0 = `noise` (or drawn with `seed`) carried from t = 0 to 1 */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    this.requireBuilt('sample');
    const x0 = noise ?? this.noise(n, seed);
    if (x0.shape[0] !== n || x0.shape[1] !== this.D) throw new Error(`flowMatching.sample: noise must be [${n}, ${this.D}] (got [${x0.shape}])`);
    const chunk = this.config.net === 'unet' ? 128 : 4096;
    try {
      const parts: tf.Tensor2D[] = [];
      for (let r = 0; r < n; r += chunk) {
        const m = Math.min(chunk, n - r);
        const xr = m === n ? x0 : (tf.slice(x0, [r, 0], [m, -1]) as tf.Tensor2D);
        const x1 = this.integrate(xr, 0, 1);
        if (xr !== x0) xr.dispose();
        parts.push(tf.tidy(() => this.toData(x1)));
        x1.dispose();
      }
      if (parts.length === 1) return parts[0];
      const out = tf.concat(parts, 0) as tf.Tensor2D;
      tf.dispose(parts);
      return out;
    } finally {
      if (x0 !== noise) x0.dispose();
    }
  }

  /** the base point x(0) each example flows from (the ODE backwards from t = 1): a deterministic code */
  encodeMean(x: tf.Tensor2D): tf.Tensor2D {
    this.requireBuilt('encodeMean');
    const y = this.toFlow(x);
    try {
      return this.integrate(y, 1, 0);
    } finally {
      if (y !== x) y.dispose();
    }
  }

  /**
   * Trajectories of the ODE from `x0` [n, D] (flow space) at t = 0 to t = 1: the state
   * after every step (data space), read back. For the views.
   */
  async trajectories(x0: tf.Tensor2D, steps?: number): Promise<{ t: number[]; frames: Float32Array[] }> {
    const kept: tf.Tensor2D[] = [tf.tidy(() => this.toData(x0))];
    const t = [0];
    try {
      const end = this.integrate(x0, 0, 1, {
        steps,
        onStep: (x, at) => {
          kept.push(tf.tidy(() => this.toData(x)));
          t.push(at);
        },
      });
      end.dispose();
      const frames = (await Promise.all(kept.map((k) => k.data()))) as Float32Array[];
      return { t, frames };
    } finally {
      tf.dispose(kept);
    }
  }

  /**
   * The change of variables for rows y [m, D] (flow space), the ODE integrated backwards
   * from t = 1 to 0 with the state and, per block of `probes` ([K·m, D]; see
   * probedDivergence), A_k = −∫_0^1 εₖᵀ(∂v/∂x)εₖ dt: log N(x(0); 0, I) [m] and A [K, m].
   */
  private divergenceIntegral(y: tf.Tensor2D, probes: tf.Tensor2D, opts: { steps?: number; solver?: OdeSolver }): { logBase: tf.Tensor1D; A: tf.Tensor2D } {
    const [m] = y.shape;
    const K = probes.shape[0] / m;
    if (!Number.isInteger(K) || K < 1) throw new Error(`flowMatching: probes must be [K·${m}, D] (got [${probes.shape}])`);
    const solver = opts.solver ?? this.config.solver;
    const steps = Math.max(1, Math.floor(opts.steps ?? this.config.odeSteps));
    // d/dt [x, A] = [v, ∇·v]: from t = 1 (A = 0) down to t = 0, A(0) = −∫_0^1 ∇·v dt
    const f: Dynamics = ([x], t) => {
      const xx = x as tf.Tensor2D;
      return [this.velocityAt(xx, tf.fill([m], t) as tf.Tensor1D), probedDivergence(this.velocityAt, xx, t, probes)];
    };
    return this.params!.withEma(() => {
      const [x0, A] = odeSolve(f, [y, tf.zeros([K, m])], 1, 0, steps, solver);
      const logBase = baseLogProb(x0 as tf.Tensor2D);
      x0.dispose();
      return { logBase, A: A as tf.Tensor2D };
    });
  }

  /**
   * log p_1(y) per row of y [m, D] (flow space) by the instantaneous change of variables,
   * with Hutchinson's estimate of the divergence: [K, m], one estimate per block of
   * `probes` ([K·m, D], e.g. drawProbes(kind, K·m, D, seed)). Not read back.
   */
  logDensity(y: tf.Tensor2D, probes: tf.Tensor2D, opts: { steps?: number; solver?: OdeSolver } = {}): tf.Tensor2D {
    this.requireBuilt('logDensity');
    const { logBase, A } = this.divergenceIntegral(y, probes, opts);
    try {
      return tf.add(tf.reshape(logBase, [1, -1]), A) as tf.Tensor2D;
    } finally {
      tf.dispose([logBase, A]);
    }
  }

  /** log p_1(y) per row [m] with the exact divergence (the D unit vectors as probes: D backward passes per evaluation). Not read back. */
  exactLogDensity(y: tf.Tensor2D, opts: { steps?: number; solver?: OdeSolver } = {}): tf.Tensor1D {
    this.requireBuilt('exactLogDensity');
    const [m, D] = y.shape;
    const e = basisProbes(m, D);
    const { logBase, A } = this.divergenceIntegral(y, e, opts);
    try {
      return tf.add(logBase, tf.sum(A, 0)) as tf.Tensor1D;
    } finally {
      tf.dispose([e, logBase, A]);
    }
  }

  /** the rows r..r+m of x (data space) as the density sees them (images: dequantized with `seed`, in [−1, 1]) */
  private densityInput(x: tf.Tensor2D, r: number, m: number, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const rows = tf.slice(x, [r, 0], [m, -1]) as tf.Tensor2D;
      if (!this.image) return tf.clone(rows);
      const u = tf.div(tf.add(tf.round(tf.mul(rows, 255)), uniform([m, this.D], subSeed(seed, r, 1))), 256);
      return tf.sub(tf.mul(u, 2), 1) as tf.Tensor2D;
    });
  }

  /** what turns −log p(y) into the reported NLL: images D log 128 (8-bit scale of u = (y + 1)/2), points 0 */
  private get nllShift(): number {
    return this.image ? this.D * Math.log(128) : 0;
  }

  /**
   * −log p(x) per example and probe (Hutchinson with P probes drawn from `probeSeed`), and
   * with the exact trace at `exactSteps` (when given). Dequantization noise from `seed`.
   */
  private async nllPass(x: tf.Tensor2D, seed: number, P: number, probeSeed: number, exactSteps: number[]): Promise<{ perProbe: Float64Array[]; exact: Float64Array[] }> {
    const n = x.shape[0];
    const D = this.D;
    const perProbe = Array.from({ length: P }, () => new Float64Array(n));
    const exact = exactSteps.map(() => new Float64Array(n));
    const chunk = Math.max(1, Math.floor((this.config.net === 'unet' ? 256 : 16000) / Math.max(P, exactSteps.length ? D : 1)));
    const shift = this.nllShift;
    for (let r = 0; r < n; r += chunk) {
      const m = Math.min(chunk, n - r);
      const y = this.densityInput(x, r, m, seed);
      const outs: tf.Tensor[] = [];
      try {
        if (P > 0) {
          const probes = drawProbes(this.config.probe, P * m, D, subSeed(probeSeed, r, 2));
          try {
            outs.push(this.logDensity(y, probes));
          } finally {
            probes.dispose();
          }
        }
        for (const steps of exactSteps) outs.push(this.exactLogDensity(y, { steps }));
      } finally {
        y.dispose();
      }
      let values: Float32Array[];
      try {
        values = (await Promise.all(outs.map((o) => o.data()))) as Float32Array[];
      } finally {
        tf.dispose(outs);
      }
      let k = 0;
      if (P > 0) {
        const v = values[k++];
        for (let p = 0; p < P; p++) for (let i = 0; i < m; i++) perProbe[p][r + i] = shift - v[p * m + i];
      }
      for (const e of exact) {
        const v = values[k++];
        for (let i = 0; i < m; i++) e[r + i] = shift - v[i];
      }
    }
    for (const a of [...perProbe, ...exact]) for (const v of a) if (!Number.isFinite(v)) throw new Error(`flowMatching.testNll: a non-finite log-density (${v})`);
    return { perProbe, exact };
  }

  /**
   * −log p(x) per example in nats (8-bit scale on dequantized images) by the change of
   * variables with Hutchinson's trace estimator: kind 'estimate', `stderr` the spread over
   * the probes (opts.probes, default the model's `probes`), `convergence` the estimate at 4×
   * the probes (unless opts.convergence === false). For D ≤ 16 `details` also gives the NLL
   * with the exact trace at the solver's steps and at twice them (their gap: the solver's error).
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts: EstimatorOptions = {}): Promise<TestNll> {
    this.requireBuilt('testNll');
    const P = opts.probes ?? this.config.probes;
    checkProbes(P, 'lab.evaluate');
    const D = this.D;
    const n = x.shape[0];
    const steps = this.config.odeSteps;
    const exactSteps = D <= EXACT_TRACE_MAX_DIM ? [steps, 2 * steps] : [];
    const main = await this.nllPass(x, seed, P, subSeed(seed, 1, 0), exactSteps);
    const nll = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let p = 0; p < P; p++) s += main.perProbe[p][i];
      nll[i] = s / P;
    }
    const meanOf = (a: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < a.length; i++) s += a[i];
      return s / a.length;
    };
    const mean = meanOf(nll);
    // the probes' spread: each probe's mean NLL over the examples, their standard error
    const sdOf = (a: number[]) => {
      const m = meanOf(a);
      return Math.sqrt(a.reduce((s, v) => s + (v - m) ** 2, 0) / (a.length - 1));
    };
    let probeSd = P > 1 ? sdOf(main.perProbe.map(meanOf)) : NaN;
    const details: Record<string, number> = { probes: P, odeSteps: steps, solverStages: SOLVER_STAGES[this.config.solver], rademacher: this.config.probe === 'rademacher' ? 1 : 0 };
    if (main.exact.length) {
      details.exactTraceNll = meanOf(main.exact[0]);
      details.exactTraceNll2xSteps = meanOf(main.exact[1]);
    }
    const out: TestNll = { nll, kind: 'estimate', details };
    if (opts.convergence !== false) {
      const big = await this.nllPass(x, seed, 4 * P, subSeed(seed, 2, 0), []);
      const bigMeans = big.perProbe.map(meanOf);
      const nll4x = meanOf(bigMeans);
      // one probe has no spread of its own: the 4× run's spread per probe stands in
      if (P === 1) probeSd = sdOf(bigMeans);
      // Hutchinson is unbiased: the two differ by probe noise; converged when that is below 0.01 nats a dimension (at least 0.05 nats)
      const tolerance = Math.max(0.05, 0.01 * D);
      const converged = Math.abs(nll4x - mean) < tolerance;
      out.convergence = { knob: 'probes', at: P, nll: mean, at4x: 4 * P, nll4x, tolerance, converged };
    }
    if (Number.isFinite(probeSd)) {
      const spread = probeSd / Math.sqrt(P);
      // an unconverged estimate's error covers the gap to the 4× estimate
      out.stderr = out.convergence && !out.convergence.converged ? Math.max(spread, Math.abs(out.convergence.nll4x - mean)) : spread;
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
    this.net = null;
  }
}

function checkProbes(p: unknown, where = 'flowMatching'): asserts p is number {
  if (!(typeof p === 'number' && Number.isInteger(p) && p >= 1 && p <= 4096)) throw new Error(`${where}: probes (Hutchinson's random probes per example) must be an integer in [1, 4096] (got ${String(p)})`);
}
