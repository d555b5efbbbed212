// The compare view's helpers: the code diff by lines, settings flattened to rows, the
// units of metric keys.
import { describe, expect, it } from 'vitest';
import { flattenConfig, lineDiff, unitOf } from '../../../src/shared/compare';

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
