// What the compare view stands on: sweeps (expansion, run grouping through the real
// lab object), interpolation strips (paths and the trained model's strip), and the
// code diff.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { imageDataset } from '../../src/engine/data/mnist';
import { interpolationEndpoints, interpolationStrip, lerp, slerp } from '../../src/engine/eval/interpolation';
import { createLab } from '../../src/engine/lab/lab';
import { expandSweep } from '../../src/engine/lab/sweep';
import { Gan } from '../../src/engine/models/adversarial/gan';
import { Vae } from '../../src/engine/models/latent/vae';
import { train } from '../../src/engine/train/trainer';
import { mulberry32 } from '../../src/engine/util/rng';
import { decodePng } from '../../src/main/services/exports';
import { flattenConfig, lineDiff, unitOf } from '../../src/shared/compare';
import type { CellOutput } from '../../src/shared/domain';
import type { ExecContext } from '../../src/engine/context';
import { outputFromNb, outputToNb } from '../../src/renderer/src/notebook/nbformat';
import { collectingContext } from './engine-helpers';

describe('sweep specs', () => {
  it('a grid is every combination, in order', () => {
    expect(expandSweep({ grid: { a: [1, 2], b: ['x', 'y', 'z'] } })).toEqual([
      { a: 1, b: 'x' }, { a: 1, b: 'y' }, { a: 1, b: 'z' }, { a: 2, b: 'x' }, { a: 2, b: 'y' }, { a: 2, b: 'z' },
    ]);
    expect(expandSweep([{ lr: 1 }, { lr: 2 }])).toEqual([{ lr: 1 }, { lr: 2 }]);
  });

  it('random search draws inside its ranges, the same draws for the same seed', () => {
    const spec = { random: { lr: { min: 1e-4, max: 1e-2, log: true }, width: { min: 8, max: 64, int: true }, act: ['relu', 'tanh'] }, n: 50, seed: 3 };
    const a = expandSweep(spec);
    expect(a).toHaveLength(50);
    expect(expandSweep(spec)).toEqual(a);
    expect(expandSweep({ ...spec, seed: 4 })).not.toEqual(a);
    for (const c of a) {
      expect(c.lr as number).toBeGreaterThanOrEqual(1e-4);
      expect(c.lr as number).toBeLessThanOrEqual(1e-2);
      expect(Number.isInteger(c.width)).toBe(true);
      expect(['relu', 'tanh']).toContain(c.act);
    }
    // log-uniform: about half the draws below the geometric middle (1e-3)
    const below = a.filter((c) => (c.lr as number) < 1e-3).length;
    expect(below).toBeGreaterThan(12);
    expect(below).toBeLessThan(38);
  });

  it('bad specs say what is wrong', () => {
    expect(() => expandSweep([])).toThrow('the list of configs is empty');
    expect(() => expandSweep({ grid: { a: [] } })).toThrow('grid.a must be a non-empty list');
    expect(() => expandSweep({ random: { a: [1] }, n: 0 })).toThrow('positive whole number');
    expect(() => expandSweep({ random: { a: { min: 0, max: 1, log: true } }, n: 2 })).toThrow('log range needs min > 0');
    expect(() => expandSweep(42 as never)).toThrow('lab.sweep');
  });

  it('lab.sweep trains each config in order, tags and names its runs, and shows a sweep output', async () => {
    const { ctx, messages } = collectingContext();
    const outputs: CellOutput[] = [];
    const exec: ExecContext = { execId: 'e1', notebook: 'nb.ipynb', cellId: 'c1', code: 'sweep', signal: new AbortController().signal, emit: (o) => outputs.push(o) };
    const lab = createLab({ ...ctx, exec: () => exec });
    const data = lab.data.toy2d('moons', { n: 400 });
    const res = await lab.sweep({ grid: { latentDim: [1, 2], lr: [1e-3, 3e-3] } }, (p) =>
      lab.train(lab.models.vae({ latentDim: p.latentDim as number, hidden: [8] }), data, { lr: p.lr as number, steps: 3, batchSize: 16 }), { name: 'tiny' });
    expect(res.runs).toHaveLength(4);
    expect(res.results).toHaveLength(4);
    const starts = messages.filter((m) => m.type === 'run.start').map((m) => (m.type === 'run.start' ? m.run : null)!);
    expect(starts.map((r) => r.name)).toEqual(['vae-moons latentDim=1 lr=0.001', 'vae-moons latentDim=1 lr=0.003', 'vae-moons latentDim=2 lr=0.001', 'vae-moons latentDim=2 lr=0.003']);
    const tags = starts.map((r) => r.config.sweep as { id: string; name: string; index: number; count: number; params: Record<string, unknown> });
    expect(new Set(tags.map((t) => t.id)).size).toBe(1);
    expect(tags.map((t) => [t.name, t.index, t.count])).toEqual([['tiny', 0, 4], ['tiny', 1, 4], ['tiny', 2, 4], ['tiny', 3, 4]]);
    expect(tags[2].params).toEqual({ latentDim: 2, lr: 1e-3 });
    expect((starts[2].config.model as { latentDim: number }).latentDim).toBe(2);
    expect((starts[3].config.train as { lr: number }).lr).toBe(3e-3);
    const sweepOut = outputs.find((o) => o.type === 'sweep');
    expect(sweepOut).toEqual({ type: 'sweep', sweepId: tags[0].id, name: 'tiny', runIds: res.runs.map((r) => r.id) });
    // a run trained after the sweep is not part of it
    const after = await lab.train(lab.models.vae({ latentDim: 1, hidden: [8] }), data, { steps: 2, batchSize: 16 });
    const last = messages.filter((m) => m.type === 'run.start').pop()!;
    expect(last.type === 'run.start' && last.run.id === after.id && last.run.config.sweep).toBe(undefined);
    await expect(lab.sweep([{}], 'not a function' as never)).rejects.toThrow('second argument must be a function');
  });

  it('a sweep output survives the notebook file', () => {
    const o: CellOutput = { type: 'sweep', sweepId: 's-1', name: 'tiny', runIds: ['r-1', 'r-2'] };
    const nb = outputToNb(o);
    expect((nb.data as Record<string, unknown>)['text/plain']).toBe('Latent Lab sweep tiny: 2 runs');
    expect(outputFromNb(JSON.parse(JSON.stringify(nb)))).toEqual(o);
  });
});

describe('interpolation', () => {
  it('paths start and end at the endpoints; slerp keeps the norm of equal-norm endpoints', () => {
    const a = Float32Array.from([3, 0, 0]), b = Float32Array.from([0, 3, 0]);
    expect(Array.from(lerp(a, b, 0))).toEqual([3, 0, 0]);
    expect(Array.from(slerp(a, b, 1)).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([0, 3, 0]);
    const mid = slerp(a, b, 0.5);
    expect(Math.hypot(...mid)).toBeCloseTo(3, 5);
    expect(Math.hypot(...lerp(a, b, 0.5))).toBeCloseTo(3 / Math.SQRT2, 5); // the straight line dips inside
  });

  it('a VAE strip runs between the codes of two validation images, shown at both ends', () => {
    const data = imageDataset('mnist', { limit: 300 });
    const model = new Vae({ latentDim: 4, hidden: [32] });
    model.build({ kind: 'image', shape: data.shape, binary: data.binary }, mulberry32(1));
    const ends = interpolationEndpoints(model, data.val.x, data.dim, 5);
    expect(ends.from).toBe('data');
    const strip = interpolationStrip(model, ends, data.dim, 6);
    expect(strip.n).toBe(8);
    expect(Array.from(strip.values.subarray(0, data.dim))).toEqual(Array.from(data.val.x.subarray(0, data.dim)));
    expect(Array.from(strip.values.subarray(7 * data.dim))).toEqual(Array.from(data.val.x.subarray(data.dim, 2 * data.dim)));
    // the first decoded frame is the decoder's mean at the first code
    const first = model.sample(1, tf.tensor2d(ends.a, [1, 4]), 0);
    expect(Array.from(strip.values.subarray(data.dim, 2 * data.dim))).toEqual(Array.from(first.dataSync()));
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
    const ends = interpolationEndpoints(gan, data.val.x, data.dim, 11);
    expect(ends.from).toBe('prior');
    expect(interpolationStrip(gan, ends, data.dim).n).toBe(10);
    gan.dispose();
  });
});

describe('compare helpers', () => {
  it('diffs code by lines: removals, then additions, the rest kept', () => {
    const a = 'const a = 1;\nconst model = vae({ latentDim: 16 });\ntrain(model);';
    const b = 'const a = 1;\nconst model = vae({ latentDim: 4 });\nconst extra = 2;\ntrain(model);';
    expect(lineDiff(a, b)).toEqual([
      { op: ' ', text: 'const a = 1;' },
      { op: '-', text: 'const model = vae({ latentDim: 16 });' },
      { op: '+', text: 'const model = vae({ latentDim: 4 });' },
      { op: '+', text: 'const extra = 2;' },
      { op: ' ', text: 'train(model);' },
    ]);
    expect(lineDiff(a, a).every((l) => l.op === ' ')).toBe(true);
    // applying the diff to a gives b
    const ops = lineDiff('x\ny\nz\nw', 'y\nq\nw\nv');
    expect(ops.filter((l) => l.op !== '-').map((l) => l.text).join('\n')).toBe('y\nq\nw\nv');
    expect(ops.filter((l) => l.op !== '+').map((l) => l.text).join('\n')).toBe('x\ny\nz\nw');
  });

  it('flattens settings and names units', () => {
    expect(flattenConfig({ model: { latentDim: 4, hidden: [8] }, train: { lr: 1e-3 } })).toEqual({ 'model.latentDim': '4', 'model.hidden': '[8]', 'train.lr': '0.001' });
    expect(unitOf('val/bits_per_dim', ['bound'])).toBe('bits/dim');
    expect(unitOf('val/elbo', ['bound'])).toBe('nats');
    expect(unitOf('val/active_units', ['info'])).toBe('');
  });
});
