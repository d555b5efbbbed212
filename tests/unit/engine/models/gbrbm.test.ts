// Gaussian–Bernoulli RBM with learned per-unit variances: its conditionals and free energy
// against the energy E(v,h) computed here in float64; log Z by enumerating h equals the
// numerical integral of Σ_h exp(−E) over the plane, the σ-transform log Z' + Σ log σ and AIS;
// lab.evaluate's AIS knob is honoured; trained on independent Gaussians with different
// standard deviations, the learned σ_i approach them; checkpoints reproduce the NLL; grey-level
// images are scored on the 8-bit scale.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { ais, exactLogZ } from '../../../../src/engine/eval/ais';
import type { Dataset } from '../../../../src/engine/data/types';
import { Gbrbm } from '../../../../src/engine/models/energy/gbrbm';
import type { DataInfo, NamedWeight } from '../../../../src/engine/models/types';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const pointsInfo = (D: number): DataInfo => ({ kind: 'points', shape: [D], binary: false });

interface GbW {
  D: number;
  H: number;
  W: Float64Array; // [D, H]
  b: Float64Array;
  c: Float64Array;
  sigma: Float64Array;
}

function randomGb(D: number, H: number, seed: number, scale = 0.8): GbW {
  const r = mulberry32(seed);
  return {
    D,
    H,
    W: Float64Array.from({ length: D * H }, () => scale * r.normal()),
    b: Float64Array.from({ length: D }, () => r.normal()),
    c: Float64Array.from({ length: H }, () => 0.5 * r.normal()),
    sigma: Float64Array.from({ length: D }, () => Math.exp(0.6 * r.normal())),
  };
}

const SIGMA_LR = 0.1;

/** a model with these weights (σ stored as log σ / sigmaLr) */
function modelWith(w: GbW, cfg: ConstructorParameters<typeof Gbrbm>[0] = {}): Gbrbm {
  const m = new Gbrbm({ hidden: w.H, sigmaLr: SIGMA_LR, ...cfg });
  m.build(pointsInfo(w.D), mulberry32(1));
  const ws: NamedWeight[] = [
    { name: 'gbrbm/W', tensor: tf.tensor2d(Float32Array.from(w.W), [w.D, w.H]) },
    { name: 'gbrbm/b', tensor: tf.tensor1d(Float32Array.from(w.b)) },
    { name: 'gbrbm/c', tensor: tf.tensor1d(Float32Array.from(w.c)) },
    { name: 'gbrbm/log_sigma_scaled', tensor: tf.tensor1d(Float32Array.from(w.sigma, (s) => Math.log(s) / SIGMA_LR)) },
  ];
  m.setWeights(ws);
  tf.dispose(ws.map((x) => x.tensor));
  return m;
}

/** E(v, h) = Σ (v_i − b_i)²/2σ_i² − cᵀh − Σ_ij (v_i/σ_i) W_ij h_j, float64 */
function energy(w: GbW, v: number[], h: number[]): number {
  let e = 0;
  for (let i = 0; i < w.D; i++) e += (v[i] - w.b[i]) ** 2 / (2 * w.sigma[i] ** 2);
  for (let j = 0; j < w.H; j++) {
    if (!h[j]) continue;
    e -= w.c[j];
    for (let i = 0; i < w.D; i++) e -= (v[i] / w.sigma[i]) * w.W[i * w.H + j];
  }
  return e;
}

function states(d: number): number[][] {
  return Array.from({ length: 2 ** d }, (_, s) => Array.from({ length: d }, (_, i) => (s >> i) & 1));
}

function lse(a: number[]): number {
  const m = a.reduce((x, v) => Math.max(x, v), -Infinity);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
}

const softplus = (x: number) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));

/** F(v) = Σ (v−b)²/2σ² − Σ_j ζ(c_j + (v/σ)ᵀW_j), float64 */
function freeEnergy(w: GbW, v: number[]): number {
  let f = 0;
  for (let i = 0; i < w.D; i++) f += (v[i] - w.b[i]) ** 2 / (2 * w.sigma[i] ** 2);
  for (let j = 0; j < w.H; j++) {
    let a = w.c[j];
    for (let i = 0; i < w.D; i++) a += (v[i] / w.sigma[i]) * w.W[i * w.H + j];
    f -= softplus(a);
  }
  return f;
}

/** log ∫ exp(−F(v)) dv over a 2-D grid wide enough to hold the mass (midpoint rule) */
function gridLogZ(w: GbW, n = 500): number {
  if (w.D !== 2) throw new Error('gridLogZ is 2-D');
  const lo: number[] = [];
  const step: number[] = [];
  for (let i = 0; i < 2; i++) {
    let reach = 0;
    for (let j = 0; j < w.H; j++) reach += Math.abs(w.W[i * w.H + j]);
    const half = w.sigma[i] * (reach + 9);
    lo.push(w.b[i] - half);
    step.push((2 * half) / n);
  }
  const logs: number[] = [];
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) logs.push(-freeEnergy(w, [lo[0] + (a + 0.5) * step[0], lo[1] + (b + 0.5) * step[1]]));
  return lse(logs) + Math.log(step[0] * step[1]);
}

async function withTensor<T>(x: number[][], f: (t: tf.Tensor2D) => T | Promise<T>): Promise<T> {
  const t = tf.tensor2d(x);
  try {
    return await f(t);
  } finally {
    t.dispose();
  }
}

const vec = async (t: tf.Tensor): Promise<number[]> => {
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
};

describe('gbrbm by enumeration', () => {
  const w = randomGb(3, 4, 11);
  const r = mulberry32(4);
  const V = Array.from({ length: 12 }, () => Array.from({ length: 3 }, () => 2 * r.normal()));

  it('p(h|v) is the brute-force conditional of exp(−E(v,h)) over all h, and factorizes', async () => {
    const m = modelWith(w);
    const P = await withTensor(V, async (t) => (await m.hiddenProb(t).array()) as number[][]);
    let worst = 0;
    V.forEach((v, row) => {
      const Hs = states(w.H);
      const logs = Hs.map((h) => -energy(w, v, h));
      const z = lse(logs);
      Hs.forEach((h, k) => {
        const product = h.reduce((acc, hj, j) => acc * (hj ? P[row][j] : 1 - P[row][j]), 1);
        worst = Math.max(worst, Math.abs(Math.exp(logs[k] - z) - product));
      });
    });
    expect(worst).toBeLessThan(5e-6);
    m.dispose();
  });

  it('p(v|h) = N(b + σ ⊙ Wh, diag σ²): E(v,h) + log N(v; mean, σ²) is the same for every v', async () => {
    const m = modelWith(w);
    for (const h of states(w.H)) {
      const mean = await withTensor([h], (t) => vec(m.visibleMean(t)));
      const diffs = V.map((v) => {
        let logN = 0;
        for (let i = 0; i < w.D; i++) logN += -0.5 * ((v[i] - mean[i]) / w.sigma[i]) ** 2 - Math.log(w.sigma[i]) - 0.5 * Math.log(2 * Math.PI);
        return energy(w, v, h) + logN;
      });
      for (const d of diffs) expect(Math.abs(d - diffs[0])).toBeLessThan(1e-4 * (1 + Math.abs(diffs[0])));
    }
    m.dispose();
  });

  it('F(v) = −log Σ_h exp(−E(v,h))', async () => {
    const m = modelWith(w);
    const F = await withTensor(V, (t) => vec(m.freeEnergy(t)));
    V.forEach((v, row) => {
      const brute = -lse(states(w.H).map((h) => -energy(w, v, h)));
      expect(Math.abs(F[row] - brute)).toBeLessThan(1e-4 * (1 + Math.abs(brute)));
    });
    m.dispose();
  });
});

describe('gbrbm log Z', () => {
  it('exact log Z (h enumerated in u = v/σ units, + Σ log σ) equals the integral of Σ_h exp(−E) over the plane', async () => {
    const w = { ...randomGb(2, 5, 21), sigma: Float64Array.from([0.3, 1.7]) };
    const m = modelWith(w);
    const z = await m.logZ();
    expect(z.exact).toBe(true);
    const grid = gridLogZ(w);
    expect(Math.abs(z.logZ - grid)).toBeLessThan(2e-3);
    // the σ-transform: the unit-variance machine's log Z' plus Σ log σ_i
    const u = await m.unitParams();
    const logZ1 = await exactLogZ(u.params);
    const sls = w.sigma.reduce((s, v) => s + Math.log(v), 0);
    expect(Math.abs(u.sumLogSigma - sls)).toBeLessThan(1e-4);
    expect(Math.abs(logZ1 + sls - grid)).toBeLessThan(2e-3);
    // the σ's matter: without Σ log σ the value is far off
    expect(Math.abs(logZ1 - grid)).toBeGreaterThan(0.2);
    // AIS on the unit-variance machine lands on the same value
    const a = await ais(u.params, { chains: 200, betas: 1000, seed: 3, base: u.base });
    expect(Math.abs(a.logZ + sls - grid)).toBeLessThan(Math.max(0.05, 4 * a.stderr));
    tf.dispose([u.params.W, u.params.b, u.params.c]);
    m.dispose();
  });

  it('with too many hidden units to enumerate, testNll is an AIS estimate that honours lab.evaluate\'s ais knob and matches the integral', async () => {
    // 2^26 hidden states: past the enumeration budget, so log Z' comes from AIS
    const w = randomGb(2, 26, 31, 0.3);
    const m = modelWith(w, { ais: { chains: 20, betas: 10 } });
    const grid = gridLogZ(w, 400);
    const x = tf.tensor2d([[0.1, -0.2], [1, 2]]);
    try {
      const F = await withTensor([[0.1, -0.2], [1, 2]], (t) => vec(m.freeEnergy(t)));
      const fine = await m.testNll(x, 5, undefined, { ais: { chains: 100, betas: 500 } });
      expect(fine.kind).toBe('estimate');
      expect(fine.details?.betas).toBe(500);
      expect(fine.details?.chains).toBe(100);
      const logZ = fine.nll[0] - F[0];
      expect(Math.abs(logZ - grid)).toBeLessThan(Math.max(0.1, 4 * fine.stderr!));
      expect(Math.abs(fine.nll[1] - F[1] - grid)).toBeLessThan(Math.max(0.1, 4 * fine.stderr!));
      // the config's schedule is used without the knob, and gives another (cruder) number
      const coarse = await m.testNll(x, 5);
      expect(coarse.details?.betas).toBe(10);
      expect(coarse.details?.chains).toBe(20);
      expect(coarse.nll[0]).not.toBe(fine.nll[0]);
    } finally {
      x.dispose();
      m.dispose();
    }
  });
});

/** independent Gaussians with these means and standard deviations, as a points dataset */
function gaussians(means: number[], sds: number[], n: number, seed: number): Dataset {
  const D = means.length;
  const r = mulberry32(seed);
  const all = Float32Array.from({ length: n * D }, (_, k) => means[k % D] + sds[k % D] * r.normal());
  const ntr = Math.floor(0.8 * n);
  const nv = Math.floor(0.1 * n);
  const split = (from: number, count: number) => ({ x: all.slice(from * D, (from + count) * D), n: count });
  return { name: 'gaussians', kind: 'points', shape: [D], dim: D, binary: false, train: split(0, ntr), val: split(ntr, nv), test: split(ntr + nv, n - ntr - nv), fingerprint: 'gaussians-test', settings: {} };
}

describe('gbrbm training', () => {
  it('learns each unit\'s variance: σ started at 1 approaches 0.3 and 1.5 on independent Gaussians (and stays at 1 when not learned)', async () => {
    const sds = [0.3, 1.5, 0.3, 1.5];
    const data = gaussians([1, -2, 0, 3], sds, 5000, 7);
    const { ctx } = collectingContext();
    const run = async (learnSigma: boolean) => {
      const m = new Gbrbm({ hidden: 4, sigma: 1, sigmaLr: 0.5, learnSigma, k: 1, persistent: true, sampleSteps: 20 });
      await train(ctx, m, data, { steps: 500, batchSize: 100, lr: 1e-2, evalEvery: 250, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 3 });
      const s = await m.sigmas();
      const x = tf.tensor2d(data.test.x, [data.test.n, 4]);
      const nll = await m.testNll(x, 1);
      x.dispose();
      m.dispose();
      return { s, nll: Array.from(nll.nll).reduce((a, b) => a + b, 0) / nll.nll.length, kind: nll.kind };
    };
    const learned = await run(true);
    console.log(`gbrbm learned σ: ${Array.from(learned.s, (v) => v.toFixed(3)).join(', ')} (true ${sds.join(', ')}); nll ${learned.nll.toFixed(3)}`);
    learned.s.forEach((v, i) => expect(Math.abs(v / sds[i] - 1), `unit ${i}`).toBeLessThan(0.15));
    // the true entropy of the data: Σ ½ log(2πe σ²)
    const entropy = sds.reduce((a, s) => a + 0.5 * Math.log(2 * Math.PI * Math.E * s * s), 0);
    expect(learned.kind).toBe('exact');
    expect(learned.nll).toBeLessThan(entropy + 0.1);
    const fixed = await run(false);
    fixed.s.forEach((v) => expect(v).toBeCloseTo(1, 5));
    expect(fixed.nll).toBeGreaterThan(learned.nll + 0.5);
  });

  it('σ never drops below its floor, and the chains stay finite', async () => {
    // one unit is constant: its σ wants to go to 0
    const data = gaussians([0.5, 0], [0, 1], 2000, 9);
    const { ctx } = collectingContext();
    const m = new Gbrbm({ hidden: 3, sigma: 1, sigmaLr: 1, sigmaFloor: 0.05, sampleSteps: 10 });
    const metrics = await train(ctx, m, data, { steps: 200, batchSize: 50, lr: 5e-2, evalEvery: 100, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 4 });
    const s = await m.sigmas();
    expect(s[0]).toBeGreaterThanOrEqual(0.05 * (1 - 1e-5));
    expect(s[0]).toBeLessThan(0.06);
    expect(Object.values(metrics.metrics).every(Number.isFinite)).toBe(true);
    const smp = await m.sample(20, undefined, 1);
    expect((await smp.data()).every(Number.isFinite)).toBe(true);
    smp.dispose();
    m.dispose();
  });

  it('getWeights → setWeights on a fresh model reproduces the NLL; binary data is refused', async () => {
    const w = randomGb(3, 6, 41);
    const a = modelWith(w);
    const b = new Gbrbm({ hidden: 6, sigmaLr: SIGMA_LR });
    b.build(pointsInfo(3), mulberry32(9));
    b.setWeights(a.getWeights());
    const x = tf.tensor2d([[0, 1, 2], [-1, 0.5, 0]]);
    const na = (await a.testNll(x, 2)).nll;
    const nb = (await b.testNll(x, 2)).nll;
    na.forEach((v, k) => expect(nb[k]).toBeCloseTo(v, 4));
    x.dispose();
    a.dispose();
    b.dispose();
    expect(() => new Gbrbm().build({ kind: 'image', shape: [4], binary: true }, mulberry32(1))).toThrow(/binary/);
  });

  it('grey-level images are dequantized and scored on the 8-bit scale (+ D ln 256), and no tensor leaks', async () => {
    const D = 4;
    const m = new Gbrbm({ hidden: 3, sigma: 0.2, sigmaLr: SIGMA_LR, sampleSteps: 3, ais: { chains: 10, betas: 20 } });
    m.build({ kind: 'image', shape: [2, 2], binary: false }, mulberry32(2));
    const p = new Gbrbm({ hidden: 3, sigma: 0.2, sigmaLr: SIGMA_LR, sampleSteps: 3 });
    p.build(pointsInfo(D), mulberry32(2));
    const grey = [[0, 128 / 255, 1, 3 / 255]];
    const x = tf.tensor2d(grey);
    const before = tf.memory().numTensors;
    const img = await m.testNll(x, 6);
    // the same noise by hand: (k + U) / 256
    const v = m.prep(x, 6);
    const deq = Array.from(await v.data());
    v.dispose();
    deq.forEach((u, i) => {
      const k = Math.round(grey[0][i] * 255);
      expect(u).toBeGreaterThanOrEqual(k / 256);
      expect(u).toBeLessThan((k + 1) / 256);
    });
    const dx = tf.tensor2d([deq]);
    const pts = await p.testNll(dx, 6);
    dx.dispose();
    expect(img.nll[0]).toBeCloseTo(pts.nll[0] + D * Math.log(256), 3);
    const s = await m.sample(2, undefined, 1);
    expect((await s.data()).every((u) => u >= 0 && u <= 1)).toBe(true);
    s.dispose();
    await m.gibbs({ n: 2, steps: 3, seed: 1 });
    await m.evaluate(x, 1);
    await m.filters();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    m.dispose();
    p.dispose();
  });
});
