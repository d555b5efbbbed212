// Sweeps: a spec expands to its configurations (grid, list, seeded random search) or
// says what is wrong, lab.sweep trains them in order through the real lab object,
// tags and names their runs, and its output survives the notebook file.
import { describe, expect, it } from 'vitest';
import { createLab } from '../../../../src/engine/lab/lab';
import { expandSweep } from '../../../../src/engine/lab/sweep';
import type { CellOutput } from '../../../../src/shared/domain';
import type { ExecContext } from '../../../../src/engine/context';
import { outputFromNb, outputToNb } from '../../../../src/renderer/src/notebook/nbformat';
import { collectingContext } from '../../../helpers/engine';

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
