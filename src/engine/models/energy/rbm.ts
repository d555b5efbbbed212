// Restricted Boltzmann machine (Smolensky 1986; Hinton 2002): binary hidden units h,
// binary or Gaussian visible units v, no connections within a layer.
//   bernoulli v:  E(v, h) = −bᵀv − cᵀh − vᵀWh
//   gaussian  v:  E(v, h) = ½‖v/σ − b‖² − cᵀh − (v/σ)ᵀWh       (one fixed σ for every unit)
// p(h_j = 1 | v) = σ(c_j + (vW)_j) factorizes; p(v_i = 1 | h) = σ(b_i + (Wh)_i) or
// v_i | h ~ N(σ(b_i + (Wh)_i), σ²). With h summed out, the free energy
//   F(v) = −bᵀv − Σ_j ζ(c_j + (vW)_j)          (bernoulli)
//   F(v) = ½‖v/σ − b‖² − Σ_j ζ(c_j + (v/σ)ᵀW_j) + D log σ     (gaussian)
// gives −log p(v) = F(v) + log Z. log Z comes from AIS (eval/ais.ts), or exactly by
// enumeration when one side has at most 20 units and that is cheap.
//
// Training: CD-k (the negative chain starts at the batch) or PCD (`persistent`: as many
// persistent fantasy particles as the batch has rows, started at the first batch), through
// the run's optimizer: minimizing mean F(v_data) − mean F(v_neg) with v_neg held constant
// has exactly the positive-minus-negative-phase gradient of the log-likelihood.
//
// Data-dependent settings the model only learns on its first trainStep (build sees no data):
//  - the visible biases start at the logit of the first batch's pixel means (bernoulli) or
//    at its means (gaussian), as Hinton's practical guide recommends;
//  - gaussian σ, when 'auto' (the default): the first batch's per-unit standard deviation,
//    averaged over units. The inputs are not standardized per unit: data whose units have
//    very different scales should be standardized first (or σ set by hand);
//  - the AIS base model's biases follow a running mean of the training batches (stored with
//    the weights as 'rbm/base_mean').
import * as tf from '@tensorflow/tfjs';
import { ais, exactLogZ, exactPlan, type AisResult, type Bipartite, type VisibleKind } from '../../eval/ais';
import { bernoulli, normal, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { loadNamed, uniqueName } from '../../nn/params';
import { CHECK_FACTOR, checkSeed, CONVERGENCE_TOLERANCE, convergenceOf, coveringStderr } from '../../eval/convergence';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type AisSettings = LatentLab.AisSettings;

export type RbmConfig = LatentLab.RbmConfig;

/** a Gibbs chain for views: visible means after every `every` steps */
export interface GibbsRequest {
  /** chains */
  n: number;
  /** Gibbs steps */
  steps: number;
  /** a frame every this many steps (default 1) */
  every?: number;
  seed: number;
  /** start state, n × D (default random) */
  init?: Float32Array;
  /** D flags, 1 = clamped: the unit keeps init's value at every step (needs init) */
  clamp?: Uint8Array;
}

/** exact log Z when the enumeration costs at most this many multiply-adds */
export const EXACT_BUDGET = 2e9;

export const DEFAULT_AIS = { chains: 100, betas: 2000 };

export function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/** −Σ_i [μ log μ + (1−μ) log(1−μ)] per row: the entropy of factorial Bernoulli units */
export function bernoulliEntropy(mu: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => {
    const tiny = 1e-30;
    const a = tf.mul(mu, tf.log(tf.maximum(mu, tiny)));
    const q = tf.sub(1, mu);
    const b = tf.mul(q, tf.log(tf.maximum(q, tiny)));
    return tf.neg(tf.sum(tf.add(a, b), 1)) as tf.Tensor1D;
  });
}

/** Σ_i [x_i a_i − ζ(a_i)] per row: log Bernoulli(x; σ(a)) */
export function bernoulliLogLik(x: tf.Tensor2D, logits: tf.Tensor2D): tf.Tensor1D {
  return tf.tidy(() => tf.sum(tf.sub(tf.mul(x, logits), tf.softplus(logits)), 1) as tf.Tensor1D);
}

/** checks a gibbs request against the data size; returns the clamp mask [1, D] (or null) and the start rows */
export function gibbsInputs(family: string, req: GibbsRequest, D: number): { n: number; steps: number; every: number; init: Float32Array | null; mask: Float32Array | null } {
  const n = Math.floor(req.n);
  if (!(n >= 1)) throw new Error(`${family}.gibbs: n must be >= 1`);
  const steps = Math.max(0, Math.floor(req.steps));
  const every = Math.max(1, Math.floor(req.every ?? 1));
  let init: Float32Array | null = null;
  if (req.init !== undefined) {
    if (req.init.length !== n * D) throw new Error(`${family}.gibbs: init needs n × D = ${n * D} values, got ${req.init.length}`);
    init = req.init;
  }
  let mask: Float32Array | null = null;
  if (req.clamp !== undefined) {
    if (req.clamp.length !== D) throw new Error(`${family}.gibbs: clamp needs ${D} flags, got ${req.clamp.length}`);
    if (!init) throw new Error(`${family}.gibbs: clamp needs init (the values to hold)`);
    mask = Float32Array.from(req.clamp, (v) => (v ? 1 : 0));
  }
  return { n, steps, every, init, mask };
}

/** m where the mask is 0, init where it is 1 (exactly init's values) */
export function clampMix(m: tf.Tensor2D, init: tf.Tensor2D, mask: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.add(tf.mul(m, tf.sub(1, mask)), tf.mul(init, mask)) as tf.Tensor2D);
}

/**
 * The parameters and conditionals of one RBM, in the model's internal units u (u = v for
 * bernoulli units, u = v/σ for gaussian ones). The RBM is one of these; a DBN stacks them.
 */
export class RbmLayer {
  readonly W: tf.Variable;
  readonly b: tf.Variable;
  readonly c: tf.Variable;
  /** running mean of the training inputs (in u units): the AIS base model */
  readonly baseMean: tf.Variable;
  /** gaussian units: σ, as a [1] variable so checkpoints keep it */
  readonly sigmaVar: tf.Variable | null;
  /** visible biases and σ set from data (first trainStep or a checkpoint) */
  initialized = false;
  /** persistent chains (u units) */
  chains: tf.Tensor2D | null = null;
  private seen = 0;
  private sigmaNum = 1;
  /** the values of baseMean, read back after every change (`sample` is synchronous and needs them on the host) */
  private baseHost: Float32Array;
  /** the reads of a loaded σ and base mean, under way (setWeights cannot wait for them); see `ready` */
  private loading: Promise<void> | null = null;
  /** identifies the latest load */
  private loadToken: object | null = null;
  private loadError: unknown = null;

  constructor(
    readonly V: number,
    readonly H: number,
    readonly visible: VisibleKind,
    rng: Rng,
    initScale: number,
    readonly sigmaSetting: number | 'auto' = 'auto',
    prefix = 'rbm',
  ) {
    const w = new Float32Array(V * H);
    for (let i = 0; i < w.length; i++) w[i] = initScale * rng.normal();
    this.W = tf.variable(tf.tensor2d(w, [V, H]), true, uniqueName(`${prefix}_W`));
    this.b = tf.variable(tf.zeros([V]), true, uniqueName(`${prefix}_b`));
    this.c = tf.variable(tf.zeros([H]), true, uniqueName(`${prefix}_c`));
    this.baseMean = tf.variable(tf.fill([V], visible === 'bernoulli' ? 0.5 : 0), false, uniqueName(`${prefix}_base`));
    this.baseHost = new Float32Array(V).fill(visible === 'bernoulli' ? 0.5 : 0);
    if (visible === 'gaussian') {
      this.sigmaNum = typeof sigmaSetting === 'number' ? sigmaSetting : 1;
      this.sigmaVar = tf.variable(tf.tensor1d([this.sigmaNum]), false, uniqueName(`${prefix}_sigma`));
    } else this.sigmaVar = null;
  }

  get sigma(): number {
    return this.sigmaValue();
  }

  /** σ as a number; throws while a loaded σ is still being read back */
  private sigmaValue(): number {
    if (this.sigmaVar) this.settled();
    return this.sigmaNum;
  }

  /** throws while `load`'s reads are under way, or when they failed (a bad checkpoint) */
  private settled(): void {
    if (this.loading) throw new Error('rbm: the loaded weights are still being read back (await a training step, testNll, evaluate or gibbs first)');
    if (this.loadError) throw this.loadError;
  }

  /** waits for the values `load` reads back (a checkpoint's σ and base means); throws if they were bad */
  async ready(): Promise<void> {
    while (this.loading) await this.loading;
    if (this.loadError) throw this.loadError;
  }

  vars(): tf.Variable[] {
    return [this.W, this.b, this.c];
  }

  params(): Bipartite {
    return { W: this.W as tf.Tensor2D, b: this.b as tf.Tensor1D, c: this.c as tf.Tensor1D, visible: this.visible };
  }

  /** data units → internal units */
  toU(x: tf.Tensor2D): tf.Tensor2D {
    return this.visible === 'gaussian' ? (tf.div(x, this.sigmaValue()) as tf.Tensor2D) : x;
  }

  hiddenLogits(u: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(u, this.W as tf.Tensor2D), this.c) as tf.Tensor2D;
  }

  hiddenProbU(u: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => tf.sigmoid(this.hiddenLogits(u)));
  }

  sampleHidden(u: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => bernoulli(tf.sigmoid(this.hiddenLogits(u)), seed) as tf.Tensor2D);
  }

  /** b + Wh: logits (bernoulli) or the mean in u units (gaussian) */
  visibleField(h: tf.Tensor2D): tf.Tensor2D {
    return tf.add(tf.matMul(h, this.W as tf.Tensor2D, false, true), this.b) as tf.Tensor2D;
  }

  visibleMeanU(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.visibleField(h);
      return this.visible === 'bernoulli' ? tf.sigmoid(f) : f;
    });
  }

  /** the mean of p(v | h) in data units */
  visibleMean(h: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const m = this.visibleMeanU(h);
      return this.visible === 'gaussian' ? (tf.mul(m, this.sigmaValue()) as tf.Tensor2D) : m;
    });
  }

  sampleVisibleU(h: tf.Tensor2D, seed: number): tf.Tensor2D {
    return tf.tidy(() => {
      const f = this.visibleField(h);
      return (this.visible === 'bernoulli' ? bernoulli(tf.sigmoid(f), seed) : tf.add(f, normal(f.shape, seed))) as tf.Tensor2D;
    });
  }

  /** F(u) in internal units (without the gaussian D log σ) */
  freeEnergyU(u: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const sp = tf.sum(tf.softplus(this.hiddenLogits(u)), 1);
      if (this.visible === 'bernoulli') return tf.neg(tf.add(tf.reshape(tf.matMul(u, tf.reshape(this.b, [this.V, 1])), [-1]), sp)) as tf.Tensor1D;
      return tf.sub(tf.mul(0.5, tf.sum(tf.square(tf.sub(u, this.b)), 1)), sp) as tf.Tensor1D;
    });
  }

  /** F(v) in data units: −log p(v) = F(v) + log Z */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    return tf.tidy(() => {
      const f = this.freeEnergyU(this.toU(v));
      return this.visible === 'gaussian' ? (tf.add(f, this.V * Math.log(this.sigmaValue())) as tf.Tensor1D) : f;
    });
  }

  /** the AIS base model's visible biases: logits of the running pixel means, or the running means */
  aisBase(): Float32Array {
    this.settled();
    const m = this.baseHost;
    if (this.visible === 'gaussian') return Float32Array.from(m);
    return Float32Array.from(m, (p) => logit(Math.min(1 - 1e-3, Math.max(1e-3, p))));
  }

  /** first batch: visible biases (and gaussian σ) from the data; every batch: the base's running mean */
  async observe(x: tf.Tensor2D): Promise<void> {
    const B = x.shape[0];
    if (!this.initialized) {
      if (this.visible === 'gaussian' && this.sigmaSetting === 'auto') {
        const sdT = tf.tidy(() => tf.mean(tf.sqrt(tf.moments(x, 0).variance)));
        let sd: number;
        try {
          sd = (await sdT.data())[0];
        } finally {
          sdT.dispose();
        }
        this.setSigma(B >= 2 && sd > 1e-3 ? sd : B >= 2 ? 1e-3 : 1);
      }
      tf.tidy(() => {
        const m = tf.mean(this.toU(x), 0);
        if (this.visible === 'bernoulli') {
          const p = tf.clipByValue(m, 1e-3, 1 - 1e-3);
          this.b.assign(tf.log(tf.div(p, tf.sub(1, p))));
        } else this.b.assign(m);
        this.baseMean.assign(m);
      });
      this.initialized = true;
      this.seen = 1;
      return;
    }
    this.seen = Math.min(this.seen + 1, 100);
    const rate = 1 / this.seen;
    tf.tidy(() => this.baseMean.assign(tf.add(this.baseMean, tf.mul(tf.sub(tf.mean(this.toU(x), 0), this.baseMean), rate))));
  }

  setSigma(s: number): void {
    if (!this.sigmaVar) return;
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`rbm: sigma must be a positive number, got ${s}`);
    this.sigmaNum = s;
    tf.tidy(() => this.sigmaVar!.assign(tf.tensor1d([s])));
  }

  /**
   * One CD-k / PCD-k update through the run's optimizer (group `group`). `x` in data units.
   * Returns the free-energy gap mean F(data) − mean F(negatives) (internal units) and the
   * squared error of one reconstruction v → h ~ p(h|v) → E[v|h], summed over units, averaged over rows.
   */
  async cdStep(ctx: StepContext, group: string, x: tf.Tensor2D, k: number, persistent: boolean): Promise<{ gap: number; recon: number }> {
    await this.ready();
    await this.observe(x);
    const rng = mulberry32(ctx.seed());
    const B = x.shape[0];
    const u0 = tf.tidy(() => tf.clone(this.toU(x)));
    if (persistent && (!this.chains || this.chains.shape[0] !== B)) {
      this.chains?.dispose();
      this.chains = tf.clone(u0);
    }
    const start = persistent ? this.chains! : u0;
    const { neg, reconMean } = tf.tidy(() => {
      let v = start;
      let reconMean: tf.Tensor2D | null = null;
      for (let t = 0; t < k; t++) {
        const h = this.sampleHidden(v, rng.seed());
        if (t === 0 && !persistent) reconMean = this.visibleMeanU(h);
        v = this.sampleVisibleU(h, rng.seed());
      }
      reconMean ??= this.visibleMeanU(this.sampleHidden(u0, rng.seed()));
      return { neg: v, reconMean };
    });
    const recon = tf.tidy(() => {
      const back = this.visible === 'gaussian' ? tf.mul(reconMean, this.sigmaNum) : reconMean;
      return tf.mean(tf.sum(tf.square(tf.sub(x, back)), 1)) as tf.Scalar;
    });
    const gap = ctx.minimize(group, () => tf.sub(tf.mean(this.freeEnergyU(u0)), tf.mean(this.freeEnergyU(neg))) as tf.Scalar, this.vars());
    reconMean.dispose();
    u0.dispose();
    if (persistent) {
      this.chains!.dispose();
      this.chains = neg;
    } else neg.dispose();
    try {
      // one wait for the step's two numbers and the new base mean
      const [g, r, base] = await Promise.all([gap.data(), recon.data(), this.baseMean.data()]);
      this.baseHost = Float32Array.from(base as Float32Array);
      return { gap: g[0], recon: r[0] };
    } finally {
      tf.dispose([gap, recon]);
    }
  }

  named(prefix: string): NamedWeight[] {
    const w: NamedWeight[] = [
      { name: `${prefix}/W`, tensor: this.W },
      { name: `${prefix}/b`, tensor: this.b },
      { name: `${prefix}/c`, tensor: this.c },
      { name: `${prefix}/base_mean`, tensor: this.baseMean },
    ];
    if (this.sigmaVar) w.push({ name: `${prefix}/sigma`, tensor: this.sigmaVar });
    return w;
  }

  /**
   * Loads a checkpoint's weights. Its σ and base mean are read back after this returns
   * (setWeights cannot wait for a read): `ready()` waits for them, and σ or the AIS base
   * used before then throws.
   */
  load(prefix: string, weights: NamedWeight[]): void {
    const vars: Record<string, tf.Variable> = { [`${prefix}/W`]: this.W, [`${prefix}/b`]: this.b, [`${prefix}/c`]: this.c };
    loadNamed(weights, vars);
    // the base and σ are optional in a checkpoint: the base only affects AIS's variance
    const byName = new Map(weights.map((w) => [w.name, w.tensor]));
    const base = byName.get(`${prefix}/base_mean`);
    const newBase = !!base && base.size === this.V;
    if (newBase) this.baseMean.assign(tf.reshape(base!, [this.V]));
    const s = this.sigmaVar ? byName.get(`${prefix}/sigma`) : undefined;
    this.initialized = true;
    this.seen = 100;
    this.chains?.dispose();
    this.chains = null;
    this.loadError = null;
    if (!newBase && !s) return;
    // copies of our own: the caller may dispose `weights` as soon as this returns
    const baseCopy = newBase ? tf.keep(tf.clone(this.baseMean)) : null;
    const sigmaCopy = s ? tf.keep(tf.clone(s)) : null;
    const prev = this.loading;
    const token = {};
    this.loadToken = token;
    this.loading = (async () => {
      try {
        const [b, sv] = await Promise.all([baseCopy?.data(), sigmaCopy?.data()]);
        // an earlier load applies its values first
        if (prev) await prev;
        if (b) this.baseHost = Float32Array.from(b as Float32Array);
        if (sv) this.setSigma(sv[0]);
      } catch (e) {
        if (this.loadToken === token) this.loadError = e;
      } finally {
        tf.dispose([baseCopy ?? [], sigmaCopy ?? []]);
        if (this.loadToken === token) this.loading = null;
      }
    })();
  }

  dispose(): void {
    tf.dispose([this.W, this.b, this.c, this.baseMean]);
    this.sigmaVar?.dispose();
    this.chains?.dispose();
    this.chains = null;
  }
}

/** log Z of an RBM and how it was found */
export interface Partition {
  /** the reported log Z: with a convergence check, the estimate at 4× the temperatures */
  logZ: number;
  /** its error: the delta-method standard error, or with a check max(the 4× run's, |log Z_4x − log Z|) */
  stderr: number;
  exact: boolean;
  /** AIS chains and intermediate temperatures asked for (0 when exact) */
  chains: number;
  betas: number;
  /** AIS: the effective sample size (Σw)²/Σw² of the run at `betas`, of `chains` */
  ess?: number;
  /** the convergence check, when it ran: the runs at `betas` and at 4× `betas` (same chains, independent seed) */
  check?: AisCheck;
}

/** AIS at the schedule asked for and at 4× it */
export interface AisCheck {
  logZ: number;
  stderr: number;
  ess: number;
  betas4x: number;
  logZ4x: number;
  stderr4x: number;
  ess4x: number;
  /** log Z_4x − log Z */
  delta: number;
  converged: boolean;
}

/**
 * log Z of an RBM: exact when enumeration is cheap, else AIS. With `opts.convergence`
 * (default false, so existing callers keep one run) AIS also runs at 4× the temperatures
 * with an independent seed, and the result reports that run's log Z with an error bar that
 * covers the move (eval/convergence.ts says why).
 */
export async function partition(p: Bipartite, base: Float32Array, settings: Required<AisSettings>, seed: number, opts: { convergence?: boolean } = {}): Promise<Partition> {
  const [V, H] = p.W.shape;
  const plan = exactPlan(V, H, p.visible);
  if (plan && plan.cost <= EXACT_BUDGET) return { logZ: await exactLogZ(p), stderr: 0, exact: true, chains: 0, betas: 0 };
  const r = await ais(p, { chains: settings.chains, betas: settings.betas, seed, base });
  if (!opts.convergence) return { logZ: r.logZ, stderr: r.stderr, exact: false, chains: r.chains, betas: r.betas, ess: r.ess };
  const r4 = await ais(p, { chains: settings.chains, betas: CHECK_FACTOR * settings.betas, seed: checkSeed(seed), base });
  const delta = r4.logZ - r.logZ;
  const check: AisCheck = { logZ: r.logZ, stderr: r.stderr, ess: r.ess, betas4x: r4.betas, logZ4x: r4.logZ, stderr4x: r4.stderr, ess4x: r4.ess, delta, converged: Math.abs(delta) < CONVERGENCE_TOLERANCE };
  return { logZ: r4.logZ, stderr: coveringStderr(r4.stderr, delta), exact: false, chains: r.chains, betas: r.betas, ess: r.ess, check };
}

/** the AIS settings an evaluation uses: lab.evaluate's `ais` over the model's own, checked like the config's; and whether to run the 4× check */
export function aisKnobs(family: string, own: Required<AisSettings>, opts?: EstimatorOptions): { settings: Required<AisSettings>; convergence: boolean } {
  const a = opts?.ais;
  const settings = a === undefined ? own : checkAis(`${family} (lab.evaluate's ais)`, { chains: a.chains ?? own.chains, betas: a.betas ?? own.betas });
  return { settings, convergence: opts?.convergence !== false };
}

/** the cache key of a partition function: the weights' version, the seed and the AIS knobs */
export function partitionKey(version: number, seed: number, k: { settings: Required<AisSettings>; convergence: boolean }): string {
  return `${version}:${seed}:${k.settings.chains}:${k.settings.betas}:${k.convergence ? 'check' : 'once'}`;
}

/**
 * What testNll adds to an NLL that rests on an AIS log Z: the stderr, the details
 * ({ logZ, logZStderr, chains, betas, ess, and with a check logZ1x, betas4x, ess4x }) and
 * the convergence record. `meanNll` is the mean NLL computed with `Z.logZ`.
 */
export function aisReport(Z: Partition, meanNll: number): { stderr: number; details: Record<string, number>; convergence?: LatentLab.Convergence } {
  const details: Record<string, number> = { logZ: Z.logZ, logZStderr: Z.stderr, chains: Z.chains, betas: Z.betas };
  if (Z.ess !== undefined) details.ess = Z.ess;
  const c = Z.check;
  if (!c) return { stderr: Z.stderr, details };
  Object.assign(details, { logZ1x: c.logZ, logZ1xStderr: c.stderr, betas4x: c.betas4x, ess4x: c.ess4x });
  const convergence = convergenceOf({ knob: 'betas', at: Z.betas, nll: meanNll - Z.logZ + c.logZ, at4x: c.betas4x, nll4x: meanNll - Z.logZ + c.logZ4x, ess: c.ess, essOf: Z.chains, ess4x: c.ess4x });
  return { stderr: Z.stderr, details, convergence };
}

/** throws unless every value of x is 0 or 1 (a Bernoulli likelihood is no density for other values) */
export async function requireBinary(family: string, x: tf.Tensor2D): Promise<void> {
  const v = await x.data();
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0 && v[i] !== 1) throw new Error(`${family}.testNll: its units are binary, so it scores 0/1 data only (found ${v[i]}): binarize the data`);
  }
}

/** rows of `x` through f in chunks, collected into one Float32Array */
export async function perRow(x: tf.Tensor2D, f: (rows: tf.Tensor2D, start: number) => tf.Tensor1D, chunk = 1000): Promise<Float32Array> {
  const n = x.shape[0];
  const out = new Float32Array(n);
  for (let s = 0; s < n; s += chunk) {
    const m = Math.min(chunk, n - s);
    const t = tf.tidy(() => f(tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D, s));
    try {
      out.set((await t.data()) as Float32Array, s);
    } finally {
      t.dispose();
    }
  }
  return out;
}

export function checkAis(family: string, a: AisSettings | undefined): Required<AisSettings> {
  const chains = a?.chains ?? DEFAULT_AIS.chains;
  const betas = a?.betas ?? DEFAULT_AIS.betas;
  if (!(Number.isInteger(chains) && chains >= 2)) throw new Error(`${family}: ais.chains must be an integer >= 2, got ${chains}`);
  if (!(Number.isInteger(betas) && betas >= 1)) throw new Error(`${family}: ais.betas must be an integer >= 1, got ${betas}`);
  return { chains, betas };
}

const mean = (a: Float32Array) => a.reduce((s, v) => s + v, 0) / Math.max(1, a.length);

export class Rbm implements Model {
  readonly family = 'rbm';
  readonly config: { hidden: number; visible: VisibleKind | null; k: number; persistent: boolean; sigma: number | 'auto'; initScale: number; sampleSteps: number; ais: Required<AisSettings> };
  private layer: RbmLayer | null = null;
  private D = 0;
  private data: DataInfo | null = null;
  /** bumped whenever the weights change: the cached log Z is for one version */
  private version = 0;
  private cachedZ: { key: string; value: Partition } | null = null;

  constructor(cfg: RbmConfig = {}) {
    this.config = {
      hidden: cfg.hidden ?? 500,
      visible: cfg.visible ?? null,
      k: cfg.k ?? 1,
      persistent: cfg.persistent ?? false,
      sigma: cfg.sigma ?? 'auto',
      initScale: cfg.initScale ?? 0.01,
      sampleSteps: cfg.sampleSteps ?? 1000,
      ais: checkAis('rbm', cfg.ais),
    };
    const c = this.config;
    if (!(Number.isInteger(c.hidden) && c.hidden >= 1)) throw new Error(`rbm: hidden must be an integer >= 1, got ${cfg.hidden}`);
    if (c.visible !== null && c.visible !== 'bernoulli' && c.visible !== 'gaussian') throw new Error(`rbm: visible must be 'bernoulli' or 'gaussian'`);
    if (!(Number.isInteger(c.k) && c.k >= 1)) throw new Error(`rbm: k must be an integer >= 1, got ${cfg.k}`);
    if (c.sigma !== 'auto' && !(typeof c.sigma === 'number' && c.sigma > 0)) throw new Error(`rbm: sigma must be a positive number or 'auto'`);
    if (!(c.initScale >= 0)) throw new Error('rbm: initScale must be >= 0');
    if (!(Number.isInteger(c.sampleSteps) && c.sampleSteps >= 1)) throw new Error('rbm: sampleSteps must be an integer >= 1');
  }

  get built(): boolean {
    return this.layer !== null;
  }

  get visible(): VisibleKind {
    return this.config.visible ?? (this.data && !this.data.binary ? 'gaussian' : 'bernoulli');
  }

  /** the gaussian units' σ (1 for bernoulli units) */
  get sigma(): number {
    return this.need().sigma;
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/recon': 'info',
      'train/free_energy_gap': 'info',
      'val/recon': 'info',
      'val/free_energy': 'info',
      'val/pseudo_ll': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('rbm: model already built (create a new one per run)');
    this.data = data;
    this.config.visible = this.visible;
    this.D = data.shape.reduce((a, b) => a * b, 1);
    this.layer = new RbmLayer(this.D, this.config.hidden, this.config.visible, rng, this.config.initScale, this.config.sigma, 'rbm');
  }

  private need(): RbmLayer {
    if (!this.layer) throw new Error('rbm: build the model first (lab.train builds it on its data)');
    return this.layer;
  }

  /** the parameters in internal units (v/σ for gaussian units), for AIS and tests */
  params(): Bipartite {
    return this.need().params();
  }

  async trainStep(x: tf.Tensor2D, _step: number, ctx: StepContext): Promise<StepMetrics> {
    const L = this.need();
    const { gap, recon } = await L.cdStep(ctx, 'rbm', x, this.config.k, this.config.persistent);
    this.version++;
    return { 'train/recon': recon, 'train/free_energy_gap': gap };
  }

  /** F(v) per row (see the top of the file): −log p(v) = F(v) + log Z */
  freeEnergy(v: tf.Tensor2D): tf.Tensor1D {
    return this.need().freeEnergy(v);
  }

  /** p(h_j = 1 | v), [n, H] */
  hiddenProb(v: tf.Tensor2D): tf.Tensor2D {
    const L = this.need();
    return tf.tidy(() => L.hiddenProbU(L.toU(v)));
  }

  /** E[v | h], [n, D]: σ(b + Wh), or σ·(b + Wh) for gaussian units */
  visibleProb(h: tf.Tensor2D): tf.Tensor2D {
    return this.need().visibleMean(h);
  }

  /** log Z by AIS (see eval/ais.ts); defaults: the config's chains and betas, seed 0 */
  async logZ(opts: { chains?: number; betas?: number; seed?: number } = {}): Promise<AisResult> {
    const L = this.need();
    await L.ready();
    return ais(L.params(), { chains: opts.chains ?? this.config.ais.chains, betas: opts.betas ?? this.config.ais.betas, seed: opts.seed ?? 0, base: L.aisBase() });
  }

  /** log Z exactly, by enumerating the smaller side (at most 20 units; gaussian: the hidden side) */
  exactLogZ(): Promise<number> {
    return exactLogZ(this.need().params());
  }

  private async partitionFor(seed: number, opts?: EstimatorOptions): Promise<Partition> {
    const knobs = aisKnobs('rbm', this.config.ais, opts);
    const key = partitionKey(this.version, seed, knobs);
    if (this.cachedZ?.key === key) return this.cachedZ.value;
    const L = this.need();
    await L.ready();
    const value = await partition(L.params(), L.aisBase(), knobs.settings, seed, { convergence: knobs.convergence });
    this.cachedZ = { key, value };
    return value;
  }

  /**
   * −log p(v) = F(v) + log Z per row, in nats (a density for gaussian units). log Z is exact
   * when the enumeration is cheap (kind 'exact'), else an AIS estimate (kind 'estimate') with
   * lab.evaluate's `ais` knobs (default: the config's) and, unless `opts.convergence` is false,
   * checked at 4× the temperatures: the 4× estimate is reported, with a stderr that covers the
   * move, and `convergence` compares the two (see eval/convergence.ts).
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts?: EstimatorOptions): Promise<TestNll> {
    const L = this.need();
    await L.ready();
    if (L.visible === 'bernoulli') await requireBinary('rbm', x);
    const F = await perRow(x, (rows) => L.freeEnergy(rows));
    const Z = await this.partitionFor(seed, opts);
    const nll = Float32Array.from(F, (f) => f + Z.logZ);
    for (const v of nll) if (!Number.isFinite(v)) throw new Error(`rbm: a non-finite NLL (${v}): the model diverged`);
    if (Z.exact) return { nll, kind: 'exact', details: { logZ: Z.logZ } };
    return { nll, kind: 'estimate', ...aisReport(Z, mean(nll)) };
  }

  /**
   * Cheap numbers for the training curve (no log Z): the reconstruction error, the mean free
   * energy, and (bernoulli units) the stochastic pseudo-log-likelihood
   * D · log σ(F(ṽ) − F(v)), ṽ = v with one random unit flipped, per row.
   */
  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const L = this.need();
    await L.ready();
    const n = val.shape[0];
    const D = this.D;
    const rng = mulberry32(seed);
    const hs = rng.seed();
    const recon = await perRow(val, (rows, s) =>
      tf.tidy(() => {
        const h = L.sampleHidden(L.toU(rows), hs + s);
        return tf.sum(tf.square(tf.sub(rows, L.visibleMean(h))), 1) as tf.Tensor1D;
      }),
    );
    const F = await perRow(val, (rows) => L.freeEnergy(rows));
    const out: Record<string, MetricValue> = {
      'val/recon': { value: mean(recon), kind: 'info' },
      'val/free_energy': { value: mean(F), kind: 'info' },
    };
    if (this.visible === 'bernoulli') {
      const flip = new Float32Array(n * D);
      for (let r = 0; r < n; r++) flip[r * D + rng.int(D)] = 1;
      const flips = tf.tensor2d(flip, [n, D]);
      let pl: Float32Array;
      try {
        pl = await perRow(val, (rows, s) =>
          tf.tidy(() => {
            const f = tf.slice(flips, [s, 0], [rows.shape[0], D]);
            const flipped = tf.add(tf.mul(rows, tf.sub(1, tf.mul(2, f))), f) as tf.Tensor2D;
            return tf.mul(-D, tf.softplus(tf.sub(L.freeEnergy(rows), L.freeEnergy(flipped)))) as tf.Tensor1D;
          }),
        );
      } finally {
        flips.dispose();
      }
      out['val/pseudo_ll'] = { value: mean(pl), kind: 'info' };
    }
    return out;
  }

  /** the start states of `sample`: uniform draws (bernoulli units) or standard normals (gaussian), [n, D] */
  noise(n: number, seed: number): tf.Tensor2D {
    this.need();
    return (this.visible === 'bernoulli' ? uniform([n, this.D], seed) : normal([n, this.D], seed)) as tf.Tensor2D;
  }

  /**
   * `sampleSteps` Gibbs steps from a start drawn from the AIS base model (independent units
   * with the data's pixel means) through `noise`; returns E[v | h] of the last step
   * (in [0, 1] for bernoulli units; gaussian units: on images the mean clipped to [0, 1],
   * on points a draw from p(v | h)).
   */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    const L = this.need();
    const rng = mulberry32(seed ^ 0x5eed);
    const z = noise ?? this.noise(n, seed);
    const base = tf.tensor1d(L.aisBase());
    let v = tf.tidy(() => (this.visible === 'bernoulli' ? tf.cast(tf.less(z, tf.sigmoid(base)), 'float32') : tf.add(z, base)) as tf.Tensor2D);
    if (z !== noise) z.dispose();
    base.dispose();
    let mean: tf.Tensor2D | null = null;
    for (let t = 0; t < this.config.sampleSteps; t++) {
      const h = L.sampleHidden(v, rng.seed());
      const last = t === this.config.sampleSteps - 1;
      const next = last ? null : L.sampleVisibleU(h, rng.seed());
      if (last) mean = L.visibleMean(h);
      h.dispose();
      v.dispose();
      v = next as tf.Tensor2D;
    }
    if (this.visible === 'gaussian') {
      const m = mean!;
      // images: the mean, clipped to [0, 1]; points: a draw of v ~ N(mean, σ²) (the means alone take at most 2^H values)
      const out = tf.tidy(() => (this.data?.kind === 'image' ? tf.clipByValue(m, 0, 1) : tf.add(m, normal(m.shape, rng.seed(), 0, L.sigma))) as tf.Tensor2D);
      m.dispose();
      return out;
    }
    return mean!;
  }

  /** the hidden units' weight vectors over the visible units: rows of Wᵀ, [H, D] */
  async filters(layer = 1): Promise<{ data: Float32Array; count: number; dim: number }> {
    const L = this.need();
    if (layer !== 1) throw new Error(`rbm.filters: an RBM has one layer of weights (layer 1), not layer ${layer}`);
    const t = tf.transpose(L.W);
    try {
      const data = Float32Array.from((await t.data()) as Float32Array);
      return { data, count: L.H, dim: L.V };
    } finally {
      t.dispose();
    }
  }

  /**
   * Block Gibbs sampling h ~ p(h|v), v ~ p(v|h), `n` chains. Returns frames of E[v|h]
   * (n × D, data units) after every `every` steps (and after the last); the first frame is the
   * start state (`init`, else random: each unit 0/1 with probability ½, or N(0, σ²) around the
   * base for gaussian units). Clamped units keep init's values at every step, so the chain
   * samples p(free units | clamped units) exactly.
   */
  async gibbs(req: GibbsRequest): Promise<Float32Array[]> {
    const L = this.need();
    const D = this.D;
    const { n, steps, every, init, mask } = gibbsInputs('rbm', req, D);
    await L.ready();
    const rng = mulberry32(req.seed);
    const initT = init ? tf.tensor2d(init, [n, D]) : null;
    const maskT = mask ? tf.tensor2d(mask, [1, D]) : null;
    const start =
      initT ??
      tf.tidy(() => {
        if (this.visible === 'bernoulli') return tf.cast(tf.less(uniform([n, D], rng.seed()), 0.5), 'float32') as tf.Tensor2D;
        return tf.mul(tf.add(normal([n, D], rng.seed()), tf.tensor1d(L.aisBase())), L.sigma) as tf.Tensor2D;
      });
    let u = tf.tidy(() => tf.clone(L.toU(start)));
    const initU = initT ? tf.tidy(() => tf.clone(L.toU(initT))) : null;
    const frames: Float32Array[] = [];
    try {
      frames.push(Float32Array.from((await start.data()) as Float32Array));
      for (let t = 1; t <= steps; t++) {
        const s1 = rng.seed();
        const s2 = rng.seed();
        const want = t % every === 0 || t === steps;
        const { next, frame } = tf.tidy((): { next: tf.Tensor2D; frame?: tf.Tensor2D } => {
          const h = L.sampleHidden(u, s1);
          let nu = L.sampleVisibleU(h, s2);
          if (maskT) nu = clampMix(nu, initU!, maskT);
          if (!want) return { next: nu };
          let m = L.visibleMean(h);
          if (maskT) m = clampMix(m, initT!, maskT);
          return { next: nu, frame: m };
        });
        u.dispose();
        u = next as tf.Tensor2D;
        if (frame) {
          try {
            frames.push(Float32Array.from((await frame.data()) as Float32Array));
          } finally {
            frame.dispose();
          }
        }
      }
    } finally {
      tf.dispose([u, start, maskT ?? [], initU ?? []]);
    }
    return frames;
  }

  getWeights(): NamedWeight[] {
    return this.need().named('rbm');
  }

  setWeights(weights: NamedWeight[]): void {
    this.need().load('rbm', weights);
    this.version++;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    this.layer?.dispose();
  }
}
