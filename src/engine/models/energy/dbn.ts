// Deep belief network (Hinton, Osindero & Teh 2006): a stack of RBMs trained greedily.
// With L layers of hidden units h1 … hL, the generative model is
//   p(v, h1, …, hL) = p(v | h1) p(h1 | h2) … p(h_{L−2} | h_{L−1}) · p(h_{L−1}, h_L)
// a directed sigmoid belief net below an undirected top RBM over (h_{L−1}, h_L). RBM l has
// visible units h_{l−1} (h0 = v) and hidden units h_l; its visible biases and weights give
// the directed conditional p(h_{l−1} = 1 | h_l) = σ(b_l + W_l h_l), its hidden biases the
// recognition q(h_l = 1 | h_{l−1}) = σ(c_l + W_lᵀ h_{l−1}).
//
// Training: lab.train's steps are split evenly over the layers; in its share, RBM l trains by
// CD-k / PCD-k on binary samples of h_{l−1} drawn upward through the layers already trained
// (q(h1|v), then q(h2|h1), …). The split needs the run's length: the trainer's `totalSteps`
// when the step context carries it, else the config's `layerSteps` (which wins when set),
// else 1000 steps per layer; the top layer keeps training after its share.
//
// Sampling: Gibbs steps in the top RBM, then one downward pass through the directed layers
// (binary samples, visible means at the bottom).
//
// testNll: the variational lower bound with the recognition q(h1|v) q(h2|h1) … q(h_{L−1}|h_{L−2}):
//   log p(v) ≥ E_q[log p(v|h1) + … + log p(h_{L−2}|h_{L−1}) − F_top(h_{L−1})] + H(q) − log Z_top
// (for two layers: E_q(h1|v)[log p(v|h1) + log p*(h1)] + H(q(h1|v)) − log Z_top, p*(h1) =
// exp(−F_top(h1)) the top RBM's unnormalized marginal). The expectation is a Monte Carlo
// average over `boundSamples` draws of q per example (the entropies of the factorial
// conditionals are exact given the layer below), and log Z_top is an AIS estimate (exact
// when enumeration is cheap). So the reported NLL is an *estimate* of an upper bound on the
// true NLL: kind 'estimate', with `details.bound = 1`. A one-layer DBN is an RBM: F(v) + log Z.
import * as tf from '@tensorflow/tfjs';
import { ais, exactLogZ, type AisResult, type VisibleKind } from '../../eval/ais';
import { bernoulli, uniform } from '../../ops/random';
import { mulberry32, type Rng } from '../../util/rng';
import { aisKnobs, aisReport, bernoulliEntropy, bernoulliLogLik, checkAis, clampMix, gibbsInputs, partition, partitionKey, perRow, RbmLayer, requireBinary, type AisSettings, type GibbsRequest, type Partition } from './rbm';
import type { DataInfo, EstimatorOptions, MetricKindName, MetricValue, Model, NamedWeight, StepContext, StepMetrics, TestNll } from '../types';

export type DbnConfig = LatentLab.DbnConfig;

export const DEFAULT_LAYER_STEPS = 1000;

export class Dbn implements Model {
  readonly family = 'dbn';
  readonly config: { layers: number[]; k: number; persistent: boolean; layerSteps: number | null; initScale: number; sampleSteps: number; boundSamples: number; ais: Required<AisSettings> };
  private stack: RbmLayer[] = [];
  private D = 0;
  private version = 0;
  private cachedZ: { key: string; value: Partition } | null = null;

  constructor(cfg: DbnConfig = {}) {
    this.config = {
      layers: cfg.layers ?? [500, 500],
      k: cfg.k ?? 1,
      persistent: cfg.persistent ?? false,
      layerSteps: cfg.layerSteps ?? null,
      initScale: cfg.initScale ?? 0.01,
      sampleSteps: cfg.sampleSteps ?? 1000,
      boundSamples: cfg.boundSamples ?? 10,
      ais: checkAis('dbn', cfg.ais),
    };
    const c = this.config;
    if (!Array.isArray(c.layers) || c.layers.length < 1 || !c.layers.every((h) => Number.isInteger(h) && h >= 1)) throw new Error(`dbn: layers must be a list of hidden sizes (integers >= 1), e.g. [500, 500]`);
    if (!(Number.isInteger(c.k) && c.k >= 1)) throw new Error(`dbn: k must be an integer >= 1`);
    if (c.layerSteps !== null && !(Number.isInteger(c.layerSteps) && c.layerSteps >= 1)) throw new Error(`dbn: layerSteps must be an integer >= 1`);
    if (!(Number.isInteger(c.sampleSteps) && c.sampleSteps >= 1)) throw new Error('dbn: sampleSteps must be an integer >= 1');
    if (!(Number.isInteger(c.boundSamples) && c.boundSamples >= 1)) throw new Error('dbn: boundSamples must be an integer >= 1');
  }

  get built(): boolean {
    return this.stack.length > 0;
  }

  /** the RBMs, bottom to top (read-only use: tests and views) */
  get rbms(): readonly RbmLayer[] {
    return this.need();
  }

  metricKinds(): Record<string, MetricKindName> {
    return {
      'train/layer': 'info',
      'train/recon': 'info',
      'train/free_energy_gap': 'info',
      'val/recon': 'info',
      'test/nll': 'estimate',
      'test/bits_per_dim': 'estimate',
      'test/nll_stderr': 'info',
    };
  }

  build(data: DataInfo, rng: Rng): void {
    if (this.built) throw new Error('dbn: model already built (create a new one per run)');
    if (!data.binary) throw new Error('dbn models binary data (its units are Bernoulli): binarize the data, e.g. lab.data.mnist() (binarized by default)');
    this.D = data.shape.reduce((a, b) => a * b, 1);
    const sizes = [this.D, ...this.config.layers];
    for (let l = 0; l + 1 < sizes.length; l++) this.stack.push(new RbmLayer(sizes[l], sizes[l + 1], 'bernoulli' as VisibleKind, rng, this.config.initScale, 'auto', `dbn_l${l + 1}`));
  }

  private need(): RbmLayer[] {
    if (!this.built) throw new Error('dbn: build the model first (lab.train builds it on its data)');
    return this.stack;
  }

  /** which layer (0-based) trains at `step` (1-based) */
  layerAt(step: number, totalSteps?: number): number {
    const L = this.need().length;
    const s = Math.max(1, step) - 1;
    if (this.config.layerSteps === null && totalSteps && totalSteps > 0) return Math.min(L - 1, Math.floor((s * L) / totalSteps));
    return Math.min(L - 1, Math.floor(s / (this.config.layerSteps ?? DEFAULT_LAYER_STEPS)));
  }

  async trainStep(x: tf.Tensor2D, step: number, ctx: StepContext): Promise<StepMetrics> {
    const stack = this.need();
    const l = this.layerAt(step, ctx.totalSteps);
    const rng = mulberry32(ctx.seed());
    // binary samples of h_l drawn upward through the trained layers
    const input = tf.tidy(() => {
      let h = x;
      for (let i = 0; i < l; i++) h = stack[i].sampleHidden(h, rng.seed());
      return l === 0 ? tf.clone(h) : h;
    });
    try {
      const { gap, recon } = await stack[l].cdStep(ctx, `dbn_layer${l + 1}`, input, this.config.k, this.config.persistent);
      this.version++;
      return { 'train/layer': l + 1, 'train/recon': recon, 'train/free_energy_gap': gap };
    } finally {
      input.dispose();
    }
  }

  /** v → h1 ~ q(h1|v) → E[v|h1]: squared error summed over pixels, averaged over rows */
  async evaluate(val: tf.Tensor2D, seed: number): Promise<Record<string, MetricValue>> {
    const L0 = this.need()[0];
    const recon = await perRow(val, (rows, s) => tf.tidy(() => tf.sum(tf.square(tf.sub(rows, L0.visibleMean(L0.sampleHidden(rows, seed + s)))), 1) as tf.Tensor1D));
    return { 'val/recon': { value: recon.reduce((a, b) => a + b, 0) / Math.max(1, recon.length), kind: 'info' } };
  }

  /** log Z of the top RBM by AIS (see eval/ais.ts); defaults: the config's chains and betas, seed 0 */
  async logZ(opts: { chains?: number; betas?: number; seed?: number } = {}): Promise<AisResult> {
    const top = this.need()[this.stack.length - 1];
    await top.ready();
    return ais(top.params(), { chains: opts.chains ?? this.config.ais.chains, betas: opts.betas ?? this.config.ais.betas, seed: opts.seed ?? 0, base: top.aisBase() });
  }

  /** log Z of the top RBM exactly (one of its sides must have at most 20 units) */
  exactLogZ(): Promise<number> {
    return exactLogZ(this.need()[this.stack.length - 1].params());
  }

  private async topPartition(seed: number, opts?: EstimatorOptions): Promise<Partition> {
    const knobs = aisKnobs('dbn', this.config.ais, opts);
    const key = partitionKey(this.version, seed, knobs);
    if (this.cachedZ?.key === key) return this.cachedZ.value;
    const top = this.need()[this.stack.length - 1];
    await top.ready();
    const value = await partition(top.params(), top.aisBase(), knobs.settings, seed, { convergence: knobs.convergence });
    this.cachedZ = { key, value };
    return value;
  }

  /** the bound's expectation part per row (without − log Z_top), averaged over `samples` draws of q */
  boundTerms(x: tf.Tensor2D, seed: number, samples = this.config.boundSamples): Promise<Float32Array> {
    const stack = this.need();
    const L = stack.length;
    const top = stack[L - 1];
    const rng = mulberry32(seed);
    const seeds = Array.from({ length: samples * L }, () => rng.seed());
    return perRow(
      x,
      (rows, start) => {
        if (L === 1) return tf.neg(top.freeEnergyU(rows)) as tf.Tensor1D;
        let acc = tf.zeros([rows.shape[0]]) as tf.Tensor1D;
        for (let s = 0; s < samples; s++) {
          const one = tf.tidy(() => {
            let below = rows;
            let total = tf.zeros([rows.shape[0]]) as tf.Tensor1D;
            for (let l = 0; l < L - 1; l++) {
              const q = stack[l].hiddenProbU(below);
              const h = bernoulli(q, seeds[s * L + l] + start) as tf.Tensor2D;
              total = tf.add(tf.add(total, bernoulliLogLik(below, stack[l].visibleField(h))), bernoulliEntropy(q));
              below = h;
            }
            return tf.sub(total, top.freeEnergyU(below)) as tf.Tensor1D;
          });
          const next = tf.add(acc, one) as tf.Tensor1D;
          tf.dispose([acc, one]);
          acc = next;
        }
        return tf.div(acc, samples) as tf.Tensor1D;
      },
      500,
    );
  }

  /**
   * −(lower bound on log p(v)) per row, in nats: an AIS estimate of an upper bound on the
   * NLL (see the top of the file). stderr: AIS's standard error of log Z_top.
   */
  async testNll(x: tf.Tensor2D, seed: number, _labels?: tf.Tensor2D, opts?: EstimatorOptions): Promise<TestNll> {
    await requireBinary('dbn', x);
    const terms = await this.boundTerms(x, seed);
    const Z = await this.topPartition(seed, opts);
    const nll = Float32Array.from(terms, (t) => Z.logZ - t);
    let sum = 0;
    for (const v of nll) {
      if (!Number.isFinite(v)) throw new Error(`dbn: a non-finite NLL (${v}): the model diverged`);
      sum += v;
    }
    const extra = { samples: this.stack.length > 1 ? this.config.boundSamples : 0, bound: this.stack.length > 1 ? 1 : 0, exactLogZ: Z.exact ? 1 : 0 };
    if (Z.exact) {
      const details = { logZ: Z.logZ, logZStderr: 0, chains: 0, betas: 0, ...extra };
      return this.stack.length === 1 ? { nll, kind: 'exact', details } : { nll, kind: 'estimate', stderr: 0, details };
    }
    const r = aisReport(Z, sum / Math.max(1, nll.length));
    return { nll, kind: 'estimate', ...r, details: { ...r.details, ...extra } };
  }

  /** uniform draws that start the top RBM's chain on its visible units, [n, H_{L−1}] */
  noise(n: number, seed: number): tf.Tensor2D {
    const stack = this.need();
    return uniform([n, stack[stack.length - 1].V], seed) as tf.Tensor2D;
  }

  /** from the top RBM's visible state: binary samples down to h1, then E[v | h1] */
  private down(x: tf.Tensor2D, rng: { seed(): number }): tf.Tensor2D {
    const stack = this.stack;
    return tf.tidy(() => {
      let h = x;
      for (let l = stack.length - 2; l >= 1; l--) h = bernoulli(stack[l].visibleMeanU(h), rng.seed()) as tf.Tensor2D;
      return stack[0].visibleMeanU(h);
    });
  }

  /** binary samples upward from v to the top RBM's visible units */
  private up(v: tf.Tensor2D, rng: { seed(): number }): tf.Tensor2D {
    const stack = this.stack;
    return tf.tidy(() => {
      let h = v;
      for (let l = 0; l < stack.length - 1; l++) h = stack[l].sampleHidden(h, rng.seed());
      return tf.clone(h);
    });
  }

  /** `sampleSteps` Gibbs steps in the top RBM from a base-model start, then one downward pass; E[v | h1] */
  sample(n: number, noise?: tf.Tensor2D, seed = 0): tf.Tensor2D {
    const stack = this.need();
    const top = stack[stack.length - 1];
    const rng = mulberry32(seed ^ 0x5eed);
    const z = noise ?? this.noise(n, seed);
    const base = tf.tensor1d(top.aisBase());
    let x = tf.tidy(() => tf.cast(tf.less(z, tf.sigmoid(base)), 'float32') as tf.Tensor2D);
    if (z !== noise) z.dispose();
    base.dispose();
    for (let t = 0; t < this.config.sampleSteps; t++) {
      const h = top.sampleHidden(x, rng.seed());
      const next = stack.length === 1 && t === this.config.sampleSteps - 1 ? top.visibleMeanU(h) : top.sampleVisibleU(h, rng.seed());
      h.dispose();
      x.dispose();
      x = next;
    }
    if (stack.length === 1) return x;
    const out = this.down(x, rng);
    x.dispose();
    return out;
  }

  /**
   * Layer 1 (default): the rows of W1ᵀ, the first hidden units' weights over the pixels.
   * Layer l > 1: rows of (W1 W2 … W_l)ᵀ, each unit's weights projected linearly to pixel
   * space (a common picture of deeper units, not an exact receptive field).
   */
  async filters(layer = 1): Promise<{ data: Float32Array; count: number; dim: number }> {
    const stack = this.need();
    if (!(Number.isInteger(layer) && layer >= 1 && layer <= stack.length)) throw new Error(`dbn.filters: layer must be 1…${stack.length}, got ${layer}`);
    const t = tf.tidy(() => {
      let w = stack[0].W as tf.Tensor2D;
      for (let l = 1; l < layer; l++) w = tf.matMul(w, stack[l].W as tf.Tensor2D);
      return tf.transpose(w);
    });
    try {
      const data = Float32Array.from((await t.data()) as Float32Array);
      return { data, count: stack[layer - 1].H, dim: this.D };
    } finally {
      t.dispose();
    }
  }

  /**
   * Gibbs chains for views. Without clamping: block Gibbs in the top RBM; each frame is the
   * downward pass's E[v | h1] from the chain's state. The first frame is the start state
   * (`init`, else random 0/1 pixels), taken to the top by one upward pass.
   * With clamping (approximate conditional sampling: a DBN has no cheap exact p(free | clamped)):
   * each step passes down to a binary v, resets the clamped pixels to init, passes back up with
   * the recognition weights, then takes one Gibbs step in the top RBM. Clamped pixels are
   * exactly init's values in every frame. With one layer this is the RBM's exact chain.
   */
  async gibbs(req: GibbsRequest): Promise<Float32Array[]> {
    const stack = this.need();
    const top = stack[stack.length - 1];
    const D = this.D;
    const { n, steps, every, init, mask } = gibbsInputs('dbn', req, D);
    const rng = mulberry32(req.seed);
    const initT = init ? tf.tensor2d(init, [n, D]) : null;
    const maskT = mask ? tf.tensor2d(mask, [1, D]) : null;
    const start = initT ?? (tf.tidy(() => tf.cast(tf.less(uniform([n, D], rng.seed()), 0.5), 'float32')) as tf.Tensor2D);
    let x = this.up(start, rng);
    const frames: Float32Array[] = [];
    try {
      frames.push(Float32Array.from((await start.data()) as Float32Array));
      for (let t = 1; t <= steps; t++) {
        const want = t % every === 0 || t === steps;
        const { next, frame } = tf.tidy((): { next: tf.Tensor2D; frame?: tf.Tensor2D } => {
          const h = top.sampleHidden(x, rng.seed());
          let xn = top.sampleVisibleU(h, rng.seed());
          let m: tf.Tensor2D | null = null;
          if (maskT || want) m = stack.length === 1 ? top.visibleMeanU(h) : this.down(xn, rng);
          if (maskT) {
            // down to a binary v, clamp, back up
            const v = clampMix(stack.length === 1 ? xn : (bernoulli(m!, rng.seed()) as tf.Tensor2D), initT!, maskT);
            xn = stack.length === 1 ? v : this.up(v, rng);
            m = clampMix(m!, initT!, maskT);
          }
          return want && m ? { next: xn, frame: m } : { next: xn };
        });
        x.dispose();
        x = next as tf.Tensor2D;
        if (frame) {
          try {
            frames.push(Float32Array.from((await frame.data()) as Float32Array));
          } finally {
            frame.dispose();
          }
        }
      }
    } finally {
      tf.dispose([x, start, maskT ?? []]);
    }
    return frames;
  }

  getWeights(): NamedWeight[] {
    return this.need().flatMap((l, i) => l.named(`dbn/layer${i + 1}`));
  }

  setWeights(weights: NamedWeight[]): void {
    this.need().forEach((l, i) => l.load(`dbn/layer${i + 1}`, weights));
    this.version++;
  }

  toJSON(): Record<string, unknown> {
    return { family: this.family, config: this.config, built: this.built };
  }

  dispose(): void {
    for (const l of this.stack) l.dispose();
  }
}
