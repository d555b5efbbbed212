// DDPM: the noise schedule, the closed-form forward marginal against step-by-step
// noising, the ε-loss at its analytic optimum on Gaussian data, the sampler with the
// analytic ε recovering that Gaussian, the variational bound against the exact
// likelihood of a linear-Gaussian reverse chain, samples on 2-D toy data beating the
// PCA baseline (a full-covariance Gaussian) in MMD, and the two process views.
import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { mmd, medianDistance } from '../../../../src/engine/eval/mmd';
import { createLab } from '../../../../src/engine/lab/lab';
import { alphaBarAt, Ddpm, makeSchedule, reverseTimesteps, type NoiseSchedule } from '../../../../src/engine/models/diffusion/ddpm';
import { normal } from '../../../../src/engine/ops/random';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

const meanOf = (v: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i];
  return s / v.length;
};
const varOf = (v: ArrayLike<number>) => {
  const m = meanOf(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return s / (v.length - 1);
};
/** column `c` of row-major rows of width `w` */
const col = (v: ArrayLike<number>, w: number, c: number) => Float64Array.from({ length: v.length / w }, (_, i) => v[i * w + c]);

/** a ddpm built (not trained) on points of dimension D */
function pointsModel(D: number, cfg: ConstructorParameters<typeof Ddpm>[0] = {}): Ddpm {
  const m = new Ddpm({ hidden: [8], ...cfg });
  m.build({ kind: 'points', shape: [D], binary: false }, mulberry32(1));
  return m;
}

/**
 * The optimal ε-predictor when every coordinate of x_0 is N(μ, s²):
 * ε*(x_t) = E[ε | x_t] = √(1−ᾱ_t) (x_t − √ᾱ_t μ) / (ᾱ_t s² + 1 − ᾱ_t).
 */
function optimalEps(s: NoiseSchedule, mu: number, sd: number, scale = 1) {
  // the gain and offset at each t = 0..T, looked up by the rows' timesteps (nothing read back)
  const g = new Float32Array(s.T + 1);
  const off = new Float32Array(s.T + 1);
  for (let t = 0; t <= s.T; t++) {
    const ab = alphaBarAt(s, t);
    g[t] = (scale * Math.sqrt(1 - ab)) / (ab * sd * sd + 1 - ab);
    off[t] = Math.sqrt(ab) * mu;
  }
  return (xt: tf.Tensor2D, t: tf.Tensor1D): tf.Tensor2D =>
    tf.tidy(() => {
      const idx = tf.cast(tf.round(t), 'int32');
      const column = (v: Float32Array) => tf.reshape(tf.gather(tf.tensor1d(v), idx), [-1, 1]);
      return tf.mul(tf.sub(xt, column(off)), column(g)) as tf.Tensor2D;
    });
}

describe('noise schedule and forward process', () => {
  it('ᾱ_t decreases strictly to near 0 at T, for both schedules and several T; linear at T = 1000 is Ho et al.’s', () => {
    for (const kind of ['linear', 'cosine'] as const) {
      for (const T of [50, 100, 1000]) {
        const s = makeSchedule(kind, T);
        expect(s.alphaBars.length).toBe(T);
        for (let t = 1; t < T; t++) expect(s.alphaBars[t]).toBeLessThan(s.alphaBars[t - 1]);
        for (const b of s.betas) {
          expect(b).toBeGreaterThan(0);
          expect(b).toBeLessThan(1);
        }
        expect(s.alphaBars[0]).toBeGreaterThan(0.97);
        expect(s.alphaBars[T - 1]).toBeLessThan(1e-3);
        // ᾱ_t = Π (1 − β_s)
        let p = 1;
        for (let t = 0; t < T; t++) p *= 1 - s.betas[t];
        expect(s.alphaBars[T - 1]).toBeCloseTo(p, 12);
      }
    }
    const ho = makeSchedule('linear', 1000);
    expect(ho.betas[0]).toBeCloseTo(1e-4, 12);
    expect(ho.betas[999]).toBeCloseTo(0.02, 12);
    expect(ho.alphaBars[999]).toBeGreaterThan(1e-5);
    expect(ho.alphaBars[999]).toBeLessThan(1e-4);
    expect(() => makeSchedule('quadratic' as never, 10)).toThrow(/'linear' \| 'cosine'/);
    expect(reverseTimesteps(1000, 1000)).toHaveLength(1000);
    const strided = reverseTimesteps(1000, 10);
    expect(strided[0]).toBe(1000);
    expect(strided[strided.length - 1]).toBe(1);
    expect(strided).toHaveLength(10);
  });

  it('q(x_t | x_0) in closed form matches t sequential noising steps in mean and variance (Monte Carlo)', async () => {
    const m = pointsModel(1, { timesteps: 100 });
    const s = m.schedule();
    const N = 20000;
    const x0 = Float32Array.from({ length: N }, (_, i) => [-1.5, 0.4, 2][i % 3]);
    for (const t of [1, 10, 37, 100]) {
      // t steps of x ← √(1 − β) x + √β z
      const seq = Float64Array.from(x0);
      for (let k = 1; k <= t; k++) {
        const z = normal([N], 1000 + k);
        const zv = await z.data();
        z.dispose();
        const b = s.betas[k - 1];
        for (let i = 0; i < N; i++) seq[i] = Math.sqrt(1 - b) * seq[i] + Math.sqrt(b) * zv[i];
      }
      const x = tf.tensor2d(x0, [N, 1]);
      const { xt, eps } = m.diffuse(x, t, 77);
      const closed = await xt.data();
      tf.dispose([x, xt, eps]);
      const ab = alphaBarAt(s, t);
      for (let r = 0; r < 3; r++) {
        const pick = (v: ArrayLike<number>) => Float64Array.from({ length: N / 3 - 1 }, (_, i) => v[3 * i + r]);
        const wantMean = Math.sqrt(ab) * x0[r];
        const wantVar = 1 - ab;
        const se = Math.sqrt(wantVar / (N / 3));
        for (const v of [pick(seq), pick(closed)]) {
          expect(Math.abs(meanOf(v) - wantMean)).toBeLessThan(4.5 * se);
          expect(Math.abs(varOf(v) / wantVar - 1)).toBeLessThan(4.5 * Math.sqrt(2 / (N / 3)));
        }
      }
    }
    m.dispose();
  });
});

describe('ε-prediction at the analytic optimum (Gaussian data)', () => {
  const mu = 0.5;
  const sd = 0.4;

  it('the loss of the optimal ε* equals its analytic value and is below that of wrong predictors', async () => {
    const m = pointsModel(2, { timesteps: 100 });
    const s = m.schedule();
    const N = 20000;
    const z = normal([N, 2], 5, mu, sd) as tf.Tensor2D;
    // E‖ε − ε*‖²/D = E_t[1 − (1−ᾱ_t)/(ᾱ_t s² + 1 − ᾱ_t)]
    let want = 0;
    for (let t = 1; t <= s.T; t++) {
      const ab = alphaBarAt(s, t);
      want += 1 - (1 - ab) / (ab * sd * sd + 1 - ab);
    }
    want /= s.T;
    const loss = (scale: number) => {
      m.setNoisePredictor(optimalEps(s, mu, sd, scale));
      return m.validationLoss(z, 11);
    };
    const best = await loss(1);
    expect(Math.abs(best - want)).toBeLessThan(0.1 * want);
    expect(await loss(1.25)).toBeGreaterThan(best + 0.01);
    expect(await loss(0.75)).toBeGreaterThan(best + 0.01);
    m.setNoisePredictor((xt) => tf.zerosLike(xt));
    expect(await m.validationLoss(z, 11)).toBeCloseTo(1, 1); // predicting nothing costs E ε² = 1
    z.dispose();
    m.dispose();
  });

  it('ancestral sampling with ε* recovers N(μ, s²), with σ² = β and β̃ over the full chain and β over a strided one', async () => {
    // (β̃ on a coarse strided chain under-disperses: s comes out ~8% small at 100 of 1000 steps)
    for (const [variance, steps] of [['beta', 1000], ['posterior', 1000], ['beta', 100]] as const) {
      const m = pointsModel(2, { timesteps: 1000, variance, sampleSteps: steps });
      m.setNoisePredictor(optimalEps(m.schedule(), mu, sd));
      const x = m.sample(4000, undefined, 21);
      const v = await x.data();
      x.dispose();
      for (const c of [0, 1]) {
        const xs = col(v, 2, c);
        expect(Math.abs(meanOf(xs) - mu)).toBeLessThan(0.03);
        expect(Math.abs(Math.sqrt(varOf(xs)) / sd - 1)).toBeLessThan(0.05);
      }
      m.dispose();
    }
  });

  it('the variational bound (testNll) is above the exact NLL of the same model and close to it; its stratified estimate agrees', async () => {
    // 2×2 "images" whose pixels, in [−1, 1], are about N(0, 0.5²), on 8-bit levels
    const T = 200;
    const msd = 0.5;
    const n = 1000;
    const D = 4;
    const rng = mulberry32(3);
    const k = Float32Array.from({ length: n * D }, () => Math.min(255, Math.max(0, Math.round(((msd * rng.normal() + 1) / 2) * 255))));
    const x = tf.tensor2d(k.map((v) => v / 255), [n, D]);
    const s = makeSchedule('linear', T);
    /** mean testNll with ε = scale·ε*, summing `terms` of the bound's T */
    const bound = async (scale: number, terms: number, seed: number) => {
      const m = new Ddpm({ net: 'mlp', hidden: [8], timesteps: T, variance: 'beta', nllTimesteps: terms });
      m.build({ kind: 'image', shape: [2, 2], binary: false }, mulberry32(1));
      m.setNoisePredictor(optimalEps(s, 0, msd, scale));
      const res = await m.testNll(x, seed);
      m.dispose();
      expect(res.kind).toBe('bound');
      expect(res.details?.termsPerExample).toBe(terms);
      return meanOf(res.nll);
    };
    /**
     * The exact NLL of the same model: μ_θ(x_t) = A_t x_t is linear, so every marginal of the
     * reverse chain is Gaussian; averaged over each pixel's dequantization bin, on the 8-bit scale.
     */
    const exact = (scale: number) => {
      let mean = 0;
      let vr = 1;
      for (let t = T; t >= 1; t--) {
        const ab = alphaBarAt(s, t);
        const beta = s.betas[t - 1];
        const g = (scale * Math.sqrt(1 - ab)) / (ab * msd * msd + 1 - ab);
        const A = (1 - (beta / Math.sqrt(1 - ab)) * g) / Math.sqrt(1 - beta);
        mean = A * mean;
        vr = A * A * vr + beta; // σ_t² = β_t (and the decoder's σ_1² = β_1)
      }
      const w = 2 / 256;
      let sum = 0;
      for (let i = 0; i < n * D; i++) {
        const centre = (2 * (k[i] + 0.5)) / 256 - 1;
        sum += 0.5 * Math.log(2 * Math.PI * vr) + ((centre - mean) ** 2 + (w * w) / 12) / (2 * vr);
      }
      return sum / n + D * Math.log(128);
    };
    for (const scale of [1, 0.8]) {
      const want = exact(scale);
      const full = await bound(scale, T, 6);
      const strat = await bound(scale, 100, 5); // the default: half the terms exactly, the rest stratified (unbiased, noisier)
      expect(full).toBeGreaterThan(want);
      expect(full - want).toBeLessThan(scale === 1 ? 0.3 : 1.5);
      expect(Math.abs(strat - full)).toBeLessThan(0.2);
    }
    x.dispose();
  });
});

describe('ddpm on 2-D toy data', () => {
  it('samples reach a lower MMD to held-out data than the PCA baseline (a full-covariance Gaussian fit)', async () => {
    const { ctx } = collectingContext();
    const data = toy2d('8gaussians');
    const model = new Ddpm();
    await train(ctx, model, data, { steps: 700, batchSize: 256, lr: 2e-3, schedule: 'cosine', evalEvery: 700, sampleEvery: 10000, checkpointEvery: 10000, seed: 1 });
    const held = data.test.x; // 1000 points never seen in training
    const s = model.sample(1000, undefined, 99);
    const gen = (await s.data()) as Float32Array;
    s.dispose();
    // PCA with every component on 2-D data = a Gaussian with the training mean and covariance
    const tr = data.train.x;
    const N = data.train.n;
    const mx = meanOf(col(tr, 2, 0));
    const my = meanOf(col(tr, 2, 1));
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    for (let i = 0; i < N; i++) {
      const a = tr[2 * i] - mx;
      const b = tr[2 * i + 1] - my;
      sxx += a * a;
      sxy += a * b;
      syy += b * b;
    }
    sxx /= N - 1;
    sxy /= N - 1;
    syy /= N - 1;
    const l11 = Math.sqrt(sxx);
    const l21 = sxy / l11;
    const l22 = Math.sqrt(syy - l21 * l21);
    const rng = mulberry32(17);
    const pca = new Float32Array(2000);
    for (let i = 0; i < 1000; i++) {
      const z1 = rng.normal();
      const z2 = rng.normal();
      pca[2 * i] = mx + l11 * z1;
      pca[2 * i + 1] = my + l21 * z1 + l22 * z2;
    }
    const med = medianDistance(held, held, 2);
    const bandwidths = [0.5 * med, med, 2 * med];
    const dDdpm = mmd(gen, held, 2, { bandwidths });
    const dPca = mmd(pca, held, 2, { bandwidths });
    expect(dDdpm).toBeLessThan(0.5 * dPca);
    // the run's own sample metrics
    expect(model.bestMetric?.key).toBe('val/mmd');
    const valX = tf.tensor2d(data.val.x, [data.val.n, 2]);
    const ev = await model.evaluate(valX, 3);
    valX.dispose();
    expect(ev['val/mmd'].kind).toBe('sample');
    expect(ev['val/modes_covered'].kind).toBe('sample');
    model.dispose();
  }, 300_000);
});

describe('views', () => {
  it('reverseProcess and forwardProcess on 2-D points: slider frames over t, noise at T, data at 0', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.toy2d('moons', { n: 2000 });
    const model = lab.models.ddpm({ timesteps: 50, hidden: [32, 32] });
    // before training, the forward process uses the schedule the model will have on points
    const fwd = await lab.views.forwardProcess(data, model, { frames: 6 });
    expect(fwd.t).toEqual([0, 10, 20, 30, 40, 50]);
    expect(fwd.frames).toBe(6);
    for (let i = 1; i < 6; i++) expect(fwd.alphaBar[i]).toBeLessThan(fwd.alphaBar[i - 1]);
    expect(fwd.alphaBar[0]).toBe(1);
    expect(Math.abs(fwd.std[5] - 1)).toBeLessThan(0.1); // x_T ≈ N(0, I)
    expect(fwd.std[0]).toBeCloseTo(Math.sqrt(varOf(data.val.x.subarray(0, 2000))), 4); // x_0: the validation points themselves
    await lab.train(model, data, { steps: 20, batchSize: 128, sampleEvery: 1000, checkpointEvery: 1000 });
    outputs.length = 0;
    const rev = await lab.views.reverseProcess(model, { n: 500, frames: 6, data });
    expect(rev.frames).toBe(6);
    expect(rev.t).toEqual([50, 40, 30, 20, 10, 0]);
    expect(Math.abs(rev.std[0] - 1)).toBeLessThan(0.1); // the chain starts from N(0, I)
    const plot = outputs.find((o) => o.type === 'plot') as unknown as { data: unknown[]; frames: { name: string; traces: number[] }[]; layout: { sliders: { steps: unknown[] }[] } };
    expect(plot.data).toHaveLength(2); // the data, faint, and the frame shown
    expect(plot.frames.map((f) => f.name)).toEqual(rev.t.map((t) => `t = ${t}`));
    expect(plot.layout.sliders[0].steps).toHaveLength(6);
    expect(rev.mmd).toBeGreaterThan(0);
    // a strided chain: frames fall on the t it visits
    const strided = await lab.views.reverseProcess(model, { n: 50, frames: 3, steps: 5 });
    expect(strided.t[0]).toBe(50);
    expect(strided.t[strided.t.length - 1]).toBe(0);
    await expect(lab.views.reverseProcess(lab.models.gan(), {})).rejects.toThrow(/train|ddpm/);
    model.dispose();
  }, 60_000);

  it('on images: PNG grids, one row per sample and one column per t', async () => {
    const { lab, outputs, artifactsDir } = recordingLab();
    const data = lab.data.mnist({ binarize: false, limit: 200 });
    const model = lab.models.ddpm({ net: 'mlp', hidden: [32], sampleSteps: 10 });
    await lab.train(model, data, { steps: 2, batchSize: 16, sampleEvery: 1000, checkpointEvery: 1000 });
    expect(model.config.timesteps).toBe(1000);
    outputs.length = 0;
    const rev = await lab.views.reverseProcess(model, { n: 3, frames: 4 });
    const fwd = await lab.views.forwardProcess(data, model, { n: 2, t: [0, 100, 1000] });
    expect(rev.t[0]).toBe(1000);
    expect(rev.t[rev.t.length - 1]).toBe(0);
    expect(fwd.t).toEqual([0, 100, 1000]);
    const images = outputs.filter((o) => o.type === 'image') as { path: string }[];
    expect(images).toHaveLength(2);
    const dims = images.map((o) => {
      const b = fs.readFileSync(path.join(artifactsDir, o.path));
      return [b.readUInt32BE(16), b.readUInt32BE(20)];
    });
    expect(dims[0]).toEqual([rev.frames * 29 + 1, 3 * 29 + 1]);
    expect(dims[1]).toEqual([3 * 29 + 1, 2 * 29 + 1]);
    // samples are images in [0, 1]
    const x = model.sample(2, undefined, 1);
    const v = await x.data();
    x.dispose();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    model.dispose();
  }, 60_000);

  it('refuses bad options with the option named', () => {
    const lab = createLab(collectingContext().ctx);
    expect(() => lab.models.ddpm({ schedule: 'quadratic' as never })).toThrow(/schedule must be one of 'linear', 'cosine' \(got 'quadratic'\)/);
    expect(() => lab.models.ddpm({ variance: 'learned' as never })).toThrow(/variance must be one of 'beta', 'posterior' \(got 'learned'\)/);
    expect(() => lab.models.ddpm({ net: 'transformer' as never })).toThrow(/net must be one of 'mlp', 'unet' \(got 'transformer'\)/);
    expect(() => lab.models.ddpm({ timesteps: 1 })).toThrow(/timesteps/);
    expect(() => lab.models.ddpm({ sampleSteps: 0 })).toThrow(/sampleSteps/);
    expect(() => lab.models.ddpm({ ema: 1 })).toThrow(/ema/);
  });
});
