// Sample-quality metrics: the pinned classifiers, FID / KID / precision-recall / class
// coverage on their features, nearest neighbours, and lab.evaluate recording them on a
// run (kind 'sample') for models without a likelihood and beside one with.
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { classifiersDir, loadClassifier, type Classifier } from '../../../../src/engine/eval/classifier';
import { evaluateModel, type ImageSampleMetrics, type LikelihoodEvaluation, type PointSampleMetrics } from '../../../../src/engine/eval/evaluate';
import { classCoverage, fid, frechetDistance, gaussianFit, kid, nearestNeighbours, precisionRecall } from '../../../../src/engine/eval/sample-metrics';
import { createLab } from '../../../../src/engine/lab/lab';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { metricKindOf, sampleNotComparable } from '../../../../src/shared/compare';
import { exportReport, sampleSection } from '../../../../src/main/services/exports';
import { Tracker } from '../../../../src/main/services/tracker';
import type { RunRecord } from '../../../../src/shared/domain';
import { collectingContext } from '../../../helpers/engine';

const tmp = mkdtempSync(join(tmpdir(), 'latentlab-sample-metrics-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const { ctx: plainCtx } = collectingContext();
const lab = createLab(plainCtx);
const grey = lab.data.mnist({ binarize: false });
const clf: Classifier = loadClassifier('mnist');
const F = clf.featureDim;
// features of the whole train split (8000) and test split (1000), once
const trainOut = clf.run(grey.train.x, grey.train.n);
const testOut = clf.run(grey.test.x, grey.test.n);
const rows = (f: Float64Array, from: number, n: number) => f.subarray(from * F, (from + n) * F);

function noiseImages(n: number, seed: number, kind: 'uniform' | 'shuffled' | 'blank'): Float32Array {
  const rng = mulberry32(seed);
  const x = new Float32Array(n * 784);
  for (let i = 0; i < n; i++) {
    if (kind === 'uniform') for (let j = 0; j < 784; j++) x[i * 784 + j] = rng.next();
    else if (kind === 'shuffled') {
      // a test image with its pixels in random places: the same intensities, no shape
      const src = grey.test.x.subarray((i % grey.test.n) * 784, ((i % grey.test.n) + 1) * 784);
      const p = Array.from({ length: 784 }, (_, j) => j);
      for (let j = 783; j > 0; j--) {
        const k = rng.int(j + 1);
        [p[j], p[k]] = [p[k], p[j]];
      }
      for (let j = 0; j < 784; j++) x[i * 784 + j] = src[p[j]];
    }
  }
  return x;
}

describe('pinned classifiers', () => {
  it('refuses a weights file whose sha256 differs from the pinned one', () => {
    const info = clf.info;
    copyFileSync(join(classifiersDir(), `${info.version}.json`), join(tmp, `${info.version}.json`));
    const bin = readFileSync(join(classifiersDir(), info.weights));
    writeFileSync(join(tmp, info.weights), bin);
    // an intact copy loads and agrees with the shipped one
    const copy = loadClassifier('mnist', { dir: tmp });
    expect(Array.from(copy.run(grey.test.x, 5).classes)).toEqual(Array.from(testOut.classes.subarray(0, 5)));
    const bad = Buffer.from(bin);
    bad[1001] ^= 0x10; // one bit of one weight
    const dir2 = mkdtempSync(join(tmp, 'bad-'));
    copyFileSync(join(tmp, `${info.version}.json`), join(dir2, `${info.version}.json`));
    writeFileSync(join(dir2, info.weights), bad);
    expect(() => loadClassifier('mnist', { dir: dir2 })).toThrow(/sha256 .* not the pinned/);
    expect(() => loadClassifier('cifar')).toThrow(/no pinned classifier for 'cifar'/);
  });

  it('reaches the test accuracy its JSON claims (±0.5 %), on grey and binarized images', () => {
    for (const [which, data, binary] of [
      ['mnist', grey, lab.data.mnist()],
      ['fashion-mnist', lab.data.fashionMnist({ binarize: false, limit: 10000 }), lab.data.fashionMnist({ limit: 10000 })],
    ] as const) {
      const c = loadClassifier(which);
      expect(c.info.trainedOn.images).toBe(data.train.n);
      expect(c.info.architecture.featureDim).toBe(64);
      const acc = (s: typeof data.test) => {
        const { classes } = c.run(s.x, s.n);
        let k = 0;
        for (let i = 0; i < s.n; i++) k += classes[i] === s.y![i] ? 1 : 0;
        return k / s.n;
      };
      expect(Math.abs(acc(data.test) - c.info.testAccuracy)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(acc(binary.test) - c.info.testAccuracyBinarized)).toBeLessThanOrEqual(0.005);
      expect(c.info.testAccuracy).toBeGreaterThan(which === 'mnist' ? 0.95 : 0.8);
    }
  });
});

describe('FID', () => {
  it('is far lower for the test set than for noise, against the training set', () => {
    const train = trainOut.features;
    const fTest = fid(testOut.features, grey.test.n, train, grey.train.n, F);
    const noise = (kind: 'uniform' | 'shuffled' | 'blank') => fid(clf.run(noiseImages(1000, 5, kind), 1000).features, 1000, train, grey.train.n, F);
    const [uni, shuf, blank] = [noise('uniform'), noise('shuffled'), noise('blank')];
    console.log(`FID vs train: test ${fTest.toFixed(2)}, uniform noise ${uni.toFixed(1)}, shuffled pixels ${shuf.toFixed(1)}, blank ${blank.toFixed(1)}`);
    for (const v of [uni, shuf, blank]) expect(fTest).toBeLessThan(0.05 * v);
  });

  it('is 0 for a set with itself and symmetric', () => {
    const a = rows(trainOut.features, 0, 1000);
    const b = rows(trainOut.features, 1000, 1000);
    const scale = fid(a, 1000, clf.run(noiseImages(1000, 6, 'uniform'), 1000).features, 1000, F);
    expect(fid(a, 1000, a, 1000, F)).toBeLessThan(1e-6 * scale);
    const ab = fid(a, 1000, b, 1000, F);
    const ba = fid(b, 1000, a, 1000, F);
    expect(ab).toBeGreaterThan(0);
    expect(Math.abs(ab - ba)).toBeLessThan(1e-6 * ab);
  });

  it('matches the closed form for two Gaussians', () => {
    // 2x2: Tr (S1 S2)^{1/2} = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2)), S1 and S2 not commuting
    const s1 = [2, 0.8, 0.8, 1], s2 = [0.5, -0.3, -0.3, 1.5];
    const mu1 = [1, -2], mu2 = [0.5, 1];
    const tr12 = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
    const det = (s: number[]) => s[0] * s[3] - s[1] * s[2];
    const closed = (mu1[0] - mu2[0]) ** 2 + (mu1[1] - mu2[1]) ** 2 + s1[0] + s1[3] + s2[0] + s2[3] - 2 * Math.sqrt(tr12 + 2 * Math.sqrt(det(s1) * det(s2)));
    const exact = frechetDistance({ mu: Float64Array.from(mu1), sigma: Float64Array.from(s1), d: 2, n: 0 }, { mu: Float64Array.from(mu2), sigma: Float64Array.from(s2), d: 2, n: 0 });
    expect(exact).toBeCloseTo(closed, 10);
    // diagonal covariances in 5-D: ||dmu||^2 + sum (sqrt a - sqrt b)^2
    const a = [1, 4, 0.25, 2, 9], b = [4, 1, 1, 2, 0.01];
    const diag = (v: number[]) => Float64Array.from({ length: 25 }, (_, k) => (k % 6 === 0 ? v[k / 6] : 0));
    const m1 = [0, 1, 2, 3, 4], m2 = [1, 1, 1, 1, 1];
    const closed5 = m1.reduce((s, v, i) => s + (v - m2[i]) ** 2, 0) + a.reduce((s, v, i) => s + (Math.sqrt(v) - Math.sqrt(b[i])) ** 2, 0);
    expect(frechetDistance({ mu: Float64Array.from(m1), sigma: diag(a), d: 5, n: 0 }, { mu: Float64Array.from(m2), sigma: diag(b), d: 5, n: 0 })).toBeCloseTo(closed5, 9);
    // and estimated from samples of the two 2-D Gaussians (x = mu + L eps)
    const rng = mulberry32(3);
    const draw = (mu: number[], s: number[], n: number) => {
      const l00 = Math.sqrt(s[0]), l10 = s[2] / l00, l11 = Math.sqrt(s[3] - l10 * l10);
      const x = new Float64Array(2 * n);
      for (let i = 0; i < n; i++) {
        const e0 = rng.normal(), e1 = rng.normal();
        x[2 * i] = mu[0] + l00 * e0;
        x[2 * i + 1] = mu[1] + l10 * e0 + l11 * e1;
      }
      return x;
    };
    const est = fid(draw(mu1, s1, 20000), 20000, draw(mu2, s2, 20000), 20000, 2);
    expect(Math.abs(est - closed)).toBeLessThan(0.03 * closed);
    expect(gaussianFit(draw(mu1, s1, 20000), 20000, 2).sigma[1]).toBeCloseTo(0.8, 1);
  });
});

describe('KID, precision/recall, class coverage, nearest neighbours', () => {
  it('KID is about 0 for a set against itself or another draw, and far higher for noise', () => {
    const a = rows(trainOut.features, 0, 600);
    const b = rows(trainOut.features, 600, 600);
    const self = kid(a, 600, a, 600, F, { subsets: 50 });
    const other = kid(a, 600, b, 600, F, { subsets: 50 });
    const noise = kid(clf.run(noiseImages(600, 7, 'uniform'), 600).features, 600, a, 600, F, { subsets: 50 });
    console.log(`KID: self ${self.kid.toExponential(2)} ± ${self.std.toExponential(2)}, train halves ${other.kid.toExponential(2)} ± ${other.std.toExponential(2)}, noise ${noise.kid.toFixed(3)} ± ${noise.std.toExponential(2)}`);
    expect(Math.abs(self.kid)).toBeLessThan(0.01 * noise.kid);
    expect(Math.abs(other.kid)).toBeLessThan(0.01 * noise.kid);
    expect(Math.abs(other.kid)).toBeLessThan(3 * other.std);
    expect(noise.kid).toBeGreaterThan(20 * noise.std);
  });

  it('precision and recall are 1 for the training set against itself and about 0 for noise', () => {
    const a = rows(trainOut.features, 0, 1000);
    expect(precisionRecall(a, 1000, a, 1000, F)).toEqual({ precision: 1, recall: 1 });
    const noise = precisionRecall(a, 1000, clf.run(noiseImages(500, 8, 'uniform'), 500).features, 500, F);
    const shuffled = precisionRecall(a, 1000, clf.run(noiseImages(500, 9, 'shuffled'), 500).features, 500, F);
    const test = precisionRecall(a, 1000, rows(testOut.features, 0, 500), 500, F);
    console.log(`precision/recall vs 1000 train: test ${JSON.stringify(test)}, uniform noise ${JSON.stringify(noise)}, shuffled ${JSON.stringify(shuffled)}`);
    expect(noise.precision).toBeLessThan(0.02);
    expect(noise.recall).toBeLessThan(0.02);
    // shuffled pixels keep the amount of ink, and their weak features land in the wide balls of
    // faint training digits (k-NN precision's known weakness to outliers): lower, not 0; none recall
    expect(shuffled.precision).toBeLessThan(test.precision / 2);
    expect(shuffled.recall).toBeLessThan(0.02);
    expect(test.precision).toBeGreaterThan(0.7);
    expect(test.recall).toBeGreaterThan(0.7);
  });

  it('class coverage is 10/10 on the test set and 1 on a single class', () => {
    const all = classCoverage(testOut.classes, 10);
    expect(all.covered).toBe(10);
    expect(all.entropy).toBeGreaterThan(0.98 * Math.log(10));
    const threes = Uint8Array.from(testOut.classes.filter((_, i) => grey.test.y![i] === 3));
    const one = classCoverage(threes, 10);
    expect(one.covered).toBe(1);
    expect(one.entropy).toBeLessThan(0.3);
    expect(classCoverage([0, 0, 0, 1], 2)).toMatchObject({ covered: 2, histogram: [3, 1] }); // 1 >= half of 2 per class
    expect(classCoverage([0, 0, 0, 0, 0, 0, 0, 1], 2).covered).toBe(1);
  });

  it('finds each copy of a training image at distance 0', () => {
    const idx = [5, 77, 4000];
    const q = new Float32Array(idx.length * 784);
    idx.forEach((r, i) => q.set(grey.train.x.subarray(r * 784, (r + 1) * 784), i * 784));
    const nn = nearestNeighbours(q, idx.length, grey.train.x, grey.train.n, 784);
    expect(Array.from(nn.index)).toEqual(idx);
    for (const d of nn.distance) expect(d).toBeLessThan(1e-3);
    const t = nearestNeighbours(grey.test.x, 20, grey.train.x, grey.train.n, 784);
    for (const d of t.distance) expect(d).toBeGreaterThan(1);
  });
});

describe('lab.evaluate with sample metrics', () => {
  it('records MMD of kind sample for a GAN on 2-D data', async () => {
    const { ctx, messages } = collectingContext();
    const l = createLab(ctx);
    const data = l.data.toy2d('8gaussians');
    expect(data.test.source).toBe('8gaussians');
    const model = l.models.gan({ latentDim: 2, hidden: [32, 32] });
    const run = await l.train(model, data, { steps: 12, batchSize: 64, sampleEvery: 1000, checkpointEvery: 1000 });
    const ev = (await evaluateModel(ctx, model, data.test)) as PointSampleMetrics & { runId: string };
    expect(ev).toMatchObject({ kind: 'sample', n: 1000, nRef: data.test.n, runId: run.id });
    expect(ev.mmd).toBeGreaterThan(0);
    expect(run.metrics['test/mmd']).toBe(ev.mmd);
    expect(run.metrics['test/sample_n']).toBe(1000);
    const msg = messages.find((m) => m.type === 'run.eval' && m.runId === run.id) as { points: { key: string; value: number }[]; kinds?: Record<string, string> };
    expect(msg.points.map((p) => p.key)).toEqual(['test/mmd', 'test/sample_n']);
    expect(msg.kinds).toEqual({ 'test/mmd': 'sample', 'test/sample_n': 'info' });
    // the same seed draws the same samples: the same MMD
    expect(((await evaluateModel(ctx, model, data.test, { record: false })) as PointSampleMetrics).mmd).toBe(ev.mmd);
    // the data itself scores far lower than the barely trained GAN
    expect(ev.mmd).toBeGreaterThan(0.1);
    await expect(evaluateModel(ctx, model, data.test, { samples: 3 })).rejects.toThrow(/samples must be a whole number of at least 10/);
  });

  it('records FID, KID, precision, recall and class coverage for a GAN on MNIST, and adds them to a likelihood', async () => {
    const { ctx, messages } = collectingContext();
    const l = createLab(ctx);
    const data = l.data.mnist({ limit: 2000 });
    expect(data.test.source).toBe('mnist');
    const gan = l.models.gan({ latentDim: 8, hidden: [64] });
    const run = await l.train(gan, data, { steps: 5, batchSize: 32, sampleEvery: 1000, checkpointEvery: 1000 });
    const ev = (await evaluateModel(ctx, gan, data.test, { samples: 200 })) as ImageSampleMetrics & { runId: string };
    expect(ev).toMatchObject({ kind: 'sample', n: 200, nRef: data.test.n, classifier: 'mnist-mlp-v1', classifierVersion: 1, runId: run.id });
    for (const k of ['fid', 'kid', 'kidStd', 'precision', 'recall', 'classCoverage'] as const) expect(Number.isFinite(ev[k])).toBe(true);
    // an untrained GAN's blobs are far from digits
    expect(ev.fid).toBeGreaterThan(10);
    expect(ev.precision).toBeLessThan(0.2);
    const msg = messages.find((m) => m.type === 'run.eval' && m.runId === run.id) as unknown as { points: { key: string }[]; kinds: Record<string, string> };
    expect(msg.points.map((p) => p.key)).toEqual(['test/fid', 'test/kid', 'test/kid_std', 'test/precision', 'test/recall', 'test/class_coverage', 'test/class_entropy', 'test/sample_n', 'test/classifier_version']);
    for (const k of ['test/fid', 'test/kid', 'test/precision', 'test/recall', 'test/class_coverage']) expect(msg.kinds[k]).toBe('sample');
    expect(run.metrics['test/classifier_version']).toBe(1);
    expect(run.metrics['test/sample_n']).toBe(200);

    // a model with a likelihood keeps its NLL result and gains the sample metrics when asked
    const vae = l.models.vae({ latentDim: 4, hidden: [32], evalK: 2 });
    const run2 = await l.train(vae, data, { steps: 5, batchSize: 32, sampleEvery: 1000, checkpointEvery: 1000 });
    const plain = (await evaluateModel(ctx, vae, data.test, { record: false })) as LikelihoodEvaluation;
    expect(plain.sample).toBeUndefined();
    const both = (await evaluateModel(ctx, vae, data.test, { samples: 100 })) as LikelihoodEvaluation;
    expect(both.kind).toBe('bound');
    expect(both.nll_nats).toBeCloseTo(plain.nll_nats, 6);
    expect(both.sample).toMatchObject({ kind: 'sample', n: 100, classifier: 'mnist-mlp-v1' });
    const msg2 = messages.filter((m) => m.type === 'run.eval' && m.runId === run2.id).at(-1) as { points: { key: string }[] };
    // the NLL first, then its convergence check's keys (test/nll_1x, …), then the sample metrics
    const keys = msg2.points.map((p) => p.key);
    expect(keys.slice(0, 2)).toEqual(['test/nll', 'test/bits_per_dim']);
    expect(keys).toContain('test/nll_4x');
    expect(keys.indexOf('test/fid')).toBeGreaterThan(keys.indexOf('test/nll_4x'));
    expect(run2.metrics['test/fid']).toBe((both.sample as ImageSampleMetrics).fid);
  });
});

describe('nearest-neighbour view', () => {
  it('shows memorisation: a tiny-bandwidth KDE copies training images, a GAN does not', async () => {
    const { ctx, artifactsDir } = collectingContext();
    const l = createLab(ctx);
    const data = l.data.mnist({ limit: 1000 });
    const kde = l.models.kde({ bandwidth: 0.001 });
    await l.train(kde, data, { steps: 10, batchSize: 80, sampleEvery: 1000, checkpointEvery: 1000 });
    const copied = await l.views.nearestNeighbours(kde, data, { n: 8 });
    expect(copied.ratio).toBeLessThan(0.05);
    expect(copied.distances).toHaveLength(8);
    expect(readFileSync(join(artifactsDir, copied.path)).subarray(1, 4).toString()).toBe('PNG');
    const gan = l.models.gan({ latentDim: 8, hidden: [64] });
    await l.train(gan, data, { steps: 3, batchSize: 32, sampleEvery: 1000, checkpointEvery: 1000 });
    const fresh = await l.views.nearestNeighbours(gan, data, { n: 8 });
    console.log(`nearest neighbours: kde(h=0.001) ratio ${copied.ratio.toFixed(4)}, untrained gan ratio ${fresh.ratio.toFixed(2)} (test baseline ${fresh.testBaseline.toFixed(2)})`);
    expect(fresh.ratio).toBeGreaterThan(0.5);
    expect(fresh.testBaseline).toBeCloseTo(copied.testBaseline, 10);
    await expect(l.views.nearestNeighbours(gan, data, { n: 0 })).rejects.toThrow(/n must be a whole number in 1..256/);
  });
});

describe('comparability of sample metrics', () => {
  const rec = (id: string, finalMetrics: Record<string, number>, metricKinds: Record<string, string> = {}): RunRecord =>
    ({ id, name: id, family: 'gan', config: { metricKinds }, finalMetrics, dataName: 'mnist', dataFingerprint: 'f' }) as unknown as RunRecord;
  it('marks sample metrics of runs with different classifier versions or sample counts as not comparable', () => {
    const a = rec('r-a', { 'test/fid': 10, 'test/sample_n': 1000, 'test/classifier_version': 1 });
    const b = rec('r-b', { 'test/fid': 12, 'test/sample_n': 1000, 'test/classifier_version': 1 });
    const c = rec('r-c', { 'test/fid': 8, 'test/sample_n': 500, 'test/classifier_version': 1 });
    const d = rec('r-d', { 'test/fid': 8, 'test/sample_n': 1000, 'test/classifier_version': 2 });
    expect(sampleNotComparable([a, b], 'test/fid')).toBeNull();
    expect(sampleNotComparable([a, c], 'test/fid')).toMatch(/not comparable.*1000 samples.*500 samples/);
    expect(sampleNotComparable([a, d], 'test/fid')).toMatch(/classifier v1.*classifier v2/);
    expect(sampleNotComparable([a, c], 'test/nll')).toBeNull();
    expect(metricKindOf(a, 'test/fid')).toBe('sample');
    expect(metricKindOf(rec('x', {}, { 'test/nll': 'bound' }), 'test/nll')).toBe('bound');
    const section = sampleSection([a, c])!;
    expect(section.keys).toEqual(['test/fid']);
    expect(section.warning).toMatch(/cannot be ranked/);
    expect(sampleSection([a, b])!.warning).toBe('');
  });

  it('the exported report lists sample metrics with what they were computed with, and says when they do not compare', () => {
    const tracker = new Tracker(join(tmp, 'tracking.sqlite'));
    const run = (id: string): RunRecord => ({
      id, notebook: '', cell: '', name: id, family: 'gan', config: { metricKinds: { 'train/d_loss': 'loss' } }, code: '', dataFingerprint: 'fp', dataName: 'mnist',
      seed: 1, backend: 'cpu', status: 'finished', steps: 5, totalSteps: 5, startedAt: 1, endedAt: 2, heartbeat: 2, error: null, finalMetrics: {},
    });
    for (const [id, n, f] of [['r-one', 1000, 31.5], ['r-two', 500, 29.25]] as const) {
      tracker.insertRun(run(id));
      tracker.addMetrics(id, [['test/fid', f], ['test/sample_n', n], ['test/classifier_version', 1]].map(([key, value]) => ({ key: key as string, step: 5, value: value as number, wallTime: 3 })));
    }
    const runs = ['r-one', 'r-two'].map((id) => tracker.getRun(id)!);
    exportReport(tracker, tmp, runs, 'html', join(tmp, 'report.html'), { appVersion: 't', node: 'v', generatedAt: 0 });
    const html = readFileSync(join(tmp, 'report.html'), 'utf8');
    expect(html).toContain('<h2>Sample quality</h2>');
    expect(html).toContain('classifier v1 · 1000 samples');
    expect(html).toMatch(/data-warning="sample-metrics"><b>Not comparable:<\/b>[^<]*500 samples/);
    expect(html).toContain('test/fid <small>(sample)</small>');
    exportReport(tracker, tmp, runs, 'md', join(tmp, 'report.md'), { appVersion: 't', node: 'v', generatedAt: 0 });
    expect(readFileSync(join(tmp, 'report.md'), 'utf8')).toMatch(/## Sample quality[\s\S]*\*\*Not comparable:\*\* these runs' sample metrics/);
    tracker.close();
  });
});
