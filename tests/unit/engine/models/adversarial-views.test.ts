// GMMN and the views for adversarial models: the MMD² GMMN trains on (tf ops) is the
// float64 reference's number, and 0 between a sample and itself; training lowers the
// validation MMD; ganLab's frames each apply exactly one update of the named player
// (a 'd' frame moves only the discriminator's weights, a 'g' frame only the
// generator's) and its heatmap is the critic's output at those points; modeCoverage's
// counts are eval/modes.ts's; the D(x) histogram's numbers are the critic's; and every
// view refuses what it cannot show with a message that says why.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import type { EngineContext, ExecContext } from '../../../../src/engine/context';
import { imageDataset } from '../../../../src/engine/data/mnist';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { mmd2 } from '../../../../src/engine/eval/mmd';
import { modeStats } from '../../../../src/engine/eval/modes';
import { createLab } from '../../../../src/engine/lab/lab';
import { adversarialModels, adversarialViews } from '../../../../src/engine/models/adversarial';
import { sampleViews } from '../../../../src/engine/views/samples';
import { Cgan } from '../../../../src/engine/models/adversarial/cgan';
import { Gan } from '../../../../src/engine/models/adversarial/gan';
import { Wgan } from '../../../../src/engine/models/adversarial/wgan';
import { autoBandwidths, Gmmn, mmd2Tf } from '../../../../src/engine/models/adversarial/gmmn';
import type { Model, NamedWeight } from '../../../../src/engine/models/types';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { CellOutput } from '../../../../src/shared/domain';
import { collectingContext, tempDir } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** a context whose cell outputs are kept as emitted (frames included) */
function recording() {
  const artifactsDir = tempDir();
  const outputs: Record<string, unknown>[] = [];
  const exec: ExecContext = {
    execId: 'e1', notebook: 'gan-lab.ipynb', cellId: 'c1', code: '', signal: new AbortController().signal,
    emit: (o) => outputs.push(o as unknown as Record<string, unknown>),
  };
  const ctx: EngineContext = { send: () => {}, artifactsDir: () => artifactsDir, exec: () => exec };
  return { ctx, outputs, views: { ...adversarialViews(ctx), ...sampleViews(ctx) } };
}

const randomRows = (n: number, dim: number, seed: number, shift = 0): Float32Array => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * dim }, () => r.normal() + shift);
};

/** the values of every weight, by name */
function values(model: Model): Map<string, Float32Array> {
  // adversarial models answer getWeights synchronously
  return new Map((model.getWeights() as NamedWeight[]).map((w: NamedWeight) => [w.name, (w.tensor.dataSync() as Float32Array).slice()]));
}

/** names of the weights whose values differ between two snapshots */
function changed(a: Map<string, Float32Array>, b: Map<string, Float32Array>): string[] {
  return [...a.keys()].filter((k) => a.get(k)!.some((v, i) => v !== b.get(k)![i]));
}

describe('MMD² in tf ops', () => {
  it('is 0 between a sample and itself (biased estimator), in tf and in float64', () => {
    const x = randomRows(64, 2, 1);
    const t = tf.tensor2d(x, [64, 2]);
    const bw = [0.25, 0.5, 1, 2];
    const v = mmd2Tf(t, t, bw, 'biased');
    expect(Math.abs(v.dataSync()[0])).toBeLessThan(1e-5); // float32 rounding of ‖a‖² + ‖b‖² − 2a·b
    expect(Math.abs(mmd2(x, x, 2, { bandwidths: bw, estimator: 'biased' }))).toBeLessThan(1e-12);
    tf.dispose([t, v]);
  });

  it("equals eval/mmd.ts's float64 mmd2 (same bandwidths, same estimator) on 2-D and 50-D rows", () => {
    for (const [dim, bw] of [[2, [0.2, 0.5, 1, 2]], [50, [2, 5, 10, 20]]] as const) {
      const x = randomRows(40, dim, 2);
      const y = randomRows(30, dim, 3, 1);
      const tx = tf.tensor2d(x, [40, dim]);
      const ty = tf.tensor2d(y, [30, dim]);
      for (const estimator of ['unbiased', 'biased'] as const) {
        const ref = mmd2(x, y, dim, { bandwidths: [...bw], estimator });
        const v = mmd2Tf(tx, ty, [...bw], estimator);
        expect(ref).toBeGreaterThan(1e-3); // the shifted samples differ
        expect(Math.abs(v.dataSync()[0] - ref)).toBeLessThan(2e-5 * Math.max(1, Math.abs(ref)));
        v.dispose();
      }
      tf.dispose([tx, ty]);
    }
    // and the unbiased estimate between two halves of one distribution is near 0
    const a = tf.tensor2d(randomRows(200, 2, 4), [200, 2]);
    const b = tf.tensor2d(randomRows(200, 2, 5), [200, 2]);
    const u = mmd2Tf(a, b, [0.5, 1, 2]);
    expect(Math.abs(u.dataSync()[0])).toBeLessThan(0.01);
    tf.dispose([a, b, u]);
  });

  it("'auto' bandwidths scale with the data's median pairwise distance", () => {
    const x = randomRows(300, 2, 6);
    const bw = autoBandwidths(x, 2);
    const scaled = autoBandwidths(x.map((v) => 10 * v), 2);
    expect(bw).toHaveLength(6);
    scaled.forEach((s, i) => expect(s / bw[i]).toBeCloseTo(10, 1));
  });
});

describe('gmmn', () => {
  it('training lowers the validation MMD on 8 gaussians; no likelihood; mode statistics reported', async () => {
    const data = toy2d('8gaussians', { n: 3000 });
    const model = adversarialModels.gmmn({ hidden: [64, 64] });
    const { ctx } = collectingContext();
    const run = await train(ctx, model, data, { steps: 150, batchSize: 128, lr: 3e-3, evalEvery: 150, sampleEvery: 1000, checkpointEvery: 1000, seed: 3 });
    const h = run.history('val/mmd').values;
    expect(h).toHaveLength(2);
    expect(h[1]).toBeLessThan(0.5 * h[0]);
    expect(run.history('train/mmd2').values.length).toBe(150);
    expect(model.metricKinds()['train/mmd2']).toBe('loss');
    expect(model.metricKinds()['val/mmd']).toBe('sample');
    expect(run.metrics['val/modes_covered']).toBeGreaterThanOrEqual(0);
    expect((model as Model).testNll).toBeUndefined();
    // 'auto' bandwidths were fixed from the data and recorded
    expect(model.bandwidths).toHaveLength(6);
    expect(model.config.bandwidths).toEqual(model.bandwidths);
    model.dispose();
  });

  it('refuses bad settings with the option and its allowed values named', () => {
    expect(() => new Gmmn({ estimator: 'nope' as never })).toThrow(/estimator must be 'unbiased' \| 'biased'/);
    expect(() => new Gmmn({ bandwidths: [1, -1] })).toThrow(/bandwidths/);
    expect(() => new Gmmn({ bandwidths: [] })).toThrow(/bandwidths/);
    expect(() => new Gmmn({ latentDim: 0 })).toThrow(/latentDim/);
    expect(() => new Gmmn({ hidden: [32, 0] })).toThrow(/hidden/);
  });
});

describe('GAN views', () => {
  const data = toy2d('8gaussians', { n: 2000 });
  let gan: Gan;
  let gmmn: Gmmn;

  beforeAll(async () => {
    const { ctx } = collectingContext();
    gan = new Gan({ hidden: [32, 32] });
    await train(ctx, gan, data, { steps: 120, batchSize: 128, lr: 2e-3, evalEvery: 120, sampleEvery: 1000, checkpointEvery: 1000, seed: 2 });
    gmmn = new Gmmn({ hidden: [32, 32] });
    await train(ctx, gmmn, data, { steps: 60, batchSize: 128, lr: 3e-3, evalEvery: 60, sampleEvery: 1000, checkpointEvery: 1000, seed: 2 });
  }, 60_000);

  it("ganLab: a 'd' frame changes only the discriminator's weights, a 'g' frame only the generator's", async () => {
    const { views } = recording();
    for (const [u, moved, kept] of [['d', 'discriminator/', 'generator/'], ['g', 'generator/', 'discriminator/']] as const) {
      const before = values(gan);
      const res = await views.ganLab(gan, data, { updates: u, keep: true, size: 8, n: 50, arrows: 5 });
      const after = values(gan);
      const diff = changed(before, after);
      expect(res.labels).toEqual(['start', u === 'd' ? 'step D' : 'step G']);
      expect(res.frames[1].groups).toEqual([u]);
      expect(diff.length).toBeGreaterThan(0);
      expect(diff.every((k) => k.startsWith(moved))).toBe(true);
      // every trainable weight of the moved player moved; none of the other's
      expect([...after.keys()].filter((k) => k.startsWith(kept)).some((k) => diff.includes(k))).toBe(false);
    }
  });

  it('ganLab: one update per frame as named; D-frames move the heatmap, G-frames leave it and move the points; the model is put back', async () => {
    const { views, outputs } = recording();
    const before = values(gan);
    const res = await views.ganLab(gan, data, { updates: 'ddgdg', size: 10, n: 80, arrows: 10, seed: 4 });
    expect(res.labels).toEqual(['start', 'step D', 'step D', 'step G', 'step D', 'step G']);
    expect(res.frames.map((f) => f.player)).toEqual([null, 'd', 'd', 'g', 'd', 'g']);
    expect(res.frames.slice(1).map((f) => f.groups)).toEqual([['d'], ['d'], ['g'], ['d'], ['g']]);
    expect(res.frames[1].metrics['train/d_loss']).toBeGreaterThan(0);
    expect(res.frames[3].metrics['train/g_loss']).toBeGreaterThan(0);
    const same = (a: number[][], b: number[][]) => a.every((row, j) => row.every((v, i) => v === b[j][i]));
    for (let k = 1; k < res.frames.length; k++) {
      if (res.frames[k].player === 'g') {
        expect(same(res.grid.z[k], res.grid.z[k - 1])).toBe(true);
        expect(res.dReal[k]).toBe(res.dReal[k - 1]);
        expect(res.dFake[k]).not.toBe(res.dFake[k - 1]);
      } else {
        expect(same(res.grid.z[k], res.grid.z[k - 1])).toBe(false);
      }
    }
    expect(res.dReal).toHaveLength(6);
    expect(res.criticKind).toBe('probability');
    // keep: false (the default) leaves the model as it was
    expect(changed(before, values(gan))).toEqual([]);
    // the updates may also come as a list
    expect((await views.ganLab(gan, data, { updates: ['g', 'd'], size: 5, n: 10, arrows: 0 })).labels).toEqual(['start', 'step G', 'step D']);
    outputs.pop();

    // the figure: heatmap + data + generated + arrows, one animation frame per state, a slider and play/pause
    expect(outputs).toHaveLength(1);
    const fig = outputs[0] as { type: string; data: Record<string, unknown>[]; layout: Record<string, any>; frames: { name: string; data: Record<string, unknown>[]; traces: number[] }[] };
    expect(fig.type).toBe('plot');
    expect(fig.data.map((t) => t.type)).toEqual(['heatmap', 'scatter', 'scatter', 'scatter']);
    expect((fig.data[0].colorbar as { title: { text: string } }).title.text).toMatch(/D\(x\)/);
    expect(fig.frames).toHaveLength(6);
    expect(fig.frames[0].traces).toEqual([0, 2, 3]);
    expect(fig.layout.sliders[0].steps.map((s: { label: string }) => s.label)).toEqual(['start', '1: step D', '2: step D', '3: step G', '4: step D', '5: step G']);
    expect(fig.layout.updatemenus[0].buttons.map((b: { label: string }) => b.label)).toEqual(['▶ play', '❚❚ pause']);
    // the arrows: one segment per point with an arrow head at its end
    expect((fig.frames[1].data[2].x as unknown[]).length).toBe(30);
    // the rest of the output is a valid cell output
    expect(() => CellOutput.parse(fig)).not.toThrow();
  });

  it("ganLab's heatmap is the critic's output at those points (the model's state at each frame)", async () => {
    const { views } = recording();
    const res = await views.ganLab(gan, data, { updates: '', size: 12, n: 20, arrows: 3 });
    expect(res.labels).toEqual(['start']);
    const r = mulberry32(9);
    const pts: number[] = [];
    const want: number[] = [];
    for (let k = 0; k < 25; k++) {
      const i = r.int(12);
      const j = r.int(12);
      pts.push(res.grid.x[i], res.grid.y[j]);
      want.push(res.grid.z[0][j][i]);
    }
    const t = tf.tensor2d(pts, [25, 2]);
    const d = gan.critic(t);
    const got = d.dataSync();
    want.forEach((w, k) => expect(got[k]).toBeCloseTo(w, 5));
    expect(want.some((w) => w !== want[0])).toBe(true);
    tf.dispose([t, d]);
    // after a kept update, the last frame is the model's current state
    const res2 = await views.ganLab(gan, data, { updates: 'd', size: 12, n: 20, arrows: 3, keep: true });
    const t2 = tf.tensor2d(pts, [25, 2]);
    const d2 = gan.critic(t2);
    const got2 = d2.dataSync();
    const r2 = mulberry32(9);
    for (let k = 0; k < 25; k++) {
      const i = r2.int(12);
      const j = r2.int(12);
      expect(got2[k]).toBeCloseTo(res2.grid.z[1][j][i], 5);
    }
    tf.dispose([t2, d2]);
  });

  it("discriminatorHistogram: means and accuracy are the critic's on validation and generated points", async () => {
    const { views, outputs } = recording();
    const res = await views.discriminatorHistogram(gan, data, { n: 200, seed: 5 });
    const real = tf.tensor2d(data.val.x.subarray(0, 400), [200, 2]);
    const fake = gan.sample(200, undefined, 5);
    const dr = gan.critic(real).dataSync();
    const df = gan.critic(fake).dataSync();
    const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
    expect(res.meanReal).toBeCloseTo(mean(dr), 5);
    expect(res.meanFake).toBeCloseTo(mean(df), 5);
    const acc = (Array.from(dr).filter((v) => v > 0.5).length + Array.from(df).filter((v) => v < 0.5).length) / 400;
    expect(res.accuracy).toBeCloseTo(acc, 6);
    expect(res.threshold).toBe(0.5);
    expect(outputs).toHaveLength(1);
    const fig = CellOutput.parse(outputs[0]);
    expect(fig.type === 'plot' && fig.data.map((t) => t.type)).toEqual(['histogram', 'histogram']);
    tf.dispose([real, fake]);
  });

  it('discriminatorHistogram works on images too', async () => {
    const mnist = imageDataset('mnist', { binarize: true, limit: 300 });
    const g = new Gan({ hidden: [16] });
    const { ctx } = collectingContext();
    await train(ctx, g, mnist, { steps: 3, batchSize: 32, evalEvery: 3, sampleEvery: 1000, checkpointEvery: 1000 });
    const { views } = recording();
    const res = await views.discriminatorHistogram(g, mnist, { n: 20 });
    expect(res.n).toBe(20);
    expect(res.meanReal).toBeGreaterThan(0);
    expect(res.meanReal).toBeLessThan(1);
    await expect(views.ganLab(g, mnist)).rejects.toThrow(/2-D point data/);
    await expect(async () => views.modeCoverage(g, mnist)).rejects.toThrow(/2-D point data/);
    g.dispose();
    // a conditional GAN judges each example with its class: real rows with theirs, generated with the one in their code
    const c = new Cgan({ hidden: [16] });
    await train(ctx, c, mnist, { steps: 2, batchSize: 32, evalEvery: 2, sampleEvery: 1000, checkpointEvery: 1000 });
    const rc = await views.discriminatorHistogram(c, mnist, { n: 20, seed: 2 });
    const codes = c.noise(20, 2);
    const yFake = tf.slice(codes, [0, codes.shape[1] - 10], [20, 10]) as tf.Tensor2D;
    const xFake = c.sample(20, codes);
    const df = c.critic(xFake, yFake).dataSync();
    expect(rc.meanFake).toBeCloseTo(Array.from(df).reduce((a, b) => a + b, 0) / 20, 5);
    tf.dispose([codes, yFake, xFake]);
    c.dispose();
  });

  it('a score critic (WGAN): heatmap of scores on one colour scale, histogram accuracy at 0', async () => {
    const w = new Wgan({ hidden: [16, 16] });
    const { ctx } = collectingContext();
    await train(ctx, w, data, { steps: 10, batchSize: 64, evalEvery: 10, sampleEvery: 1000, checkpointEvery: 1000 });
    const { views, outputs } = recording();
    const res = await views.ganLab(w, data, { updates: 'ddg', size: 8, n: 30, arrows: 4 });
    expect(res.criticKind).toBe('score');
    expect(res.labels).toEqual(['start', 'step D', 'step D', 'step G']);
    const heat = (outputs[0] as { data: Record<string, any>[] }).data[0];
    expect(heat.colorbar.title.text).toBe('critic score');
    const all = res.grid.z.flat(2);
    expect(heat.zmin).toBeCloseTo(Math.min(...all), 6);
    expect(heat.zmax).toBeCloseTo(Math.max(...all), 6);
    const h = await views.discriminatorHistogram(w, data, { n: 100 });
    expect(h.threshold).toBe(0);
    expect(h.criticKind).toBe('score');
    w.dispose();
  });

  it('modeCoverage counts samples per mode as eval/modes.ts does, for a GAN and for a GMMN', async () => {
    for (const model of [gan, gmmn] as Model[]) {
      const { views, outputs } = recording();
      const res = await views.modeCoverage(model, data, { n: 500, seed: 3 });
      const s = await model.sample(500, undefined, 3);
      const st = modeStats(s.dataSync() as Float32Array, data.modes!, data.modeStd!);
      s.dispose();
      expect(res.of).toBe(8);
      expect(res.counts).toHaveLength(8);
      expect(res.covered).toBe(st.covered);
      expect(res.highQuality).toBe(st.highQuality);
      // the counts are the same rule: their total is the high-quality fraction, modes with ≥ 1% are covered
      expect(res.counts.reduce((a, b) => a + b, 0) / 500).toBeCloseTo(st.highQuality, 10);
      expect(res.counts.filter((c) => c >= 5).length).toBe(st.covered);
      const fig = CellOutput.parse(outputs[0]);
      expect(fig.type === 'plot' && fig.layout.title).toEqual({ text: expect.stringMatching(new RegExp(`${st.covered} of 8 modes covered`)) });
    }
  });

  it('modeCoverage takes any model that samples 2-D points (a flow here)', async () => {
    const { ctx } = collectingContext();
    const flow = createLab(ctx).models.realnvp({ hidden: [16] });
    await train(ctx, flow, data, { steps: 3, batchSize: 64, evalEvery: 3, sampleEvery: 1000, checkpointEvery: 1000 });
    const res = await recording().views.modeCoverage(flow, data, { n: 200 });
    expect(res.of).toBe(8);
    expect(res.counts.reduce((a, b) => a + b, 0)).toBe(Math.round(res.highQuality * 200));
    flow.dispose();
  });

  it('refuses what it cannot show, saying why', async () => {
    const { views } = recording();
    const moons = toy2d('moons', { n: 500 });
    await expect(async () => views.ganLab(gmmn, data)).rejects.toThrow(/ganLab: needs an adversarial model .* not a gmmn/);
    await expect(async () => views.discriminatorHistogram(gmmn, data)).rejects.toThrow(/adversarial model/);
    await expect(async () => views.ganLab(new Gan(), data)).rejects.toThrow(/train the gan first/);
    await expect(async () => views.discriminatorHistogram(new Gan(), data)).rejects.toThrow(/train the gan first/);
    await expect(async () => views.modeCoverage(new Gmmn(), data)).rejects.toThrow(/train the gmmn first/);
    await expect(async () => views.modeCoverage(gan, moons)).rejects.toThrow(/moons has no known modes/);
    await expect(async () => views.ganLab(gan, data, { updates: 'dgx' })).rejects.toThrow(/updates must be a string of 'd'/);
    await expect(async () => views.ganLab(gan, data, { lr: -1 })).rejects.toThrow(/lr must be a positive number/);
    await expect(async () => views.ganLab({} as Model, data)).rejects.toThrow(/must be a model from lab.models/);
    await expect(async () => views.ganLab(gan, {} as never)).rejects.toThrow(/2-D point data/);
    // a GAN on other 2-D data does not fit a dataset of another dimension
    const wide = { ...data, dim: 3, shape: [3], val: { x: new Float32Array(30), n: 10 } };
    await expect(async () => views.discriminatorHistogram(gan, wide)).rejects.toThrow(/generates 2 values per example/);
  });

  it('lab exposes lab.models.gmmn and the views', () => {
    const { ctx } = collectingContext();
    const lab = createLab(ctx);
    expect(typeof lab.models.gmmn).toBe('function');
    expect(lab.models.gmmn()).toBeInstanceOf(Gmmn);
    for (const v of ['ganLab', 'discriminatorHistogram', 'modeCoverage'] as const) expect(typeof lab.views[v]).toBe('function');
  });
});
