import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend/select';
import { imageDataset } from '../../src/engine/data/mnist';
import { gaussianKl, Vae } from '../../src/engine/models/latent/vae';
import { train } from '../../src/engine/train/trainer';
import { mulberry32 } from '../../src/engine/util/rng';
import { collectingContext, mean } from './engine-helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('mnist data', () => {
  it('is deterministic, binarized, split 80/10/10', () => {
    const a = imageDataset('mnist', { limit: 2500 });
    expect(a.train.n).toBe(2000);
    expect(a.val.n).toBe(250);
    expect(a.test.n).toBe(250);
    expect(a.binary).toBe(true);
    expect(a.train.x.every((v) => v === 0 || v === 1)).toBe(true);
    const full = imageDataset('mnist', { binarize: 'threshold' });
    expect(full.train.n + full.val.n + full.test.n).toBeGreaterThanOrEqual(9000);
    const gray = imageDataset('mnist', { binarize: false, limit: 2500 });
    expect(gray.fingerprint).not.toBe(a.fingerprint);
    // same pixels after thresholding the same rows: the split does not depend on binarization
    const thr = imageDataset('mnist', { binarize: 'threshold', limit: 2500 });
    expect(Array.from(thr.train.x.subarray(0, 784))).toEqual(Array.from(gray.train.x.subarray(0, 784)).map((v) => (v > 0.5 ? 1 : 0)));
  });
});

describe('mnist labels', () => {
  // nearest class-mean classification of a split with the train split's class means:
  // ~80% when every row keeps its own label, ~10% if labels and images were shuffled apart
  const classMeanAccuracy = (ds: ReturnType<typeof imageDataset>, split: 'val' | 'test') => {
    const D = ds.dim;
    const means = Array.from({ length: 10 }, () => new Float64Array(D));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < ds.train.n; i++) {
      const c = ds.train.y![i];
      counts[c]++;
      for (let j = 0; j < D; j++) means[c][j] += ds.train.x[i * D + j];
    }
    means.forEach((m, c) => m.forEach((_, j) => (m[j] /= counts[c])));
    const s = ds[split];
    let ok = 0;
    for (let i = 0; i < s.n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < 10; c++) {
        let d = 0;
        for (let j = 0; j < D; j++) d += (s.x[i * D + j] - means[c][j]) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      }
      if (best === s.y![i]) ok++;
    }
    return ok / s.n;
  };

  it('every split carries its rows’ class labels, aligned through the shuffle and the limit; fingerprints are unchanged', () => {
    for (const which of ['mnist', 'fashion-mnist'] as const) {
      const full = imageDataset(which, { binarize: false });
      const small = imageDataset(which, { binarize: false, limit: 2500 });
      expect(full.classes).toBe(10);
      expect(full.classNames).toHaveLength(10);
      for (const ds of [full, small]) {
        for (const s of [ds.train, ds.val, ds.test]) {
          expect(s.y).toBeInstanceOf(Uint8Array);
          expect(s.y!.length).toBe(s.n);
          expect(s.y!.every((c) => c < 10)).toBe(true);
        }
      }
      // a limited dataset takes the first rows of each split, labels included
      expect(Array.from(small.train.y!)).toEqual(Array.from(full.train.y!.subarray(0, small.train.n)));
      expect(Array.from(small.test.y!)).toEqual(Array.from(full.test.y!.subarray(0, small.test.n)));
      // every class appears in a full split
      expect(new Set(full.test.y).size).toBe(10);
      const acc = classMeanAccuracy(small, 'val');
      console.log(`${which}: nearest class-mean accuracy on val ${acc.toFixed(3)}`);
      expect(acc).toBeGreaterThan(0.6);
    }
    expect(imageDataset('fashion-mnist').classNames![9]).toBe('Ankle boot');
    expect(imageDataset('mnist').classNames![3]).toBe('3');
    // labels leave the fingerprints as they were before datasets carried them
    expect(imageDataset('mnist').fingerprint).toBe('ffc0376762192209b1b4a08e653aeb83b62d15e8');
    expect(imageDataset('mnist', { limit: 2500 }).fingerprint).toBe('3003e867533315715890406e03c8cf0c4e58b23e');
    // Fashion-MNIST changed on purpose (issue 7): the package's two empty entries are skipped, so its
    // corpus has 69,998 images, the shuffle differs, and old Fashion runs do not compare with new ones
    expect(imageDataset('fashion-mnist', { binarize: false, limit: 600 }).fingerprint).toBe('6de2dcef852b364578005c68846369d41b79171d');
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

  it('KL closed form matches a Monte Carlo estimate', () => {
    const mu = tf.tensor2d([[0.5, -1.0, 0.2]]);
    const logvar = tf.tensor2d([[-0.5, 0.3, -1.2]]);
    const closed = gaussianKl(mu, logvar).dataSync()[0];
    // MC: E_q[log q(z) - log p(z)]
    const rng = mulberry32(7);
    const m = mu.dataSync();
    const lv = logvar.dataSync();
    const N = 200000;
    let acc = 0;
    for (let i = 0; i < N; i++) {
      for (let d = 0; d < 3; d++) {
        const s = Math.exp(0.5 * lv[d]);
        const eps = rng.normal();
        const z = m[d] + s * eps;
        const logq = -0.5 * Math.log(2 * Math.PI) - 0.5 * lv[d] - 0.5 * eps * eps;
        const logp = -0.5 * Math.log(2 * Math.PI) - 0.5 * z * z;
        acc += logq - logp;
      }
    }
    const mc = acc / N;
    expect(closed).toBeGreaterThan(0);
    expect(Math.abs(closed - mc)).toBeLessThan(0.02);
    tf.dispose([mu, logvar]);
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
