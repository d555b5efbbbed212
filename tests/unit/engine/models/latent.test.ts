// Autoencoder, denoising autoencoder and the latent-variable views: each does what it
// claims (training lowers the reconstruction loss, the corruption flips what it says,
// walk-back pulls every step back to the data, the chain starts where it is told,
// slerp keeps to the sphere), and the typings name every builder and view.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { slerp } from '../../../../src/engine/eval/interpolation';
import { pictureShape } from '../../../../src/engine/views/common';
import type { Autoencoder } from '../../../../src/engine/models/latent/autoencoder';
import type { Dae } from '../../../../src/engine/models/latent/dae';
import { train } from '../../../../src/engine/train/trainer';
import { collectingContext } from '../../../helpers/engine';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const { ctx } = collectingContext();
const lab = createLab(ctx);
const data = lab.data.mnist({ binarize: true, limit: 1200 });

describe('autoencoder', () => {
  it('trains: the validation reconstruction loss falls; random codes decode to images in [0, 1]', async () => {
    const ae = lab.models.autoencoder({ latentDim: 8, hidden: [64] }) as Autoencoder;
    const run = await train(ctx, ae, data, { steps: 60, batchSize: 64, lr: 3e-3, evalEvery: 60, sampleEvery: 1000, checkpointEvery: 1000 });
    const recon = run.history('val/recon').values;
    expect(recon.length).toBe(2);
    expect(recon[1]).toBeLessThan(recon[0] * 0.7);
    expect(ae.loss).toBe('bce');
    const s = ae.sample(4, undefined, 3);
    const v = await s.data();
    expect(s.shape).toEqual([4, 784]);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    s.dispose();
    ae.dispose();
  }, 60_000);

  it('refuses bad settings with the field named', () => {
    expect(() => lab.models.autoencoder({ latentDim: 0 })).toThrow(/latentDim/);
    expect(() => lab.models.dae({ noise: 2, corruption: 'saltpepper' })).toThrow(/noise/);
    expect(() => lab.models.dae({ noise: -1 })).toThrow(/noise/);
    expect(() => lab.models.dae({ walkback: 0 })).toThrow(/walkback/);
    expect(() => lab.models.dae({ corruption: 'blur' as never })).toThrow(/saltpepper/);
  });
});

describe('denoising autoencoder', () => {
  it('salt-and-pepper corruption replaces each pixel with a fair coin with probability `noise`', async () => {
    const dae = lab.models.dae({ latentDim: 4, hidden: [16], noise: 0.4 }) as Dae;
    await train(ctx, dae, data, { steps: 1, batchSize: 16, evalEvery: 1, sampleEvery: 1000, checkpointEvery: 1000 });
    const x = tf.zeros([200, 784]) as tf.Tensor2D;
    const c = dae.corrupt(x, 5);
    const sum = c.sum();
    const ones = (await sum.data())[0] / (200 * 784);
    sum.dispose();
    // P(a zero becomes one) = noise / 2
    expect(ones).toBeGreaterThan(0.19);
    expect(ones).toBeLessThan(0.21);
    const values = new Set(await c.data());
    expect([...values].sort()).toEqual([0, 1]);
    tf.dispose([x, c]);
    dae.dispose();
  }, 30_000);

  it('walk-back training learns to denoise; the chain starts at its init and its frames are images', async () => {
    const plain = lab.models.dae({ latentDim: 16, hidden: [64], walkback: 1 }) as Dae;
    const walk = lab.models.dae({ latentDim: 16, hidden: [64], walkback: 3 }) as Dae;
    const opts = { steps: 80, batchSize: 64, lr: 3e-3, evalEvery: 80, sampleEvery: 1000, checkpointEvery: 1000, seed: 2 };
    const r1 = await train(ctx, plain, data, opts);
    const r3 = await train(ctx, walk, data, opts);
    for (const r of [r1, r3]) {
      const d = r.history('val/denoise').values;
      expect(d[1]).toBeLessThan(d[0] * 0.7);
    }
    // the walk-back model trains on k corrupted inputs per example, all pulled back to the data: it reports the per-input mean
    expect(Number.isFinite(r3.metrics['train/loss'])).toBe(true);
    const init = data.test.x.slice(0, 3 * 784);
    const frames = await walk.chain({ n: 3, steps: 6, every: 2, seed: 9, init });
    expect(frames.length).toBe(4); // start + steps 2, 4, 6
    expect(Array.from(frames[0])).toEqual(Array.from(init));
    for (const f of frames.slice(1)) {
      expect(f.length).toBe(3 * 784);
      expect(Math.min(...f)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...f)).toBeLessThanOrEqual(1);
    }
    // sampling is the chain from the noise bank: deterministic given the seed
    const sa = walk.sample(2, undefined, 4);
    const sb = walk.sample(2, undefined, 4);
    expect(sa.shape).toEqual([2, 784]);
    const [a, b] = await Promise.all([sa.data(), sb.data()]);
    tf.dispose([sa, sb]);
    expect(Array.from(a)).toEqual(Array.from(b));
    plain.dispose();
    walk.dispose();
  }, 90_000);
});

describe('latent views', () => {
  it('slerp keeps to the sphere between equal-norm codes and ends at them', () => {
    const a = Float32Array.from([3, 0, 4]);
    const b = Float32Array.from([0, 5, 0]);
    for (const t of [0, 0.25, 0.5, 1]) {
      const z = slerp(a, b, t);
      expect(Math.hypot(...z)).toBeCloseTo(5, 4);
    }
    expect(Array.from(slerp(a, b, 0))).toEqual(Array.from(a).map((v) => expect.closeTo(v, 5)));
    expect(Array.from(slerp(a, b, 1))).toEqual(Array.from(b).map((v) => expect.closeTo(v, 5)));
    expect(pictureShape(784)).toEqual([28, 28]);
    expect(pictureShape(12)).toEqual([1, 12]);
  });

  it('reconstructions, traversals, interpolation and the latent map write pictures of the right size', async () => {
    const { lab: rl, outputs, artifactsDir } = recordingLab();
    const ae = rl.models.autoencoder({ latentDim: 2, hidden: [32] });
    await rl.train(ae, data, { steps: 5, batchSize: 32, sampleEvery: 1000, checkpointEvery: 1000 });
    outputs.length = 0;
    const rec = await rl.views.reconstructions(ae, data.test, { n: 8 });
    expect(rec.error).toBeGreaterThan(0);
    await rl.views.traversals(ae, { steps: 5 });
    await rl.views.interpolate(ae, data.test, { pairs: 2, steps: 4 });
    await rl.views.latentMap(ae, { size: 6, split: data.test });
    const images = outputs.filter((o) => o.type === 'image') as { path: string }[];
    expect(images).toHaveLength(4);
    // PNG width and height from the IHDR chunk: columns × 29 + 1 (28-pixel tiles, 1-pixel borders)
    const dims = images.map((o) => {
      const b = fs.readFileSync(path.join(artifactsDir, o.path));
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    });
    expect(dims[0]).toEqual([8 * 29 + 1, 2 * 29 + 1]); // 8 inputs over 8 reconstructions
    expect(dims[1]).toEqual([5 * 29 + 1, 2 * 29 + 1]); // 2 latent dims × 5 steps
    expect(dims[2]).toEqual([4 * 29 + 1, 4 * 29 + 1]); // 2 pairs × (linear, slerp) × 4 steps
    expect(dims[3]).toEqual([6 * 29 + 1, 6 * 29 + 1]);
    expect(outputs.some((o) => o.type === 'plot')).toBe(true); // the codes' scatter
    await expect(rl.views.latentMap(rl.models.autoencoder(), {})).rejects.toThrow(/train the autoencoder first/);
    await expect(rl.views.klPerDim(ae, data.test)).rejects.toThrow(/needs a VAE/);
  }, 60_000);
});

