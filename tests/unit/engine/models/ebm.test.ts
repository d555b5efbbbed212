// The image EBM: its Langevin sampler draws from the Boltzmann distribution of a known
// energy (a Gaussian: mean and covariance match), training pushes the data's energy
// below noise's, the replay buffer is used at the stated ratio and takes the chains'
// ends back, checkpoints round-trip, and the same seed gives the same curve.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { Ebm, langevin } from '../../../../src/engine/models/energy/ebm';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const { ctx } = collectingContext();
const lab = createLab(ctx);
const data = lab.data.mnist({ binarize: false, limit: 1200 });
const image = { kind: 'image' as const, shape: [28, 28], binary: false };

function moments(v: Float32Array, n: number): { mean: number[]; cov: number[][] } {
  const mean = [0, 0];
  for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) mean[a] += v[2 * i + a] / n;
  const cov = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < n; i++) for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) cov[a][b] += ((v[2 * i + a] - mean[a]) * (v[2 * i + b] - mean[b])) / (n - 1);
  return { mean, cov };
}

describe('langevin', () => {
  // E(x) = ½ (x − μ)ᵀ Σ⁻¹ (x − μ): the Boltzmann distribution is N(μ, Σ)
  const mu = [1, -2];
  const sigma = [
    [1, 0.6],
    [0.6, 0.8],
  ];
  const det = sigma[0][0] * sigma[1][1] - sigma[0][1] * sigma[1][0];
  const P = tf.tensor2d([sigma[1][1] / det, -sigma[0][1] / det, -sigma[1][0] / det, sigma[0][0] / det], [2, 2]);
  const energy = (x: tf.Tensor2D) => {
    const d = tf.sub(x, tf.tensor1d(mu));
    return tf.mul(0.5, tf.sum(tf.mul(tf.matMul(d, P), d), 1));
  };
  const n = 3000;

  it('draws from exp(−E) of a quadratic energy: the mean and covariance of the Gaussian', async () => {
    const alpha = 0.01;
    const x0 = tf.zeros([n, 2]) as tf.Tensor2D;
    const x = langevin(energy, x0, { steps: 800, stepSize: alpha, noise: Math.sqrt(alpha), seed: 3 });
    const v = (await x.data()) as Float32Array;
    tf.dispose([x0, x]);
    const m = moments(v, n);
    // 3000 draws: the standard error of a mean is ≈ 0.02, of a covariance entry ≈ 0.03
    expect(m.mean[0]).toBeCloseTo(mu[0], 1);
    expect(Math.abs(m.mean[1] - mu[1])).toBeLessThan(0.07);
    for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) expect(Math.abs(m.cov[a][b] - sigma[a][b]), `cov[${a}][${b}] = ${m.cov[a][b]}`).toBeLessThan(0.1);
  }, 60_000);

  it('with the noise far below √α it collapses towards the minimum (the covariance shrinks)', async () => {
    const alpha = 0.01;
    const x0 = tf.zeros([n, 2]) as tf.Tensor2D;
    const x = langevin(energy, x0, { steps: 800, stepSize: alpha, noise: 0.1 * Math.sqrt(alpha), seed: 3 });
    const v = (await x.data()) as Float32Array;
    tf.dispose([x0, x]);
    const m = moments(v, n);
    expect(m.cov[0][0]).toBeLessThan(0.05);
    expect(Math.abs(m.mean[0] - mu[0])).toBeLessThan(0.05);
  }, 60_000);
});

describe('ebm', () => {
  it('refuses bad settings with the field named', () => {
    expect(() => lab.models.ebm({ replay: 1.5 })).toThrow(/replay/);
    expect(() => lab.models.ebm({ steps: 0 })).toThrow(/steps/);
    expect(() => lab.models.ebm({ stepSize: 0 })).toThrow(/stepSize/);
    expect(() => lab.models.ebm({ hidden: [] })).toThrow(/hidden/);
  });

  it('training lowers the energy of held-out digits relative to noise', async () => {
    const m = lab.models.ebm({ hidden: [64, 32], steps: 10, sampleSteps: 20, bufferSize: 500 }) as Ebm;
    const run = await train(ctx, m, data, { steps: 40, batchSize: 32, lr: 1e-3, clipNorm: 1, evalEvery: 40, sampleEvery: 1000, checkpointEvery: 1000, seed: 4 });
    const gap = run.history('val/e_gap').values;
    expect(gap.length).toBe(2);
    // E(noise) − E(data) grows: the data is made more probable than noise
    expect(gap[1]).toBeGreaterThan(gap[0] + 1);
    expect(gap[1]).toBeGreaterThan(0);
    for (const k of ['train/cd', 'train/e_data', 'train/e_sample', 'val/e_sample']) expect(Number.isFinite(run.metrics[k]), k).toBe(true);
    for (const k of Object.keys(run.metrics)) expect(m.metricKinds()[k], k).toBeDefined();
    // samples are images in [0, 1], the same for the same seed
    const [a, b] = [m.sample(3, undefined, 2), m.sample(3, undefined, 2)];
    const [va, vb] = await Promise.all([a.data(), b.data()]);
    tf.dispose([a, b]);
    expect(Array.from(va)).toEqual(Array.from(vb));
    expect(Math.min(...va)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...va)).toBeLessThanOrEqual(1);
    // the chain from noise: the start then a frame every 5 steps
    const frames = await m.chain({ n: 2, steps: 10, every: 5, seed: 1 });
    expect(frames.length).toBe(3);
    expect(frames[2].length).toBe(2 * 784);
    m.dispose();
  }, 120_000);

  it('starts its chains from the replay buffer at the stated ratio, and writes their ends back', async () => {
    for (const replay of [0.95, 0.7]) {
      const m = lab.models.ebm({ hidden: [16], bufferSize: 300, replay }) as Ebm;
      m.build(image, mulberry32(1));
      const n = 4000;
      const { u0, idx, fresh } = m.replayStart(n, 5);
      const v = (await u0.data()) as Float32Array;
      u0.dispose();
      let f = 0;
      for (const k of fresh) f += k;
      // binomial: sd ≈ 0.004 (0.95) and 0.007 (0.7)
      expect(Math.abs(f / n - (1 - replay))).toBeLessThan(0.025);
      // a row not marked fresh is the buffer's row
      for (let r = 0; r < 50; r++) {
        if (!fresh[r]) expect(Array.from(v.subarray(r * 784, (r + 1) * 784))).toEqual(Array.from(m.bufferRow(idx[r])!));
      }
      m.dispose();
    }
    // after a step the buffer holds the chains' ends: they moved from their starts under the energy's gradient
    const m = lab.models.ebm({ hidden: [16], bufferSize: 64, steps: 5 }) as Ebm;
    const run = await train(ctx, m, data, { steps: 3, batchSize: 16, evalEvery: 1000, sampleEvery: 1000, checkpointEvery: 1000, seed: 2 });
    expect(run.metrics['train/fresh']).toBeGreaterThanOrEqual(0);
    const last = m.lastReplay!;
    expect(last.idx.length).toBe(16);
    const row = m.bufferRow(last.idx[last.idx.length - 1])!;
    expect(Math.min(...row)).toBeGreaterThanOrEqual(-1);
    expect(Math.max(...row)).toBeLessThanOrEqual(1);
    m.dispose();
  }, 60_000);

  it('a training step writes each chain\'s Langevin end back to the buffer row it started from', async () => {
    const m = lab.models.ebm({ hidden: [16], bufferSize: 5000, steps: 4 }) as Ebm;
    m.build(image, mulberry32(3));
    const batch = tf.tensor2d(data.train.x.subarray(0, 8 * 784), [8, 784]);
    // the step's chains by hand, with the seeds the step will be given
    const { u0, idx } = m.replayStart(8, 11);
    const end = m.run(u0, 4, 77);
    const expected = (await end.data()) as Float32Array;
    tf.dispose([u0, end]);
    const seeds = [11, 77];
    const ctxStep = { seed: () => seeds.shift()!, minimize: (_g: string, loss: () => tf.Scalar) => tf.tidy(() => loss()) };
    const out = await m.trainStep(batch, 0, ctxStep);
    tf.dispose(Object.values(out).filter((v) => typeof v !== 'number') as tf.Tensor[]);
    expect(Array.from(m.lastReplay!.idx)).toEqual(Array.from(idx));
    for (let r = 0; r < 8; r++) expect(Array.from(m.bufferRow(idx[r])!)).toEqual(Array.from(expected.subarray(r * 784, (r + 1) * 784)));
    batch.dispose();
    m.dispose();
  });

  it('checkpoints round-trip; the same seed gives the same curve', async () => {
    const opts = { steps: 6, batchSize: 16, lr: 1e-3, evalEvery: 1000, sampleEvery: 1000, checkpointEvery: 1000, seed: 8 };
    const a = lab.models.ebm({ hidden: [32], steps: 5, bufferSize: 100 }) as Ebm;
    const b = lab.models.ebm({ hidden: [32], steps: 5, bufferSize: 100 }) as Ebm;
    const ra = await train(ctx, a, data, opts);
    const rb = await train(ctx, b, data, opts);
    expect(ra.history('train/loss').values).toEqual(rb.history('train/loss').values);
    const c = lab.models.ebm({ hidden: [32] }) as Ebm;
    c.build(image, mulberry32(99));
    const x = tf.tensor2d(data.test.x.subarray(0, 5 * 784), [5, 784]);
    const before = await c.energy(x).data();
    c.setWeights(a.getWeights());
    const [ea, ec] = await Promise.all([a.energy(x).data(), c.energy(x).data()]);
    expect(Array.from(ec)).not.toEqual(Array.from(before));
    expect(Array.from(ec)).toEqual(Array.from(ea));
    x.dispose();
    [a, b, c].forEach((m) => m.dispose());
  }, 60_000);
});
