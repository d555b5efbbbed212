import { describe, expect, it } from 'vitest';
import { runNames, type NamedRun } from '../../../src/shared/run-names';

let t = 0;
const run = (id: string, model: Record<string, unknown>, train: Record<string, unknown> = {}, extra: Partial<NamedRun> = {}): NamedRun => ({
  id,
  notebook: 'vae-mnist.ipynb',
  name: 'vae-mnist',
  family: 'vae',
  dataName: 'mnist',
  startedAt: ++t,
  config: { model, train: { steps: 100, seed: 1, ...train }, data: { name: 'mnist', sizes: { train: 60000 + t } }, metricKinds: { [`k${t}`]: 'loss' } },
  ...extra,
});

describe('run names: what differs from the siblings', () => {
  it('a lone run is its family and data', () => {
    expect(runNames([run('a', { latentDim: 8 })]).get('a')).toBe('vae-mnist');
  });

  it('names the settings whose values differ, not the bookkeeping', () => {
    const names = runNames([run('a', { latentDim: 8, hidden: [64] }), run('b', { latentDim: 4, hidden: [64] }), run('c', { latentDim: 2, hidden: [64] }, { lr: 0.01 })]);
    expect(names.get('a')).toBe('vae-mnist latentDim=8 lr=—');
    expect(names.get('b')).toBe('vae-mnist latentDim=4 lr=—');
    expect(names.get('c')).toBe('vae-mnist latentDim=2 lr=0.01');
  });

  it('falls back to the ordinal among the siblings when the configs are identical', () => {
    const names = runNames([run('a', { latentDim: 8 }), run('b', { latentDim: 8 }), run('c', { latentDim: 4 })]);
    expect(names.get('a')).toBe('vae-mnist latentDim=8 #1');
    expect(names.get('b')).toBe('vae-mnist latentDim=8 #2');
    expect(names.get('c')).toBe('vae-mnist latentDim=4');
    const same = runNames([run('x', { latentDim: 8 }), run('y', { latentDim: 8 })]);
    expect([same.get('x'), same.get('y')]).toEqual(['vae-mnist #1', 'vae-mnist #2']);
  });

  it('is deterministic whatever the order, and groups by notebook and base name', () => {
    const rs = [run('a', { latentDim: 8 }), run('b', { latentDim: 4 }), run('g', { z: 1 }, {}, { family: 'gan', name: 'gan-mnist' }), run('o', { latentDim: 2 }, {}, { notebook: 'other.ipynb' })];
    const one = runNames(rs);
    const two = runNames(rs.slice().reverse());
    expect([...one.entries()].sort()).toEqual([...two.entries()].sort());
    expect(one.get('g')).toBe('gan-mnist');
    expect(one.get('o')).toBe('vae-mnist');
    expect(one.get('a')).toBe('vae-mnist latentDim=8');
  });

  it('keeps a name the user gave (renamed, or lab.train name)', () => {
    const names = runNames([run('a', { latentDim: 8 }, {}, { name: 'baseline', renamed: true }), run('b', { latentDim: 4 }, { name: 'small z' }, { name: 'small z' }), run('c', { latentDim: 2 })]);
    expect(names.get('a')).toBe('baseline');
    expect(names.get('b')).toBe('small z');
    // they are still its siblings: what differs from them names it
    expect(names.get('c')).toBe('vae-mnist latentDim=2');
  });

  it('one setting under two paths (a -p parameter and the model option) is named once; a clash of names takes the full path', () => {
    const a = run('a', { latentDim: 8 }, { seed: 1 });
    a.config.params = { latentDim: 8 };
    const b = run('b', { latentDim: 4 }, { seed: 2 });
    b.config.params = { latentDim: 4 };
    (a.config.data as Record<string, unknown>).seed = 5;
    (b.config.data as Record<string, unknown>).seed = 6;
    const names = runNames([a, b]);
    expect(names.get('a')).toBe('vae-mnist latentDim=8 train.seed=1 data.seed=5');
  });

  it('names at most three settings and counts the rest', () => {
    const names = runNames([run('a', { p: 1, q: 1, r: 1, s: 1, u: 1 }), run('b', { p: 2, q: 2, r: 2, s: 2, u: 2 })]);
    expect(names.get('a')).toBe('vae-mnist p=1 q=1 r=1 +2');
  });
});
