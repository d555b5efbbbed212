// Interpolation strips for the compare view: lerp and slerp paths, and the strips of a
// trained VAE (between the codes of validation images) and a GAN (between prior draws).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { imageDataset } from '../../../../src/engine/data/mnist';
import { interpolationEndpoints, interpolationStrip, lerp, slerp } from '../../../../src/engine/eval/interpolation';
import { Gan } from '../../../../src/engine/models/adversarial/gan';
import { Vae } from '../../../../src/engine/models/latent/vae';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { decodePng } from '../../../../src/main/services/exports';
import { collectingContext } from '../../../helpers/engine';

describe('interpolation', () => {
  it('paths start and end at the endpoints; slerp keeps the norm of equal-norm endpoints', () => {
    const a = Float32Array.from([3, 0, 0]), b = Float32Array.from([0, 3, 0]);
    expect(Array.from(lerp(a, b, 0))).toEqual([3, 0, 0]);
    expect(Array.from(slerp(a, b, 1)).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 3, 0]);
    const mid = slerp(a, b, 0.5);
    expect(Math.hypot(...mid)).toBeCloseTo(3, 5);
    expect(Math.hypot(...lerp(a, b, 0.5))).toBeCloseTo(3 / Math.SQRT2, 5); // the straight line dips inside
  });

  it('a VAE strip runs between the codes of two validation images, shown at both ends', async () => {
    const data = imageDataset('mnist', { limit: 300 });
    const model = new Vae({ latentDim: 4, hidden: [32] });
    model.build({ kind: 'image', shape: data.shape, binary: data.binary }, mulberry32(1));
    const ends = await interpolationEndpoints(model, data.val.x, data.dim, 5);
    expect(ends.from).toBe('data');
    const strip = await interpolationStrip(model, ends, data.dim, 6);
    expect(strip.n).toBe(8);
    expect(Array.from(strip.values.subarray(0, data.dim))).toEqual(Array.from(data.val.x.subarray(0, data.dim)));
    expect(Array.from(strip.values.subarray(7 * data.dim))).toEqual(Array.from(data.val.x.subarray(data.dim, 2 * data.dim)));
    // the first decoded frame is the decoder's mean at the first code
    const first = model.sample(1, tf.tensor2d(ends.a, [1, 4]), 0);
    expect(Array.from(strip.values.subarray(data.dim, 2 * data.dim))).toEqual(Array.from(await first.data()));
    first.dispose();
    model.dispose();
  });

  it('a GAN strip runs between two prior draws; training writes a strip with every grid', async () => {
    const gan = new Gan({ latentDim: 3, hidden: [8] });
    expect(gan.hasLatent).toBe(true);
    const data = imageDataset('mnist', { limit: 200 });
    const { ctx, messages, artifactsDir } = collectingContext();
    const vae = new Vae({ latentDim: 2, hidden: [16] });
    await train(ctx, vae, data, { steps: 4, batchSize: 16, sampleEvery: 2 });
    const arts = messages.flatMap((m) => (m.type === 'run.artifact' ? [m.artifact] : []));
    const grids = arts.filter((a) => a.kind === 'samples').map((a) => a.step);
    const strips = arts.filter((a) => a.kind === 'interpolation');
    expect(strips.map((a) => a.step)).toEqual(grids);
    expect(strips[0].meta).toMatchObject({ n: 12, rows: 1, cols: 12, endpoints: 'data' });
    const png = decodePng(fs.readFileSync(path.join(artifactsDir, strips[0].path)));
    expect([png.width, png.height]).toEqual([12 * 29 + 1, 29 + 1]); // 1-pixel borders around 28-pixel tiles
    vae.dispose();
    gan.build({ kind: 'image', shape: data.shape, binary: data.binary }, mulberry32(2));
    const ends = await interpolationEndpoints(gan, data.val.x, data.dim, 11);
    expect(ends.from).toBe('prior');
    expect((await interpolationStrip(gan, ends, data.dim)).n).toBe(10);
    gan.dispose();
  });
});
