// The views of a 2-D flow: the density it draws integrates to ~1 on its grid, the
// layers panel runs from the grid to f(grid), temperature scales the spread.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { CellOutput } from '../../../../src/shared/domain';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const plots = (outputs: CellOutput[]) => outputs.filter((o): o is Extract<CellOutput, { type: 'plot' }> => o.type === 'plot');

describe('views of a 2-D flow', () => {
  it('density integrates to 1 on its grid, layers run from the grid to f(grid), temperature scales the spread', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.toy2d('moons', { n: 2000 });
    const model = lab.models.realnvp({ couplings: 4, hidden: [16, 16] });
    await lab.train(model, data, { steps: 400, batchSize: 128, lr: 3e-3, evalEvery: 400, sampleEvery: 1000 });
    const d = await lab.views.density(model, data, { size: 120 });
    expect(d.kind).toBe('exact');
    expect(Math.abs(d.integral - 1)).toBeLessThan(0.02);
    const density = plots(outputs).at(-1)!;
    expect(density.data.map((t) => t.type)).toEqual(['scatter', 'heatmap']);
    expect((density.data[1].z as number[][]).length).toBe(120);

    const l = await lab.views.layers(model, data, { lines: 5, panels: 12 });
    const fig = plots(outputs).at(-1)!;
    expect(fig.data).toHaveLength(2 * l.stages); // horizontal + vertical lines per panel
    // the last panel is the latent: f of the grid the first panel holds
    const first = fig.data[0], last = fig.data[fig.data.length - 2];
    const pts = (first.x as (number | null)[]).map((x, i) => [x, (first.y as (number | null)[])[i]]).filter(([x]) => x !== null) as number[][];
    const z = model.encodeMean!(tf.tensor2d(pts.slice(0, 10))).arraySync() as number[][];
    const lx = (last.x as (number | null)[]).filter((v) => v !== null) as number[];
    const ly = (last.y as (number | null)[]).filter((v) => v !== null) as number[];
    for (let i = 0; i < 10; i++) {
      expect(lx[i]).toBeCloseTo(z[i][0], 4);
      expect(ly[i]).toBeCloseTo(z[i][1], 4);
    }

    await lab.views.temperature(model, { temperatures: [0.3, 1], n: 400 });
    const t = plots(outputs).at(-1)!;
    expect(t.data).toHaveLength(2);
    expect(((t.layout.sliders as { steps: unknown[] }[])[0]).steps).toHaveLength(2);
    expect(t.data.map((tr) => tr.visible)).toEqual([false, true]);
    const spread = (tr: Record<string, unknown>) => {
      const xs = tr.x as number[];
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
    };
    expect(spread(t.data[0])).toBeLessThan(spread(t.data[1]));
    expect((model as unknown as { temperature: number }).temperature).toBe(1); // restored
    await expect(lab.views.receptiveField(model)).rejects.toThrow('autoregressive models');
    model.dispose();
  }, 120_000);
});
