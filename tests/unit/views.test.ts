// lab.views and lab.plot: each view computes what it claims (the density it draws
// integrates to ~1, the layers panel starts at the grid and ends at f(grid), the
// receptive field is exactly the earlier pixels, completion keeps the given half,
// live sampling replaces one output in place and ends with the full sample) and
// emits outputs the contract accepts.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend/select';
import type { EngineContext, ExecContext } from '../../src/engine/context';
import { parseWav } from '../../src/engine/data/waveforms';
import { auroc } from '../../src/engine/eval/auroc';
import { createLab } from '../../src/engine/lab/lab';
import type { BinaryAutoregressive } from '../../src/engine/models/autoregressive/chain-rule';
import { CellOutput, mergeOutput } from '../../src/shared/domain';
import { outputFromNb, outputToNb } from '../../src/renderer/src/notebook/nbformat';
import { tempDir } from './engine-helpers';

beforeAll(async () => {
  await selectBackend('wasm');
});

function recordingLab() {
  const artifactsDir = tempDir();
  const outputs: CellOutput[] = [];
  const controller = new AbortController();
  const exec: ExecContext = {
    execId: 'e1', notebook: 'views.ipynb', cellId: 'c1', code: '', signal: controller.signal,
    emit: (o) => outputs.push(CellOutput.parse(o)), // what the host would accept
  };
  const ctx: EngineContext = { send: () => {}, artifactsDir: () => artifactsDir, exec: () => exec };
  return { lab: createLab(ctx), outputs, artifactsDir, controller };
}

const plots = (outputs: CellOutput[]) => outputs.filter((o): o is Extract<CellOutput, { type: 'plot' }> => o.type === 'plot');

describe('auroc', () => {
  it('is the Mann-Whitney probability, ties counted half', () => {
    expect(auroc([1, 2, 3], [4, 5])).toBe(1);
    expect(auroc([4, 5], [1, 2, 3])).toBe(0);
    expect(auroc([1, 2], [1, 2])).toBe(0.5);
    expect(auroc([0, 2], [1])).toBe(0.5);
    expect(auroc([1], [1, 2])).toBe(0.75);
    expect(() => auroc([], [1])).toThrow('at least one');
  });
});

describe('outputs', () => {
  it('a keyed output replaces the earlier one with its key; plots round-trip through nbformat as plotly json', () => {
    let outs: CellOutput[] = [{ type: 'text', text: 'a' }];
    outs = mergeOutput(outs, { type: 'image', path: 'v/1.png', key: 'live' });
    outs = mergeOutput(outs, { type: 'text', text: 'b' });
    outs = mergeOutput(outs, { type: 'image', path: 'v/2.png', key: 'live' });
    expect(outs.map((o) => (o.type === 'image' ? o.path : o.type))).toEqual(['text', 'v/2.png', 'text']);
    const plot: CellOutput = { type: 'plot', data: [{ type: 'heatmap', z: [[1, 2]] }], layout: { title: { text: 't' } }, caption: 'c' };
    const nb = outputToNb(plot);
    expect((nb as unknown as { data: Record<string, unknown> }).data['application/vnd.plotly.v1+json']).toEqual({ data: plot.data, layout: plot.layout });
    expect(outputFromNb(nb)).toEqual(plot);
    const audio: CellOutput = { type: 'audio', path: 'views/a.wav', caption: 'hear' };
    expect(outputFromNb(outputToNb(audio))).toEqual(audio);
  });

  it('lab.plot passes a figure through as JSON and refuses what is not one', () => {
    const { lab, outputs } = recordingLab();
    lab.plot([{ x: new Float32Array([1, 2]), y: [3, 4], type: 'scatter' }], { title: { text: 'hi' } }, 'a line');
    expect(plots(outputs)[0]).toEqual({ type: 'plot', data: [{ x: [1, 2], y: [3, 4], type: 'scatter' }], layout: { title: { text: 'hi' } }, caption: 'a line' });
    expect(() => lab.plot({} as never)).toThrow('list of Plotly traces');
  });
});

describe('views of a 2-D flow', () => {
  it('density integrates to 1 on its grid, layers run from the grid to f(grid), temperature scales the spread', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.toy2d('moons', { n: 2000 });
    const model = lab.models.realnvp({ couplings: 4, hidden: [16, 16] });
    await lab.train(model, data, { steps: 400, batchSize: 128, lr: 3e-3, evalEvery: 400, sampleEvery: 1000 });
    const d = lab.views.density(model, data, { size: 120 });
    expect(d.kind).toBe('exact');
    expect(Math.abs(d.integral - 1)).toBeLessThan(0.02);
    const density = plots(outputs).at(-1)!;
    expect(density.data.map((t) => t.type)).toEqual(['scatter', 'heatmap']);
    expect((density.data[1].z as number[][]).length).toBe(120);

    const l = lab.views.layers(model, data, { lines: 5, panels: 12 });
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

    lab.views.temperature(model, { temperatures: [0.3, 1], n: 400 });
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
    expect(() => lab.views.receptiveField(model)).toThrow('autoregressive models');
    model.dispose();
  }, 120_000);
});

describe('views of a binary autoregressive model', () => {
  it('detector, receptive field, completion and live sampling', async () => {
    const { lab, outputs, artifactsDir } = recordingLab();
    const mn = lab.data.mnist({ limit: 600 });
    const fm = lab.data.fashionMnist({ limit: 600 });
    const model = lab.models.fvsbn();
    await lab.train(model, mn, { steps: 40, batchSize: 32, lr: 3e-3, evalEvery: 40, sampleEvery: 1000 });

    // Fashion-MNIST, binarized the same way, has far more ink: an MNIST model gives it far higher bits/dim
    const det = lab.views.detector(model, { train: mn.train, test: mn.test, fashion: fm.test });
    expect(det.auroc).toBeGreaterThan(0.9);
    expect(det.meanBitsPerDim.fashion).toBeGreaterThan(det.meanBitsPerDim.test);
    const hist = plots(outputs).at(-1)!;
    expect(hist.data.map((t) => t.type)).toEqual(['histogram', 'histogram', 'histogram']);
    expect((hist.data[1].x as number[]).length).toBe(mn.test.n);
    expect(() => lab.views.detector(model, { test: mn.test, toy: lab.data.toy2d('moons').test })).toThrow('different dimensions');

    // FVSBN's pixel i sees exactly the i pixels before it in raster order
    const rf = lab.views.receptiveField(model, { row: 10, col: 5 });
    expect(rf).toEqual({ seen: 10 * 28 + 5, of: 784 });
    const z = plots(outputs).at(-1)!.data[0].z as number[][];
    expect(z[10][5]).toBe(2);
    expect(z[10][4]).toBe(1);
    expect(z[10][6]).toBe(0);

    // completion: the top half is the test image's, the bottom half is drawn
    const c = lab.views.complete(model, mn.test, { n: 4, seed: 3 });
    expect(fs.existsSync(path.join(artifactsDir, c.path))).toBe(true);
    const u = new Float32Array(4 * 784).fill(0.5);
    const given = mn.test.x.slice(0, 4 * 784);
    const steps = (model as unknown as BinaryAutoregressive).sampling(4, u, given, (d: number) => d < 14 * 28);
    let r = steps.next();
    let drawn = 0;
    while (!r.done) {
      expect(r.value.i).toBeGreaterThanOrEqual(14 * 28);
      drawn++;
      r = steps.next();
    }
    expect(drawn).toBe(14 * 28);
    for (let k = 0; k < 4; k++) for (let d = 0; d < 14 * 28; d++) expect(r.value[k * 784 + d]).toBe(given[k * 784 + d]);

    // live sampling: one keyed output refreshed in place; its last frame is the whole sample
    const before = outputs.length;
    const live = await lab.views.sampleLive(model, { n: 4, every: 196, seed: 5 });
    const frames = outputs.slice(before).filter((o): o is Extract<CellOutput, { type: 'image' }> => o.type === 'image');
    expect(frames.length).toBe(5); // after 196, 392, 588, 784 pixels, and the end
    expect(new Set(frames.map((f) => f.key)).size).toBe(1);
    expect(frames.at(-1)!.caption).toContain('784 of 784');
    expect(live.path).toBe(frames.at(-1)!.path);
    expect(frames.reduce((acc, f) => mergeOutput(acc, f), [] as CellOutput[])).toHaveLength(1);
    model.dispose();
  }, 120_000);

  it('live sampling stops when the cell is interrupted', async () => {
    const { lab, outputs, controller } = recordingLab();
    const mn = lab.data.mnist({ limit: 200 });
    const model = lab.models.fvsbn();
    await lab.train(model, mn, { steps: 2, batchSize: 16, evalEvery: 2, sampleEvery: 1000 });
    const p = lab.views.sampleLive(model, { n: 2, every: 28 });
    controller.abort();
    await expect(p).rejects.toThrow('Interrupted');
    expect(outputs.filter((o) => o.type === 'image').length).toBeLessThan(28);
    model.dispose();
  }, 60_000);
});

describe('views of sequence models', () => {
  it('the receptive field of a wavenet output is its context; its samples can be heard; live sampling of text ends with full rows', async () => {
    const { lab, outputs, artifactsDir } = recordingLab();
    const audio = lab.data.waveforms({ n: 100, length: 64 });
    const wn = lab.models.wavenet({ channels: 4, skipChannels: 4, layers: 3, stacks: 1 });
    await lab.train(wn, audio, { steps: 2, batchSize: 8, evalEvery: 2, sampleEvery: 1000 });
    const rf = lab.views.receptiveField(wn, { position: 40 });
    expect(rf).toEqual({ seen: 2 + 7, of: 64 });
    const bars = plots(outputs).at(-1)!.data[0].y as number[];
    bars.forEach((v, j) => expect(v !== 0, `position ${j}`).toBe(j >= 40 - 9 && j < 40));

    // listening: the generated windows as a WAV file at the data's rate, a tenth of a second apart
    const heard = lab.views.listen(wn, { n: 2, seed: 3 });
    const wav = parseWav(fs.readFileSync(path.join(artifactsDir, heard.path)));
    expect(wav.sampleRate).toBe(8000);
    expect(wav.samples.length).toBe(2 * 64 + 800);
    expect(heard.seconds).toBeCloseTo((2 * 64 + 800) / 8000, 10);
    expect(outputs.at(-1)).toMatchObject({ type: 'audio', path: heard.path });
    expect(wav.samples.subarray(64, 64 + 800).every((v) => v === 0)).toBe(true);

    const text = lab.data.text({ text: 'the cat sat on the mat. '.repeat(40), length: 24 });
    const lm = lab.models.charlm({ dim: 8, layers: 1, heads: 2 });
    await lab.train(lm, text, { steps: 2, batchSize: 8, evalEvery: 2, sampleEvery: 1000 });
    const before = outputs.length;
    const live = await lab.views.sampleLive(lm, { n: 2, every: 8 });
    expect(live.steps).toBe(24);
    const frames = outputs.slice(before).filter((o): o is Extract<CellOutput, { type: 'image' }> => o.type === 'image');
    expect(frames.map((f) => f.caption)).toEqual(['charlm: 8 of 24 characters drawn', 'charlm: 16 of 24 characters drawn', 'charlm: 24 of 24 characters drawn', 'charlm: 24 of 24 characters drawn']);
    expect(() => lab.views.listen(lm)).toThrow('on text');
    wn.dispose();
    lm.dispose();
  }, 120_000);
});
