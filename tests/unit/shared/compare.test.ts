// The compare view's helpers: the code diff by lines, settings flattened to rows, the
// units of metric keys.
import { describe, expect, it } from 'vitest';
import { flattenConfig, gridAt, gridSteps, lineDiff, runFacts, unitOf } from '../../../src/shared/compare';

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

describe('compare with a run that stopped early', () => {
  const base = { seed: 1, backend: 'wasm', dataName: 'mnist', dataFingerprint: 'abcdef0123456789', code: 'x' };
  it('lists status and steps among the facts, so "what differs" flags them', () => {
    const done = runFacts({ ...base, status: 'finished', steps: 200, totalSteps: 200 });
    const stopped = runFacts({ ...base, status: 'stopped', steps: 48, totalSteps: 200 });
    expect(done.map(([k]) => k).slice(0, 2)).toEqual(['status', 'steps']);
    expect(Object.fromEntries(stopped)).toMatchObject({ status: 'stopped', steps: '48 / 200' });
    const differing = done.filter(([k, v], i) => stopped[i][0] === k && stopped[i][1] !== v).map(([k]) => k);
    expect(differing).toEqual(['status', 'steps']);
  });

  it('slides over every step a run logged a grid at; each run shows its grid there or its latest before', () => {
    const finished = [{ step: 0 }, { step: 200 }, { step: 400 }];
    const stopped = [{ step: 0 }, { step: 48 }];
    const none: { step: number }[] = [];
    expect(gridSteps([finished, stopped, none])).toEqual([0, 48, 200, 400]);
    expect(gridAt(finished, 400)).toEqual({ step: 400 });
    expect(gridAt(stopped, 400)).toEqual({ step: 48 });
    expect(gridAt(finished, 48)).toEqual({ step: 0 });
    expect(gridAt(none, 400)).toBeNull();
    expect(gridSteps([none])).toEqual([]);
  });
});
