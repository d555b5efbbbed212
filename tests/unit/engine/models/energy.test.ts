// Energy-based models (RBM, DBN, DBM) and AIS: on machines small enough to enumerate,
// every conditional, free energy and partition function is checked against the brute-force
// sum over exp(−E); AIS must land within 0.1 nats of the true log Z; Gibbs sampling must
// leave the model distribution invariant; mean field must never lower its bound; clamped
// units must never change. Then the real trainer: CD and PCD lower the AIS NLL on binarized
// MNIST, a Gaussian–Bernoulli RBM trains on 2-D points, DBN and DBM train and give finite NLLs.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { ais } from '../../../../src/engine/eval/ais';
import type { Dataset } from '../../../../src/engine/data/types';
import { createLab } from '../../../../src/engine/lab/lab';
import { Dbm } from '../../../../src/engine/models/energy/dbm';
import { Dbn } from '../../../../src/engine/models/energy/dbn';
import { Rbm } from '../../../../src/engine/models/energy/rbm';
import type { DataInfo, NamedWeight, TestNll } from '../../../../src/engine/models/types';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext, mean } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const binaryInfo = (D: number): DataInfo => ({ kind: 'image', shape: [D], binary: true });
const pointsInfo = (D: number): DataInfo => ({ kind: 'points', shape: [D], binary: false });

/** all 2^d binary rows (bit i of the index = unit i) */
function states(d: number): number[][] {
  return Array.from({ length: 2 ** d }, (_, s) => Array.from({ length: d }, (_, i) => (s >> i) & 1));
}

function lse(a: number[]): number {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, v) => s + Math.exp(v - m), 0));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

interface RbmW {
  D: number;
  H: number;
  W: Float32Array; // [D, H]
  b: Float32Array;
  c: Float32Array;
}

/** random weights: W ~ N(0, scale²), biases ~ N(0, 0.5²) */
function randomRbm(D: number, H: number, seed: number, scale = 1): RbmW {
  const r = mulberry32(seed);
  return {
    D,
    H,
    W: Float32Array.from({ length: D * H }, () => scale * r.normal()),
    b: Float32Array.from({ length: D }, () => 0.5 * r.normal()),
    c: Float32Array.from({ length: H }, () => 0.5 * r.normal()),
  };
}

function named(prefix: string, w: RbmW): NamedWeight[] {
  return [
    { name: `${prefix}/W`, tensor: tf.tensor2d(w.W, [w.D, w.H]) },
    { name: `${prefix}/b`, tensor: tf.tensor1d(w.b) },
    { name: `${prefix}/c`, tensor: tf.tensor1d(w.c) },
  ];
}

function rbmWith(w: RbmW, cfg: ConstructorParameters<typeof Rbm>[0] = {}, info = binaryInfo(w.D)): Rbm {
  const m = new Rbm({ hidden: w.H, ...cfg });
  m.build(info, mulberry32(1));
  const ws = named('rbm', w);
  m.setWeights(ws);
  tf.dispose(ws.map((x) => x.tensor));
  return m;
}

/** −E(v, h) of a binary RBM, float64 */
function negEnergy(w: RbmW, v: number[], h: number[]): number {
  let e = 0;
  for (let i = 0; i < w.D; i++) e += w.b[i] * v[i];
  for (let j = 0; j < w.H; j++) e += w.c[j] * h[j];
  for (let i = 0; i < w.D; i++) if (v[i]) for (let j = 0; j < w.H; j++) e += v[i] * w.W[i * w.H + j] * h[j];
  return e;
}

const rows = async (t: tf.Tensor): Promise<number[][]> => (await t.array()) as number[][];
const vec = async (t: tf.Tensor): Promise<number[]> => Array.from(await t.data());

async function withTensor<T>(x: number[][], f: (t: tf.Tensor2D) => T | Promise<T>): Promise<T> {
  const t = tf.tensor2d(x);
  try {
    return await f(t);
  } finally {
    t.dispose();
  }
}

describe('rbm by enumeration', () => {
  it('p(h|v) equals the brute-force conditional of exp(−E(v,h)) and factorizes into its marginals', async () => {
    const w = randomRbm(7, 5, 11, 1.2);
    const m = rbmWith(w);
    const V = states(7);
    const Hs = states(5);
    const P = await withTensor(V, async (t) => {
      const p = m.hiddenProb(t);
      const out = await rows(p);
      p.dispose();
      return out;
    });
    let worst = 0;
    V.forEach((v, r) => {
      const logs = Hs.map((h) => negEnergy(w, v, h));
      const z = lse(logs);
      Hs.forEach((h, k) => {
        const brute = Math.exp(logs[k] - z);
        const product = h.reduce((acc, hj, j) => acc * (hj ? P[r][j] : 1 - P[r][j]), 1);
        worst = Math.max(worst, Math.abs(brute - product));
      });
    });
    expect(worst).toBeLessThan(2e-6);
    m.dispose();
  });

  it.each([
    [8, 4],
    [4, 9],
  ])('F(v) = −log Σ_h exp(−E(v,h)), and exact log Z (enumerating the smaller side) is the double sum: %i visible, %i hidden', async (D, H) => {
    const w = randomRbm(D, H, 100 + D, 1.5);
    const m = rbmWith(w);
    const V = states(D);
    const Hs = states(H);
    const F = await withTensor(V, async (t) => {
      const f = m.freeEnergy(t);
      const out = await vec(f);
      f.dispose();
      return out;
    });
    const logp = V.map((v) => lse(Hs.map((h) => negEnergy(w, v, h))));
    V.forEach((_, r) => expect(Math.abs(F[r] + logp[r])).toBeLessThan(1e-4 * (1 + Math.abs(logp[r]))));
    const brute = lse(logp);
    expect(Math.abs((await m.exactLogZ()) - brute)).toBeLessThan(1e-4 * (1 + Math.abs(brute)));
    // testNll uses the exact value here: −log p(v) for every v sums to probability one
    const nll = await withTensor(V, (t) => m.testNll(t, 0));
    expect(nll.kind).toBe('exact');
    expect(Math.abs(Array.from(nll.nll).reduce((s, v) => s + Math.exp(-v), 0) - 1)).toBeLessThan(1e-4);
    m.dispose();
  });

  it('gaussian–bernoulli: exp(−F(v) − log Z) integrates to 1 over the plane (σ = 0.7)', async () => {
    const w = randomRbm(2, 3, 7, 0.8);
    const m = rbmWith(w, { visible: 'gaussian', sigma: 0.7 }, pointsInfo(2));
    const logZ = await m.exactLogZ();
    const n = 400;
    const lo = -8;
    const step = 16 / n;
    const grid: number[][] = [];
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) grid.push([lo + (i + 0.5) * step, lo + (j + 0.5) * step]);
    const F = await withTensor(grid, async (t) => {
      const f = m.freeEnergy(t);
      const out = await vec(f);
      f.dispose();
      return out;
    });
    const mass = F.reduce((s, f) => s + Math.exp(-f - logZ), 0) * step * step;
    expect(Math.abs(mass - 1)).toBeLessThan(2e-3);
    m.dispose();
  });

  it('AIS lands within 0.1 nats of the exact log Z (bernoulli 12×10, gaussian 5×6, any base)', async () => {
    const w = randomRbm(12, 10, 21, 1);
    const m = rbmWith(w);
    const exact = await m.exactLogZ();
    const est = await m.logZ({ chains: 100, betas: 1000, seed: 3 });
    expect(Math.abs(est.logZ - exact)).toBeLessThan(0.1);
    expect(est.stderr).toBeGreaterThan(0);
    expect(est.stderr).toBeLessThan(0.1);
    expect(est.logZ0).toBeCloseTo(10 * Math.LN2 + 12 * Math.LN2, 4); // base W = 0, biases 0
    // a different base model: same Z
    const r = mulberry32(5);
    const base = Array.from({ length: 12 }, () => r.normal());
    const other = await ais(m.params(), { chains: 100, betas: 1000, seed: 9, base });
    expect(Math.abs(other.logZ - exact)).toBeLessThan(0.1);
    // AIS is unbiased for Z at any schedule: with 5 betas and many chains, mean w still gives Z
    const coarse = await ais(m.params(), { chains: 40000, betas: 5, seed: 12, base });
    expect(Math.abs(coarse.logZ - exact)).toBeLessThan(Math.max(0.05, 4 * coarse.stderr));
    // too few betas is visibly worse: the test can tell a broken annealing from a working one
    const crude = await ais(m.params(), { chains: 100, betas: 2, seed: 9 });
    expect(Math.abs(crude.logZ - exact)).toBeGreaterThan(0.1);
    m.dispose();

    const g = randomRbm(5, 6, 31, 0.6);
    const mg = rbmWith(g, { visible: 'gaussian', sigma: 1 }, pointsInfo(5));
    const ge = await mg.exactLogZ();
    const ga = await mg.logZ({ chains: 100, betas: 1000, seed: 4 });
    expect(Math.abs(ga.logZ - ge)).toBeLessThan(0.1);
    mg.dispose();
  });

  it('one Gibbs step leaves p(v) invariant (exact transition matrix), and gibbs() moves like it', async () => {
    const D = 5;
    const H = 4;
    const w = randomRbm(D, H, 41, 1.5);
    const m = rbmWith(w);
    const V = states(D);
    const Hs = states(H);
    const logZ = await m.exactLogZ();
    const F = await withTensor(V, (t) => vec(tf.tidy(() => m.freeEnergy(t))));
    const pi = F.map((f) => Math.exp(-f - logZ));
    expect(Math.abs(pi.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-5);
    const ph = await withTensor(V, (t) => rows(tf.tidy(() => m.hiddenProb(t))));
    const pv = await withTensor(Hs, (t) => rows(tf.tidy(() => m.visibleProb(t))));
    const cond = (p: number[], x: number[]) => x.reduce((acc, xi, i) => acc * (xi ? p[i] : 1 - p[i]), 1);
    // T(v → v') = Σ_h p(h|v) p(v'|h)
    const T = V.map((_, a) => V.map((v2) => Hs.reduce((s, h, k) => s + cond(ph[a], h) * cond(pv[k], v2), 0)));
    const step = (d: number[]) => V.map((_, b) => d.reduce((s, da, a) => s + da * T[a][b], 0));
    const after = step(pi);
    expect(Math.max(...after.map((v, k) => Math.abs(v - pi[k])))).toBeLessThan(1e-6);
    const uniformStart = V.map(() => 1 / V.length);
    expect(Math.max(...step(uniformStart).map((v, k) => Math.abs(v - uniformStart[k])))).toBeGreaterThan(1e-2);

    // gibbs(): the first frame after one step from v0 is E[v | h], h ~ p(h|v0)
    const n = 20000;
    const v0 = [1, 0, 1, 1, 0];
    const a0 = V.findIndex((v) => v.every((x, i) => x === v0[i]));
    const expected = Array.from({ length: D }, (_, i) => Hs.reduce((s, h, k) => s + cond(ph[a0], h) * pv[k][i], 0));
    const init = new Float32Array(n * D).map((_, k) => v0[k % D]);
    const f1 = await m.gibbs({ n, steps: 1, seed: 5, init });
    expect(f1).toHaveLength(2);
    expect(Array.from(f1[0].subarray(0, D))).toEqual(v0);
    for (let i = 0; i < D; i++) expect(Math.abs(colMean(f1[1], D, i) - expected[i])).toBeLessThan(0.015);
    // from exact draws of p(v), every frame keeps the model's means
    const r = mulberry32(8);
    const cdf: number[] = [];
    pi.reduce((s, p, k) => (cdf[k] = s + p), 0);
    const exact = new Float32Array(n * D);
    for (let c = 0; c < n; c++) {
      const u = r.next();
      let k = cdf.findIndex((x) => x > u);
      if (k < 0) k = V.length - 1;
      for (let i = 0; i < D; i++) exact[c * D + i] = V[k][i];
    }
    const modelMean = Array.from({ length: D }, (_, i) => V.reduce((s, v, k) => s + pi[k] * v[i], 0));
    const frames = await m.gibbs({ n, steps: 3, seed: 6, init: exact });
    for (const fr of frames.slice(1)) for (let i = 0; i < D; i++) expect(Math.abs(colMean(fr, D, i) - modelMean[i])).toBeLessThan(0.015);
    m.dispose();
  });
});

function colMean(x: Float32Array, D: number, i: number): number {
  let s = 0;
  const n = x.length / D;
  for (let r = 0; r < n; r++) s += x[r * D + i];
  return s / n;
}

// ---- DBM by enumeration ----

interface DbmW {
  D: number;
  H1: number;
  H2: number;
  W1: Float32Array;
  W2: Float32Array;
  b: Float32Array;
  c1: Float32Array;
  c2: Float32Array;
}

function randomDbm(D: number, H1: number, H2: number, seed: number, scale = 1): DbmW {
  const r = mulberry32(seed);
  const g = (n: number, s: number) => Float32Array.from({ length: n }, () => s * r.normal());
  return { D, H1, H2, W1: g(D * H1, scale), W2: g(H1 * H2, scale), b: g(D, 0.5), c1: g(H1, 0.5), c2: g(H2, 0.5) };
}

function dbmWith(w: DbmW, cfg: ConstructorParameters<typeof Dbm>[0] = {}): Dbm {
  const m = new Dbm({ layers: [w.H1, w.H2], ...cfg });
  m.build(binaryInfo(w.D), mulberry32(2));
  const ws: NamedWeight[] = [
    { name: 'dbm/W1', tensor: tf.tensor2d(w.W1, [w.D, w.H1]) },
    { name: 'dbm/W2', tensor: tf.tensor2d(w.W2, [w.H1, w.H2]) },
    { name: 'dbm/b', tensor: tf.tensor1d(w.b) },
    { name: 'dbm/c1', tensor: tf.tensor1d(w.c1) },
    { name: 'dbm/c2', tensor: tf.tensor1d(w.c2) },
  ];
  m.setWeights(ws);
  tf.dispose(ws.map((x) => x.tensor));
  return m;
}

function dbmNegEnergy(w: DbmW, v: number[], h1: number[], h2: number[]): number {
  let e = 0;
  for (let i = 0; i < w.D; i++) e += w.b[i] * v[i];
  for (let j = 0; j < w.H1; j++) e += w.c1[j] * h1[j];
  for (let k = 0; k < w.H2; k++) e += w.c2[k] * h2[k];
  for (let i = 0; i < w.D; i++) for (let j = 0; j < w.H1; j++) e += v[i] * w.W1[i * w.H1 + j] * h1[j];
  for (let j = 0; j < w.H1; j++) for (let k = 0; k < w.H2; k++) e += h1[j] * w.W2[j * w.H2 + k] * h2[k];
  return e;
}

/** log p*(v) = log Σ_{h1,h2} exp(−E) */
function dbmLogMarginal(w: DbmW, v: number[]): number {
  const terms: number[] = [];
  for (const h1 of states(w.H1)) for (const h2 of states(w.H2)) terms.push(dbmNegEnergy(w, v, h1, h2));
  return lse(terms);
}

describe('dbm by enumeration', () => {
  it('every mean-field half-update never lowers the bound, and the bound stays <= log p*(v)', async () => {
    const w = randomDbm(8, 6, 5, 51, 1.5);
    const m = dbmWith(w);
    const r = mulberry32(3);
    const V = Array.from({ length: 64 }, () => Array.from({ length: 8 }, () => (r.next() < 0.5 ? 1 : 0)));
    const v = tf.tensor2d(V);
    let { mu1, mu2 } = m.meanField(v, 0);
    const boundOf = () => vec(tf.tidy(() => m.variationalBound(v, mu1, mu2)));
    const first = await boundOf();
    let prev = first;
    let worst = 0;
    for (let t = 0; t < 30; t++) {
      for (const half of [1, 2]) {
        if (half === 1) {
          const n1 = m.updateMu1(v, mu2);
          mu1.dispose();
          mu1 = n1;
        } else {
          const n2 = m.updateMu2(mu1);
          mu2.dispose();
          mu2 = n2;
        }
        const B = await boundOf();
        B.forEach((x, k) => (worst = Math.min(worst, x - prev[k])));
        prev = B;
      }
    }
    expect(worst).toBeGreaterThan(-1e-4);
    // the updates did something, and meanField() iterates the same updates
    expect(Math.max(...prev.map((x, k) => x - first[k]))).toBeGreaterThan(0.05);
    const viaApi = m.meanField(v, 30);
    const Bapi = await vec(tf.tidy(() => m.variationalBound(v, viaApi.mu1, viaApi.mu2)));
    Bapi.forEach((x, k) => expect(Math.abs(x - prev[k])).toBeLessThan(1e-3));
    V.forEach((row, k) => {
      const lp = dbmLogMarginal(w, row);
      expect(prev[k]).toBeLessThanOrEqual(lp + 1e-4);
      expect(lp - prev[k]).toBeLessThan(5); // a bound, but not a vacuous one
    });
    tf.dispose([v, mu1, mu2, viaApi.mu1, viaApi.mu2]);
    m.dispose();
  });

  it('log Z: exact (h1 summed out) and AIS over (v, h2) match the triple sum; testNll is a bound; Gibbs targets p(v)', async () => {
    const w = randomDbm(6, 5, 4, 61, 1);
    const m = dbmWith(w, { testMeanFieldIters: 50 });
    const V = states(6);
    const logp = V.map((v) => dbmLogMarginal(w, v));
    const brute = lse(logp);
    expect(Math.abs((await m.exactLogZ()) - brute)).toBeLessThan(1e-4 * (1 + Math.abs(brute)));
    const est = await m.logZ({ chains: 100, betas: 1000, seed: 2 });
    expect(Math.abs(est.logZ - brute)).toBeLessThan(0.1);
    // exact log Z: testNll = −B + log Z >= −log p(v)
    const t = await withTensor(V, (x) => m.testNll(x, 0));
    expect(t.kind).toBe('bound');
    V.forEach((_, k) => expect(t.nll[k]).toBeGreaterThanOrEqual(brute - logp[k] - 1e-3));
    // long Gibbs chains reach p(v)'s means
    const pv = logp.map((l) => Math.exp(l - brute));
    const modelMean = Array.from({ length: 6 }, (_, i) => V.reduce((s, v, k) => s + pv[k] * v[i], 0));
    const frames = await m.gibbs({ n: 10000, steps: 60, every: 60, seed: 4 });
    const last = frames[frames.length - 1];
    for (let i = 0; i < 6; i++) expect(Math.abs(colMean(last, 6, i) - modelMean[i])).toBeLessThan(0.02);
    m.dispose();
  });
});

describe('dbn by enumeration', () => {
  it('testNll (Monte Carlo bound, exact top log Z) stays above the exact −log p(v) and near it', async () => {
    const D = 6;
    const [H1, H2] = [4, 3];
    const m = new Dbn({ layers: [H1, H2], boundSamples: 1000 });
    m.build(binaryInfo(D), mulberry32(3));
    const l1 = randomRbm(D, H1, 71, 1.2);
    const l2 = randomRbm(H1, H2, 72, 1.2);
    const ws = [...named('dbn/layer1', l1), ...named('dbn/layer2', l2)];
    m.setWeights(ws);
    tf.dispose(ws.map((x) => x.tensor));
    // log p(v) = logsumexp_h1 [log p(v|h1) + log p_top(h1)]
    const logZtop = lse(states(H1).flatMap((h1) => states(H2).map((h2) => negEnergy(l2, h1, h2))));
    const logpTop = states(H1).map((h1) => lse(states(H2).map((h2) => negEnergy(l2, h1, h2))) - logZtop);
    const V = states(D);
    const logp = V.map((v) =>
      lse(
        states(H1).map((h1, k) => {
          let s = logpTop[k];
          for (let i = 0; i < D; i++) {
            let a = l1.b[i];
            for (let j = 0; j < H1; j++) a += l1.W[i * H1 + j] * h1[j];
            s += v[i] ? Math.log(sigmoid(a)) : Math.log(1 - sigmoid(a));
          }
          return s;
        }),
      ),
    );
    expect(Math.abs(lse(logp))).toBeLessThan(1e-9); // the enumeration itself is a distribution
    const t = await withTensor(V, (x) => m.testNll(x, 1));
    expect(t.kind).toBe('estimate');
    expect(t.details!.bound).toBe(1);
    expect(Math.abs(t.details!.logZ - logZtop)).toBeLessThan(1e-4 * (1 + Math.abs(logZtop)));
    // the bound itself, exactly: Σ_h1 q(h1|v) [log p(v|h1) + log p_top(h1) − log q(h1|v)]
    const exactBound = V.map((v) => {
      const q = Array.from({ length: H1 }, (_, j) => sigmoid(l1.c[j] + v.reduce((s, vi, i) => s + vi * l1.W[i * H1 + j], 0)));
      return states(H1).reduce((acc, h1, k) => {
        const logq = h1.reduce((s, hj, j) => s + Math.log(hj ? q[j] : 1 - q[j]), 0);
        let lpv = 0;
        for (let i = 0; i < D; i++) {
          let a = l1.b[i];
          for (let j = 0; j < H1; j++) a += l1.W[i * H1 + j] * h1[j];
          lpv += v[i] ? Math.log(sigmoid(a)) : Math.log(1 - sigmoid(a));
        }
        return acc + Math.exp(logq) * (lpv + logpTop[k] - logq);
      }, 0);
    });
    V.forEach((_, k) => expect(Math.abs(t.nll[k] + exactBound[k])).toBeLessThan(0.2));
    expect(Math.abs(mean(V.map((_, k) => t.nll[k] + exactBound[k])))).toBeLessThan(0.03);
    const gaps = V.map((_, k) => t.nll[k] + logp[k]);
    expect(Math.min(...gaps)).toBeGreaterThan(-0.05); // a bound (up to Monte Carlo noise)
    expect(mean(gaps)).toBeGreaterThan(0.01); // q(h1|v) is not the true posterior
    expect(mean(gaps)).toBeLessThan(3);
    m.dispose();
  });

  it('splits the steps evenly over the layers when the trainer tells the run length', () => {
    const m = new Dbn({ layers: [4, 3, 2] });
    m.build(binaryInfo(6), mulberry32(1));
    expect([1, 34, 35, 67, 68, 100].map((s) => m.layerAt(s, 100))).toEqual([0, 0, 1, 1, 2, 2]);
    expect(m.layerAt(5000)).toBe(2);
    m.dispose();
    const d = new Dbm({ layers: [4, 3], pretrain: 0.2 });
    d.build(binaryInfo(6), mulberry32(1));
    expect([1, 10, 11, 20, 21].map((s) => d.stageAt(s, 100))).toEqual([1, 1, 2, 2, 3]);
    d.dispose();
  });
});

describe('clamped units never change', () => {
  const D = 12;
  const clamp = Uint8Array.from({ length: D }, (_, i) => (i < D / 2 ? 1 : 0));
  const n = 8;
  const r = mulberry32(17);
  const init = Float32Array.from({ length: n * D }, () => (r.next() < 0.5 ? 1 : 0));
  const check = (frames: Float32Array[], initRows: Float32Array) => {
    expect(frames.length).toBe(21);
    let moved = 0;
    for (const f of frames) {
      for (let k = 0; k < f.length; k++) {
        if (clamp[k % D]) expect(f[k]).toBe(initRows[k]);
        else if (f[k] !== initRows[k]) moved++;
      }
    }
    expect(moved).toBeGreaterThan(0);
  };
  it('rbm (bernoulli and gaussian)', async () => {
    const m = rbmWith(randomRbm(D, 6, 81, 1.5));
    check(await m.gibbs({ n, steps: 20, seed: 1, init, clamp }), init);
    m.dispose();
    const g = rbmWith(randomRbm(D, 6, 82, 0.5), { visible: 'gaussian', sigma: 0.5 }, pointsInfo(D));
    const ginit = Float32Array.from(init, (v, k) => v * 0.3 - (k % 3) * 0.2);
    check(await g.gibbs({ n, steps: 20, seed: 1, init: ginit, clamp }), ginit);
    g.dispose();
  });
  it('dbn', async () => {
    const m = new Dbn({ layers: [8, 6] });
    m.build(binaryInfo(D), mulberry32(4));
    const ws = [...named('dbn/layer1', randomRbm(D, 8, 83, 1.5)), ...named('dbn/layer2', randomRbm(8, 6, 84, 1.5))];
    m.setWeights(ws);
    tf.dispose(ws.map((x) => x.tensor));
    check(await m.gibbs({ n, steps: 20, seed: 2, init, clamp }), init);
    m.dispose();
  });
  it('dbm', async () => {
    const m = dbmWith(randomDbm(D, 8, 6, 85, 1.5));
    check(await m.gibbs({ n, steps: 20, seed: 3, init, clamp }), init);
    m.dispose();
  });
});

describe('clamped chains sample p(free units | clamped units)', () => {
  /** exact E[v_i | clamped] from log p*(v) of every visible state */
  const conditionalMeans = (D: number, logp: number[], clamp: Uint8Array, values: number[]) => {
    const V = states(D);
    const keep = V.map((v) => v.every((x, i) => !clamp[i] || x === values[i]));
    const z = lse(logp.filter((_, k) => keep[k]));
    return Array.from({ length: D }, (_, i) => V.reduce((s, v, k) => (keep[k] ? s + Math.exp(logp[k] - z) * v[i] : s), 0));
  };
  const D = 6;
  const clamp = Uint8Array.from([1, 1, 1, 0, 0, 0]);
  const values = [1, 0, 1];
  const n = 10000;
  const init = Float32Array.from({ length: n * D }, (_, k) => (k % D < 3 ? values[k % D] : 0));
  const compare = (frames: Float32Array[], want: number[]) => {
    const last = frames[frames.length - 1];
    for (let i = 3; i < D; i++) expect(Math.abs(colMean(last, D, i) - want[i])).toBeLessThan(0.02);
  };
  it('rbm', async () => {
    const w = randomRbm(D, 4, 91, 1.5);
    const m = rbmWith(w);
    const logp = states(D).map((v) => lse(states(4).map((h) => negEnergy(w, v, h))));
    const want = conditionalMeans(D, logp, clamp, values);
    // the free units' conditional means differ from their unconditional ones: clamping matters
    const free = conditionalMeans(D, logp, new Uint8Array(D), []);
    expect(Math.max(...[3, 4, 5].map((i) => Math.abs(want[i] - free[i])))).toBeGreaterThan(0.05);
    compare(await m.gibbs({ n, steps: 30, every: 30, seed: 1, init, clamp }), want);
    m.dispose();
  });
  it('dbm', async () => {
    const w = randomDbm(D, 4, 3, 92, 1.5);
    const m = dbmWith(w);
    const logp = states(D).map((v) => dbmLogMarginal(w, v));
    compare(await m.gibbs({ n, steps: 40, every: 40, seed: 2, init, clamp }), conditionalMeans(D, logp, clamp, values));
    m.dispose();
  });
});

describe('no tensor leaks', () => {
  it('gibbs, sample, logZ, testNll, evaluate and filters release what they make (rbm, dbn, dbm)', async () => {
    const D = 10;
    const r = mulberry32(3);
    const init = Float32Array.from({ length: 4 * D }, () => (r.next() < 0.5 ? 1 : 0));
    const clamp = Uint8Array.from({ length: D }, (_, i) => i % 2);
    const x = tf.tensor2d(init, [4, D]);
    const rbm = rbmWith(randomRbm(D, 6, 5, 1), { sampleSteps: 5, ais: { chains: 10, betas: 20 } });
    const dbn = new Dbn({ layers: [6, 24], sampleSteps: 5, boundSamples: 2, ais: { chains: 10, betas: 20 } });
    dbn.build(binaryInfo(D), mulberry32(1));
    const dbm = new Dbm({ layers: [24, 6], sampleSteps: 5, ais: { chains: 10, betas: 20 } });
    dbm.build(binaryInfo(D), mulberry32(1));
    for (const m of [rbm, dbn, dbm]) {
      const before = tf.memory().numTensors;
      await m.gibbs({ n: 4, steps: 3, seed: 1 });
      await m.gibbs({ n: 4, steps: 3, seed: 1, init, clamp });
      const noise = m.noise(4, 1);
      tf.dispose([m.sample(4, noise, 1), m.sample(4, undefined, 2), noise]);
      await m.testNll(x, 1);
      await m.logZ({ chains: 10, betas: 20 });
      await m.evaluate(x, 1);
      await m.filters();
      expect(tf.memory().numTensors, m.family).toBe(before);
    }
    for (const m of [rbm, dbn, dbm]) m.dispose();
    x.dispose();
  });
});

describe('checkpoints', () => {
  it('getWeights → setWeights on a fresh model reproduces the NLL (rbm, dbn, dbm); a bernoulli model refuses non-binary data', async () => {
    const D = 8;
    const x = tf.tensor2d(states(D).slice(0, 40));
    const pairs: [string, () => Rbm | Dbn | Dbm][] = [
      ['rbm', () => new Rbm({ hidden: 5 })],
      ['dbn', () => new Dbn({ layers: [5, 4], boundSamples: 50 })],
      ['dbm', () => new Dbm({ layers: [5, 4] })],
    ];
    for (const [name, make] of pairs) {
      const a = make();
      a.build(binaryInfo(D), mulberry32(1));
      const ws = a.getWeights().map((w) => ({ name: w.name, tensor: tf.tidy(() => tf.add(w.tensor, tf.mul(0.8, tf.randomNormal(w.tensor.shape, 0, 1, 'float32', 3)))) }));
      a.setWeights(ws);
      const b = make();
      b.build(binaryInfo(D), mulberry32(2));
      b.setWeights(a.getWeights());
      const na = (await a.testNll(x, 4)).nll;
      const nb = (await b.testNll(x, 4)).nll;
      na.forEach((v, k) => expect(nb[k], name).toBeCloseTo(v, 4));
      await expect(a.testNll(tf.fill([2, D], 0.5) as tf.Tensor2D, 0), name).rejects.toThrow(/binar/);
      tf.dispose(ws.map((w) => w.tensor));
      a.dispose();
      b.dispose();
    }
    x.dispose();
  });
});

/** copies of a model's weights as they are now */
function snapshot(m: { getWeights(): NamedWeight[] }): NamedWeight[] {
  return m.getWeights().map((w) => ({ name: w.name, tensor: tf.clone(w.tensor) }));
}

/** a fresh model built on `info` with the weights of a snapshot (which it disposes) */
function copyWith<M extends Rbm | Dbm>(make: () => M, info: DataInfo, weights: NamedWeight[] | null): M {
  if (!weights) throw new Error('no snapshot of the weights was taken');
  const m = make();
  m.build(info, mulberry32(1));
  m.setWeights(weights);
  tf.dispose(weights.map((w) => w.tensor));
  return m;
}

describe('training through lab.train', () => {
  const { ctx } = collectingContext();
  const lab = createLab(ctx);
  const data = lab.data.mnist({ limit: 1500 });
  const D = data.dim;
  const testX = () => tf.tensor2d(data.test.x, [data.test.n, D]);
  const meanNll = async (model: { testNll(x: tf.Tensor2D, seed: number): Promise<TestNll> }) => {
    const x = testX();
    try {
      const t = await model.testNll(x, 7);
      for (const v of t.nll) expect(Number.isFinite(v)).toBe(true);
      return { ...t, mean: mean(Array.from(t.nll)) };
    } finally {
      x.dispose();
    }
  };
  /** NLL of independent pixels with the training data's means: what the biases alone reach */
  const independentNll = () => {
    const p = new Float64Array(D);
    for (let r = 0; r < data.train.n; r++) for (let i = 0; i < D; i++) p[i] += data.train.x[r * D + i] / data.train.n;
    let s = 0;
    for (let r = 0; r < data.test.n; r++) {
      for (let i = 0; i < D; i++) {
        const q = Math.min(1 - 1e-3, Math.max(1e-3, p[i]));
        s -= data.test.x[r * D + i] ? Math.log(q) : Math.log(1 - q);
      }
    }
    return s / data.test.n;
  };

  it('CD-1 lowers the AIS NLL estimate on binarized MNIST, below independent pixels', async () => {
    const m = new Rbm({ hidden: 50, sampleSteps: 20, ais: { chains: 50, betas: 500 } });
    m.build({ kind: data.kind, shape: data.shape, binary: data.binary }, mulberry32(9));
    const before = await meanNll(m);
    expect(before.kind).toBe('estimate');
    const recon: number[] = [];
    const tensors: number[] = [];
    const run = await train(ctx, m, data, {
      steps: 300,
      batchSize: 64,
      lr: 3e-3,
      evalEvery: 150,
      sampleEvery: 10_000,
      checkpointEvery: 10_000,
      seed: 2,
      onStep: (step, mm) => {
        recon.push(mm['train/recon']);
        if (step === 20 || step === 280) tensors.push(tf.memory().numTensors);
      },
    });
    expect(tensors[1]).toBe(tensors[0]);
    const after = await meanNll(m);
    const indep = independentNll();
    console.log(`rbm cd-1: nll before ${before.mean.toFixed(1)}, after ${after.mean.toFixed(1)} ± ${after.stderr?.toFixed(3)}, independent pixels ${indep.toFixed(1)}`);
    expect(after.mean).toBeLessThan(before.mean - 200);
    expect(after.mean).toBeLessThan(indep - 10);
    expect(after.stderr!).toBeLessThan(0.5);
    expect(mean(recon.slice(-30))).toBeLessThan(mean(recon.slice(0, 30)));
    expect(Number.isFinite(run.metrics['val/pseudo_ll'])).toBe(true);
    expect(run.metrics['val/pseudo_ll']).toBeLessThan(0);
    const s = m.sample(4, undefined, 1);
    expect(s.shape).toEqual([4, D]);
    const sv = await s.data();
    expect(sv.every((v) => v >= 0 && v <= 1)).toBe(true);
    s.dispose();
    const f = await m.filters();
    expect([f.count, f.dim, f.data.length]).toEqual([50, D, 50 * D]);
    m.dispose();
  });

  it('PCD trains too and lowers the NLL', async () => {
    const m = new Rbm({ hidden: 32, persistent: true, sampleSteps: 10, ais: { chains: 50, betas: 300 } });
    m.build({ kind: data.kind, shape: data.shape, binary: data.binary }, mulberry32(10));
    const before = (await meanNll(m)).mean;
    const tensors: number[] = [];
    await train(ctx, m, data, { steps: 150, batchSize: 64, lr: 3e-3, evalEvery: 150, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 3, onStep: (step) => step % 50 === 0 && tensors.push(tf.memory().numTensors) });
    expect(new Set(tensors).size).toBe(1);
    const after = (await meanNll(m)).mean;
    expect(after).toBeLessThan(before - 150);
    m.dispose();
  });

  it('a gaussian–bernoulli RBM trains on 2-D points without NaN and raises their exact likelihood', async () => {
    const pts = lab.data.toy2d('8gaussians', { n: 2000 });
    const m = new Rbm({ hidden: 12, sampleSteps: 20 });
    m.build({ kind: pts.kind, shape: pts.shape, binary: pts.binary }, mulberry32(11));
    expect(m.visible).toBe('gaussian');
    const x = tf.tensor2d(pts.test.x, [pts.test.n, 2]);
    const nllOf = async (model: Rbm) => {
      const t = await model.testNll(x, 0);
      expect(t.kind).toBe('exact');
      return mean(Array.from(t.nll));
    };
    // the weights after the first step (σ and the biases come from the data); onStep cannot wait for testNll
    let afterFirst: NamedWeight[] | null = null;
    const run = await train(ctx, m, pts, {
      steps: 200,
      batchSize: 100,
      lr: 1e-2,
      evalEvery: 100,
      sampleEvery: 10_000,
      checkpointEvery: 10_000,
      seed: 4,
      onStep: (step) => {
        if (step === 1) afterFirst = snapshot(m);
      },
    });
    const m1 = copyWith(() => new Rbm({ hidden: 12, sampleSteps: 20 }), { kind: pts.kind, shape: pts.shape, binary: pts.binary }, afterFirst);
    const first = await nllOf(m1);
    m1.dispose();
    const last = await nllOf(m);
    expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    expect(m.sigma).toBeGreaterThan(0.5);
    expect(Object.values(run.metrics).every(Number.isFinite)).toBe(true);
    const s = m.sample(50, undefined, 2);
    expect((await s.data()).every(Number.isFinite)).toBe(true);
    tf.dispose([s, x]);
    m.dispose();
  });

  it('a DBN trains layer by layer and gives a finite NLL estimate', async () => {
    const m = new Dbn({ layers: [32, 16], layerSteps: 30, sampleSteps: 10, boundSamples: 3, ais: { chains: 30, betas: 200 } });
    const layers: number[] = [];
    const tensors: number[] = [];
    await train(ctx, m, data, { steps: 60, batchSize: 64, lr: 3e-3, evalEvery: 60, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 5, onStep: (step, mm) => {
        layers.push(mm['train/layer']);
        if (step === 40 || step === 59) tensors.push(tf.memory().numTensors);
      },
    });
    expect(tensors[1]).toBe(tensors[0]);
    expect(layers[0]).toBe(1);
    expect(layers[59]).toBe(2);
    const t = await meanNll(m);
    expect(t.kind).toBe('estimate');
    expect(t.mean).toBeGreaterThan(0);
    expect(t.mean).toBeLessThan(400);
    const s = m.sample(3, undefined, 1);
    expect((await s.data()).every((v) => v >= 0 && v <= 1)).toBe(true);
    s.dispose();
    expect((await m.filters(2)).dim).toBe(D);
    m.dispose();
  });

  it('DBM joint training (PCD + mean field) lowers the exact-log-Z bound on a tiny dataset', async () => {
    // 9 binary units: 4 prototypes, each unit flipped with probability 0.1 (entropy ≈ 4.31 nats)
    const Dt = 9;
    const r = mulberry32(5);
    const protos = Array.from({ length: 4 }, () => Array.from({ length: Dt }, () => (r.next() < 0.5 ? 1 : 0)));
    const n = 2000;
    const all = new Float32Array(n * Dt);
    for (let i = 0; i < n; i++) {
      const p = protos[r.int(4)];
      for (let d = 0; d < Dt; d++) all[i * Dt + d] = r.next() < 0.1 ? 1 - p[d] : p[d];
    }
    const split = (from: number, count: number) => ({ x: all.slice(from * Dt, (from + count) * Dt), n: count });
    const tiny: Dataset = { name: 'prototypes', kind: 'image', shape: [Dt], dim: Dt, binary: true, train: split(0, 1600), val: split(1600, 200), test: split(1800, 200), fingerprint: 'prototypes-test', settings: {} };
    const cfg = { layers: [8, 4], pretrainSteps: 0, testMeanFieldIters: 50, sampleSteps: 5 };
    const m = new Dbm(cfg);
    const x = tf.tensor2d(tiny.test.x, [200, Dt]);
    const bound = async (model: Dbm) => {
      const t = await model.testNll(x, 0);
      expect(t.kind).toBe('bound'); // exact log Z
      return mean(Array.from(t.nll));
    };
    // the weights after the first step; onStep cannot wait for testNll
    let afterFirst: NamedWeight[] | null = null;
    await train(ctx, m, tiny, { steps: 500, batchSize: 64, lr: 1e-2, evalEvery: 500, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 1, onStep: (step) => step === 1 && (afterFirst = snapshot(m)) });
    const m1 = copyWith(() => new Dbm(cfg), { kind: tiny.kind, shape: tiny.shape, binary: tiny.binary }, afterFirst);
    const first = await bound(m1);
    m1.dispose();
    const last = await bound(m);
    console.log(`dbm on prototypes: bound ${first.toFixed(3)} -> ${last.toFixed(3)} nats (entropy of the data ≈ 4.31)`);
    expect(last).toBeLessThan(first - 0.4);
    expect(last).toBeGreaterThan(4.2);
    x.dispose();
    m.dispose();
  });

  it('a DBM pretrains both RBMs, trains jointly and gives a finite NLL estimate', async () => {
    const m = new Dbm({ layers: [32, 16], pretrainSteps: 20, sampleSteps: 10, ais: { chains: 30, betas: 200 } });
    const stages: number[] = [];
    const tensors: number[] = [];
    await train(ctx, m, data, { steps: 50, batchSize: 64, lr: 3e-3, evalEvery: 50, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 6, onStep: (step, mm) => {
        stages.push(mm['train/stage']);
        if (step === 30 || step === 49) tensors.push(tf.memory().numTensors);
      },
    });
    expect(tensors[1]).toBe(tensors[0]);
    expect([stages[0], stages[10], stages[19], stages[20], stages[49]]).toEqual([1, 2, 2, 3, 3]);
    const t = await meanNll(m);
    expect(t.kind).toBe('estimate');
    expect(t.mean).toBeGreaterThan(0);
    expect(t.mean).toBeLessThan(450);
    m.dispose();
  });
});
