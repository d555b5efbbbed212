// Normalizing flows (NICE, RealNVP, MAF, IAF): each layer inverts and its log-det
// is log|det J| of a brute-force Jacobian; whole models invert; a 2-D density
// integrates to 1; the 8-bit scale is right. Weights are randomized first: flows
// start as the identity, which would pass every check trivially.
import type { LikelihoodEvaluation } from '../../../../src/engine/eval/evaluate';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { bitsPerDim, eightBitNll, type FlowModel } from '../../../../src/engine/models/flows/flow';
import { ActNorm, AutoregressiveAffine, Coupling, DiagScale, Permute, type FlowLayer } from '../../../../src/engine/models/flows/layers';
import { Glow, InvConv1x1 } from '../../../../src/engine/models/flows/glow';
import { ChannelSplit, FactorOut, Squeeze } from '../../../../src/engine/models/flows/multiscale';
import { Iaf, Maf } from '../../../../src/engine/models/flows/maf';
import { alternateMask, channelMask, checkerboardMask } from '../../../../src/engine/models/flows/masks';
import { Nice } from '../../../../src/engine/models/flows/nice';
import { RealNvp } from '../../../../src/engine/models/flows/realnvp';
import { invert, logAbsDet, luDecompose, randomRotation } from '../../../../src/engine/ops/linalg';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

function randomizeVars(vars: tf.Variable[], seed: number, scale = 0.5): void {
  const rng = mulberry32(seed);
  for (const v of vars) v.assign(tf.tensor(new Float32Array(v.size).map(() => scale * 2 * (rng.next() - 0.5)), v.shape));
}

/** log|det J| per row of a map R^D -> R^D, J from autodiff (one output at a time) */
function jacobianLogDets(f: (x: tf.Tensor2D) => tf.Tensor2D, x: tf.Tensor2D): number[] {
  const [B, D] = x.shape;
  const J = new Float64Array(B * D * D);
  for (let i = 0; i < D; i++) {
    const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(f(inp as tf.Tensor2D), [0, i], [-1, 1])))(x);
    const gv = g.dataSync();
    for (let b = 0; b < B; b++) for (let j = 0; j < D; j++) J[b * D * D + i * D + j] = gv[b * D + j];
    g.dispose();
  }
  return Array.from({ length: B }, (_, b) => logAbsDet(J.subarray(b * D * D, (b + 1) * D * D), D));
}

const D = 8;
const layers: [string, () => FlowLayer][] = [
  ['additive coupling (NICE)', () => new Coupling(alternateMask(D, 1), [16], 'additive', mulberry32(1))],
  ['affine coupling (RealNVP)', () => new Coupling(checkerboardMask([2, 4], 0), [16, 16], 'affine', mulberry32(2))],
  ['diagonal scaling', () => new DiagScale(D)],
  ['actnorm', () => new ActNorm(D)],
  ['squeeze (2 x 4 x 1 -> 1 x 2 x 4)', () => new Squeeze(2, 4, 1)],
  ['invertible 1x1 convolution (LU), 2 pixels x 4 channels', () => new InvConv1x1(4, 2, mulberry32(8))],
  ['affine coupling on half the channels', () => new Coupling(channelMask(2, 4, 1), [16], 'affine', mulberry32(9))],
  ['permutation', () => new Permute(Int32Array.from([3, 1, 7, 0, 2, 6, 5, 4]))],
  ['reversal', () => new Permute(Int32Array.from([7, 6, 5, 4, 3, 2, 1, 0]))],
  ['MAF layer', () => new AutoregressiveAffine(D, [24], mulberry32(3))],
  ['IAF layer', () => new AutoregressiveAffine(D, [24], mulberry32(4), true)],
  ['MAF layer, reversed order', () => new AutoregressiveAffine(D, [24], mulberry32(5), false, true)],
  ['IAF layer, reversed order', () => new AutoregressiveAffine(D, [24], mulberry32(6), true, true)],
  ['channel split (2 pixels x 4 channels)', () => new ChannelSplit(2, 4)],
  ['affine coupling with a convolutional network (2 x 4 image)', () => new Coupling(checkerboardMask([2, 4], 1), [5, 3], 'affine', mulberry32(11), [2, 4, 1])],
  ['affine coupling with a convolutional network on half the channels (1 x 2 x 4)', () => new Coupling(channelMask(2, 4, 0), [6], 'affine', mulberry32(12), [1, 2, 4])],
  ['factor-out: a coupling and actnorm on the first 4 units', () => new FactorOut(D, 4, [new ActNorm(4), new Coupling(alternateMask(4, 0), [12], 'affine', mulberry32(10))])],
];

describe.each(layers)('%s', (name, make) => {
  it('inverse(forward(x)) = x within 1e-4, and its log-det is log|det J| within 1e-3', async () => {
    const layer = make();
    randomizeVars(layer.vars(), 7);
    const x = tf.tensor2d(new Float32Array(5 * D).map((_, i) => Math.sin(i * 1.7) * 1.5), [5, D]);
    const { y, logdet } = layer.forward(x);
    const back = await layer.inverse(y);
    const err = tf.max(tf.abs(tf.sub(back, x))).dataSync()[0];
    expect(err).toBeLessThan(1e-4);
    // the inverse leaves nothing behind but its result (sampling runs it outside a tidy)
    const live = tf.memory().numTensors;
    (await layer.inverse(y)).dispose();
    expect(tf.memory().numTensors).toBe(live);
    // the IAF's density direction is solved position by position on the CPU (no autodiff
    // through it): its log-det is checked as minus that of the one-pass inverse at z (one pass, not async)
    const ld = name.startsWith('IAF layer') ? jacobianLogDets((z) => layer.inverse(z) as tf.Tensor2D, y).map((v) => -v) : jacobianLogDets((inp) => layer.forward(inp).y, x);
    const got = Array.from(logdet.dataSync());
    ld.forEach((v, b) => expect(Math.abs(got[b] - v), `row ${b}`).toBeLessThan(1e-3));
    if (name.startsWith('additive') || name.startsWith('squeeze') || name === 'permutation' || name === 'reversal') expect(got.every((v) => v === 0)).toBe(true);
    tf.dispose([x, y, logdet, back]);
    layer.dispose();
  });
});

const models: [string, () => FlowModel][] = [
  ['nice', () => new Nice({ couplings: 4, hidden: [16] })],
  ['realnvp', () => new RealNvp({ couplings: 4, hidden: [16] })],
  ['maf', () => new Maf({ layers: 3, hidden: [16] })],
  ['iaf', () => new Iaf({ layers: 2, hidden: [16] })],
  ['glow', () => new Glow({ steps: 3, hidden: [16] })],
];

describe.each([
  ['realnvp, 2 scales (checkerboard, squeeze, channel masks, factor-out)', () => new RealNvp({ hidden: [12], scales: 2 })],
  ['glow, 2 levels with factor-out', () => new Glow({ levels: 2, steps: 2, hidden: [12] })],
  ['realnvp, 2 scales, convolutional coupling networks', () => new RealNvp({ hidden: [6], scales: 2, net: 'conv' })],
  ['glow, convolutional coupling networks', () => new Glow({ levels: 2, steps: 2, hidden: [6], net: 'conv' })],
] as [string, () => FlowModel][])('%s on a 4 x 4 image', (name, make) => {
  it('inverts within 1e-3, and the log-det through every scale is log|det J| within 1e-3', async () => {
    const m = make();
    m.build({ kind: 'image', shape: [4, 4], binary: false }, mulberry32(3));
    randomizeVars(m.vars(), 12, 0.3);
    const kinds = (await m.stages(tf.zeros([1, 16]))).map((s) => s.label).join(' ');
    expect(kinds).toContain('squeeze');
    expect(kinds).toContain('factor-out 8'); // 16 units -> 8 leave for the prior after the first scale
    const x = tf.tensor2d(new Float32Array(3 * 16).map((_, i) => Math.sin(i * 0.9)), [3, 16]);
    const { z, logdet } = m.forward(x);
    expect(tf.max(tf.abs(tf.sub(await m.inverse(z), x))).dataSync()[0]).toBeLessThan(1e-3);
    const ld = jacobianLogDets((inp) => m.forward(inp).z, x);
    const got = Array.from(logdet.dataSync());
    ld.forEach((v, b) => expect(Math.abs(got[b] - v), `${name} row ${b}`).toBeLessThan(1e-3));
    m.dispose();
  }, 60_000);
});

describe.each(models)('%s on 2-D points', (_name, make) => {
  it('inverts within 1e-3, and its density integrates to 1 +- 0.01 over the plane', async () => {
    const m = make();
    m.build({ kind: 'points', shape: [2], binary: false }, mulberry32(3));
    randomizeVars(m.vars(), 9, 0.3);
    const x = tf.tensor2d([0.3, -1.2, 2.0, 0.5, -0.7, 0.1], [3, 2]);
    const { z } = m.forward(x);
    const back = await m.inverse(z);
    expect(tf.max(tf.abs(tf.sub(back, x))).dataSync()[0]).toBeLessThan(1e-3);
    // Riemann sum of p(x) on a fine grid over [-8, 8]^2
    const n = 320, lo = -8, h = 16 / n;
    const grid = new Float32Array(n * n * 2);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      grid[(i * n + j) * 2] = lo + (i + 0.5) * h;
      grid[(i * n + j) * 2 + 1] = lo + (j + 0.5) * h;
    }
    const g = tf.tensor2d(grid, [n * n, 2]);
    const nll = (await m.testNll(g)).nll;
    const mass = nll.reduce((a, v) => a + Math.exp(-v), 0) * h * h;
    expect(Math.abs(mass - 1)).toBeLessThan(0.01);
    tf.dispose([x, z, back, g]);
    m.dispose();
  }, 60_000);
});

describe('float64 linear algebra', () => {
  it('LU reproduces the matrix, the inverse inverts, log|det| matches the LU diagonal', () => {
    const rng = mulberry32(4);
    const n = 6;
    const a = Float64Array.from({ length: n * n }, () => rng.normal());
    const { perm, L, U } = luDecompose(a, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k <= Math.min(i, j); k++) v += (k === i ? 1 : L[i * n + k]) * U[k * n + j];
      expect(v).toBeCloseTo(a[perm[i] * n + j], 12); // (P A)_ij = (L U)_ij
    }
    const inv = invert(a, n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let v = 0;
      for (let k = 0; k < n; k++) v += a[i * n + k] * inv[k * n + j];
      expect(v).toBeCloseTo(i === j ? 1 : 0, 12);
    }
    expect(logAbsDet(a, n)).toBeCloseTo(Array.from({ length: n }, (_, i) => Math.log(Math.abs(U[i * n + i]))).reduce((x, y) => x + y, 0), 12);
    expect(logAbsDet(randomRotation(n, () => rng.normal()), n)).toBeCloseTo(0, 10);
    expect(() => invert([1, 2, 2, 4], 2)).toThrow('singular');
  });
});

describe('actnorm', () => {
  it('starts every unit at mean 0 and variance 1 from the first batch', () => {
    const layer = new ActNorm(3);
    const x = tf.tensor2d([1, 100, 0.001, 3, 140, 0.002, 2, 120, 0.0035, 6, 90, 0.001], [4, 3]);
    layer.init(x);
    const { y, logdet } = layer.forward(x);
    const { mean, variance } = tf.moments(y, 0);
    Array.from(mean.dataSync()).forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-4));
    Array.from(variance.dataSync()).forEach((v) => expect(Math.abs(v - 1)).toBeLessThan(1e-2));
    // log-det = -sum log std: the narrow third unit (std ~0.001) is stretched most
    const cols = [[1, 3, 2, 6], [100, 140, 120, 90], [0.001, 0.002, 0.0035, 0.001]];
    const std = (c: number[]) => Math.sqrt(c.reduce((a, v) => a + (v - c.reduce((p, q) => p + q, 0) / c.length) ** 2, 0) / c.length);
    expect(logdet.dataSync()[0]).toBeCloseTo(-cols.reduce((a, c) => a + Math.log(std(c)), 0), 2);
    tf.dispose([x, y, logdet, mean, variance]);
    layer.dispose();
  });
});

describe('training on 2-D points (wasm, every gradient the flows need)', () => {
  it.each(['nice', 'realnvp', 'maf', 'iaf', 'glow'] as const)('%s: the validation NLL falls', async (family) => {
    const { ctx } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.toy2d('moons', { n: 2000 });
    const model = lab.models[family]({ hidden: [32] });
    const run = await lab.train(model, data, { steps: 120, batchSize: 64, evalEvery: 60, sampleEvery: 1000, lr: 3e-3 });
    const nll = run.history('val/nll').values;
    expect(nll.every(Number.isFinite)).toBe(true);
    expect(nll[nll.length - 1]).toBeLessThan(nll[0] - 0.3);
    model.dispose();
  }, 60_000);
});

describe('flows on 8-bit images', () => {
  it('a uniform density on the dequantized data scores exactly 8 bits/dim', () => {
    expect(bitsPerDim(eightBitNll(0, 784), 784)).toBe(8);
  });

  it('RealNVP learns grey MNIST (bits/dim fall, exact), samples in [0,1], and lab.evaluate records the test NLL', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ limit: 600, binarize: false });
    const model = lab.models.realnvp({ couplings: 4, hidden: [64] });
    const run = await lab.train(model, data, { steps: 40, batchSize: 32, evalEvery: 20, sampleEvery: 40, lr: 1e-3 });
    const bpd = run.history('val/bits_per_dim').values;
    expect(bpd[0]).toBeGreaterThan(bpd[bpd.length - 1]);
    expect(bpd[bpd.length - 1]).toBeLessThan(8);
    const ev = (await lab.evaluate(model, data.test)) as LikelihoodEvaluation;
    expect(ev.kind).toBe('exact');
    expect(ev.bits_per_dim).toBeCloseTo(ev.nll_nats / (784 * Math.LN2), 10);
    expect(messages.some((m) => m.type === 'run.eval' && m.runId === run.id)).toBe(true);
    // sampling leaves nothing behind but the samples
    const live = tf.memory().numTensors;
    const s = await model.sample(4, undefined, 1);
    expect(tf.memory().numTensors).toBe(live + 1);
    const sv = await s.data();
    expect(Math.min(...sv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...sv)).toBeLessThanOrEqual(1);
    s.dispose();
    expect(() => lab.models.nice().build({ kind: 'image', shape: [28, 28], binary: true }, mulberry32(1))).toThrow('continuous data');
    model.dispose();
  }, 120_000);

  it('RealNVP and Glow with convolutional coupling networks train on grey MNIST (wasm conv gradients)', async () => {
    const { ctx } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ limit: 300, binarize: false });
    for (const model of [lab.models.realnvp({ net: 'conv', hidden: [8], scales: 1 }), lab.models.glow({ net: 'conv', hidden: [8], levels: 2, steps: 1 })]) {
      const run = await lab.train(model, data, { steps: 30, batchSize: 32, evalEvery: 30, sampleEvery: 1000, lr: 1e-3, evalSize: 50, clipNorm: 100 });
      const bpd = run.history('val/bits_per_dim').values;
      expect(bpd.every(Number.isFinite), model.family).toBe(true);
      // (a Glow this small rises before it falls: its first-batch ActNorm scales; RealNVP falls at once)
      if (model.family === 'realnvp') expect(bpd[bpd.length - 1]).toBeLessThan(bpd[0]);
      // every coupling's last convolution (conv1 with one hidden layer) starts at zero: training moved all of them
      const last = model.getWeights().filter((w) => w.tensor.rank === 4 && /conv1$/.test(w.name));
      expect(last.length, model.family).toBeGreaterThan(0);
      for (const w of last) expect(tf.max(tf.abs(w.tensor)).dataSync()[0], w.name).toBeGreaterThan(0);
      model.dispose();
    }
    expect(() => lab.models.realnvp({ net: 'conv' }).build({ kind: 'points', shape: [2], binary: false }, mulberry32(1))).toThrow("net 'conv' needs images");
  }, 120_000);
});
