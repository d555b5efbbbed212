// Score model (NCSN): the analytic score of a blurred Gaussian mixture against finite
// differences of its log-density; annealed Langevin with that exact score recovering a
// weighted 2-D mixture (MMD, coverage and weights); the σ²-weighted DSM loss at the true
// score equal to its closed-form minimum (and any other scale or sign of the score doing
// worse); a trained network's score approaching the analytic one with samples that pass
// an MMD check; the views; checkpoints; and the config's errors.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { mmd } from '../../../../src/engine/eval/mmd';
import { modeStats } from '../../../../src/engine/eval/modes';
import { createLab } from '../../../../src/engine/lab/lab';
import { annealedLangevin, geometricSigmas, mixtureScore, Score, type ScoreFn } from '../../../../src/engine/models/diffusion/score';
import { normal } from '../../../../src/engine/ops/random';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** n draws of Σ_k w_k N(μ_k, s² I) in 2-D, and each draw's component */
function drawMixture(modes: number[][], std: number, weights: number[], n: number, seed: number): { x: Float32Array; k: Int32Array } {
  const rng = mulberry32(seed);
  const total = weights.reduce((a, b) => a + b, 0);
  const x = new Float32Array(2 * n);
  const k = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let u = rng.next() * total;
    let c = 0;
    while (c < weights.length - 1 && u >= weights[c]) u -= weights[c++];
    k[i] = c;
    x[2 * i] = modes[c][0] + std * rng.normal();
    x[2 * i + 1] = modes[c][1] + std * rng.normal();
  }
  return { x, k };
}

/** share of the points nearest each mode */
function shares(x: Float32Array, modes: number[][]): number[] {
  const counts = new Array<number>(modes.length).fill(0);
  const n = x.length / 2;
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bd = Infinity;
    modes.forEach((m, k) => {
      const d = Math.hypot(x[2 * i] - m[0], x[2 * i + 1] - m[1]);
      if (d < bd) [bd, best] = [d, k];
    });
    counts[best]++;
  }
  return counts.map((c) => c / n);
}

/** a score model built (not trained) on 2-D points */
function pointsModel(cfg: ConstructorParameters<typeof Score>[0] = {}): Score {
  const m = new Score({ hidden: [8], ...cfg });
  m.build({ kind: 'points', shape: [2], binary: false }, mulberry32(1));
  return m;
}

const MODES = [
  [-2, 0],
  [2, 0],
  [0, 2.5],
];
const WEIGHTS = [0.5, 0.3, 0.2];
const STD = 0.25;

describe('the ladder and the analytic score', () => {
  it('σ_1 > … > σ_L is geometric from max to min', () => {
    const s = geometricSigmas(5, 0.05, 7);
    expect(s).toHaveLength(7);
    expect(s[0]).toBeCloseTo(5, 10);
    expect(s[6]).toBeCloseTo(0.05, 10);
    for (let i = 1; i < 7; i++) expect(s[i] / s[i - 1]).toBeCloseTo(s[1] / s[0], 10);
    expect(geometricSigmas(2, 1, 1)).toEqual([2]);
    expect(() => geometricSigmas(0.1, 1, 3)).toThrow(/max >= min/);
  });

  it('mixtureScore is the gradient of log Σ_k w_k N(x; μ_k, (s² + σ²) I), checked by central differences', async () => {
    const f = mixtureScore(MODES, STD, WEIGHTS);
    const logp = (x: number, y: number, sigma: number) => {
      const v = STD * STD + sigma * sigma;
      let s = 0;
      MODES.forEach((m, k) => (s += WEIGHTS[k] * Math.exp(-((x - m[0]) ** 2 + (y - m[1]) ** 2) / (2 * v)) / (2 * Math.PI * v)));
      return Math.log(s);
    };
    const pts = [
      [0.3, -0.4],
      [-1.5, 0.8],
      [1.1, 2.0],
      [3, -1],
    ];
    for (const sigma of [0.1, 0.7, 2.5]) {
      const out = f(tf.tensor2d(pts.flat(), [4, 2]), tf.fill([4, 1], sigma) as tf.Tensor2D);
      const v = (await out.data()) as Float32Array;
      out.dispose();
      const h = 1e-4;
      pts.forEach(([x, y], i) => {
        const gx = (logp(x + h, y, sigma) - logp(x - h, y, sigma)) / (2 * h);
        const gy = (logp(x, y + h, sigma) - logp(x, y - h, sigma)) / (2 * h);
        expect(v[2 * i]).toBeCloseTo(gx, 2);
        expect(v[2 * i + 1]).toBeCloseTo(gy, 2);
      });
    }
  });
});

describe('annealed Langevin dynamics', () => {
  it('with the exact score of a known 2-D mixture at each level, recovers the mixture: MMD to true draws small, every mode covered with its weight', async () => {
    const n = 2000;
    const sigmas = geometricSigmas(4, 0.02, 10);
    const init = tf.mul(normal([n, 2], 5), sigmas[0]) as tf.Tensor2D;
    const score = mixtureScore(MODES, STD, WEIGHTS);
    const out = annealedLangevin(score, init, { sigmas, stepsPerLevel: 100, eps: 0.1 * 0.02 * 0.02, seed: 7 });
    const x = (await out.data()) as Float32Array;
    tf.dispose([init, out]);
    const truth = drawMixture(MODES, STD, WEIGHTS, n, 11).x;
    const truth2 = drawMixture(MODES, STD, WEIGHTS, n, 12).x;
    const m = mmd(x.subarray(0, 2000), truth.subarray(0, 2000), 2);
    const floor = mmd(truth2.subarray(0, 2000), truth.subarray(0, 2000), 2);
    // two independent true samples sit at `floor`; the sampler's within a small margin of it
    expect(m).toBeLessThan(floor + 0.03);
    const st = modeStats(x, MODES, STD);
    expect(st.covered).toBe(3);
    expect(st.highQuality).toBeGreaterThan(0.97);
    const sh = shares(x, MODES);
    sh.forEach((s, k) => expect(Math.abs(s - WEIGHTS[k])).toBeLessThan(0.04));
    // and the spread of each mode is the data's (not the noise's): std ≈ 0.25 around its mode
    let ss = 0;
    let cnt = 0;
    for (let i = 0; i < n; i++) {
      const c = MODES.findIndex((mm) => Math.hypot(x[2 * i] - mm[0], x[2 * i + 1] - mm[1]) < 1);
      if (c < 0) continue;
      ss += (x[2 * i] - MODES[c][0]) ** 2 + (x[2 * i + 1] - MODES[c][1]) ** 2;
      cnt++;
    }
    expect(Math.sqrt(ss / (2 * cnt))).toBeGreaterThan(0.22);
    expect(Math.sqrt(ss / (2 * cnt))).toBeLessThan(0.28);
  }, 60_000);

  it('is deterministic in its seed, reports every step, and the denoising step moves x by σ_L² s(x, σ_L)', async () => {
    const sigmas = [1, 0.5];
    const init = tf.tensor2d([0.5, -0.5, 2, 1], [2, 2]);
    // the score of N(0, I) blurred by σ: −x/(1 + σ²)
    const gauss: ScoreFn = (x, s) => tf.div(tf.neg(x), tf.add(tf.square(s), 1)) as tf.Tensor2D;
    const seen: string[] = [];
    const kept: tf.Tensor[] = [];
    const run = async (denoise: boolean) => {
      seen.length = 0;
      const out = annealedLangevin(gauss, init, {
        sigmas, stepsPerLevel: 3, eps: 0.01, seed: 3, denoise,
        onStep: (x, level, step) => {
          seen.push(`${level}:${step}`);
          if (level === 1 && step === 3) kept.push(tf.clone(x));
        },
      });
      const v = (await out.data()) as Float32Array;
      out.dispose();
      return v;
    };
    const a = await run(false);
    expect(seen).toEqual(['-1:0', '0:1', '0:2', '0:3', '1:1', '1:2', '1:3']);
    const b = await run(true);
    expect(seen[seen.length - 1]).toBe('2:0');
    const [k0, k1] = (await Promise.all(kept.map((t) => t.data()))) as Float32Array[];
    tf.dispose(kept);
    expect(Array.from(k0)).toEqual(Array.from(a));
    expect(Array.from(k1)).toEqual(Array.from(a)); // the same seed: the same chain
    // the denoising step: x + 0.25·(−x/1.25) = 0.8 x
    b.forEach((v, i) => expect(v).toBeCloseTo(0.8 * a[i], 5));
    init.dispose();
  });
});

describe('denoising score matching', () => {
  it('at the true score of Gaussian data N(μ, s² I) the loss per level is its minimum s²/(s² + σ²); a rescaled or sign-flipped score does worse', async () => {
    const mu = [1, -0.5];
    const s = 0.6;
    const model = pointsModel({ sigmas: { max: 2, min: 0.1, levels: 5 } });
    const n = 20000;
    const x = tf.add(tf.mul(normal([n, 2], 21), s), tf.tensor2d([mu], [1, 2])) as tf.Tensor2D;
    const exact = mixtureScore([mu], s);
    const sigmas = model.sigmas();
    try {
      model.setScore(exact);
      const at = await model.dsmLoss(x, 5);
      sigmas.forEach((sig, i) => expect(at.perLevel[i]).toBeCloseTo((s * s) / (s * s + sig * sig), 1));
      sigmas.forEach((sig, i) => expect(Math.abs(at.perLevel[i] - (s * s) / (s * s + sig * sig))).toBeLessThan(0.02));
      const minimum = sigmas.reduce((a, sig) => a + (s * s) / (s * s + sig * sig), 0) / sigmas.length;
      expect(at.loss).toBeCloseTo(minimum, 2);
      for (const c of [0.8, 1.25, -1]) {
        model.setScore((xx, sg) => tf.mul(exact(xx, sg), c) as tf.Tensor2D);
        const worse = await model.dsmLoss(x, 5);
        expect(worse.loss).toBeGreaterThan(at.loss + 0.01);
      }
    } finally {
      x.dispose();
      model.dispose();
    }
  });
});

describe('a trained score network', () => {
  it('on 8 Gaussians learns a score close to the analytic one at moderate σ, and its Langevin samples pass an MMD check', async () => {
    const { ctx } = collectingContext();
    const data = toy2d('8gaussians');
    const model = new Score({ hidden: [128, 128], evalSamples: 500, langevin: { stepsPerLevel: 50 } });
    const run = await train(ctx, model, data, { steps: 3000, batchSize: 256, lr: 2e-3, schedule: 'cosine', evalEvery: 1500, sampleEvery: 100000, checkpointEvery: 100000, seed: 1 });
    expect(run.status ?? 'finished').toBe('finished');
    const sigmas = model.sigmas();
    const exact = mixtureScore(data.modes!, data.modeStd!);
    // points of p_σ: validation points blurred by σ, at the levels of σ between 0.5 and 1.5 (modes 1.5 apart)
    const val = tf.tensor2d(data.val.x.subarray(0, 2000), [1000, 2]);
    const errs: number[] = [];
    try {
      for (let i = 0; i < sigmas.length; i++) {
        const sig = sigmas[i];
        if (sig < 0.5 || sig > 1.5) continue;
        const xt = tf.add(val, tf.mul(normal([1000, 2], 40 + i), sig)) as tf.Tensor2D;
        const learned = model.score(xt, sig);
        const truth = tf.tidy(() => exact(xt, tf.fill([1000, 1], sig) as tf.Tensor2D));
        const err = tf.tidy(() => tf.sqrt(tf.div(tf.sum(tf.square(tf.sub(learned, truth))), tf.sum(tf.square(truth)))));
        errs.push(((await err.data()) as Float32Array)[0]);
        tf.dispose([xt, learned, truth, err]);
      }
    } finally {
      val.dispose();
    }
    expect(errs.length).toBeGreaterThanOrEqual(2);
    for (const e of errs) expect(e).toBeLessThan(0.2);
    // samples against held-out points, beside the floor of two true samples
    const s = model.sample(1000, undefined, 99);
    const gen = (await s.data()) as Float32Array;
    s.dispose();
    const m = mmd(gen, data.test.x, 2);
    expect(m).toBeLessThan(0.08);
    const st = modeStats(gen, data.modes!, data.modeStd!);
    expect(st.covered).toBe(8);
    // validation metrics with their kinds
    const ev = await model.evaluate(tf.tensor2d(data.val.x, [data.val.n, 2]), 3);
    expect(ev['val/loss'].kind).toBe('loss');
    expect(ev['val/loss_level1'].kind).toBe('info');
    expect(ev['val/mmd'].kind).toBe('sample');
    expect(ev['val/modes_covered'].value).toBe(8);
    for (const k of Object.keys(ev)) expect(model.metricKinds()[k], k).toBeDefined();
    // the per-level loss rises as σ falls towards the data's own scale (less of ε is predictable), and stays below 1
    expect(ev[`val/loss_level${sigmas.length}`].value).toBeGreaterThan(ev['val/loss_level1'].value);
    model.dispose();
  }, 240_000);
});

describe('lab.models.score and its views', () => {
  it('trains through lab.train, draws the score field beside the analytic one and the Langevin paths, and resumes from its weights', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.toy2d('8gaussians', { n: 2000 });
    const model = lab.models.score({ hidden: [32, 32], sigmas: { levels: 5 }, langevin: { stepsPerLevel: 10 } });
    await lab.train(model, data, { steps: 20, batchSize: 128, sampleEvery: 1000, checkpointEvery: 1000 });
    outputs.length = 0;
    const field = await lab.views.scoreField(model, { data, grid: 9 });
    expect(field.sigmas).toHaveLength(4);
    expect(field.relError).toHaveLength(4);
    for (const e of field.relError!) expect(Number.isFinite(e)).toBe(true);
    const plot = outputs.find((o) => o.type === 'plot') as { data: { xaxis?: string; name?: string }[] } | undefined;
    expect(plot).toBeDefined();
    // a learned and an analytic arrow trace per level, in 8 panels
    expect(plot!.data.filter((t) => t.name?.startsWith('learned')).length).toBe(4);
    expect(plot!.data.filter((t) => t.name?.startsWith('analytic')).length).toBe(4);
    expect(new Set(plot!.data.map((t) => t.xaxis)).size).toBe(8);
    outputs.length = 0;
    const paths = await lab.views.langevinPaths(model, { data, chains: 5, n: 200 });
    expect(paths.sigmas).toHaveLength(5);
    expect(paths.mmd).toBeGreaterThanOrEqual(0);
    expect(outputs.some((o) => o.type === 'plot')).toBe(true);
    // the same weights in a fresh model give the same score
    const m = model as unknown as Score;
    const fresh = new Score({ hidden: [32, 32], sigmas: { levels: 5 }, langevin: { stepsPerLevel: 10 } });
    fresh.build(m.dataInfo!, mulberry32(5));
    fresh.setWeights(m.getWeights());
    const x = tf.tensor2d([0.5, 0.5, -1, 2], [2, 2]);
    const [a, b] = [m.score(x, 0.3), fresh.score(x, 0.3)];
    expect(Array.from((await a.data()) as Float32Array)).toEqual(Array.from((await b.data()) as Float32Array));
    tf.dispose([x, a, b]);
    fresh.dispose();
    // no likelihood: lab.evaluate scores samples
    const ev = await lab.evaluate(model, data.test);
    expect(ev.kind).toBe('sample');
    expect(ev.mmd).toBeGreaterThanOrEqual(0);
  }, 120_000);

  it('on images: a U-Net score, samples in [0, 1], and the Langevin view as a grid', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.mnist({ binarize: false, limit: 200 });
    const model = lab.models.score({ channels: [4, 8], attention: false, sigmas: { levels: 3 }, langevin: { stepsPerLevel: 2 } });
    await lab.train(model, data, { steps: 2, batchSize: 8, sampleEvery: 1000, checkpointEvery: 1000 });
    const m = model as unknown as Score;
    expect(m.config.net).toBe('unet');
    const s = m.sample(3, undefined, 1);
    const v = (await s.data()) as Float32Array;
    s.dispose();
    expect(v.length).toBe(3 * 784);
    for (const x of v) expect(x >= 0 && x <= 1).toBe(true);
    outputs.length = 0;
    const paths = await lab.views.langevinPaths(model, { chains: 2 });
    // the start, 3 levels, the denoised end
    expect(paths.frames).toBe(5);
    expect(paths.path).toMatch(/\.png$/);
    expect(outputs.some((o) => o.type === 'image')).toBe(true);
    await expect(lab.views.scoreField(model)).rejects.toThrow(/over the plane/);
  }, 120_000);

  it('rejects bad settings with messages that say what is allowed', () => {
    const lab = createLab(collectingContext().ctx);
    expect(() => lab.models.score({ net: 'transformer' as never })).toThrow(/net must be one of 'mlp', 'unet'/);
    expect(() => lab.models.score({ sigmas: { max: 0.1, min: 1 } })).toThrow(/max .* must be >= sigmas.min/);
    expect(() => lab.models.score({ sigmas: { levels: 0 } })).toThrow(/levels/);
    expect(() => lab.models.score({ langevin: { eps: -1 } })).toThrow(/eps/);
    const m = new Score();
    expect(() => m.sample(2)).toThrow(/train the model first/);
  });
});
