import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend/select';
import { imageDataset } from '../../src/engine/data/mnist';
import { gaussianKl, Vae } from '../../src/engine/models/vae';
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

describe('vae', () => {
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
