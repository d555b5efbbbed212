// The classical families: the Gaussian mixture (EM never lowers the likelihood, BIC finds
// the number of components, the density integrates to 1), naive Bayes (the posterior is
// Bayes' rule computed independently, a second epoch counts nothing), the kernel density
// (integrates to 1, the validation bandwidth is the grid's best), the n-gram model (its
// conditionals sum to 1, it beats the unigram), probabilistic PCA (its likelihood is the
// Gaussian N(mu, W W^T + sigma^2 I) computed directly, and at q = D - 1 the full Gaussian
// fit), and the views that draw them.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { imageDataset } from '../../../../src/engine/data/mnist';
import { splitRows } from '../../../../src/engine/data/split';
import { textDataset } from '../../../../src/engine/data/text';
import type { Dataset } from '../../../../src/engine/data/types';
import { evaluateModel } from '../../../../src/engine/eval/evaluate';
import { classicalModels, classicalViews } from '../../../../src/engine/models/classical';
import { COVARIANCES, Gmm, selectGmm } from '../../../../src/engine/models/classical/gmm';
import { Kde } from '../../../../src/engine/models/classical/kde';
import { NaiveBayes } from '../../../../src/engine/models/classical/naive-bayes';
import { Ngram } from '../../../../src/engine/models/classical/ngram';
import { Pca, topEigen } from '../../../../src/engine/models/classical/pca';
import type { Model } from '../../../../src/engine/models/types';
import { cholesky, symEig } from '../../../../src/engine/ops/linalg';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';
import { recordingContext } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const { ctx } = collectingContext();
const quiet = { sampleEvery: 100000, checkpointEvery: 100000 };

/** a 'points' dataset of n rows drawn by `draw`, split 80/10/10 */
function points(name: string, n: number, D: number, draw: (rng: ReturnType<typeof mulberry32>) => number[], seed = 1): Dataset {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * D);
  for (let i = 0; i < n; i++) x.set(draw(rng), i * D);
  const splits = splitRows(x, n, D, seed + 1);
  return { name, kind: 'points', shape: [D], dim: D, binary: false, ...splits, settings: { seed }, fingerprint: `${name}-${seed}` };
}

/** a mixture of Gaussians with the given means, per-axis scales and weights */
function mixture(means: number[][], scales: number[][], weights?: number[]) {
  const w = weights ?? means.map(() => 1 / means.length);
  return (rng: ReturnType<typeof mulberry32>) => {
    let u = rng.next();
    let k = 0;
    while (k < w.length - 1 && u >= w[k]) u -= w[k++];
    return means[k].map((m, d) => m + scales[k][d] * rng.normal());
  };
}

/** log N(x; mu, C) computed directly: Cholesky of C, triangular solve */
function mvnLogPdf(x: ArrayLike<number>, mu: ArrayLike<number>, C: Float64Array, D: number): number {
  const L = cholesky(C, D);
  const y = new Float64Array(D);
  let maha = 0;
  let logDet = 0;
  for (let i = 0; i < D; i++) {
    let s = x[i] - mu[i];
    for (let j = 0; j < i; j++) s -= L[i * D + j] * y[j];
    y[i] = s / L[i * D + i];
    maha += y[i] * y[i];
    logDet += 2 * Math.log(L[i * D + i]);
  }
  return -0.5 * (D * Math.log(2 * Math.PI) + logDet + maha);
}

/** sum of p over a grid of cells covering [lo, hi]^2 */
async function gridIntegral(model: Model, lo: [number, number], hi: [number, number], size = 120): Promise<number> {
  const dx = (hi[0] - lo[0]) / size;
  const dy = (hi[1] - lo[1]) / size;
  const g = new Float32Array(size * size * 2);
  for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) g.set([lo[0] + (i + 0.5) * dx, lo[1] + (j + 0.5) * dy], 2 * (j * size + i));
  const t = tf.tensor2d(g, [size * size, 2]);
  const { nll } = await model.testNll!(t, 1);
  t.dispose();
  let s = 0;
  for (const v of nll) s += Math.exp(-v) * dx * dy;
  return s;
}

function recordingViews() {
  const { ctx, outputs } = recordingContext('classical.ipynb');
  return { views: classicalViews(ctx), outputs };
}

// three overlapping, anisotropic blobs in 3-D: EM needs many iterations to settle
const overlapping = points('overlap3d', 600, 3, mixture([[0, 0, 0], [1.5, 0.5, 0], [0.5, 1.8, 1]], [[1, 0.4, 0.7], [0.5, 1.2, 0.6], [0.8, 0.6, 1.1]], [0.5, 0.3, 0.2]));

describe('gmm', () => {
  it('EM never lowers the log-likelihood: every covariance type, several seeds', () => {
    let longest = 0;
    for (const covariance of COVARIANCES) {
      for (const seed of [1, 2, 3]) {
        const m = new Gmm({ components: 4, covariance, seed, reg: 0 });
        const { logLik, iters } = m.fit(overlapping.train.x, overlapping.train.n, { iters: 300, tol: 0 });
        longest = Math.max(longest, iters);
        for (let i = 1; i < logLik.length; i++) expect(logLik[i], `${covariance}, seed ${seed}, iteration ${i}`).toBeGreaterThanOrEqual(logLik[i - 1] - 1e-11);
        expect(logLik[logLik.length - 1]).toBeGreaterThan(logLik[0]);
      }
    }
    // the data is hard enough that EM is not done in a few steps
    expect(longest).toBeGreaterThan(30);
    // with the default regularisation it still never falls by more than rounding
    const m = new Gmm({ components: 4, covariance: 'full', seed: 5 });
    const { logLik } = m.fit(overlapping.train.x, overlapping.train.n, { iters: 100, tol: 0 });
    for (let i = 1; i < logLik.length; i++) expect(logLik[i]).toBeGreaterThanOrEqual(logLik[i - 1] - 1e-9);
  }, 30_000);

  it('BIC finds 3 well separated components, and 1 when there is one', () => {
    const three = points('three', 600, 2, mixture([[-4, 0], [4, 0], [0, 5]], [[1, 0.6], [0.7, 1.2], [1, 1]]));
    const s3 = selectGmm(three, { ks: [1, 2, 3, 4, 5, 6], covariance: 'full', seed: 1 });
    expect(s3.k).toBe(3);
    expect(s3.bic).toHaveLength(6);
    expect(s3.params).toEqual([5, 11, 17, 23, 29, 35]); // K D + K - 1 + K D (D + 1) / 2 with D = 2
    expect(s3.model.components).toBe(3);
    // one round Gaussian is one component of every type; an elongated one only for the types that can stretch
    const round = points('round', 600, 2, mixture([[1, -2]], [[0.8, 0.8]]));
    for (const covariance of COVARIANCES) expect(selectGmm(round, { ks: [1, 2, 3, 4], covariance, seed: 2 }).k, covariance).toBe(1);
    const long = points('long', 600, 2, mixture([[1, -2]], [[1.5, 0.5]]));
    for (const covariance of ['full', 'diag', 'tied'] as const) expect(selectGmm(long, { ks: [1, 2, 3, 4], covariance, seed: 2 }).k, covariance).toBe(1);
    // spherical components must tile it
    expect(selectGmm(long, { ks: [1, 2, 3, 4], covariance: 'spherical', seed: 2 }).k).toBeGreaterThan(1);
  }, 30_000);

  it("the fitted density integrates to 1 over a 2-D grid, for every covariance type", async () => {
    const three = points('three-b', 400, 2, mixture([[-2, 0], [2, 0], [0, 2.5]], [[0.8, 0.5], [0.5, 0.9], [0.7, 0.7]]), 3);
    for (const covariance of COVARIANCES) {
      const m = new Gmm({ components: 3, covariance, seed: 1 });
      m.fit(three.train.x, three.train.n, { iters: 50 });
      expect(await gridIntegral(m, [-8, -7], [8, 9]), covariance).toBeCloseTo(1, 3);
      // the mean log-likelihood of fit() is the mean of logProb
      const lp = m.logProb(three.train.x);
      expect(lp.every(Number.isFinite)).toBe(true);
    }
  }, 30_000);

  it('trains through lab.train (one EM iteration per step), samples from the mixture, and survives a checkpoint', async () => {
    const data = points('blobs', 500, 2, mixture([[-3, 0], [3, 1]], [[0.5, 0.5], [0.7, 0.3]], [0.3, 0.7]));
    const m = classicalModels.gmm({ components: 2 });
    const run = await train(ctx, m, data, { steps: 15, batchSize: data.train.n, evalEvery: 5, ...quiet });
    const ll = run.history('train/loglik').values;
    expect(ll).toHaveLength(15);
    for (let i = 1; i < ll.length; i++) expect(ll[i]).toBeGreaterThanOrEqual(ll[i - 1] - 1e-9);
    expect(run.metrics['val/nll']).toBeLessThan(3);
    const test = await evaluateModel(ctx, m, data.test);
    expect(test.kind).toBe('exact');
    // the rows of a tensor are read back; the methods that answer at once take arrays only
    expect((await m.testNll(tf.tensor2d(data.test.x, [data.test.n, 2]))).nll).toEqual(Float32Array.from(m.logProb(data.test.x), (v) => -v));
    expect(() => m.logProb(tf.zeros([2, 2]) as never)).toThrow('a Float32Array');
    // samples: the weights show in where they fall
    const s = await m.sample(4000, undefined, 9);
    const v = await s.data();
    s.dispose();
    let right = 0;
    for (let i = 0; i < 4000; i++) if (v[2 * i] > 0) right++;
    expect(right / 4000).toBeGreaterThan(0.66);
    expect(right / 4000).toBeLessThan(0.74);
    // checkpoint round trip
    const copy = new Gmm({ components: 2 });
    copy.build({ kind: 'points', shape: [2], binary: false }, mulberry32(0));
    copy.setWeights(m.getWeights());
    const a = m.logProb(data.test.x);
    const b = copy.logProb(data.test.x);
    for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i], 3);
    m.dispose();
  }, 30_000);

  it('fits higher-dimensional data: MNIST reduced by PCA (full), raw MNIST pixels (diag)', async () => {
    const mnist = imageDataset('mnist', { binarize: false, limit: 800 });
    const pca = new Pca({ components: 10 });
    pca.build({ kind: 'image', shape: [28, 28], binary: false });
    await pca.addRows(mnist.train.x, mnist.train.n);
    const reduced = pca.reduce(mnist);
    expect(reduced.dim).toBe(10);
    expect(reduced.train.y).toBe(mnist.train.y);
    const full = new Gmm({ components: 5, covariance: 'full', seed: 1 });
    const f = full.fit(reduced.train.x, reduced.train.n, { iters: 20 });
    expect(f.logLik[f.logLik.length - 1]).toBeGreaterThan(f.logLik[0]);
    const diag = new Gmm({ components: 4, covariance: 'diag', seed: 1 });
    const d = diag.fit(mnist.train.x, mnist.train.n, { iters: 5 });
    expect(d.logLik.every(Number.isFinite)).toBe(true);
    expect(d.logLik[d.logLik.length - 1]).toBeGreaterThan(d.logLik[0]);
    expect((await evaluateModel(ctx, diag, mnist.test)).perExample.every(Number.isFinite)).toBe(true);
  }, 30_000);

  it('refuses bad options, naming the option and the allowed values', () => {
    expect(() => classicalModels.gmm({ covariance: 'banded' as never })).toThrow("gmm: covariance must be 'full' | 'diag' | 'spherical' | 'tied'");
    expect(() => classicalModels.gmm({ components: 0 })).toThrow(/components/);
    expect(() => classicalModels.gmm({ reg: -1 })).toThrow(/reg/);
    expect(() => classicalModels.gmm.select(overlapping, { ks: [0] })).toThrow(/ks/);
    expect(() => classicalModels.kde({ bandwidth: 'silverman' as never })).toThrow(/bandwidth/);
    expect(() => classicalModels.ngram({ n: 0 })).toThrow(/n \(the order\)/);
    expect(() => classicalModels.naiveBayes({ alpha: -1 })).toThrow(/alpha/);
    expect(() => classicalModels.pca({ components: 2.5 })).toThrow(/components/);
    const p = classicalModels.pca({ components: 2 });
    expect(() => p.build({ kind: 'points', shape: [2], binary: false })).toThrow(/components must be 1\.\.1/);
  });
});

describe('naive Bayes', () => {
  const mnist = imageDataset('mnist', { binarize: true, limit: 1200 });

  it('the posterior is Bayes rule computed independently in float64: same argmax, rows summing to 1; one pass is counted, a second epoch adds nothing', async () => {
    const nb = classicalModels.naiveBayes();
    const { n, x, y } = mnist.train;
    expect(n).toBe(960);
    let afterOnePass: { classes: Float64Array; on: Float64Array } | null = null;
    // batches of 96: one pass is 10 steps; 25 steps run two and a half epochs
    const run = await train(ctx, nb, mnist, {
      steps: 25, batchSize: 96, evalEvery: 5, ...quiet,
      onStep: (step) => {
        if (step === 10) afterOnePass = nb.counts();
      },
    });
    const final = nb.counts();
    expect(Array.from(final.classes)).toEqual(Array.from(afterOnePass!.classes));
    expect(Array.from(final.on)).toEqual(Array.from(afterOnePass!.on));
    expect(nb.rows).toBe(960);
    expect(run.metrics['val/accuracy']).toBeGreaterThan(0.6);
    // the counts from the data directly, and Bayes' rule in float64
    const D = 784;
    const C = 10;
    const Nc = new Float64Array(C);
    const on = new Float64Array(C * D);
    for (let r = 0; r < n; r++) {
      Nc[y![r]]++;
      for (let i = 0; i < D; i++) on[y![r] * D + i] += x[r * D + i];
    }
    expect(Array.from(final.classes)).toEqual(Array.from(Nc));
    expect(Array.from(final.on)).toEqual(Array.from(on));
    const test = mnist.test;
    const logJoint = (r: number, c: number) => {
      let s = Math.log((Nc[c] + 1) / (n + C));
      for (let i = 0; i < D; i++) {
        const theta = (on[c * D + i] + 1) / (Nc[c] + 2);
        s += test.x[r * D + i] === 1 ? Math.log(theta) : Math.log(1 - theta);
      }
      return s;
    };
    const pred = nb.classify(test.x);
    const xt = tf.tensor2d(test.x, [test.n, D]);
    // a tensor's rows are read back (async); an array's are used at once: the same numbers
    expect(Array.from(await nb.classify(xt))).toEqual(Array.from(pred));
    const post = await nb.posterior(xt);
    const pv = await post.data();
    const postArray = nb.posterior(test.x);
    expect(Array.from(await postArray.data())).toEqual(Array.from(pv));
    tf.dispose([xt, post, postArray]);
    for (let r = 0; r < test.n; r++) {
      const lj = Array.from({ length: C }, (_, c) => logJoint(r, c));
      const best = lj.indexOf(Math.max(...lj));
      expect(pred[r]).toBe(best);
      const m = Math.max(...lj);
      const lse = m + Math.log(lj.reduce((a, v) => a + Math.exp(v - m), 0));
      let sum = 0;
      for (let c = 0; c < C; c++) {
        expect(pv[r * C + c]).toBeCloseTo(lj[c] - lse, 2);
        sum += Math.exp(pv[r * C + c]);
      }
      expect(sum).toBeCloseTo(1, 5);
    }
    // testNll marginalises the class: -log sum_c p(x, c)
    const ev = await evaluateModel(ctx, nb, test);
    expect(ev.kind).toBe('exact');
    const lj0 = Array.from({ length: C }, (_, c) => logJoint(0, c));
    const m0 = Math.max(...lj0);
    expect(ev.perExample[0]).toBeCloseTo(-(m0 + Math.log(lj0.reduce((a, v) => a + Math.exp(v - m0), 0))), 2);
  }, 60_000);

  it('samples each class: row r is class r mod 10, pixels drawn from that class; sampleClass too; checkpoints restore the counts', async () => {
    const nb = new NaiveBayes();
    await train(ctx, nb, mnist, { steps: 1, batchSize: mnist.train.n, ...quiet });
    const means = nb.classMeans();
    const s = await nb.sample(2000, undefined, 4);
    const v = await s.data();
    s.dispose();
    // the bank drawn without a tensor is the one noise() makes
    const bank = nb.noise(2000, 4);
    const again = await nb.sample(2000, bank);
    expect(Array.from(await again.data())).toEqual(Array.from(v));
    tf.dispose([bank, again]);
    // the mean of the class-3 rows approaches p(x_i = 1 | y = 3)
    const D = 784;
    let err = 0;
    for (let i = 0; i < D; i++) {
      let m = 0;
      for (let r = 3; r < 2000; r += 10) m += v[r * D + i] / 200;
      err = Math.max(err, Math.abs(m - means[3 * D + i]));
    }
    expect(err).toBeLessThan(0.15);
    const c7 = nb.sampleClass(7, 5, 1);
    expect(c7.shape).toEqual([5, 784]);
    // sampleClass draws with the bank noise(n, seed) holds
    const bank7 = nb.noise(5, 1);
    const u7 = await bank7.data();
    const cv = await c7.data();
    for (let k = 0; k < 5 * D; k++) expect(cv[k]).toBe(u7[k] < means[7 * D + (k % D)] ? 1 : 0);
    tf.dispose([c7, bank7]);
    const copy = new NaiveBayes();
    copy.build({ kind: 'image', shape: [28, 28], binary: true, classes: 10 });
    copy.setWeights(nb.getWeights());
    expect(Array.from(copy.classify(mnist.test.x))).toEqual(Array.from(nb.classify(mnist.test.x)));
  }, 30_000);
});

describe('kde', () => {
  const data = points('kde-blobs', 1000, 2, mixture([[-1.5, 0], [1.5, 0.5]], [[0.5, 0.8], [0.6, 0.4]]));

  it('integrates to 1 in 2-D; the validation bandwidth is finite, in the grid and the grid value with the best validation likelihood', async () => {
    const kde = new Kde();
    const run = await train(ctx, kde, data, { steps: 3, batchSize: data.train.n, ...quiet });
    const h = kde.bandwidth!;
    const grid = kde.grid();
    expect(Number.isFinite(h)).toBe(true);
    expect(grid).toContain(h);
    const sel = kde.selection!;
    expect(sel.logLik[sel.bandwidths.indexOf(h)]).toBe(Math.max(...sel.logLik));
    // neither end of the grid: the search brackets the optimum
    expect(h).toBeGreaterThan(grid[0]);
    expect(h).toBeLessThan(grid[grid.length - 1]);
    expect(run.metrics['val/bandwidth']).toBe(h);
    expect(kde.points).toBe(data.train.n);
    expect(await gridIntegral(kde, [-6, -5], [6, 6])).toBeCloseTo(1, 3);
    const fixed = new Kde({ bandwidth: 0.3 });
    await fixed.fit(data.train.x, data.train.n);
    expect(await gridIntegral(fixed, [-6, -5], [6, 6])).toBeCloseTo(1, 3);
    const ev = await evaluateModel(ctx, kde, data.test);
    expect(ev.kind).toBe('estimate');
    expect(ev.details).toEqual({ bandwidth: h, points: data.train.n });
  }, 30_000);

  it('large inputs take the matMul path and agree with the float64 sums', async () => {
    const mnist = imageDataset('mnist', { binarize: false, limit: 300 });
    const kde = new Kde({ bandwidth: 0.4 });
    await kde.fit(mnist.train.x, mnist.train.n);
    // 30 query rows x 240 points x 784 stays on the exact path; 300 rows go through tf.matMul
    const exact = await kde.logProb(mnist.test.x);
    const big = new Float32Array(300 * 784);
    for (let r = 0; r < 10; r++) big.set(mnist.test.x, r * 30 * 784);
    const fast = await kde.logProb(big);
    for (let i = 0; i < 30; i++) expect(fast[i]).toBeCloseTo(exact[i], 1);
  }, 30_000);
});

describe('ngram', () => {
  const text = textDataset({ limit: 400 });

  it('every conditional sums to 1 over the vocabulary, seen and unseen contexts alike; the trigram beats the unigram on its training text', async () => {
    const tri = new Ngram({ n: 3 });
    const uni = new Ngram({ n: 1 });
    await train(ctx, tri, text, { steps: 4, batchSize: text.train.n, ...quiet });
    await train(ctx, uni, text, { steps: 1, batchSize: text.train.n, ...quiet });
    const rng = mulberry32(3);
    const contexts: number[][] = [[], [5], [0, 0], [95, 95, 95]];
    for (let i = 0; i < 40; i++) {
      const start = rng.int(text.train.n * 128 - 4);
      contexts.push(Array.from(text.train.x.subarray(start, start + 1 + (i % 3))));
    }
    for (const c of contexts) {
      const p = tri.distribution(c);
      expect(p).toHaveLength(96);
      expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
      expect(Math.min(...p)).toBeGreaterThan(0);
    }
    // the per-row NLL is the chain rule over the same conditionals
    const row = text.val.x.subarray(0, 128);
    let direct = 0;
    for (let t = 0; t < 128; t++) direct -= Math.log(tri.distribution(Array.from(row.subarray(0, t)))[row[t]]);
    const t0 = tf.tensor2d(row, [1, 128]);
    expect((await tri.testNll(t0)).nll[0]).toBeCloseTo(direct, 2);
    t0.dispose();
    expect(tri.perplexity(text.train.x)).toBeLessThan(uni.perplexity(text.train.x) * 0.5);
    expect(tri.perplexity(text.val.x)).toBeLessThan(uni.perplexity(text.val.x));
    // counting once: 4 steps of the whole training set counted it once
    expect(tri.rows).toBe(text.train.n);
  }, 30_000);

  it('samples text from a fixed bank and completes prompts; checkpoints restore the counts', async () => {
    const m = new Ngram({ n: 4 });
    const run = await train(ctx, m, text, { steps: 1, batchSize: text.train.n, ...quiet });
    expect(run.metrics['val/perplexity']).toBeCloseTo(Math.exp(run.metrics['val/nll'] / 128), 6);
    const a = m.complete('interface ', { n: 2, length: 40, seed: 3 });
    const b = m.complete('interface ', { n: 2, length: 40, seed: 3 });
    expect(a).toEqual(b);
    expect(a[0].startsWith('interface ')).toBe(true);
    expect(a[0]).toHaveLength(40);
    const s = await m.sample(3, undefined, 1);
    expect(s.shape).toEqual([3, 128]);
    const sv = Array.from(await s.data());
    expect(sv.every((v) => Number.isInteger(v) && v >= 0 && v < 96)).toBe(true);
    // the bank drawn without a tensor is the one noise() makes
    const bank = m.noise(3, 1);
    const again = await m.sample(3, bank);
    expect(Array.from(await again.data())).toEqual(sv);
    tf.dispose([s, bank, again]);
    const copy = new Ngram({ n: 4 });
    copy.build({ kind: 'sequence', shape: [128], binary: false, levels: 96, text: true });
    copy.setWeights(m.getWeights());
    expect(copy.perplexity(text.val.x)).toBeCloseTo(m.perplexity(text.val.x), 4);
  }, 30_000);
});

describe('probabilistic PCA', () => {
  const D = 5;
  // correlated 5-D Gaussian data
  const A = [[1, 0, 0, 0, 0], [0.8, 0.6, 0, 0, 0], [0.3, -0.5, 0.7, 0, 0], [0, 0.2, 0.4, 0.3, 0], [0.5, 0, -0.3, 0.1, 0.2]];
  const data = points('corr5', 2000, D, (rng) => {
    const z = Array.from({ length: D }, () => rng.normal());
    return A.map((row, i) => row.reduce((s, a, j) => s + a * z[j], 0) + i);
  });

  it("its log-likelihood is log N(x; mu, W W^T + sigma^2 I) computed directly; q = D - 1 is the full-covariance Gaussian fit", async () => {
    const p2 = new Pca({ components: 2 });
    await train(ctx, p2, data, { steps: 2, batchSize: data.train.n, ...quiet });
    const { mean, W, sigma2 } = p2.parameters();
    const C = new Float64Array(D * D);
    for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) {
      let s = i === j ? sigma2 : 0;
      for (let k = 0; k < 2; k++) s += W[i * 2 + k] * W[j * 2 + k];
      C[i * D + j] = s;
    }
    const lp = p2.logProb(data.test.x);
    for (let r = 0; r < 20; r++) expect(lp[r]).toBeCloseTo(mvnLogPdf(data.test.x.subarray(r * D, (r + 1) * D), mean, C, D), 8);
    // sigma^2 is the mean of the discarded eigenvalues of the data's covariance
    const { cov } = p2.moments();
    const eig = symEig(cov, D).values;
    expect(sigma2).toBeCloseTo((eig[2] + eig[3] + eig[4]) / 3, 10);
    // q = D - 1: the full-covariance maximum-likelihood Gaussian
    const p4 = new Pca({ components: D - 1 });
    await p4.fit(data.train.x, data.train.n);
    const mu = new Float64Array(D);
    const n = data.train.n;
    for (let r = 0; r < n; r++) for (let d = 0; d < D; d++) mu[d] += data.train.x[r * D + d] / n;
    const S = new Float64Array(D * D);
    for (let r = 0; r < n; r++) for (let i = 0; i < D; i++) for (let j = 0; j < D; j++) S[i * D + j] += ((data.train.x[r * D + i] - mu[i]) * (data.train.x[r * D + j] - mu[j])) / n;
    const lp4 = p4.logProb(data.test.x);
    for (let r = 0; r < 20; r++) expect(lp4[r]).toBeCloseTo(mvnLogPdf(data.test.x.subarray(r * D, (r + 1) * D), mu, S, D), 6);
    // more components never lower the training likelihood
    const mean2 = p2.logProb(data.train.x).reduce((a, b) => a + b, 0);
    const mean4 = p4.logProb(data.train.x).reduce((a, b) => a + b, 0);
    expect(mean4).toBeGreaterThan(mean2);
  }, 30_000);

  it('subspace iteration finds the same top eigenpairs as the full Jacobi decomposition', async () => {
    const n = 120;
    const rng = mulberry32(7);
    const B = Array.from({ length: n * 40 }, () => rng.normal());
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = i === j ? 0.01 : 0;
      for (let k = 0; k < 40; k++) s += (B[i * 40 + k] * B[j * 40 + k]) / (k + 1);
      M[i * n + j] = s;
    }
    const full = symEig(M, n);
    const top = await topEigen(M, n, 6);
    for (let k = 0; k < 6; k++) {
      expect(Math.abs(top.lambda[k] - full.values[k]) / full.values[k]).toBeLessThan(1e-10);
      let dot = 0;
      for (let i = 0; i < n; i++) dot += top.U[k * n + i] * full.vectors[i * n + k];
      expect(Math.abs(dot)).toBeCloseTo(1, 5);
    }
  }, 30_000);

  it('on 8-bit images: dequantized, scored on the 8-bit scale; encodes, reconstructs and samples', async () => {
    const mnist = imageDataset('mnist', { binarize: false, limit: 600 });
    const p = classicalModels.pca({ components: 8 });
    const run = await train(ctx, p, mnist, { steps: 5, batchSize: 120, evalEvery: 1, ...quiet });
    // evaluated once the pass was counted (step 4) and at the end, not on every partial pass
    expect(run.history('val/nll').steps).toEqual([4, 5]);
    expect(p.dequantized).toBe(true);
    const ev = await evaluateModel(ctx, p, mnist.test);
    expect(ev.kind).toBe('exact');
    // positive on the 8-bit scale, below a uniform density's 8 bits/dim
    expect(ev.nll_nats).toBeGreaterThan(0);
    expect(ev.bits_per_dim).toBeLessThan(8);
    const ex = p.explainedVariance();
    expect(ex.cumulative[7]).toBeGreaterThan(ex.cumulative[0]);
    expect(ex.cumulative[7]).toBeLessThan(1);
    const x = tf.tensor2d(mnist.test.x.subarray(0, 4 * 784), [4, 784]);
    const z = await p.encodeMean(x);
    expect(z.shape).toEqual([4, 8]);
    const rec = await p.reconstruct(x);
    const err = tf.tidy(() => tf.mean(tf.square(tf.sub(rec, x))).dataSync()[0]);
    expect(err).toBeLessThan(0.05);
    const s = await p.sample(6, undefined, 2);
    const codes = z.slice([0, 0], [4, 8]) as tf.Tensor2D;
    const means = await p.sample(6, codes, 0);
    expect(s.shape).toEqual([6, 784]);
    expect(means.shape).toEqual([6, 784]);
    // the codes alone decode to the means mu + W z: what decode gives
    const dec = await p.decode(codes);
    expect(Array.from(await means.slice([0, 0], [4, 784]).data())).toEqual(Array.from(await dec.data()));
    // a checkpoint of the fit (computed after the pass) restores the same likelihood
    const copy = classicalModels.pca({ components: 8 });
    copy.build({ kind: 'image', shape: [28, 28], binary: false });
    copy.setWeights(await p.getWeights());
    const [la, lb] = [p.logProb(mnist.test.x), copy.logProb(mnist.test.x)];
    for (let i = 0; i < la.length; i++) expect(Math.abs(lb[i] - la[i])).toBeLessThan(1e-4 * Math.abs(la[i]));
    tf.dispose([x, z, rec, s, means, codes, dec]);
  }, 30_000);
});

describe('views', () => {
  it('gmmEllipses: the ellipses are the eigen-decomposition of each covariance (semi-axes and angle)', async () => {
    const c = Math.cos(0.5);
    const s = Math.sin(0.5);
    // one Gaussian, standard deviations 2 and 0.5 along axes rotated by 0.5 rad
    const data = points('tilted', 3000, 2, (rng) => {
      const u = 2 * rng.normal();
      const v = 0.5 * rng.normal();
      return [1 + c * u - s * v, -1 + s * u + c * v];
    });
    const m = new Gmm({ components: 1 });
    m.fit(data.train.x, data.train.n, { iters: 5 });
    const { views, outputs } = recordingViews();
    const r = await views.gmmEllipses(m, data);
    expect(r.components).toBe(1);
    const e = r.ellipses[0];
    expect(e.axes[0]).toBeCloseTo(2, 1);
    expect(e.axes[1]).toBeCloseTo(0.5, 1);
    expect(e.angle).toBeCloseTo(0.5, 1);
    expect(e.mean[0]).toBeCloseTo(1, 1);
    expect(e.weight).toBe(1);
    const plot = outputs.find((o) => o.type === 'plot');
    expect(plot).toBeDefined();
    // data, 1σ and 2σ ellipses, the means
    expect((plot as { data: unknown[] }).data).toHaveLength(4);
    await expect(views.gmmEllipses(new Kde() as never, data)).rejects.toThrow(/gmm/);
  });

  it('gmmCovariances: four panels; with one component full = tied >= diag >= spherical in log-likelihood; gmmBic plots a selection', async () => {
    const data = points('tilted-b', 800, 2, (rng) => {
      const u = rng.normal();
      return [u + 0.3 * rng.normal(), 0.8 * u + 0.2 * rng.normal()];
    });
    const { views, outputs } = recordingViews();
    const r = await views.gmmCovariances(data, { k: 1 });
    expect(r.covariance).toEqual(['full', 'diag', 'spherical', 'tied']);
    const [full, diag, sph, tied] = r.logLik;
    expect(tied).toBeCloseTo(full, 6);
    expect(full).toBeGreaterThan(diag);
    expect(diag).toBeGreaterThan(sph);
    expect(r.params).toEqual([5, 4, 3, 5]);
    expect(r.best).toBe('full');
    expect(outputs.filter((o) => o.type === 'plot')).toHaveLength(1);
    const sel = classicalModels.gmm.select(data, { ks: [1, 2, 3] });
    expect(await views.gmmBic(sel)).toEqual({ k: sel.k, ks: [1, 2, 3], bic: sel.bic });
    expect(outputs.filter((o) => o.type === 'plot')).toHaveLength(2);
  }, 30_000);

  it('naiveBayesClasses draws a row per class; pcaComponents plots the explained variance and draws the axes of images only', async () => {
    const mnist = imageDataset('mnist', { binarize: true, limit: 300 });
    const nb = new NaiveBayes();
    await train(ctx, nb, mnist, { steps: 1, batchSize: mnist.train.n, ...quiet });
    const { views, outputs } = recordingViews();
    expect(await views.naiveBayesClasses(nb, { n: 4 })).toMatchObject({ classes: 10 });
    expect(outputs.filter((o) => o.type === 'image')).toHaveLength(1);
    await expect(views.naiveBayesClasses(new Pca() as never)).rejects.toThrow(/naiveBayes/);
    const p = new Pca({ components: 3 });
    await train(ctx, p, mnist, { steps: 1, batchSize: mnist.train.n, ...quiet });
    const r = await views.pcaComponents(p, { n: 3 });
    expect(r.cumulative).toEqual(p.explainedVariance().cumulative);
    expect(r.path).toMatch(/pca-components/);
    const flat = new Pca({ components: 2 });
    await flat.fit(Float32Array.from({ length: 40 * 3 }, (_, i) => Math.sin(i * 1.7) + (i % 3)), 40);
    expect((await views.pcaComponents(flat)).path).toBeNull();
    expect(outputs.filter((o) => o.type === 'plot')).toHaveLength(2);
    expect(outputs.filter((o) => o.type === 'image')).toHaveLength(2);
  }, 30_000);
});
