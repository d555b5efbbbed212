import { beforeAll, describe, expect, it } from 'vitest';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { selectBackend } from '../../src/engine/backend/select';
import { toy2d } from '../../src/engine/data/toy2d';
import { modeStats } from '../../src/engine/eval/modes';
import { Gan } from '../../src/engine/models/adversarial/gan';
import { train } from '../../src/engine/train/trainer';
import { collectingContext } from './engine-helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('toy 2d data', () => {
  it('8gaussians exposes its modes and its points sit on them', () => {
    const d = toy2d('8gaussians');
    expect(d.modes).toHaveLength(8);
    expect(d.train.n).toBe(8000);
    const st = modeStats(d.val.x, d.modes!, d.modeStd!);
    expect(st.covered).toBe(8);
    expect(st.meanDist).toBeLessThan(0.1);
    for (const name of ['moons', '25gaussians', 'rings', 'spirals', 'checkerboard']) {
      const t = toy2d(name, { n: 500 });
      expect(t.train.x.every(Number.isFinite)).toBe(true);
    }
    expect(toy2d('25gaussians').modes).toHaveLength(25);
    expect(() => toy2d('nope')).toThrow(/unknown dataset/);
  });
});

describe('gan', () => {
  it('moves generated points towards the modes of 8 Gaussians', async () => {
    const data = toy2d('8gaussians', { n: 4000 });
    const model = new Gan({ hidden: [64, 64] });
    const { ctx, messages, artifactsDir } = collectingContext();
    const t0 = Date.now();
    const run = await train(ctx, model, data, { steps: 600, batchSize: 128, lr: 2e-3, evalEvery: 100, sampleEvery: 300, seed: 5 });
    const h = run.history('val/mode_dist');
    console.log(`gan 600 steps: ${((Date.now() - t0) / 1000).toFixed(1)} s; mode_dist ${h.values.map((v) => v.toFixed(3)).join(' ')}; covered ${run.history('val/modes_covered').values.join(' ')}`);
    expect(run.status).toBe('finished');
    expect(h.steps[0]).toBe(0);
    const first = h.values[0];
    const last = h.values[h.values.length - 1];
    expect(last).toBeLessThan(first * 0.4);
    expect(run.metrics['val/modes_covered']).toBeGreaterThanOrEqual(4);
    // scatter artifacts with data and samples
    const scatter = messages.filter((m) => m.type === 'run.artifact' && m.artifact.kind === 'scatter2d');
    expect(scatter.length).toBeGreaterThanOrEqual(2);
    const a = scatter[0].type === 'run.artifact' ? scatter[0].artifact : null;
    const json = JSON.parse(fs.readFileSync(path.join(artifactsDir, a!.path), 'utf8'));
    expect(json.samples).toHaveLength(1000);
    expect(json.data.length).toBe(400);
    // best checkpoint by lowest mode distance
    const best = messages.filter((m) => m.type === 'run.checkpoint' && m.checkpoint.reason === 'best');
    expect(best.length).toBeGreaterThan(0);
    model.dispose();
  });
});
