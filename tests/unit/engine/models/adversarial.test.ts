// The adversarial families (gan, dcgan, wgan, wgan-gp, lsgan, cgan) and spectral
// normalization: D's optimum between two distributions is p_data / (p_data + p_g)
// (1/2 with value -log 4 when they are equal), the gradient penalty's parameter
// gradient (a second derivative) matches finite differences, spectral normalization
// brings σ_max to 1, the GAN's defaults cover the modes of 8 Gaussians, and every
// family trains on images and on 2-D points without NaN, with its own constraint
// (clipping) and conditioning (cgan) doing what they say.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import type { Dataset, Split } from '../../../../src/engine/data/types';
import { createLab } from '../../../../src/engine/lab/lab';
import { adversarialModels } from '../../../../src/engine/models/adversarial';
import { isAdversarial, type AdversarialModel } from '../../../../src/engine/models/adversarial/adversarial';
import { Cgan } from '../../../../src/engine/models/adversarial/cgan';
import { Gan } from '../../../../src/engine/models/adversarial/gan';
import { WganGp } from '../../../../src/engine/models/adversarial/wgan';
import type { Model, StepContext } from '../../../../src/engine/models/types';
import { symEig } from '../../../../src/engine/ops/linalg';
import { uniform } from '../../../../src/engine/ops/random';
import { SpectralNorm } from '../../../../src/engine/nn/spectral-norm';
import { readMetrics, train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';
import { root } from '../../../helpers/paths';

beforeAll(async () => {
  await selectBackend('wasm');
});

const { ctx } = collectingContext();
const lab = createLab(ctx);
// the builders as lab.models has them (typed here by their own file)
const models = adversarialModels;

/** a StepContext with one Adam per group, as the trainer makes them */
function stepContext(seed: number, lr = 2e-3, beta1 = 0.5): StepContext & { calls: Record<string, number>; dispose(): void } {
  const rng = mulberry32(seed);
  const opts = new Map<string, tf.Optimizer>();
  const calls: Record<string, number> = {};
  return {
    calls,
    minimize(group, loss, vars) {
      calls[group] = (calls[group] ?? 0) + 1;
      let o = opts.get(group);
      if (!o) opts.set(group, (o = tf.train.adam(lr, beta1, 0.999)));
      // the loss as a scalar tensor, not read back (the caller owns it), as the trainer's minimize
      return o.minimize(loss, true, vars) as tf.Scalar;
    },
    seed: () => rng.seed(),
    dispose: () => opts.forEach((o) => o.dispose()),
  };
}

/** a points dataset from rows (the same rows in every split) */
function pointsData(x: Float32Array, dim: number, y?: Uint8Array, classes?: number): Dataset {
  const n = x.length / dim;
  const split: Split = { x, n, ...(y ? { y } : {}) };
  return { name: 'points', kind: 'points', shape: [dim], dim, binary: false, train: split, val: split, test: split, fingerprint: 'test', settings: {}, ...(classes ? { classes } : {}) };
}

const weight = (m: Model, name: string): tf.Tensor => {
  const w = (m.getWeights() as { name: string; tensor: tf.Tensor }[]).find((x) => x.name === name);
  if (!w) throw new Error(`no weight ${name}`);
  return w.tensor;
};

/** σ_max of a weight (all axes but the last folded into rows) from symEig of WᵀW, in float64 */
function sigmaMax(W: tf.Tensor): number {
  const cols = W.shape[W.shape.length - 1];
  const rows = W.size / cols;
  const w = W.dataSync();
  const wtw = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) for (let j = 0; j < cols; j++) {
    let s = 0;
    for (let r = 0; r < rows; r++) s += w[r * cols + i] * w[r * cols + j];
    wtw[i * cols + j] = s;
  }
  return Math.sqrt(symEig(wtw, cols).values[0]);
}

describe('the optimal discriminator', () => {
  // G is made the identity map exactly (hidden [16]: z = relu(z) - relu(-z)), so p_g = N(shift, I)
  // for a chosen output bias; real rows are fresh N(0, I) draws every step; only D is trained.
  function identityGenerator(model: Gan, shift: [number, number]): void {
    const w0 = new Float32Array(2 * 16);
    const w1 = new Float32Array(16 * 2);
    for (let i = 0; i < 2; i++) {
      w0[i * 16 + i] = 1; // relu(z_i)
      w0[i * 16 + 2 + i] = -1; // relu(-z_i)
      w1[i * 2 + i] = 1;
      w1[(2 + i) * 2 + i] = -1;
    }
    const named = model.getWeights().map((w) => ({ name: w.name, tensor: w.tensor as tf.Tensor }));
    const set: Record<string, tf.Tensor> = {
      'generator/W0': tf.tensor2d(w0, [2, 16]),
      'generator/b0': tf.zeros([16]),
      'generator/W1': tf.tensor2d(w1, [16, 2]),
      'generator/b1': tf.tensor1d(shift),
    };
    model.setWeights(named.map((w) => ({ name: w.name, tensor: set[w.name] ?? w.tensor })));
    tf.dispose(Object.values(set));
  }

  async function trainD(model: Gan, steps: number): Promise<{ dLoss: number }> {
    const c = stepContext(11, 3e-3);
    let sum = 0;
    let count = 0;
    for (let s = 0; s < steps; s++) {
      const x = tf.randomNormal([256, 2], 0, 1, 'float32', 1000 + s) as tf.Tensor2D;
      const m = await readMetrics(model.discriminatorStep(x, c));
      x.dispose();
      if (s >= steps - 200) {
        sum += m['train/d_loss'];
        count++;
      }
    }
    c.dispose();
    return { dLoss: sum / count };
  }

  it('is 1/2 everywhere on the data when p_g = p_data, and the value of the game is -log 4', async () => {
    const model = new Gan({ latentDim: 2, hidden: [16] });
    model.build({ kind: 'points', shape: [2], binary: false }, mulberry32(3));
    identityGenerator(model, [0, 0]);
    const { dLoss } = await trainD(model, 600);
    // d_loss = -(E log D(x) + E log(1 - D(G(z)))) = -V
    expect(-dLoss).toBeCloseTo(-Math.log(4), 1);
    const pts = tf.randomNormal([500, 2], 0, 1, 'float32', 7) as tf.Tensor2D;
    const d = model.critic(pts).dataSync();
    for (const v of d) expect(Math.abs(v - 0.5)).toBeLessThan(0.05);
    tf.dispose(pts);
    model.dispose();
  });

  it('is p_data / (p_data + p_g) when they differ (a shifted copy)', async () => {
    const model = new Gan({ latentDim: 2, hidden: [16] });
    model.build({ kind: 'points', shape: [2], binary: false }, mulberry32(4));
    identityGenerator(model, [1, 0]);
    await trainD(model, 1500);
    // N(x; 0, I) / (N(x; 0, I) + N(x; μ, I)) = sigmoid(1/2 - x_1) for μ = (1, 0)
    const grid: number[] = [];
    for (const a of [-1, -0.5, 0, 0.5, 1, 1.5]) for (const b of [-1, 0, 1]) grid.push(a, b);
    const pts = tf.tensor2d(grid, [grid.length / 2, 2]);
    const d = model.critic(pts).dataSync();
    for (let i = 0; i < d.length; i++) {
      const want = 1 / (1 + Math.exp(grid[2 * i] - 0.5));
      expect(Math.abs(d[i] - want)).toBeLessThan(0.06);
    }
    pts.dispose();
    model.dispose();
  });
});

describe('gradient penalty', () => {
  // The critic is piecewise linear (LeakyReLU), so the penalty jumps where a parameter moves
  // an activation across its kink: a float32 difference with a step large enough to beat
  // rounding crosses some. The differences are therefore taken on a float64 copy of the
  // same function (checked equal to the model's value) with a step of 1e-6.
  it("its gradient with respect to the critic's parameters matches central finite differences", () => {
    const sizes = [2, 6, 6, 1];
    const lambda = 10;
    const B = 16;
    const model = new WganGp({ latentDim: 2, hidden: sizes.slice(1, -1), lambda });
    model.build({ kind: 'points', shape: [2], binary: false }, mulberry32(8));
    const real = tf.randomNormal([B, 2], 0, 1, 'float32', 1) as tf.Tensor2D;
    const fake = tf.randomNormal([B, 2], 1, 0.5, 'float32', 2) as tf.Tensor2D;
    const seed = 5;
    const penalty = () => {
      const { penalty, gradNorm } = model.gradientPenalty(real, fake, seed);
      gradNorm.dispose();
      return penalty;
    };
    const ws = model.getWeights().filter((w) => w.name.startsWith('discriminator/'));
    const vars = ws.map((w) => w.tensor as tf.Variable);
    expect(ws.map((w) => w.name)).toEqual(['W0', 'W0_b', 'W1', 'W1_b', 'W2', 'W2_b'].map((k) => `discriminator/${k}`));
    const { value, grads } = tf.variableGrads(penalty, vars);

    // the same penalty in float64: x̂ = x + ε (x_fake - x) with the model's ε draws, D's input gradient by hand
    const eps = uniform([B, 1], seed).dataSync();
    const r = real.dataSync();
    const f = fake.dataSync();
    const xhat = Float64Array.from({ length: 2 * B }, (_, k) => r[k] + eps[k >> 1] * (f[k] - r[k]));
    const pen64 = (P: Float64Array[]): number => {
      let total = 0;
      for (let n = 0; n < B; n++) {
        let h = [xhat[2 * n], xhat[2 * n + 1]];
        const slopes: number[][] = [];
        for (let l = 0; l + 1 < sizes.length; l++) {
          const [W, b, out] = [P[2 * l], P[2 * l + 1], [] as number[]];
          for (let j = 0; j < sizes[l + 1]; j++) {
            let s = b[j];
            for (let i = 0; i < sizes[l]; i++) s += h[i] * W[i * sizes[l + 1] + j];
            out.push(s);
          }
          const last = l + 2 === sizes.length;
          if (!last) slopes.push(out.map((v) => (v > 0 ? 1 : 0.2)));
          h = last ? out : out.map((v) => (v > 0 ? v : 0.2 * v));
        }
        let g = [1];
        for (let l = sizes.length - 2; l >= 0; l--) {
          const W = P[2 * l];
          const gi = Array.from({ length: sizes[l] }, (_, i) => g.reduce((s, gj, j) => s + W[i * sizes[l + 1] + j] * gj, 0));
          g = l > 0 ? gi.map((v, i) => v * slopes[l - 1][i]) : gi;
        }
        total += (Math.hypot(...g) - 1) ** 2;
      }
      return (lambda * total) / B;
    };
    const P = vars.map((v) => Float64Array.from(v.dataSync()));
    const v0 = pen64(P);
    expect(Math.abs(value.dataSync()[0] - v0) / v0).toBeLessThan(1e-5);

    let maxRel = 0;
    let largest = 0;
    vars.forEach((v, k) => {
      // a parameter the penalty does not depend on (the output bias) gets no gradient: zero
      const g = grads[v.name]?.dataSync() ?? new Float32Array(v.size);
      for (let i = 0; i < v.size; i++) {
        const at = (d: number) => {
          const Q = P.map((p) => p.slice());
          Q[k][i] += d;
          return pen64(Q);
        };
        const h = 1e-6;
        const fd = (at(h) - at(-h)) / (2 * h);
        maxRel = Math.max(maxRel, Math.abs(fd - g[i]) / Math.max(Math.abs(fd), Math.abs(g[i]), 1e-3));
        largest = Math.max(largest, Math.abs(fd));
      }
    });
    expect(maxRel).toBeLessThan(1e-3);
    // the penalty is not flat in the parameters: the check compares something
    expect(largest).toBeGreaterThan(0.5);
    tf.dispose([real, fake, value, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('spectral normalization', () => {
  it('after enough power iterations σ_max of W / σ(W) is 1 (symEig of WᵀW), for dense and convolution weights', async () => {
    const read = async (t: tf.Scalar): Promise<number> => {
      const v = (await t.data())[0];
      t.dispose();
      return v;
    };
    const rng = mulberry32(12);
    for (const shape of [[20, 12], [4, 4, 3, 8]]) {
      const W = tf.randomNormal(shape, 0, 0.3, 'float32', 3);
      const sn = new SpectralNorm('t', shape[shape.length - 1], rng);
      const first = await read(sn.iterate(W, 1));
      const sigma = await read(sn.iterate(W, 100));
      const exact = sigmaMax(W);
      // a power-iteration estimate approaches σ_max from below
      expect(first).toBeLessThan(exact);
      expect(Math.abs(sigma - exact) / exact).toBeLessThan(1e-4);
      const Wn = sn.normalize(W);
      expect(Math.abs(sigmaMax(Wn) - 1)).toBeLessThan(1e-3);
      tf.dispose([W, Wn]);
      sn.dispose();
    }
  });

  it("one step per training step keeps the discriminator's persistent u at the top singular vector", async () => {
    const data = toy2d('8gaussians', { n: 2000 });
    const model = models.gan({ hidden: [32, 32], spectralNorm: true });
    await train(ctx, model, data, { steps: 150, batchSize: 64, lr: 2e-3, evalEvery: 150, sampleEvery: 1000, checkpointEvery: 1000 });
    for (const l of ['W0', 'W1', 'W2']) {
      const W = weight(model, `discriminator/${l}`);
      const u = weight(model, `discriminator/${l}_sn_u`);
      const est = tf.tidy(() => tf.norm(tf.matMul(W as tf.Tensor2D, u as tf.Tensor2D)).dataSync()[0]);
      expect(Math.abs(est - sigmaMax(W)) / sigmaMax(W)).toBeLessThan(0.02);
    }
    model.dispose();
  });
});

describe('gan on 8 Gaussians', () => {
  it("with the builder's defaults and gan-toy2d.ipynb's training settings covers at least 7 of the 8 modes", async () => {
    // the notebook trains with exactly these settings
    const nb = fs.readFileSync(path.join(root, 'resources', 'notebooks', 'gan-toy2d.ipynb'), 'utf8');
    expect(nb).toContain('lab.models.gan()');
    expect(nb).toContain('batchSize: 128, lr: 2e-3');
    const steps = Number(/const steps = (\d+);/.exec(nb)![1]);
    // the notebook's seed and one more (five seeds were checked when the defaults were tuned)
    for (const seed of [1, 2]) {
      const model = models.gan();
      const t0 = Date.now();
      const run = await train(ctx, model, lab.data.toy2d('8gaussians'), { steps, batchSize: 128, lr: 2e-3, seed, evalEvery: steps, sampleEvery: 100000, checkpointEvery: 100000 });
      console.log(`gan defaults, seed ${seed}, ${steps} steps: ${((Date.now() - t0) / 1000).toFixed(1)} s, covered ${run.metrics['val/modes_covered']}, mode_dist ${run.metrics['val/mode_dist'].toFixed(3)}, high_quality ${run.metrics['val/high_quality'].toFixed(2)}`);
      expect(run.metrics['val/modes_covered']).toBeGreaterThanOrEqual(7);
      expect(run.metrics['val/high_quality']).toBeGreaterThan(0.5);
      model.dispose();
    }
  }, 120_000);

  it('moves generated points towards the modes, writes scatter artifacts and keeps the best checkpoint by mode distance', async () => {
    const data = toy2d('8gaussians', { n: 4000 });
    const model = new Gan({ hidden: [64, 64] });
    const { ctx, messages, artifactsDir } = collectingContext();
    const t0 = Date.now();
    const run = await train(ctx, model, data, { steps: 600, batchSize: 128, lr: 2e-3, evalEvery: 100, sampleEvery: 300, seed: 5 });
    const h = run.history('val/mode_dist');
    console.log(`gan 600 steps: ${((Date.now() - t0) / 1000).toFixed(1)} s; mode_dist ${h.values.map((v) => v.toFixed(3)).join(' ')}; covered ${run.history('val/modes_covered').values.join(' ')}`);
    expect(run.status).toBe('finished');
    expect(h.steps[0]).toBe(0);
    const first = h.values[0];
    const last = h.values[h.values.length - 1];
    expect(last).toBeLessThan(first * 0.4);
    expect(run.metrics['val/modes_covered']).toBeGreaterThanOrEqual(4);
    // scatter artifacts with data and samples
    const scatter = messages.filter((m) => m.type === 'run.artifact' && m.artifact.kind === 'scatter2d');
    expect(scatter.length).toBeGreaterThanOrEqual(2);
    const a = scatter[0].type === 'run.artifact' ? scatter[0].artifact : null;
    const json = JSON.parse(fs.readFileSync(path.join(artifactsDir, a!.path), 'utf8'));
    expect(json.samples).toHaveLength(1000);
    expect(json.data.length).toBe(400);
    // best checkpoint by lowest mode distance
    const best = messages.filter((m) => m.type === 'run.checkpoint' && m.checkpoint.reason === 'best');
    expect(best.length).toBeGreaterThan(0);
    model.dispose();
  });
});

describe('every family', () => {
  const mnist = lab.data.mnist({ binarize: false, limit: 300 });
  const toy = toy2d('8gaussians', { n: 1000 });
  // 8gaussians labelled by mode (for the conditional GAN on 2-D points)
  const modes = toy.modes!;
  const label = (x: Float32Array) => Uint8Array.from({ length: x.length / 2 }, (_, i) => {
    let best = 0;
    for (let k = 1; k < modes.length; k++) if (Math.hypot(x[2 * i] - modes[k][0], x[2 * i + 1] - modes[k][1]) < Math.hypot(x[2 * i] - modes[best][0], x[2 * i + 1] - modes[best][1])) best = k;
    return best;
  });
  const toyLabelled = pointsData(toy.train.x, 2, label(toy.train.x), 8);

  const families: [string, () => Model, boolean][] = [
    ['gan (minimax, dSteps 2, dropout)', () => models.gan({ loss: 'minimax', dSteps: 2, dropout: 0.3, hidden: [32] }), true],
    ['gan (spectral norm, conv on images)', () => models.gan({ spectralNorm: true, hidden: [32] }), true],
    ['dcgan', () => models.dcgan({ hidden: [8, 16] }), false],
    ['dcgan with spectral norm', () => models.dcgan({ hidden: [8, 16], spectralNorm: true, dropout: 0.2 }), false],
    ['wgan', () => models.wgan({ hidden: [32] }), true],
    ['wgan-gp', () => models.wganGp({ hidden: [32] }), true],
    ['wgan-gp (conv critic)', () => models.wganGp({ net: 'conv', hidden: [8, 16] }), false],
    ['lsgan', () => models.lsgan({ hidden: [32], spectralNorm: true }), true],
    ['cgan', () => models.cgan({ hidden: [32] }), true],
    ['cgan (conv)', () => models.cgan({ net: 'conv', hidden: [8, 16] }), false],
  ];

  for (const [name, make, points] of families) {
    it(`${name} trains a few steps without NaN${points ? ' on MNIST and on 2-D points' : ' on MNIST'}`, async () => {
      for (const data of points ? [mnist, name.startsWith('cgan') ? toyLabelled : toy] : [mnist]) {
        const model = make();
        expect(isAdversarial(model)).toBe(true);
        const run = await train(ctx, model, data, { steps: 4, batchSize: 16, lr: 1e-3, evalEvery: 2, evalSize: 50, sampleEvery: 4, checkpointEvery: 1000 });
        expect(run.status).toBe('finished');
        for (const [k, v] of Object.entries(run.metrics)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
        expect(run.metrics['train/d_loss']).toBeDefined();
        expect(run.metrics['train/g_loss']).toBeDefined();
        const s = await model.sample(6, undefined, 3);
        expect(s.shape).toEqual([6, data.dim]);
        const v = s.dataSync();
        expect(v.every(Number.isFinite)).toBe(true);
        if (data.kind === 'image') expect(Math.min(...v) >= 0 && Math.max(...v) <= 1).toBe(true);
        // the interface the views use
        const adv = model as AdversarialModel;
        const m = (model as { conditional?: boolean }).conditional ? tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5], 'int32'), (model as Cgan).classes).toFloat() as tf.Tensor2D : undefined;
        const c = adv.critic(s, m);
        expect(c.shape).toEqual([6, 1]);
        const cv = c.dataSync();
        if (adv.criticKind === 'probability') expect(cv.every((p) => p > 0 && p < 1)).toBe(true);
        const g = adv.generatorGradient(s, m);
        expect(g.shape).toEqual(s.shape);
        expect(g.dataSync().every(Number.isFinite)).toBe(true);
        tf.dispose([s, c, g, ...(m ? [m] : [])]);
        model.dispose();
      }
    }, 60_000);
  }

  it('the generator gradient points where D rises (gan) or where the critic score rises (wgan)', async () => {
    for (const model of [models.gan({ hidden: [32] }), models.wgan({ hidden: [32], clip: 0.1 })]) {
      await train(ctx, model, toy, { steps: 30, batchSize: 64, lr: 2e-3, evalEvery: 30, sampleEvery: 1000, checkpointEvery: 1000 });
      const x = tf.randomNormal([64, 2], 0, 1.5, 'float32', 4) as tf.Tensor2D;
      const g = model.generatorGradient(x);
      const step = tf.tidy(() => tf.add(x, tf.mul(1e-2, tf.div(g, tf.add(tf.norm(g, 'euclidean', 1, true), 1e-12))))) as tf.Tensor2D;
      const before = model.critic(x).dataSync();
      const after = model.critic(step).dataSync();
      let rose = 0;
      for (let i = 0; i < before.length; i++) if (after[i] >= before[i]) rose++;
      expect(rose).toBeGreaterThanOrEqual(60);
      tf.dispose([x, g, step]);
      model.dispose();
    }
  });

  it('dSteps: k discriminator updates for every generator update', async () => {
    const model = new Gan({ hidden: [8], dSteps: 3 });
    model.build({ kind: 'points', shape: [2], binary: false }, mulberry32(1));
    const c = stepContext(1);
    const x = tf.randomNormal([32, 2], 0, 1, 'float32', 1) as tf.Tensor2D;
    let tensors = 0;
    for (let s = 0; s < 4; s++) {
      const m = await readMetrics(await model.trainStep(x, s + 1, c));
      // the last D update's metrics and G's loss, every one a finite number
      expect(Object.keys(m).sort()).toEqual(['train/d_accuracy', 'train/d_fake', 'train/d_loss', 'train/d_real', 'train/g_loss']);
      for (const v of Object.values(m)) expect(Number.isFinite(v)).toBe(true);
      // once the optimizers exist, a step leaves no tensor behind (the earlier D updates' metrics included)
      if (s > 0) expect(tf.memory().numTensors).toBe(tensors);
      tensors = tf.memory().numTensors;
    }
    expect(c.calls).toEqual({ d: 12, g: 4 });
    tf.dispose(x);
    c.dispose();
    model.dispose();
  });

  it('wgan: weight clipping keeps every critic parameter within ±c', async () => {
    const model = models.wgan({ hidden: [32, 32], clip: 0.02 });
    await train(ctx, model, toy, { steps: 40, batchSize: 64, lr: 5e-3, evalEvery: 40, sampleEvery: 1000, checkpointEvery: 1000 });
    let max = 0;
    for (const w of model.getWeights().filter((w) => w.name.startsWith('discriminator/'))) max = Math.max(max, ...Array.from(w.tensor.dataSync(), Math.abs));
    expect(max).toBeLessThanOrEqual(0.02 + 1e-7);
    // the updates push against the box: clipping is doing something
    expect(max).toBeGreaterThan(0.0199);
    expect(model.config.dSteps).toBe(5);
    model.dispose();
  });

  it("cgan: a sample of class c depends on c; noise() cycles through the classes", async () => {
    const model = models.cgan({ hidden: [32] });
    await train(ctx, model, mnist, { steps: 20, batchSize: 32, lr: 2e-3, evalEvery: 20, evalSize: 50, sampleEvery: 1000, checkpointEvery: 1000 });
    expect(model.conditional).toBe(true);
    expect(model.classes).toBe(10);
    const a = model.sampleClass(0, 8, 5).dataSync();
    const b = model.sampleClass(1, 8, 5).dataSync();
    const again = model.sampleClass(0, 8, 5).dataSync();
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
    expect(diff).toBeGreaterThan(1e-3);
    expect(Array.from(again)).toEqual(Array.from(a));
    const z = model.noise(12, 1);
    const y = tf.argMax(tf.slice(z, [0, model.latentDim], [-1, 10]), 1).dataSync();
    expect(Array.from(y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    // the same codes decoded with their class equal the sample of that class
    const s = model.sample(12, z).dataSync();
    const first = model.sampleClass(0, 1, 0);
    expect(first.shape).toEqual([1, 784]);
    z.dispose();
    expect(s.length).toBe(12 * 784);
    expect(() => model.sampleClass(10, 2, 0)).toThrow(/class 10/);
    // a conditional model needs labelled data
    await expect(train(ctx, models.cgan(), toy, { steps: 1 })).rejects.toThrow(/labels/);
    model.dispose();
  });

  it('refuses bad settings with the option named', () => {
    expect(() => models.gan({ loss: 'hinge' as never })).toThrow(/loss must be 'nonsaturating' or 'minimax'/);
    expect(() => models.gan({ dSteps: 0 })).toThrow(/dSteps/);
    expect(() => models.gan({ dropout: 1 })).toThrow(/dropout/);
    expect(() => models.gan({ net: 'rnn' as never })).toThrow(/net must be 'mlp' or 'conv'/);
    expect(() => models.dcgan({ net: 'mlp' as never })).toThrow(/convolutional/);
    expect(() => models.wgan({ clip: 0 })).toThrow(/clip/);
    expect(() => models.wganGp({ lambda: -1 })).toThrow(/lambda/);
    expect(() => models.lsgan({ a: 1, b: 1 })).toThrow(/a .* and b .* must differ/);
    const dc = models.dcgan();
    return expect(train(ctx, dc, toy, { steps: 1 })).rejects.toThrow(/net 'conv' models images/);
  });

  it('families, kinds and metric kinds; lab.models has every builder', () => {
    for (const k of ['gan', 'dcgan', 'wgan', 'wganGp', 'lsgan', 'cgan'] as const) {
      const m = (lab.models as unknown as Record<string, () => Model>)[k]();
      expect(isAdversarial(m)).toBe(true);
    }
    const expected: [Model, string, string][] = [
      [models.gan(), 'gan', 'probability'],
      [models.dcgan(), 'dcgan', 'probability'],
      [models.wgan(), 'wgan', 'score'],
      [models.wganGp(), 'wgan-gp', 'score'],
      [models.lsgan(), 'lsgan', 'score'],
      [models.cgan(), 'cgan', 'probability'],
    ];
    for (const [m, family, kind] of expected) {
      expect(m.family).toBe(family);
      expect((m as AdversarialModel).criticKind).toBe(kind);
      expect((m as { testNll?: unknown }).testNll).toBeUndefined();
      const kinds = m.metricKinds();
      expect(kinds['train/d_loss']).toBe('loss');
      expect(kinds['val/modes_covered']).toBe('sample');
      expect(kinds['train/d_real']).toBe('info');
    }
    expect(models.wganGp().metricKinds()['train/gp']).toBe('loss');
    expect(models.wgan().optimizerDefaults).toEqual({ beta1: 0, beta2: 0.9 });
    expect(models.gan().optimizerDefaults).toEqual({ beta1: 0.5, beta2: 0.999 });
  });
});
