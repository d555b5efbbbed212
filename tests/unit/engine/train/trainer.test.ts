import * as fs from 'node:fs';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { Gan } from '../../../../src/engine/models/adversarial/gan';
import { Vae } from '../../../../src/engine/models/latent/vae';
import { loadCheckpoint } from '../../../../src/engine/train/checkpoints';
import { createOptimizer, optimizerStep, type OptimizerName, type OptimizerSettings } from '../../../../src/engine/train/optimizers';
import { lrAt } from '../../../../src/engine/train/schedules';
import { train } from '../../../../src/engine/train/trainer';
import { crc32, encodeGrayPng } from '../../../../src/engine/util/png';
import { decodePng } from '../../../../src/engine/data/import/png';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const base: OptimizerSettings = { optimizer: 'adam', lr: 0.1, beta1: 0.9, beta2: 0.999, momentum: 0.9, clipNorm: null, weightDecay: 0 };

describe('schedules', () => {
  it('compute the documented rates', () => {
    expect(lrAt({ type: 'constant' }, 1, 50, 100)).toBe(1);
    expect(lrAt({ type: 'constant', warmup: 10 }, 1, 5, 100)).toBeCloseTo(0.5);
    expect(lrAt({ type: 'step', stepSize: 10, gamma: 0.5 }, 1, 25, 100)).toBeCloseTo(0.25);
    expect(lrAt({ type: 'cosine' }, 1, 0, 100)).toBeCloseTo(1);
    expect(lrAt({ type: 'cosine' }, 1, 50, 100)).toBeCloseTo(0.5);
    expect(lrAt({ type: 'cosine', minLr: 0.1 }, 1, 100, 100)).toBeCloseTo(0.1);
    expect(lrAt({ type: 'cosine', warmup: 10 }, 1, 5, 100)).toBeCloseTo(0.5);
    expect(lrAt({ type: 'exponential', gamma: 0.1 }, 1, 100, 100)).toBeCloseTo(0.1);
  });
});

describe('optimizers', () => {
  for (const name of ['sgd', 'momentum', 'rmsprop', 'adagrad', 'adam'] as OptimizerName[]) {
    it(`${name} minimizes a quadratic and follows lr changes`, async () => {
      const v = tf.variable(tf.tensor1d([3, -2]), true, `q_${name}`);
      const s = { ...base, optimizer: name, lr: name === 'sgd' || name === 'momentum' ? 0.05 : 0.1 };
      const opt = createOptimizer(s);
      const loss = () => tf.sum(tf.square(v)) as tf.Scalar;
      // the step returns its loss as a tensor: read here, as the trainer does after each step
      const read = async (t: tf.Scalar) => {
        const x = (await t.data())[0];
        t.dispose();
        return x;
      };
      const first = await read(optimizerStep(opt, loss, [v], s, s.lr));
      let last = first;
      for (let i = 0; i < 100; i++) last = await read(optimizerStep(opt, loss, [v], s, s.lr));
      expect(last).toBeLessThan(first * 0.5);
      // lr 0 freezes the weights (the schedule reaches the optimizer)
      const before = Array.from(v.dataSync());
      optimizerStep(opt, loss, [v], s, 0).dispose();
      expect(Array.from(v.dataSync())).toEqual(before);
      opt.dispose();
      v.dispose();
    });
  }

  it('clips the global gradient norm', () => {
    const v = tf.variable(tf.tensor1d([100, 0]), true, 'clip_v');
    const s = { ...base, optimizer: 'sgd' as const, lr: 1, clipNorm: 1 };
    const opt = createOptimizer(s);
    optimizerStep(opt, () => tf.sum(tf.square(v)) as tf.Scalar, [v], s, 1).dispose();
    // gradient (200, 0) clipped to norm 1 → one SGD step of length 1
    expect(v.dataSync()[0]).toBeCloseTo(99, 4);
    opt.dispose();
    v.dispose();
  });

  it('applies decoupled weight decay to matrices only', () => {
    const W = tf.variable(tf.ones([2, 2]), true, 'wd_W');
    const b = tf.variable(tf.ones([2]), true, 'wd_b');
    const s = { ...base, optimizer: 'sgd' as const, lr: 0.1, weightDecay: 0.5 };
    const opt = createOptimizer(s);
    optimizerStep(opt, () => tf.mul(0, tf.add(tf.sum(W), tf.sum(b))) as tf.Scalar, [W, b], s, 0.1).dispose();
    expect(W.dataSync()[0]).toBeCloseTo(0.95, 5);
    expect(b.dataSync()[0]).toBeCloseTo(1, 5);
    opt.dispose();
    tf.dispose([W, b]);
  });
});

describe('checkpoints and png', () => {
  it('a final checkpoint restores the same samples', async () => {
    const data = toy2d('moons', { n: 1000 });
    const { ctx, messages, artifactsDir } = collectingContext();
    const model = new Vae({ latentDim: 2, hidden: [16] });
    await train(ctx, model, data, { steps: 20, batchSize: 32, sampleEvery: 10 });
    const fin = messages.find((m) => m.type === 'run.checkpoint' && m.checkpoint.reason === 'final');
    if (!fin || fin.type !== 'run.checkpoint') throw new Error('no final checkpoint');
    const { manifest, weights } = loadCheckpoint(path.join(artifactsDir, fin.checkpoint.path));
    expect(manifest.step).toBe(20);
    const other = new Vae({ latentDim: 2, hidden: [16] });
    other.build({ kind: 'points', shape: [2], binary: false }, (await import('../../../../src/engine/util/rng')).mulberry32(99));
    other.setWeights(weights);
    const z = model.noise(5, 1);
    const a = model.sample(5, z, 3).dataSync();
    const b = other.sample(5, z, 3).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    tf.dispose([z, ...weights.map((w) => w.tensor)]);
    model.dispose();
    other.dispose();
  });

  it('same seeds give the same run; GAN steps do not leak tensors', async () => {
    const data = toy2d('8gaussians', { n: 1000 });
    const runOnce = async () => {
      const counts: number[] = [];
      const model = new Gan({ hidden: [16], dSteps: 2 });
      const { ctx } = collectingContext();
      const run = await train(ctx, model, data, { steps: 30, batchSize: 32, seed: 9, onStep: (s) => (s === 5 || s === 25) && counts.push(tf.memory().numTensors) });
      model.dispose();
      return { loss: run.history('train/g_loss').values, counts };
    };
    const a = await runOnce();
    const b = await runOnce();
    expect(b.loss).toEqual(a.loss);
    expect(a.counts[1]).toBe(a.counts[0]);
  });

  it('writes valid PNG chunks', () => {
    const pixels = [0, 128, 255, 1, 2, 3];
    const png = encodeGrayPng(3, 2, Uint8Array.from(pixels));
    expect(png.subarray(12, 16).toString('ascii')).toBe('IHDR');
    const ihdrCrc = png.readUInt32BE(8 + 8 + 13);
    expect(ihdrCrc).toBe((crc32(png.subarray(12, 12 + 4 + 13)) ^ 0xffffffff) >>> 0);
    expect([png.readUInt32BE(16), png.readUInt32BE(20), png[24], png[25]]).toEqual([3, 2, 8, 0]); // 3×2, 8-bit gray
    // two scanlines, each a filter byte (pngjs picks one per row) and 3 bytes
    const idatLen = png.readUInt32BE(33);
    expect(png.subarray(37, 41).toString('ascii')).toBe('IDAT');
    const raw = inflateSync(png.subarray(41, 41 + idatLen));
    expect(raw.length).toBe(2 * 4);
    expect(raw[0]).toBeLessThanOrEqual(4);
    expect(raw[4]).toBeLessThanOrEqual(4);
    // and our strict reader (every CRC checked) gets the pixels back
    const back = decodePng('x.png', png);
    expect([back.width, back.height, back.channels]).toEqual([3, 2, 1]);
    expect(Array.from(back.data, (v) => Math.round(v * 255))).toEqual(pixels);
    expect(crc32(Buffer.from('123456789')) ^ 0xffffffff).toBe(0xcbf43926 | 0);
    fs.writeFileSync(path.join(collectingContext().artifactsDir, 'x.png'), png);
  });
});
