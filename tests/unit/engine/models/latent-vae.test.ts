// The VAE family: IWAE-k bounds against a log p(x) integrated numerically, the KL in
// closed form against Monte Carlo, the convolutional nets, the IWAE objective, the
// CVAE's class labels from the data to the samples, KL warm-up, and learning on MNIST.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import type { Dataset, Split } from '../../../../src/engine/data/types';
import { evaluateModel } from '../../../../src/engine/eval/evaluate';
import { createLab } from '../../../../src/engine/lab/lab';
import type { DataInfo, StepContext } from '../../../../src/engine/models/types';
import { gaussianKl, Vae } from '../../../../src/engine/models/latent/vae';
import { labelsOneHot, train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext, mean } from '../../../helpers/engine';
import { imageDataset } from '../../../../src/engine/data/mnist';

beforeAll(async () => {
  await selectBackend('wasm');
});

const LOG_2PI = Math.log(2 * Math.PI);

function logSumExp(xs: ArrayLike<number>, weights?: ArrayLike<number>): number {
  let mx = -Infinity;
  for (let i = 0; i < xs.length; i++) mx = Math.max(mx, xs[i]);
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += (weights ? weights[i] : 1) * Math.exp(xs[i] - mx);
  return mx + Math.log(s);
}

const stats = (v: ArrayLike<number>) => {
  const n = v.length;
  let m = 0;
  for (let i = 0; i < n; i++) m += v[i];
  m /= n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i] - m) ** 2;
  return { mean: m, se: Math.sqrt(ss / (n - 1) / n) };
};

/** a model built on tiny binary vectors, its decoder weights scaled so p(x|z) depends strongly on z */
function tinyVae(D: number, latentDim: number, seed: number, scale = 3): Vae {
  const model = new Vae({ latentDim, hidden: [16] });
  const info: DataInfo = { kind: 'points', shape: [D], binary: true };
  model.build(info, mulberry32(seed));
  expect(model.likelihood).toBe('bernoulli');
  const scaled = model.getWeights().map((w) => ({ name: w.name, tensor: w.name.startsWith('decoder/W') ? tf.mul(w.tensor, scale) : w.tensor.clone() }));
  model.setWeights(scaled);
  tf.dispose(scaled.map((w) => w.tensor));
  return model;
}

describe('IWAE-k against log p(x) by quadrature (1-D latent)', () => {
  it('ELBO <= IWAE-1 (= ELBO in expectation) <= IWAE-5 <= IWAE-50 <= log p(x)', async () => {
    const D = 5;
    const model = tinyVae(D, 1, 5);
    const patterns = [
      [1, 0, 1, 1, 0],
      [0, 0, 0, 0, 0],
      [1, 1, 1, 1, 1],
      [0, 1, 0, 1, 0],
      [1, 1, 0, 0, 1],
      [0, 0, 1, 0, 0],
    ];
    const P = patterns.length;
    // the (random, so imperfect) encoder's q(z|x) of each pattern
    const xs = tf.tensor2d(patterns);
    const { mu, logvar } = model.encode(xs);
    const mus = Array.from(await mu.data());
    const lvs = Array.from(await logvar.data());
    tf.dispose([xs, mu, logvar]);
    for (let p = 0; p < P; p++) {
      // the grid below resolves these posteriors
      expect(Math.exp(0.5 * lvs[p])).toBeGreaterThan(0.05);
      expect(Math.abs(mus[p])).toBeLessThan(6);
    }

    // log p(x) = log ∫ p(x|z) N(z; 0, 1) dz and the exact ELBO = ∫ q(z|x) log p(x|z) dz - KL,
    // by the trapezoid rule on [-10, 10] in float64 (the integrands are smooth and vanish at the ends)
    const G = 8001;
    const h = 20 / (G - 1);
    const grid = Float32Array.from({ length: G }, (_, j) => -10 + j * h);
    const w = Float64Array.from({ length: G }, (_, j) => (j === 0 || j === G - 1 ? h / 2 : h));
    const logp: number[] = [];
    const elbo: number[] = [];
    for (let p = 0; p < P; p++) {
      const X = tf.tile(tf.tensor2d([patterns[p]]), [G, 1]) as tf.Tensor2D;
      const Z = tf.tensor2d(grid, [G, 1]);
      const ll = model.logLikelihood(X, Z);
      const lpx = (await ll.data()) as Float32Array;
      tf.dispose([X, Z, ll]);
      const joint = Float64Array.from(lpx, (v, j) => v - 0.5 * LOG_2PI - 0.5 * grid[j] * grid[j]);
      logp.push(logSumExp(joint, w));
      const s2 = Math.exp(lvs[p]);
      let eq = 0;
      for (let j = 0; j < G; j++) eq += w[j] * Math.exp(-0.5 * LOG_2PI - 0.5 * lvs[p] - (0.5 * (grid[j] - mus[p]) ** 2) / s2) * lpx[j];
      const kl = 0.5 * (mus[p] ** 2 + s2 - 1 - lvs[p]);
      elbo.push(eq - kl);
    }

    // IWAE-k over many independent draws: each pattern repeated S times
    const S = 3000;
    const rows = patterns.flatMap((r) => Array.from({ length: S }, () => r));
    const X = tf.tensor2d(rows);
    const before = tf.memory().numTensors;
    await model.iwae(X, 3, 1); // 3 samples in chunks: frees what it makes
    expect(tf.memory().numTensors).toBe(before);
    const ks = [1, 5, 50];
    const res: { mean: number; se: number }[][] = [];
    for (const [i, k] of ks.entries()) {
      const b = await model.iwae(X, k, 1000 + i);
      res.push(patterns.map((_, p) => stats(b.subarray(p * S, (p + 1) * S))));
    }
    X.dispose();
    const [r1, r5, r50] = res;
    const gap = (p: number) => logp[p] - elbo[p];
    for (let p = 0; p < P; p++) {
      console.log(`pattern ${patterns[p].join('')}: log p ${logp[p].toFixed(4)}  elbo ${elbo[p].toFixed(4)}  iwae1 ${r1[p].mean.toFixed(4)}±${r1[p].se.toFixed(4)}  iwae5 ${r5[p].mean.toFixed(4)}  iwae50 ${r50[p].mean.toFixed(4)}±${r50[p].se.toFixed(4)}`);
      // the ELBO is a bound, and an imperfect encoder leaves a real gap
      expect(elbo[p]).toBeLessThan(logp[p]);
      // IWAE-1 is the ELBO, up to Monte Carlo error
      expect(Math.abs(r1[p].mean - elbo[p])).toBeLessThan(4 * r1[p].se + 2e-3);
      // non-decreasing in k (within statistical error), never above log p(x)
      expect(r5[p].mean).toBeGreaterThan(r1[p].mean - 4 * Math.hypot(r1[p].se, r5[p].se));
      expect(r50[p].mean).toBeGreaterThan(r5[p].mean - 4 * Math.hypot(r5[p].se, r50[p].se));
      for (const r of res) expect(r[p].mean).toBeLessThan(logp[p] + 4 * r[p].se + 2e-3);
      // and IWAE-50 closes most of the gap
      expect(logp[p] - r50[p].mean).toBeLessThan(0.5 * gap(p) + 4 * r50[p].se);
    }
    // on average the gaps are substantial and shrink strictly with k
    const avg = (r: { mean: number }[]) => mean(r.map((s) => s.mean));
    expect(mean(patterns.map((_, p) => gap(p)))).toBeGreaterThan(0.2);
    expect(avg(r5) - avg(r1)).toBeGreaterThan(0.05);
    expect(avg(r50) - avg(r5)).toBeGreaterThan(0.02);
    model.dispose();
  });
});

describe('KL', () => {
  it('the closed form equals a Monte Carlo estimate from the model’s own draws', async () => {
    const model = tinyVae(6, 3, 9);
    const x = tf.tensor2d([
      [1, 0, 1, 0, 1, 1],
      [0, 0, 0, 1, 1, 0],
      [1, 1, 1, 1, 1, 1],
      [0, 1, 0, 0, 0, 0],
    ]);
    const { mu, logvar } = model.encode(x);
    const closedT = gaussianKl(mu, logvar);
    const closed = Array.from(await closedT.data());
    const k = 40000;
    const { logPx, logRatio } = model.logWeights(x, k, 77);
    const lr = (await logRatio.data()) as Float32Array; // [k, 4]: log p(z) - log q(z|x)
    for (let b = 0; b < 4; b++) {
      const mc = stats(Float64Array.from({ length: k }, (_, i) => -lr[i * 4 + b]));
      expect(closed[b]).toBeGreaterThan(0.05);
      expect(Math.abs(mc.mean - closed[b])).toBeLessThan(4 * mc.se + 1e-3);
    }
    // klPerDim: the same KL split over the latent dimensions, averaged over rows
    const perDim = await model.klPerDim(x);
    expect(perDim.length).toBe(3);
    expect(perDim.reduce((a, v) => a + v, 0)).toBeCloseTo(mean(closed), 4);
    tf.dispose([x, mu, logvar, closedT, logPx, logRatio]);
    model.dispose();
  });
});

describe('convolutional vae', () => {
  it('checks the image shape, round-trips its weights, and decodes any H x W x C that divides by 4', async () => {
    const rng = mulberry32(1);
    expect(() => new Vae({ net: 'conv' }).build({ kind: 'image', shape: [30, 30], binary: true }, rng)).toThrow(/divide by 4.*30 x 30/);
    expect(() => new Vae({ net: 'conv' }).build({ kind: 'points', shape: [2], binary: false }, rng)).toThrow(/images/);
    expect(() => new Vae({ net: 'cnn' as 'conv' })).toThrow(/'mlp' or 'conv'/);
    const info: DataInfo = { kind: 'image', shape: [8, 12, 3], binary: false };
    const a = new Vae({ net: 'conv', latentDim: 4, hidden: [8, 16] });
    const b = new Vae({ net: 'conv', latentDim: 4, hidden: [8, 16] });
    a.build(info, mulberry32(2));
    b.build(info, mulberry32(3));
    const x = tf.randomUniform([5, 288], 0, 1, 'float32', 4) as tf.Tensor2D;
    const ra = a.reconstruct(x);
    expect(ra.shape).toEqual([5, 288]);
    const z = a.noise(3, 1);
    const d = a.decode(z);
    expect(d.shape).toEqual([3, 288]);
    const dv = await d.data();
    expect(dv.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(a.getWeights().map((w) => w.name)).toContain('decoder/deconv1');
    b.setWeights(a.getWeights());
    const rb = b.reconstruct(x);
    expect(Array.from(await rb.data())).toEqual(Array.from(await ra.data()));
    tf.dispose([x, ra, rb, z, d]);
    a.dispose();
    b.dispose();
  });

  it('trains on an MNIST subset: its validation ELBO rises; IWAE tightens it', async () => {
    const { ctx } = collectingContext();
    const data = createLab(ctx).data.mnist({ limit: 3000 });
    const model = new Vae({ net: 'conv', latentDim: 16, evalK: 20 });
    const t0 = Date.now();
    const run = await train(ctx, model, data, { steps: 200, batchSize: 64, lr: 2e-3, evalEvery: 100, sampleEvery: 200, checkpointEvery: 1000, seed: 2 });
    const secs = (Date.now() - t0) / 1000;
    const h = run.history('val/elbo');
    console.log(`conv vae 200 steps: ${secs.toFixed(1)} s; val/elbo ${h.values.map((v) => v.toFixed(1)).join(' -> ')}`);
    expect(h.steps).toEqual([0, 100, 200]);
    expect(h.values[2]).toBeGreaterThan(h.values[0] + 150);
    expect(h.values[2]).toBeGreaterThan(h.values[1]);
    expect(h.values[2]).toBeLessThan(0);
    // the IWAE-20 test bound is tighter than the ELBO on the same images
    const ev = await evaluateModel(ctx, model, data.test, { record: false });
    const testX = tf.tensor2d(data.test.x, [data.test.n, data.dim]);
    const testElbo = (await model.evaluate(testX, 5))['val/elbo'].value;
    testX.dispose();
    expect(ev.kind).toBe('bound');
    expect(ev.details).toMatchObject({ k: 20 });
    expect(ev.convergence).toMatchObject({ knob: 'k', at: 20, at4x: 80 });
    expect(Number.isFinite(ev.nll_nats)).toBe(true);
    expect(ev.nll_nats).toBeLessThan(-testElbo);
    model.dispose();
  });
});

describe('IWAE objective', () => {
  it('trains on the IWAE-5 bound and reports finite bounds', async () => {
    const { ctx } = collectingContext();
    const data = createLab(ctx).data.mnist({ limit: 3000 });
    const model = new Vae({ objective: 'iwae', k: 5, latentDim: 8, hidden: [128], evalK: 50 });
    const losses: number[] = [];
    const run = await train(ctx, model, data, { steps: 150, batchSize: 64, lr: 2e-3, evalEvery: 75, sampleEvery: 1000, checkpointEvery: 1000, seed: 4, onStep: (_s, m) => losses.push(m['train/loss']) });
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) - 50);
    expect(Number.isFinite(run.metrics['val/elbo'])).toBe(true);
    expect(run.metrics['val/elbo']).toBeLessThan(0);
    const ev = await evaluateModel(ctx, model, data.test);
    expect(ev.kind).toBe('bound');
    expect(ev.details).toMatchObject({ k: 50 });
    expect(ev.convergence).toMatchObject({ knob: 'k', at: 50, at4x: 200 });
    expect(Number.isFinite(ev.nll_nats)).toBe(true);
    expect(ev.perExample.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    // IWAE-50 >= the ELBO on average: the NLL bound sits below -ELBO on the same images
    const testX = tf.tensor2d(data.test.x, [data.test.n, data.dim]);
    const testElbo = (await model.evaluate(testX, 5))['val/elbo'].value;
    testX.dispose();
    expect(ev.nll_nats).toBeLessThan(-testElbo);
    expect(run.metrics['test/nll']).toBe(ev.nll_nats);
    model.dispose();
  });
});

/** rows that name themselves: x[i] = [i, sin i, cos i], class (7 i + 3) % 4 */
function selfNamingData(): Dataset {
  const split = (from: number, n: number): Split => {
    const x = new Float32Array(n * 3);
    const y = new Uint8Array(n);
    for (let r = 0; r < n; r++) {
      const i = from + r;
      x.set([i, Math.sin(i), Math.cos(i)], r * 3);
      y[r] = (7 * i + 3) % 4;
    }
    return { x, n, y };
  };
  return { name: 'self-naming', kind: 'points', shape: [3], dim: 3, binary: false, train: split(0, 70), val: split(70, 20), test: split(90, 20), fingerprint: 'self-naming', settings: {}, classes: 4, classNames: ['a', 'b', 'c', 'd'] };
}

describe('cvae', () => {
  it('gets each batch row’s own label, in order, in training and evaluation', async () => {
    const data = selfNamingData();
    const labelOf = (i: number) => (7 * i + 3) % 4;
    let checked = 0;
    let evalChecked = 0;
    const bad: string[] = [];
    const checkRows = async (x: tf.Tensor2D, labels: tf.Tensor2D | undefined, where: string) => {
      expect(labels, `${where}: no labels`).toBeDefined();
      const xs = await x.array();
      const ls = await labels!.array();
      expect(ls.length).toBe(xs.length);
      xs.forEach((row, r) => {
        const want = labelOf(Math.round(row[0]));
        const hot = ls[r].map((v, c) => (v === 1 ? c : -1)).filter((c) => c >= 0);
        if (hot.length !== 1 || hot[0] !== want || ls[r].reduce((a, v) => a + v, 0) !== 1) bad.push(`${where} row ${r}: ${ls[r]} for example ${row[0]}`);
      });
      return xs.length;
    };
    class Spy extends Vae {
      override async trainStep(x: tf.Tensor2D, step: number, ctx: StepContext) {
        checked += await checkRows(x, ctx.labels, `step ${step}`);
        return super.trainStep(x, step, ctx);
      }
      override async evaluate(val: tf.Tensor2D, seed: number, labels?: tf.Tensor2D) {
        evalChecked += await checkRows(val, labels, 'evaluate');
        return super.evaluate(val, seed, labels);
      }
    }
    const model = new Spy({ conditional: true, latentDim: 2, hidden: [16] });
    expect(model.family).toBe('cvae');
    const { ctx } = collectingContext();
    // 16-row batches over 70 rows: several reshuffles
    const counts: number[] = [];
    await train(ctx, model, data, { steps: 20, batchSize: 16, evalEvery: 10, sampleEvery: 1000, checkpointEvery: 1000, seed: 8, onStep: (step) => (step === 5 || step === 18 ? counts.push(tf.memory().numTensors) : 0) });
    expect(bad).toEqual([]);
    // labels are made and freed every step
    expect(counts[1]).toBe(counts[0]);
    expect(checked).toBe(20 * 16);
    expect(evalChecked).toBe(3 * 20);
    model.dispose();
  });

  it('on a dataset without labels: a clear error naming the fix', async () => {
    const { ctx } = collectingContext();
    const lab = createLab(ctx);
    await expect(train(ctx, new Vae({ conditional: true }), lab.data.toy2d('moons'))).rejects.toThrow(/class labels.*lab\.data\.mnist\(\)/);
    expect(() => new Vae({ conditional: true }).build({ kind: 'points', shape: [2], binary: false }, mulberry32(1))).toThrow(/needs class labels.*lab\.data\.mnist\(\)/);
  });

  it('learns p(x|y) on MNIST: class samples look like their class, noise() shows every class', async () => {
    const { ctx } = collectingContext();
    const data = createLab(ctx).data.mnist({ limit: 4000 });
    const model = new Vae({ conditional: true, latentDim: 4, hidden: [256], evalK: 20 });
    const run = await train(ctx, model, data, { steps: 400, batchSize: 64, lr: 2e-3, evalEvery: 200, sampleEvery: 400, checkpointEvery: 1000, seed: 6 });
    expect(run.status).toBe('finished');
    const D = data.dim;
    // each class's mean training image
    const dataMeans = Array.from({ length: 10 }, () => new Float64Array(D));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < data.train.n; i++) {
      const c = data.train.y![i];
      counts[c]++;
      for (let j = 0; j < D; j++) dataMeans[c][j] += data.train.x[i * D + j];
    }
    dataMeans.forEach((m, c) => m.forEach((_, j) => (m[j] /= counts[c])));
    const nearestClass = (v: ArrayLike<number>, off: number) => {
      let best = -1;
      let bestD = Infinity;
      dataMeans.forEach((m, c) => {
        let d = 0;
        for (let j = 0; j < D; j++) d += (v[off + j] - m[j]) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      });
      return best;
    };
    // the same prior draws decoded as each class: each sample should look like its class
    // (nearest-class-mean of real validation images: ~0.8; of samples that ignore y: ~0.1)
    let own = 0;
    for (let c = 0; c < 10; c++) {
      const s = model.sampleClass(100, c, 31);
      const v = await s.data();
      s.dispose();
      for (let i = 0; i < 100; i++) if (nearestClass(v, i * D) === c) own++;
    }
    console.log(`cvae: ${own} of 1000 class samples nearest their own class's mean image`);
    expect(own).toBeGreaterThan(400);
    // as a generative classifier (argmax_y ELBO(x, y)) it beats chance by far
    const valX = tf.tensor2d(data.val.x, [data.val.n, D]);
    const pred = await model.classify(valX);
    const acc = pred.reduce((a, p, i) => a + (p === data.val.y![i] ? 1 : 0), 0) / data.val.n;
    console.log(`cvae classify accuracy on val: ${acc.toFixed(3)}`);
    expect(acc).toBeGreaterThan(0.6);
    // the noise bank: [z, one-hot(i % 10)], so a grid shows every class; sample decodes it
    const noise = model.noise(20, 3);
    expect(noise.shape).toEqual([20, 4 + 10]);
    const nv = await noise.array();
    nv.forEach((row, i) => expect(row.slice(4)).toEqual(Array.from({ length: 10 }, (_, c) => (c === i % 10 ? 1 : 0))));
    const s = model.sample(20, noise);
    expect(s.shape).toEqual([20, D]);
    // decoding the same rows with the class given apart gives the same images
    const z = tf.slice(noise, [0, 0], [-1, 4]) as tf.Tensor2D;
    const s2 = model.decode(z, Array.from({ length: 20 }, (_, i) => i % 10));
    expect(Array.from(await s2.data())).toEqual(Array.from(await s.data()));
    expect(() => model.decode(z)).toThrow(/give the class/);
    // evaluation needs the labels: -log p(x|y)
    await expect(model.testNll(valX, 1)).rejects.toThrow(/class labels/);
    // (what lab.evaluate passes a conditional model: the split's y, one-hot)
    expect(model.classes).toBe(10);
    const yv = labelsOneHot(data.val.y!, model.classes);
    const before = tf.memory().numTensors;
    const t = await model.testNll(valX, 1, yv);
    await model.classify(valX);
    await model.klPerDim(valX);
    model.reconstruct(valX, 3).dispose();
    model.encodeMean(valX).dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(t.kind).toBe('bound');
    expect(t.nll.every((v) => Number.isFinite(v) && v > 0)).toBe(true);
    expect(model.hasLatent).toBe(false);
    tf.dispose([valX, noise, s, z, s2, yv]);
    model.dispose();
  });
});

describe('vae', () => {
  it('reports train/kl_weight while KL warm-up ramps beta', async () => {
    const data = imageDataset('mnist', { binarize: true, limit: 600 });
    const model = new Vae({ latentDim: 4, hidden: [32], klWarmup: 10, beta: 2 });
    expect(model.metricKinds()['train/kl_weight']).toBe('info');
    const { ctx } = collectingContext();
    const weights: number[] = [];
    const run = await train(ctx, model, data, { steps: 15, batchSize: 32, evalEvery: 100, sampleEvery: 1000, checkpointEvery: 1000, onStep: (_s, m) => weights.push(m['train/kl_weight']) });
    expect(weights).toEqual(Array.from({ length: 15 }, (_, i) => 2 * Math.min(1, (i + 1) / 10)));
    expect(run.history('train/kl_weight').values).toHaveLength(15);
    model.dispose();
    // without warm-up there is nothing to report
    const plain = new Vae({ latentDim: 4, hidden: [32] });
    const seen: string[][] = [];
    await train(ctx, plain, data, { steps: 2, batchSize: 32, evalEvery: 100, sampleEvery: 1000, checkpointEvery: 1000, onStep: (_s, m) => seen.push(Object.keys(m)) });
    expect(seen.flat()).not.toContain('train/kl_weight');
    plain.dispose();
    // the IWAE objective with warm-up: the weight scales log p(z) - log q(z|x); train/loss stays the full bound
    const iw = new Vae({ latentDim: 4, hidden: [32], objective: 'iwae', k: 3, klWarmup: 4 });
    const steps: Record<string, number>[] = [];
    await train(ctx, iw, data, { steps: 6, batchSize: 32, evalEvery: 100, sampleEvery: 1000, checkpointEvery: 1000, onStep: (_s, m) => steps.push(m) });
    expect(steps.map((m) => m['train/kl_weight'])).toEqual([0.25, 0.5, 0.75, 1, 1, 1]);
    for (const m of steps) expect(Number.isFinite(m['train/loss'])).toBe(true);
    // below full weight the objective is looser than the bound it reports; at full weight it is the bound
    expect(steps[0]['train/objective']).toBeLessThan(steps[0]['train/loss']);
    expect(steps[5]['train/objective']).toBeUndefined();
    iw.dispose();
  });

  it('learns on an MNIST subset: loss falls, val/elbo is a finite bound <= 0, no tensor leak', async () => {
    const data = imageDataset('mnist', { binarize: true, limit: 2500 });
    const model = new Vae({ latentDim: 8, hidden: [128] });
    const { ctx, messages } = collectingContext();
    const losses: number[] = [];
    const tensorCounts: number[] = [];
    const t0 = Date.now();
    const run = await train(ctx, model, data, {
      steps: 150,
      batchSize: 64,
      lr: 2e-3,
      evalEvery: 75,
      sampleEvery: 1000,
      checkpointEvery: 1000,
      seed: 3,
      onStep: (step, m) => {
        losses.push(m['train/loss']);
        if (step === 20 || step === 140) tensorCounts.push(tf.memory().numTensors);
      },
    });
    const secs = (Date.now() - t0) / 1000;
    console.log(`vae 150 steps: ${secs.toFixed(1)} s; first20 ${mean(losses.slice(0, 20)).toFixed(1)} last20 ${mean(losses.slice(-20)).toFixed(1)}; val/elbo ${run.metrics['val/elbo']}`);
    expect(run.status).toBe('finished');
    expect(losses).toHaveLength(150);
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)) - 50);
    const elbo = run.metrics['val/elbo'];
    expect(Number.isFinite(elbo)).toBe(true);
    expect(elbo).toBeLessThanOrEqual(0);
    expect(run.history('val/elbo').steps).toEqual([0, 75, 150]);
    expect(run.metrics['val/bits_per_dim']).toBeCloseTo(-elbo / (784 * Math.LN2), 5);
    // no per-step tensor growth
    expect(tensorCounts[1]).toBe(tensorCounts[0]);
    const start = messages.find((m) => m.type === 'run.start');
    expect(start && start.type === 'run.start' && start.run.config.metricKinds).toMatchObject({ 'val/elbo': 'bound', 'train/loss': 'loss' });
    model.dispose();
  });
});
