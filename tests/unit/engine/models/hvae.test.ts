// The hierarchical VAE (ladder VAE): its ELBO against a hand computation from its own
// weights and draws, its IWAE-k bound against the closed-form log p(x) of a linear-Gaussian
// hierarchy, lab.evaluate's k honoured (with the bound at 4k and its ESS), training on
// MNIST (loss falls, KL warm-up, per-layer metrics with kinds), checkpoints, and the
// activeUnits view for both the one-layer VAE and the hierarchy.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { imageDataset } from '../../../../src/engine/data/mnist';
import { Hvae } from '../../../../src/engine/models/latent/hvae';
import type { DataInfo, NamedWeight } from '../../../../src/engine/models/types';
import { subSeed } from '../../../../src/engine/nn/seeds';
import { normal } from '../../../../src/engine/ops/random';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext, mean } from '../../../helpers/engine';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const LOG_2PI = Math.log(2 * Math.PI);

/** a checkpoint's weights as plain float64 matrices / vectors, by name */
async function plain(weights: NamedWeight[]): Promise<Map<string, { v: Float64Array; shape: number[] }>> {
  const out = new Map<string, { v: Float64Array; shape: number[] }>();
  for (const w of weights) out.set(w.name, { v: Float64Array.from((await w.tensor.data()) as Float32Array), shape: w.tensor.shape });
  return out;
}

type Weights = Awaited<ReturnType<typeof plain>>;

/** an MLP's forward pass on one row, in float64: relu between layers, the last layer linear */
function mlp(W: Weights, prefix: string, x: number[], act: (v: number) => number = (v) => Math.max(0, v)): number[] {
  let h = x;
  for (let l = 0; W.has(`${prefix}/W${l}`); l++) {
    const { v: w, shape: [nin, nout] } = W.get(`${prefix}/W${l}`)!;
    const b = W.get(`${prefix}/b${l}`)!.v;
    const o = Array.from({ length: nout }, (_, j) => b[j] + h.reduce((s, hi, i) => s + hi * w[i * nout + j], 0));
    h = W.has(`${prefix}/W${l + 1}`) ? o.map(act) : o;
  }
  return h;
}

const clip = (v: number) => Math.min(8, Math.max(-12, v));
const gauss = (h: number[]) => {
  const d = h.length / 2;
  return { mu: h.slice(0, d), lv: h.slice(d).map(clip) };
};
const softplus = (v: number) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

function built(cfg: ConstructorParameters<typeof Hvae>[0], info: DataInfo, seed: number): Hvae {
  const m = new Hvae(cfg);
  m.build(info, mulberry32(seed));
  return m;
}

/** scales the weights whose name starts with one of `prefixes` (sharper posteriors and priors than Glorot's) */
function scaleWeights(m: Hvae, scale: number, prefixes: string[]): void {
  const w = m.getWeights().map((t) => ({ name: t.name, tensor: prefixes.some((p) => t.name.startsWith(p)) ? tf.mul(t.tensor, scale) : t.tensor.clone() }));
  m.setWeights(w);
  tf.dispose(w.map((t) => t.tensor));
}

describe('hvae ELBO', () => {
  it('equals a hand computation from its weights and its draws (precision-weighted merge, closed-form KLs)', async () => {
    const D = 4;
    const m = built({ latents: [3, 2], hidden: [5], width: 4 }, { kind: 'points', shape: [D], binary: true }, 11);
    scaleWeights(m, 2, ['prior', 'decoder']);
    const rows = [
      [1, 0, 1, 1],
      [0, 0, 0, 1],
      [1, 1, 1, 1],
    ];
    const seed = 77;
    const x = tf.tensor2d(rows);
    const got = await m.elbo(x, seed);
    // the draws the model makes: layer l's standard normals from subSeed(seed, l)
    const e1 = normal([rows.length, 3], subSeed(seed, 0));
    const e2 = normal([rows.length, 2], subSeed(seed, 1));
    const eps1 = Array.from((await e1.data()) as Float32Array);
    const eps2 = Array.from((await e2.data()) as Float32Array);
    tf.dispose([x, e1, e2]);
    const W = await plain(m.getWeights());
    const relu = (v: number[]) => v.map((u) => Math.max(0, u));
    for (let r = 0; r < rows.length; r++) {
      const xr = rows[r];
      // bottom-up: d1 = relu(x W + b), d2 = relu(d1 W + b), each with a linear head (mean, log-variance)
      const d1 = relu(mlp(W, 'up0', xr));
      const d2 = relu(mlp(W, 'up1', d1));
      const est1 = gauss(mlp(W, 'head0', d1));
      const q2 = gauss(mlp(W, 'head1', d2));
      const z2 = q2.mu.map((mu, j) => mu + Math.exp(0.5 * q2.lv[j]) * eps2[r * 2 + j]);
      const p1 = gauss(mlp(W, 'prior0', z2));
      // q(z1 | z2, x): precisions add, the mean is the precision-weighted mean
      const q1 = est1.mu.map((mu, j) => {
        const a = Math.exp(-est1.lv[j]);
        const b = Math.exp(-p1.lv[j]);
        return { mu: (mu * a + p1.mu[j] * b) / (a + b), lv: -Math.log(a + b) };
      });
      const z1 = q1.map((g, j) => g.mu + Math.exp(0.5 * g.lv) * eps1[r * 3 + j]);
      const logits = mlp(W, 'decoder', z1);
      const recon = logits.reduce((s, l, i) => s + softplus(l) - xr[i] * l, 0);
      const kl2 = q2.mu.reduce((s, mu, j) => s + 0.5 * (mu * mu + Math.exp(q2.lv[j]) - 1 - q2.lv[j]), 0);
      const kl1 = q1.reduce((s, g, j) => s + 0.5 * (p1.lv[j] - g.lv + (Math.exp(g.lv) + (g.mu - p1.mu[j]) ** 2) / Math.exp(p1.lv[j]) - 1), 0);
      expect(got.recon[r]).toBeCloseTo(recon, 4);
      expect(got.kl[0][r]).toBeCloseTo(kl1, 4);
      expect(got.kl[1][r]).toBeCloseTo(kl2, 4);
      expect(got.elbo[r]).toBeCloseTo(-recon - kl1 - kl2, 4);
    }
    m.dispose();
  });
});

/** log N(x; mean, C) for a small dense covariance, by Cholesky in float64 */
function logGauss(x: number[], mean: number[], C: number[][]): number {
  const n = x.length;
  const Lc = C.map((row) => row.map(() => 0));
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = C[i][j];
      for (let k = 0; k < j; k++) s -= Lc[i][k] * Lc[j][k];
      Lc[i][j] = i === j ? Math.sqrt(s) : s / Lc[j][j];
    }
  }
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = x[i] - mean[i];
    for (let k = 0; k < i; k++) s -= Lc[i][k] * y[k];
    y.push(s / Lc[i][i]);
  }
  const logDet = 2 * Lc.reduce((s, row, i) => s + Math.log(row[i]), 0);
  return -0.5 * (n * LOG_2PI + logDet + y.reduce((s, v) => s + v * v, 0));
}

describe('hvae on a linear-Gaussian hierarchy (log p(x) in closed form)', () => {
  // z2 ~ N(0, 1); z1 | z2 ~ N(z2 A + a, s1 I); x | z1 ~ N(z1 diag(beta) + c, diag sigma^2): every net linear.
  // With diagonal beta the exact posterior has the ladder form: q(z2|x) is linear-Gaussian in x, and
  // q(z1|z2,x) is the precision-weighted merge of p(z1|z2) with the likelihood's N((x - c)/beta, sigma^2/beta^2).
  const A = [1.2, -0.7];
  const a = [0.4, -0.3];
  const s1 = 0.3;
  const beta = [1.5, -0.8];
  const c = [0.2, 0.1];
  const sigma = [0.5, 0.4];
  // x_j = z2 A_j beta_j + (a_j beta_j + c_j) + noise of variance beta_j^2 s1 + sigma_j^2
  const g = A.map((v, j) => v * beta[j]);
  const m0 = a.map((v, j) => v * beta[j] + c[j]);
  const v = beta.map((bj, j) => bj * bj * s1 + sigma[j] ** 2);
  const P = 1 + g.reduce((s, gj, j) => s + (gj * gj) / v[j], 0);
  const Cx = [0, 1].map((i) => [0, 1].map((j) => g[i] * g[j] + (i === j ? v[i] : 0)));

  /** the exact posterior's weights; `off` perturbs q (scales its top-layer mean, widens its bottom estimate) */
  function weights(off: number): NamedWeight[] {
    const t = (vals: number[], shape: number[]) => tf.tensor(vals, shape);
    return [
      { name: 'head0/W0', tensor: t([1 / beta[0], 0, 0, 0, 0, 1 / beta[1], 0, 0], [2, 4]) },
      { name: 'head0/b0', tensor: t([-c[0] / beta[0], -c[1] / beta[1], Math.log((sigma[0] / beta[0]) ** 2) + off, Math.log((sigma[1] / beta[1]) ** 2) + off], [4]) },
      { name: 'up1/W0', tensor: t([1, 0, 0, 1], [2, 2]) },
      { name: 'up1/b0', tensor: t([0, 0], [2]) },
      { name: 'head1/W0', tensor: t([((1 - off) * g[0]) / v[0] / P, 0, ((1 - off) * g[1]) / v[1] / P, 0], [2, 2]) },
      { name: 'head1/b0', tensor: t([(-(1 - off) * (g[0] * m0[0] / v[0] + g[1] * m0[1] / v[1])) / P, -Math.log(P) + off], [2]) },
      { name: 'prior0/W0', tensor: t([1, 0], [1, 2]) },
      { name: 'prior0/b0', tensor: t([0, 0], [2]) },
      { name: 'prior0/W1', tensor: t([A[0], A[1], 0, 0, 0, 0, 0, 0], [2, 4]) },
      { name: 'prior0/b1', tensor: t([a[0], a[1], Math.log(s1), Math.log(s1)], [4]) },
      { name: 'decoder/W0', tensor: t([beta[0], 0, 0, beta[1]], [2, 2]) },
      { name: 'decoder/b0', tensor: t(c, [2]) },
      { name: 'decoder/log_sigma', tensor: t(sigma.map(Math.log), [2]) },
    ];
  }

  async function setup(off: number) {
    const m = built({ latents: [2, 1], hidden: [], width: 2, activation: 'linear', likelihood: 'gaussian' }, { kind: 'points', shape: [2], binary: false }, 5);
    const w = weights(off);
    m.setWeights(w);
    tf.dispose(w.map((t) => t.tensor));
    // points drawn from the model: x = mean + chol(Cx) e
    const n = 50;
    const e = normal([n, 2], 9);
    const ev = (await e.data()) as Float32Array;
    e.dispose();
    const l00 = Math.sqrt(Cx[0][0]);
    const l10 = Cx[1][0] / l00;
    const l11 = Math.sqrt(Cx[1][1] - l10 * l10);
    const rows = Array.from({ length: n }, (_, r) => [m0[0] + l00 * ev[2 * r], m0[1] + l10 * ev[2 * r] + l11 * ev[2 * r + 1]]);
    const logp = rows.map((r) => logGauss(r, m0, Cx));
    return { m, x: tf.tensor2d(rows), logp };
  }

  it('with the exact posterior every importance weight is p(x): IWAE-k = log p(x) = E[ELBO], ESS = k', async () => {
    const { m, x, logp } = await setup(0);
    // the single-draw ELBO (sampled reconstruction, closed-form KLs) is log p(x) in expectation
    const elbos: number[] = [];
    for (let s = 0; s < 40; s++) elbos.push(mean(Array.from((await m.elbo(x, 500 + s)).elbo)));
    expect(mean(elbos)).toBeCloseTo(mean(logp), 1);
    const r = await m.iwae(x, 16, 2);
    r.bound.forEach((b, i) => expect(b).toBeCloseTo(logp[i], 3));
    r.ess.forEach((e) => expect(e).toBeCloseTo(16, 2));
    x.dispose();
    m.dispose();
  });

  it('with a wrong posterior: E[ELBO] = E[IWAE-1] < IWAE-10 < IWAE-100 < IWAE-2000 ≈ log p(x); the ESS grows', async () => {
    const { m, x, logp } = await setup(0.6);
    const lp = mean(logp);
    const elbos: number[] = [];
    const iwae1: number[] = [];
    for (let s = 0; s < 20; s++) {
      elbos.push(mean(Array.from((await m.elbo(x, 1000 + s)).elbo)));
      iwae1.push(mean(Array.from((await m.iwae(x, 1, 2000 + s)).bound)));
    }
    const bound: Record<number, number> = {};
    const ess: Record<number, number> = {};
    for (const k of [1, 10, 100, 2000]) {
      const r = await m.iwae(x, k, 3);
      bound[k] = mean(Array.from(r.bound));
      ess[k] = mean(Array.from(r.ess));
    }
    x.dispose();
    console.log(`linear-Gaussian hvae: log p ${lp.toFixed(4)}; ELBO ${mean(elbos).toFixed(4)}; IWAE-1 ${mean(iwae1).toFixed(4)}; IWAE-k`, bound, 'ESS', ess);
    // the gap at k = 1 is real: this q is not the posterior
    expect(lp - mean(elbos)).toBeGreaterThan(0.1);
    // IWAE-1 and the ELBO estimate the same expectation (the ELBO with closed-form KLs, the lower-variance one)
    const se = (v: number[]) => Math.sqrt(v.reduce((t, u) => t + (u - mean(v)) ** 2, 0) / (v.length - 1) / v.length);
    expect(Math.abs(mean(iwae1) - mean(elbos))).toBeLessThan(4 * Math.hypot(se(iwae1), se(elbos)));
    expect(bound[10]).toBeGreaterThan(mean(elbos));
    expect(bound[10]).toBeGreaterThan(bound[1]);
    expect(bound[100]).toBeGreaterThan(bound[10]);
    expect(bound[2000]).toBeGreaterThan(bound[100]);
    // within the estimate's own noise of log p(x) (an IWAE estimate is a bound in expectation)
    expect(Math.abs(lp - bound[2000])).toBeLessThan(0.03);
    expect(lp - bound[100]).toBeGreaterThan(0.03);
    expect(ess[1]).toBeCloseTo(1, 6);
    expect(ess[100]).toBeGreaterThan(ess[10]);
    expect(ess[2000]).toBeGreaterThan(ess[100]);
    m.dispose();
  });
});

describe('hvae testNll', () => {
  it("honours opts.k, reports the bound at 4k with its ESS, and convergence: false skips it", async () => {
    const D = 6;
    const m = built({ latents: [3, 2], hidden: [8], width: 6 }, { kind: 'points', shape: [D], binary: true }, 3);
    scaleWeights(m, 2, ['decoder']);
    const x = tf.tensor2d(Array.from({ length: 30 * D }, (_, i) => ((i * 7919) % 5 < 2 ? 1 : 0)), [30, D]);
    const meanNll = (v: Float32Array) => mean(Array.from(v));
    const small = await m.testNll(x, 5, undefined, { k: 2, convergence: false });
    expect(small.kind).toBe('bound');
    expect(small.details).toEqual({ k: 2 });
    expect(small.convergence).toBeUndefined();
    const big = await m.testNll(x, 5, undefined, { k: 50 });
    expect(big.details).toEqual({ k: 50 });
    const c = big.convergence!;
    expect(c).toMatchObject({ knob: 'k', at: 50, at4x: 200, tolerance: 0.5, essOf: 50 });
    expect(c.nll).toBeCloseTo(meanNll(big.nll), 4);
    expect(c.converged).toBe(Math.abs(c.nll4x - c.nll) < 0.5);
    expect(c.ess!).toBeGreaterThan(1);
    expect(c.ess!).toBeLessThanOrEqual(50);
    // more samples: a tighter bound (a lower NLL bound), and at 4k tighter still
    expect(meanNll(big.nll)).toBeLessThan(meanNll(small.nll));
    expect(c.nll4x).toBeLessThan(c.nll);
    // without opts: evalK
    const dflt = built({ latents: [3, 2], hidden: [8], width: 6, evalK: 7 }, { kind: 'points', shape: [D], binary: true }, 3);
    expect((await dflt.testNll(x, 5, undefined, { convergence: false })).details).toEqual({ k: 7 });
    await expect(m.testNll(x, 5, undefined, { k: 0 })).rejects.toThrow(/whole number/);
    x.dispose();
    m.dispose();
    dflt.dispose();
  });

  it('round-trips a checkpoint: a fresh model given the weights gives the same bound', async () => {
    const info: DataInfo = { kind: 'points', shape: [5], binary: true };
    const a = built({ latents: [4, 3, 2], hidden: [6], width: 5 }, info, 21);
    const b = built({ latents: [4, 3, 2], hidden: [6], width: 5 }, info, 22);
    const x = tf.tensor2d(Array.from({ length: 8 * 5 }, (_, i) => (i % 3 === 0 ? 1 : 0)), [8, 5]);
    const before = await a.testNll(x, 9, undefined, { k: 20, convergence: false });
    const other = await b.testNll(x, 9, undefined, { k: 20, convergence: false });
    expect(Array.from(other.nll)).not.toEqual(Array.from(before.nll));
    b.setWeights(a.getWeights());
    const after = await b.testNll(x, 9, undefined, { k: 20, convergence: false });
    expect(Array.from(after.nll)).toEqual(Array.from(before.nll));
    expect(() => b.setWeights(a.getWeights().filter((w) => !w.name.startsWith('prior1')))).toThrow(/missing 'prior1/);
    x.dispose();
    a.dispose();
    b.dispose();
  });
});

describe('hvae on MNIST', () => {
  it('learns: loss falls, per-layer KLs and active units with kinds, KL warm-up ramps, no tensor leak', async () => {
    const data = imageDataset('mnist', { binarize: true, limit: 1500 });
    const model = new Hvae({ latents: [8, 4], hidden: [128], width: 64, warmup: 20 });
    const { ctx } = collectingContext();
    const losses: number[] = [];
    const weights: number[] = [];
    const counts: number[] = [];
    const run = await train(ctx, model, data, {
      steps: 120,
      batchSize: 64,
      lr: 2e-3,
      evalEvery: 60,
      sampleEvery: 1000,
      checkpointEvery: 1000,
      seed: 4,
      onStep: (step, mm) => {
        losses.push(mm['train/loss']);
        weights.push(mm['train/kl_weight']);
        expect(mm['train/kl']).toBeCloseTo(mm['train/kl_z1'] + mm['train/kl_z2'], 3);
        if (step === 40 || step === 110) counts.push(tf.memory().numTensors);
      },
    });
    expect(run.status).toBe('finished');
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) - 50);
    expect(weights.slice(0, 3)).toEqual([0.05, 0.1, 0.15]);
    expect(weights.at(-1)).toBe(1);
    expect(counts[1]).toBe(counts[0]);
    const kinds = model.metricKinds();
    for (const key of Object.keys(run.metrics)) expect(kinds[key], key).toBeDefined();
    expect(kinds['val/elbo']).toBe('bound');
    expect(kinds['val/active_units_z2']).toBe('info');
    const elbo = run.metrics['val/elbo'];
    expect(elbo).toBeLessThan(0);
    expect(-elbo).toBeCloseTo(run.metrics['val/recon'] + run.metrics['val/kl_z1'] + run.metrics['val/kl_z2'], 3);
    expect(run.metrics['val/active_units']).toBe(run.metrics['val/active_units_z1'] + run.metrics['val/active_units_z2']);
    expect(model.klHistory.steps).toEqual([0, 60, 120]);
    // ancestral samples: images in [0, 1], the same noise the same images
    const z = model.noise(4, 1);
    expect(z.shape).toEqual([4, 12]);
    const s1 = model.sample(4, z);
    const s2 = model.sample(4, z);
    const v = (await s1.data()) as Float32Array;
    expect(Array.from(v)).toEqual(Array.from((await s2.data()) as Float32Array));
    expect(v.every((p) => p >= 0 && p <= 1)).toBe(true);
    tf.dispose([z, s1, s2]);
    model.dispose();
  });

  it('lab.views.activeUnits shows one layer for a vae and every layer for an hvae', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.mnist({ binarize: true, limit: 600 });
    const h = lab.models.hvae({ latents: [6, 3], hidden: [64], width: 32 });
    await lab.train(h, data, { steps: 10, batchSize: 32, evalEvery: 5, sampleEvery: 1000 });
    const r = await lab.views.activeUnits(h, data.test);
    expect(r.layers.map((l) => l.kl.length)).toEqual([6, 3]);
    for (const l of r.layers) expect(l.active).toBe(l.kl.filter((v) => v > 0.01).length);
    const v = lab.models.vae({ latentDim: 5, hidden: [64] });
    await lab.train(v, data, { steps: 5, batchSize: 32, evalEvery: 5, sampleEvery: 1000 });
    const rv = await lab.views.activeUnits(v, data.test);
    expect(rv.layers.map((l) => l.kl.length)).toEqual([5]);
    const plots = outputs.filter((o) => o.type === 'plot');
    expect(plots.length).toBeGreaterThanOrEqual(3); // hvae: per unit and its history; vae: per unit (and its history)
    await expect(lab.views.activeUnits(lab.models.autoencoder(), data.test)).rejects.toThrow();
  });
});
