// The generative stochastic network: on bars and stripes (14 binary 3×3 patterns) its
// chain's long-run states land on the data's patterns and cover them; the walk-back
// reconstruction loss falls with training; the latent state carries over from step to
// step (the chain with h reset every step differs); checkpoints round-trip.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { barsAndStripes, barsAndStripesPatterns } from '../../../../src/engine/data/bars';
import type { Gsn } from '../../../../src/engine/models/latent/gsn';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const { ctx } = collectingContext();
const lab = createLab(ctx);

const patterns = new Set(barsAndStripesPatterns(3).map((x) => x.reduce((k, v, i) => k | (v << i), 0)));

/** the fraction of chains whose last state (means rounded) is a data pattern, and how many patterns they hit */
function onData(frame: Float32Array, n: number): { fraction: number; covered: number } {
  const hit = new Set<number>();
  let ok = 0;
  for (let r = 0; r < n; r++) {
    let k = 0;
    for (let i = 0; i < 9; i++) if (frame[r * 9 + i] > 0.5) k |= 1 << i;
    if (patterns.has(k)) {
      ok++;
      hit.add(k);
    }
  }
  return { fraction: ok / n, covered: hit.size };
}

describe('gsn', () => {
  it('refuses bad settings with the field named', () => {
    expect(() => lab.models.gsn({ hiddenSize: 0 })).toThrow(/hiddenSize/);
    expect(() => lab.models.gsn({ hiddenNoise: -1 })).toThrow(/hiddenNoise/);
    expect(() => lab.models.gsn({ walkback: 0 })).toThrow(/lab.models.gsn: walkback/);
  });

  it('on bars and stripes: the walk-back loss falls, and the long-run chain lands on the data patterns and covers them', async () => {
    const data = barsAndStripes({ size: 3 });
    const gsn = lab.models.gsn({ hiddenSize: 64, noise: 0.2, hiddenNoise: 0.3, walkback: 3 }) as Gsn;
    const n = 280;
    const run0 = await train(ctx, gsn, data, { steps: 1, batchSize: 32, lr: 3e-3, evalEvery: 1000, sampleEvery: 1000, checkpointEvery: 1000, seed: 3 });
    const before = await gsn.chain({ n, steps: 40, every: 40, seed: 5 });
    const untrained = onData(before[before.length - 1], n);
    const run = await train(ctx, gsn, data, { steps: 600, batchSize: 32, lr: 3e-3, evalEvery: 600, sampleEvery: 1000, checkpointEvery: 1000, seed: 3 });
    const recon = run.history('val/recon').values;
    expect(recon.length).toBe(2);
    expect(recon[1]).toBeLessThan(recon[0] * 0.6);
    expect(run.metrics['train/recon_last']).toBeGreaterThan(0);
    const after = await gsn.chain({ n, steps: 40, every: 40, seed: 5 });
    const trained = onData(after[after.length - 1], n);
    // 14 of 512 states are patterns: a random state is one 3% of the time
    expect(untrained.fraction).toBeLessThan(0.3);
    expect(trained.fraction).toBeGreaterThan(0.8);
    expect(trained.covered).toBeGreaterThanOrEqual(12);
    expect(run0.metrics['train/loss']).toBeGreaterThan(run.metrics['train/loss']);
    gsn.dispose();
  }, 120_000);

  it('the latent state carries over: the chain with h reset every step differs, and h_{t−1} changes h_t', async () => {
    const gsn = lab.models.gsn({ hiddenSize: 32 }) as Gsn;
    gsn.build({ kind: 'image', shape: [28, 28], binary: true }, mulberry32(2));
    const keep = await gsn.chain({ n: 4, steps: 6, every: 1, seed: 9 });
    const reset = await gsn.chain({ n: 4, steps: 6, every: 1, seed: 9, reset: true });
    // the first step has no earlier state: the same; later steps differ
    expect(Array.from(keep[1])).toEqual(Array.from(reset[1]));
    expect(Array.from(keep[3])).not.toEqual(Array.from(reset[3]));
    const xt = tf.zeros([2, 784]) as tf.Tensor2D;
    const h0 = tf.zeros([2, 32]) as tf.Tensor2D;
    const h1 = tf.ones([2, 32]) as tf.Tensor2D;
    const [a, b, c] = [gsn.hiddenStep(xt, h0, 1, false), gsn.hiddenStep(xt, h1, 1, false), gsn.hiddenStep(xt, null, 1, false)];
    const [va, vb, vc] = await Promise.all([a.data(), b.data(), c.data()]);
    expect(Array.from(va)).toEqual(Array.from(vc));
    expect(Array.from(vb)).not.toEqual(Array.from(va));
    tf.dispose([xt, h0, h1, a, b, c]);
    gsn.dispose();
  });

  it('checkpoints round-trip (V included); sampling is deterministic given the seed', async () => {
    const data = lab.data.mnist({ binarize: true, limit: 600 });
    const a = lab.models.gsn({ hiddenSize: 32, chainSteps: 5 }) as Gsn;
    await train(ctx, a, data, { steps: 5, batchSize: 16, evalEvery: 1000, sampleEvery: 1000, checkpointEvery: 1000, seed: 1 });
    const b = lab.models.gsn({ hiddenSize: 32, chainSteps: 5 }) as Gsn;
    b.build({ kind: 'image', shape: [28, 28], binary: true }, mulberry32(7));
    expect(a.getWeights().map((w) => w.name)).toContain('gsn/V');
    b.setWeights(a.getWeights());
    const [sa, sb] = [a.sample(3, undefined, 4), b.sample(3, undefined, 4)];
    const [va, vb] = await Promise.all([sa.data(), sb.data()]);
    tf.dispose([sa, sb]);
    expect(Array.from(vb)).toEqual(Array.from(va));
    expect(Math.min(...va)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...va)).toBeLessThanOrEqual(1);
    [a, b].forEach((m) => m.dispose());
  }, 60_000);
});
