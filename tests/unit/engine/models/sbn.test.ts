// The sigmoid belief net: its importance-sampled bound against −log p(v) by enumerating
// every hidden configuration (in plain JS from the weights), q normalized, the
// score-function gradient unbiased against the exact ELBO gradient by enumeration, the
// baselines cutting its variance, lab.evaluate's k honoured, wake-sleep and NVIL both
// learning a tiny dataset, seeded runs, checkpoints and ancestral samples.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import type { Dataset, Split } from '../../../../src/engine/data/types';
import { evaluateModel } from '../../../../src/engine/eval/evaluate';
import type { DataInfo } from '../../../../src/engine/models/types';
import { Sbn } from '../../../../src/engine/models/latent/sbn';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext, mean } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

function logSumExp(xs: number[]): number {
  const mx = Math.max(...xs);
  return mx + Math.log(xs.reduce((s, v) => s + Math.exp(v - mx), 0));
}

/** every binary vector of length n */
const configs = (n: number): number[][] => Array.from({ length: 2 ** n }, (_, c) => Array.from({ length: n }, (_, j) => (c >> j) & 1));

/** a tiny SBN on D binary units, its generative weights scaled so the posterior is far from factorial */
async function tinySbn(D: number, layers: number[], seed: number, scale = 3): Promise<Sbn> {
  const model = new Sbn({ layers });
  const info: DataInfo = { kind: 'points', shape: [D], binary: true };
  model.build(info, mulberry32(seed));
  const scaled = model.getWeights().map((w) => ({ name: w.name, tensor: /^generative\/(gen\d+\/W|prior)$/.test(w.name) ? tf.mul(w.tensor, w.name.endsWith('prior') ? 1.5 : scale) : w.tensor.clone() }));
  model.setWeights(scaled);
  tf.dispose(scaled.map((w) => w.tensor));
  return model;
}

/** −log p(v) per pattern by enumerating every hidden configuration, in float64 from the weights */
async function exactNll(model: Sbn, D: number, patterns: number[][]): Promise<number[]> {
  const w = new Map<string, Float32Array>();
  for (const { name, tensor } of model.getWeights()) w.set(name, (await tensor.data()) as Float32Array);
  const sizes = [D, ...model.layers];
  const L = model.layers.length;
  const logBern = (x: number[], s: number[]) => x.reduce((acc, xi, i) => acc + xi * s[i] - Math.log1p(Math.exp(s[i])), 0);
  /** logits of layer l given the layer above (l + 1), l = 0 the visible units */
  const logits = (l: number, above: number[]) => {
    const W = w.get(`generative/gen${l}/W`)!;
    const b = w.get(`generative/gen${l}/b`)!;
    return Array.from({ length: sizes[l] }, (_, i) => b[i] + above.reduce((s, hj, j) => s + hj * W[j * sizes[l] + i], 0));
  };
  const prior = Array.from(w.get('generative/prior')!);
  // every joint hidden configuration: [h^1, …, h^L]
  let joint: number[][][] = [[]];
  for (let l = 0; l < L; l++) joint = joint.flatMap((hs) => configs(sizes[l + 1]).map((h) => [...hs, h]));
  return patterns.map((v) => {
    const terms = joint.map((hs) => {
      let lp = logBern(hs[L - 1], prior);
      for (let l = L - 1; l >= 0; l--) lp += logBern(l === 0 ? v : hs[l - 1], logits(l, hs[l]));
      return lp;
    });
    return -logSumExp(terms);
  });
}

describe('the importance-sampled bound against enumeration', () => {
  it('is above −log p(v) for every k in expectation, falls with k, and reaches it', async () => {
    const D = 5;
    const model = await tinySbn(D, [3, 2], 11);
    const patterns = [
      [1, 0, 1, 1, 0],
      [0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1],
      [0, 1, 0, 0, 1],
    ];
    const exact = await exactNll(model, D, patterns);
    const exactMean = mean(exact);
    const x = tf.tensor2d(patterns);
    const reps = 30;
    const ks = [1, 4, 32];
    const byK = ks.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      const res = await model.importanceBound(x, ks, 100 + r);
      res.forEach((o, i) => byK[i].push(-mean(Array.from(o.bound))));
    }
    const [far] = await model.importanceBound(x, [20000], 7);
    byK.push([-mean(Array.from(far.bound))]);
    x.dispose();
    const means = byK.map((v) => mean(v));
    const se = byK.map((v) => Math.sqrt(v.reduce((s, a) => s + (a - mean(v)) ** 2, 0) / Math.max(1, v.length - 1) / v.length));
    // a bound: E[−log (1/k) Σ w] ≥ −log p(v) at every k (Jensen), within its Monte Carlo error
    for (let i = 0; i < 3; i++) expect(means[i]).toBeGreaterThan(exactMean - 3 * se[i] - 1e-4);
    // the k = 1 bound (the ELBO) is well above: q is not the posterior
    expect(means[0] - exactMean).toBeGreaterThan(0.1);
    // it tightens with k and converges to −log p(v)
    expect(means[1]).toBeLessThan(means[0]);
    expect(means[2]).toBeLessThan(means[1]);
    expect(Math.abs(means[3] - exactMean)).toBeLessThan(0.02);
  }, 120_000);

  it('q(h|v) is a normalized distribution over the hidden configurations', async () => {
    const D = 4;
    const model = await tinySbn(D, [2, 2], 3);
    const v = [1, 0, 0, 1];
    const all = configs(4);
    const h1 = tf.tensor2d(all.map((c) => c.slice(0, 2)));
    const h2 = tf.tensor2d(all.map((c) => c.slice(2)));
    const vv = tf.tensor2d(all.map(() => v));
    const lq = model.logQ(vv, [h1, h2]);
    const q = Array.from((await lq.data()) as Float32Array);
    tf.dispose([h1, h2, vv, lq]);
    expect(logSumExp(q)).toBeCloseTo(0, 5);
  });
});

describe('the score-function estimator of the recognition gradient', () => {
  it('is unbiased with each learning signal: its mean over draws matches the exact ELBO gradient by enumeration', async () => {
    const D = 4;
    const model = await tinySbn(D, [3], 5);
    const patterns = [
      [1, 0, 1, 1],
      [0, 0, 0, 1],
      [1, 1, 0, 0],
    ];
    const x = tf.tensor2d(patterns);
    const hAll = configs(3);
    const rep = tf.tensor2d(patterns.flatMap((p) => hAll.map(() => p)));
    const hs = tf.tensor2d(patterns.flatMap(() => hAll));
    // the exact mean ELBO, Σ_h q(h|v) (log p(v,h) − log q(h|v)), differentiated in the recognition weights
    const vars = model.getWeights().filter((w) => w.name.startsWith('recognition/')).map((w) => w.tensor as tf.Variable);
    const exactT = tf.tidy(() => {
      const { grads } = tf.variableGrads(() => {
        const lq = model.logQ(rep, [hs]);
        const lp = model.logP(rep, [hs]);
        return tf.div(tf.sum(tf.mul(tf.exp(lq), tf.sub(lp, lq))), patterns.length) as tf.Scalar;
      }, vars);
      return tf.concat(vars.map((v) => tf.reshape(grads[v.name], [-1])));
    });
    const exact = (await exactT.data()) as Float32Array;
    tf.dispose([exactT, rep, hs]);
    const draws = 1500;
    const g = await model.scoreGradients(x, { draws, seed: 9 });
    x.dispose();
    const exactNorm = exact.reduce((s, a) => s + a * a, 0);
    expect(exactNorm).toBeGreaterThan(0.01);
    for (const mode of ['none', 'centred', 'baseline'] as const) {
      const { mean: m, variance } = g[mode];
      expect(m.length).toBe(exact.length);
      // E ‖mean − exact‖² = Σ variance / draws for an unbiased estimator
      const err = m.reduce((s, a, i) => s + (a - exact[i]) ** 2, 0);
      expect(err, mode).toBeLessThan((4 * variance) / draws);
      expect(err, mode).toBeLessThan(0.05 * exactNorm);
    }
  }, 120_000);
});

/** D-bit rows near four prototypes (each bit flipped with probability 0.05) */
function prototypeData(D: number, n: number, seed: number): Dataset {
  const rng = mulberry32(seed);
  const protos = Array.from({ length: 4 }, (_, p) => Array.from({ length: D }, (_, j) => ((j * (p + 1) + p) % 3 === 0 ? 1 : 0)));
  const split = (m: number): Split => {
    const x = new Float32Array(m * D);
    for (let r = 0; r < m; r++) {
      const p = protos[Math.floor(rng.next() * 4)];
      for (let j = 0; j < D; j++) x[r * D + j] = rng.next() < 0.05 ? 1 - p[j] : p[j];
    }
    return { x, n: m };
  };
  return { name: 'prototypes', kind: 'points', shape: [D], dim: D, binary: true, train: split(n), val: split(200), test: split(200), fingerprint: `prototypes-${D}-${n}-${seed}`, settings: {} };
}

describe('training', () => {
  it('wake-sleep and NVIL each lower the test bound on a tiny dataset', async () => {
    const data = prototypeData(12, 600, 1);
    const x = tf.tensor2d(data.test.x, [data.test.n, 12]);
    for (const how of ['wake-sleep', 'nvil'] as const) {
      const { ctx } = collectingContext();
      const model = new Sbn({ layers: [6], train: how, evalK: 50 });
      const elbos: number[] = [];
      await train(ctx, model, data, { steps: 500, batchSize: 50, lr: 0.01, seed: 3, evalEvery: 250, sampleEvery: 1000, checkpointEvery: 1000, onStep: (_s, m) => elbos.push(m['train/elbo']) });
      const first = mean(elbos.slice(0, 20));
      const last = mean(elbos.slice(-50));
      expect(last - first, how).toBeGreaterThan(2);
      const res = await model.testNll(x, 7, undefined, { convergence: false });
      const nll = mean(Array.from(res.nll));
      // 4 prototypes with 5% flips: about log 4 + 12 H(0.05) ≈ 4.7 nats; an untrained model is at ~12 log 2 ≈ 8.3
      expect(nll, how).toBeLessThan(6.5);
      expect(nll, how).toBeGreaterThan(4);
      if (how === 'nvil') {
        // the baselines after training: a constant centring and the input-dependent baseline each cut the variance
        const g = await model.scoreGradients(x.slice([0, 0], [50, -1]), { draws: 60, seed: 2 });
        expect(g.centred.variance).toBeLessThan(0.5 * g.none.variance);
        expect(g.baseline.variance).toBeLessThan(g.centred.variance);
      }
      model.dispose();
    }
    x.dispose();
  }, 240_000);

  it('the same seed gives the same curve; checkpoints restore the same bound', async () => {
    const data = prototypeData(8, 200, 2);
    const curves: number[][] = [];
    const models: Sbn[] = [];
    for (let r = 0; r < 2; r++) {
      const { ctx } = collectingContext();
      const model = new Sbn({ layers: [4, 3], train: 'nvil' });
      const c: number[] = [];
      const counts: number[] = [];
      await train(ctx, model, data, { steps: 30, batchSize: 20, lr: 0.01, seed: 5, evalEvery: 100, sampleEvery: 1000, checkpointEvery: 1000, onStep: (s, m) => (c.push(m['train/loss']), s === 5 || s === 25 ? counts.push(tf.memory().numTensors) : 0) });
      curves.push(c);
      // every step frees what it made
      expect(counts[1]).toBe(counts[0]);
      models.push(model);
    }
    expect(curves[1]).toEqual(curves[0]);
    // a fresh model loaded from the first one's weights gives its bound exactly
    const other = new Sbn({ layers: [4, 3] });
    other.build({ kind: 'points', shape: [8], binary: true }, mulberry32(99));
    other.setWeights(models[0].getWeights());
    const x = tf.tensor2d(data.test.x, [data.test.n, 8]);
    const a = await models[0].testNll(x, 4, undefined, { k: 10, convergence: false });
    const b = await other.testNll(x, 4, undefined, { k: 10, convergence: false });
    expect(Array.from(b.nll)).toEqual(Array.from(a.nll));
    x.dispose();
    for (const m of [...models, other]) m.dispose();
  }, 60_000);
});

describe('lab.evaluate and its k', () => {
  it('honours k: the work done and the bound change with it, and convergence reports 4k with the ESS', async () => {
    const data = prototypeData(10, 100, 3);
    const model = await tinySbn(10, [4], 8);
    let rows = 0;
    const infer = model.infer.bind(model);
    model.infer = (v, seed) => {
      rows += v.shape[0];
      return infer(v, seed);
    };
    const { ctx } = collectingContext();
    const n = data.test.n;
    const small = await evaluateModel(ctx, model, data.test, { k: 2, record: false });
    expect(rows).toBe(n * 8);
    expect(small.kind).toBe('bound');
    expect(small.details).toEqual({ k: 2 });
    expect(small.convergence).toMatchObject({ knob: 'k', at: 2, at4x: 8, tolerance: 0.5, essOf: 2 });
    rows = 0;
    const big = await evaluateModel(ctx, model, data.test, { k: 40, record: false });
    expect(rows).toBe(n * 160);
    expect(big.details).toEqual({ k: 40 });
    const c = big.convergence!;
    expect(c.at4x).toBe(160);
    expect(c.nll).toBeCloseTo(big.nll_nats, 4);
    expect(c.nll4x).toBeLessThan(c.nll);
    expect(c.converged).toBe(Math.abs(c.nll4x - c.nll) < 0.5);
    expect(c.ess!).toBeGreaterThan(1);
    expect(c.ess!).toBeLessThanOrEqual(40);
    // more samples: a tighter bound
    expect(big.nll_nats).toBeLessThan(small.nll_nats);
    rows = 0;
    const plain = await evaluateModel(ctx, model, data.test, { k: 40, convergence: false, record: false });
    expect(rows).toBe(n * 40);
    expect(plain.convergence).toBeUndefined();
    expect(plain.nll_nats).toBeCloseTo(big.nll_nats, 4);
    // the model's own evalK when no k is given
    rows = 0;
    await evaluateModel(ctx, model, data.test, { convergence: false, record: false });
    expect(rows).toBe(n * 100);
    model.dispose();
  }, 60_000);
});

describe('sampling', () => {
  it('draws ancestrally: pixel means in [0, 1], the same noise the same samples, and the data marginals after training', async () => {
    const data = prototypeData(12, 400, 4);
    const { ctx } = collectingContext();
    const model = new Sbn({ layers: [8], train: 'nvil' });
    await train(ctx, model, data, { steps: 300, batchSize: 50, lr: 0.01, seed: 1, evalEvery: 300, sampleEvery: 1000, checkpointEvery: 1000 });
    const z = model.noise(2000, 3);
    const a = model.sample(2000, z);
    const b = model.sample(2000, z);
    const av = (await a.data()) as Float32Array;
    expect(Array.from((await b.data()) as Float32Array)).toEqual(Array.from(av));
    expect(av.every((p) => p >= 0 && p <= 1)).toBe(true);
    // the samples' pixel means match the data's
    const D = 12;
    for (let j = 0; j < D; j++) {
      let s = 0;
      let d = 0;
      for (let r = 0; r < 2000; r++) s += av[r * D + j];
      for (let r = 0; r < data.train.n; r++) d += data.train.x[r * D + j];
      expect(Math.abs(s / 2000 - d / data.train.n), `pixel ${j}`).toBeLessThan(0.08);
    }
    tf.dispose([z, a, b]);
    model.dispose();
  }, 60_000);

  it('rejects what it cannot model', () => {
    expect(() => new Sbn({ layers: [] })).toThrow(/layers/);
    expect(() => new Sbn({ train: 'gibbs' as 'nvil' })).toThrow(/wake-sleep/);
    const m = new Sbn();
    expect(() => m.build({ kind: 'points', shape: [2], binary: false }, mulberry32(1))).toThrow(/binary/);
  });
});
