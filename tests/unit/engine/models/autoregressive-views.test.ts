// The views of autoregressive models: the binary models' detector, receptive field
// (exactly the earlier pixels), completion (keeps the given half) and live sampling
// (one output replaced in place, ending with the full sample, stopped by an
// interrupt); a WaveNet's receptive field, its samples as a WAV, live text sampling.
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { parseWav } from '../../../../src/engine/data/waveforms';
import type { BinaryAutoregressive } from '../../../../src/engine/models/autoregressive/chain-rule';
import { CellOutput, mergeOutput } from '../../../../src/shared/domain';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const plots = (outputs: CellOutput[]) => outputs.filter((o): o is Extract<CellOutput, { type: 'plot' }> => o.type === 'plot');

describe('views of a binary autoregressive model', () => {
  it('detector, receptive field, completion and live sampling', async () => {
    const { lab, outputs, artifactsDir } = recordingLab();
    const mn = lab.data.mnist({ limit: 600 });
    const fm = lab.data.fashionMnist({ limit: 600 });
    const model = lab.models.fvsbn();
    await lab.train(model, mn, { steps: 40, batchSize: 32, lr: 3e-3, evalEvery: 40, sampleEvery: 1000 });

    // Fashion-MNIST, binarized the same way, has far more ink: an MNIST model gives it far higher bits/dim
    const det = await lab.views.detector(model, { train: mn.train, test: mn.test, fashion: fm.test });
    expect(det.auroc).toBeGreaterThan(0.9);
    expect(det.meanBitsPerDim.fashion).toBeGreaterThan(det.meanBitsPerDim.test);
    const hist = plots(outputs).at(-1)!;
    expect(hist.data.map((t) => t.type)).toEqual(['histogram', 'histogram', 'histogram']);
    expect((hist.data[1].x as number[]).length).toBe(mn.test.n);
    await expect(lab.views.detector(model, { test: mn.test, toy: lab.data.toy2d('moons').test })).rejects.toThrow('different dimensions');

    // FVSBN's pixel i sees exactly the i pixels before it in raster order
    const rf = await lab.views.receptiveField(model, { row: 10, col: 5 });
    expect(rf).toEqual({ seen: 10 * 28 + 5, of: 784 });
    const z = plots(outputs).at(-1)!.data[0].z as number[][];
    expect(z[10][5]).toBe(2);
    expect(z[10][4]).toBe(1);
    expect(z[10][6]).toBe(0);

    // completion: the top half is the test image's, the bottom half is drawn
    const c = await lab.views.complete(model, mn.test, { n: 4, seed: 3 });
    expect(fs.existsSync(path.join(artifactsDir, c.path))).toBe(true);
    const u = new Float32Array(4 * 784).fill(0.5);
    const given = mn.test.x.slice(0, 4 * 784);
    const steps = (model as unknown as BinaryAutoregressive).sampling(4, u, given, (d: number) => d < 14 * 28);
    let r = await steps.next();
    let drawn = 0;
    while (!r.done) {
      expect(r.value.i).toBeGreaterThanOrEqual(14 * 28);
      drawn++;
      r = await steps.next();
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
    const rf = await lab.views.receptiveField(wn, { position: 40 });
    expect(rf).toEqual({ seen: 2 + 7, of: 64 });
    const bars = plots(outputs).at(-1)!.data[0].y as number[];
    bars.forEach((v, j) => expect(v !== 0, `position ${j}`).toBe(j >= 40 - 9 && j < 40));

    // listening: the generated windows as a WAV file at the data's rate, a tenth of a second apart
    const heard = await lab.views.listen(wn, { n: 2, seed: 3 });
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
    await expect(lab.views.listen(lm)).rejects.toThrow('on text');
    wn.dispose();
    lm.dispose();
  }, 120_000);
});
