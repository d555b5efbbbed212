// The 2-D toy data sets: 8gaussians exposes its modes and its points sit on them;
// every other set is finite; an unknown name is refused.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { modeStats } from '../../../../src/engine/eval/modes';

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
