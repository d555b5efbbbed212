// Convolutional RBM with probabilistic max-pooling: on images small enough to enumerate, the
// free energy, both conditionals and log Z are checked against brute-force sums of exp(−E)
// written here from the energy alone (loops over pixels, filters and legal hidden states);
// AIS must land within its error of the enumerated log Z; samples must keep at most one unit
// on per pooling block, with the block softmax's frequencies; lab.evaluate's AIS knobs must be
// honoured. Then the real trainer on binarized MNIST: the data's free energy falls relative to
// noise, the same seed gives the same curve, and checkpoints round-trip.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { ConvRbm, convAis } from '../../../../src/engine/models/energy/convrbm';
import type { DataInfo, NamedWeight } from '../../../../src/engine/models/types';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext, mean } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

interface Tiny {
  Hv: number;
  Wv: number;
  F: number;
  K: number;
  C: number;
  W: Float32Array; // [F, F, 1, K]
  b: number;
  c: Float32Array;
}

function randomTiny(Hv: number, Wv: number, F: number, K: number, C: number, seed: number, scale = 1): Tiny {
  const r = mulberry32(seed);
  return {
    Hv,
    Wv,
    F,
    K,
    C,
    W: Float32Array.from({ length: F * F * K }, () => scale * r.normal()),
    b: 0.5 * r.normal() - 0.3,
    c: Float32Array.from({ length: K }, () => 0.5 * r.normal()),
  };
}

const imageInfo = (t: Tiny): DataInfo => ({ kind: 'image', shape: [t.Hv, t.Wv], binary: true });

function modelWith(t: Tiny, cfg: ConstructorParameters<typeof ConvRbm>[0] = {}): ConvRbm {
  const m = new ConvRbm({ filters: t.K, filterSize: t.F, pool: t.C, ...cfg });
  m.build(imageInfo(t), mulberry32(1));
  const ws: NamedWeight[] = [
    { name: 'convrbm/W', tensor: tf.tensor4d(t.W, [t.F, t.F, 1, t.K]) },
    { name: 'convrbm/b', tensor: tf.tensor1d([t.b]) },
    { name: 'convrbm/c', tensor: tf.tensor1d(t.c) },
  ];
  m.setWeights(ws);
  tf.dispose(ws.map((w) => w.tensor));
  return m;
}

const hh = (t: Tiny) => t.Hv - t.F + 1;
const wh = (t: Tiny) => t.Wv - t.F + 1;

/** (W̃^k ⋆ v)_ij + c_k, straight from the definition */
function input(t: Tiny, v: ArrayLike<number>, k: number, i: number, j: number): number {
  let s = t.c[k];
  for (let a = 0; a < t.F; a++) for (let b = 0; b < t.F; b++) s += t.W[(a * t.F + b) * t.K + k] * v[(i + a) * t.Wv + j + b];
  return s;
}

/** every legal hidden configuration: per (map, block) one of C² units on or none; h indexed [(i·Wh + j)·K + k] */
function* legalHiddens(t: Tiny): Generator<Uint8Array> {
  const Hb = hh(t) / t.C;
  const Wb = wh(t) / t.C;
  const slots = t.K * Hb * Wb;
  const S = t.C * t.C + 1;
  const choice = new Array(slots).fill(0);
  for (;;) {
    const h = new Uint8Array(hh(t) * wh(t) * t.K);
    for (let s = 0; s < slots; s++) {
      if (choice[s] === S - 1) continue; // off
      const k = s % t.K;
      const blk = Math.floor(s / t.K);
      const bi = Math.floor(blk / Wb);
      const bj = blk % Wb;
      const i = bi * t.C + Math.floor(choice[s] / t.C);
      const j = bj * t.C + (choice[s] % t.C);
      h[(i * wh(t) + j) * t.K + k] = 1;
    }
    yield h;
    let s = 0;
    while (s < slots && choice[s] === S - 1) choice[s++] = 0;
    if (s === slots) return;
    choice[s]++;
  }
}

/** −E(v, h) = Σ h^k_ij I^k_ij + b Σ v */
function negEnergy(t: Tiny, v: ArrayLike<number>, h: Uint8Array): number {
  let e = 0;
  for (let i = 0; i < v.length; i++) e += t.b * v[i];
  for (let i = 0; i < hh(t); i++) for (let j = 0; j < wh(t); j++) for (let k = 0; k < t.K; k++) if (h[(i * wh(t) + j) * t.K + k]) e += input(t, v, k, i, j);
  return e;
}

function lse(a: number[]): number {
  const m = Math.max(...a);
  return m + Math.log(a.reduce((s, x) => s + Math.exp(x - m), 0));
}

const bits = (D: number, s: number) => Float32Array.from({ length: D }, (_, i) => Math.floor(s / 2 ** i) % 2);

function randomImages(t: Tiny, n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * t.Hv * t.Wv }, () => (r.next() < 0.5 ? 1 : 0));
}

describe('convrbm on tiny images, against enumeration', () => {
  // 4×4 images, 2 filters 3×3 → 2×2 maps, one 2×2 block per map (25 legal h);
  // 5×7 images, 1 filter 2×2 → 4×6 map, 2×3 blocks (5^6 legal h): checks the block layout
  const tinies = [randomTiny(4, 4, 3, 2, 2, 11, 1.2), randomTiny(5, 7, 2, 1, 2, 12, 1.2)];

  it.each(tinies.map((t, i) => [i, t] as const))('free energy equals −log Σ_h exp(−E(v, h)) over legal h (case %i)', async (_, t) => {
    const m = modelWith(t);
    const D = t.Hv * t.Wv;
    const n = 4;
    const vs = randomImages(t, n, 3);
    const x = tf.tensor2d(vs, [n, D]);
    const F = m.freeEnergy(x);
    const got = await F.data();
    tf.dispose([x, F]);
    const hs = [...legalHiddens(t)];
    expect(hs.length).toBe((t.C * t.C + 1) ** ((t.K * hh(t) * wh(t)) / (t.C * t.C)));
    for (let r = 0; r < n; r++) {
      const v = vs.subarray(r * D, (r + 1) * D);
      const want = -lse(hs.map((h) => negEnergy(t, v, h)));
      expect(got[r]).toBeCloseTo(want, 3);
    }
    m.dispose();
  });

  it.each(tinies.map((t, i) => [i, t] as const))('p(h | v) and p(pool on | v) equal the enumerated marginals (case %i)', async (_, t) => {
    const m = modelWith(t);
    const D = t.Hv * t.Wv;
    const vs = randomImages(t, 2, 5);
    const x = tf.tensor2d(vs, [2, D]);
    const { h, pool } = m.hiddenProbs(x);
    const [hv, pv] = await Promise.all([h.data(), pool.data()]);
    tf.dispose([x, h, pool]);
    const hs = [...legalHiddens(t)];
    const Hb = hh(t) / t.C;
    const Wb = wh(t) / t.C;
    const U = hh(t) * wh(t) * t.K;
    for (let r = 0; r < 2; r++) {
      const v = vs.subarray(r * D, (r + 1) * D);
      const logw = hs.map((hc) => negEnergy(t, v, hc));
      const Z = lse(logw);
      const marg = new Float64Array(U);
      const poolOn = new Float64Array(Hb * Wb * t.K);
      hs.forEach((hc, s) => {
        const p = Math.exp(logw[s] - Z);
        for (let u = 0; u < U; u++) {
          if (!hc[u]) continue;
          marg[u] += p;
          const k = u % t.K;
          const cell = Math.floor(u / t.K);
          const i = Math.floor(cell / wh(t));
          const j = cell % wh(t);
          poolOn[(Math.floor(i / t.C) * Wb + Math.floor(j / t.C)) * t.K + k] += p;
        }
      });
      for (let u = 0; u < U; u++) expect(hv[r * U + u]).toBeCloseTo(marg[u], 4);
      for (let q = 0; q < poolOn.length; q++) expect(pv[r * poolOn.length + q]).toBeCloseTo(poolOn[q], 4);
    }
    m.dispose();
  });

  it('p(v_i = 1 | h) equals the marginal of exp(−E(v, h)) over all 2^16 images', async () => {
    const t = tinies[0];
    const m = modelWith(t);
    const D = 16;
    const hs = [...legalHiddens(t)];
    const picks = [hs[3], hs[17], hs[24]];
    const U = hh(t) * wh(t) * t.K;
    const hT = tf.tensor4d(Float32Array.from(picks.flatMap((h) => Array.from(h))), [picks.length, hh(t), wh(t), t.K]);
    const pv = m.visibleProb(hT);
    const got = await pv.data();
    tf.dispose([hT, pv]);
    expect(U).toBe(8);
    picks.forEach((h, r) => {
      const logw: number[] = [];
      for (let s = 0; s < 2 ** D; s++) logw.push(negEnergy(t, bits(D, s), h));
      const Z = lse(logw);
      const on = new Float64Array(D);
      for (let s = 0; s < 2 ** D; s++) {
        const p = Math.exp(logw[s] - Z);
        const v = bits(D, s);
        for (let i = 0; i < D; i++) if (v[i]) on[i] += p;
      }
      for (let i = 0; i < D; i++) expect(got[r * D + i]).toBeCloseTo(on[i], 4);
    });
    m.dispose();
  });

  it('log Z by enumeration of (v, h) equals the model’s exact log Z, and AIS lands within its error', async () => {
    const t = tinies[0];
    const m = modelWith(t);
    const hs = [...legalHiddens(t)];
    const terms: number[] = [];
    for (let s = 0; s < 2 ** 16; s++) {
      const v = bits(16, s);
      terms.push(lse(hs.map((h) => negEnergy(t, v, h))));
    }
    const brute = lse(terms);
    const exact = await m.exactLogZ();
    expect(exact).toBeCloseTo(brute, 3);
    const a = await convAis(m.params(), { chains: 200, betas: 300, seed: 4, base: new Float32Array(16).fill(-0.4) });
    console.log(`convrbm tiny: log Z brute ${brute.toFixed(4)}, AIS ${a.logZ.toFixed(4)} ± ${a.stderr.toFixed(4)}, ESS ${a.ess.toFixed(1)} of ${a.chains}`);
    expect(Math.abs(a.logZ - brute)).toBeLessThan(3 * a.stderr + 0.02);
    expect(a.stderr).toBeLessThan(0.1);
    // testNll on so small an image is exact: F(v) + log Z
    const x = tf.tensor2d(randomImages(t, 3, 9), [3, 16]);
    const r = await m.testNll(x, 1);
    const F = m.freeEnergy(x);
    const f = await F.data();
    tf.dispose([x, F]);
    expect(r.kind).toBe('exact');
    for (let i = 0; i < 3; i++) expect(r.nll[i]).toBeCloseTo(f[i] + brute, 3);
    m.dispose();
  });

  it('exact log Z and AIS on a 3×5 image with several blocks and filters (all 2^15 images enumerated)', async () => {
    // 3×5 images, 2 filters 2×2 → 2×4 maps, 1×2 blocks per map: several blocks and filters at once
    const t = randomTiny(3, 5, 2, 2, 2, 21, 1.5);
    const m = modelWith(t);
    const exact = await m.exactLogZ();
    const hs = [...legalHiddens(t)];
    const terms: number[] = [];
    for (let s = 0; s < 2 ** 15; s++) {
      const v = bits(15, s);
      terms.push(lse(hs.map((h) => negEnergy(t, v, h))));
    }
    expect(exact).toBeCloseTo(lse(terms), 3);
    const a = await convAis(m.params(), { chains: 200, betas: 400, seed: 2 });
    expect(Math.abs(a.logZ - exact)).toBeLessThan(3 * a.stderr + 0.02);
    m.dispose();
  });

  it('samples keep at most one unit on per pooling block, with the block softmax’s frequencies', async () => {
    const t = randomTiny(5, 7, 2, 3, 2, 31, 1.5);
    const m = modelWith(t);
    const D = t.Hv * t.Wv;
    const n = 3000;
    const one = randomImages(t, 1, 8);
    const x = tf.tensor2d(Float32Array.from({ length: n * D }, (_, i) => one[i % D]), [n, D]);
    const h = m.sampleHidden(x, 77);
    const { h: ph } = m.hiddenProbs(tf.slice(x, [0, 0], [1, D]) as tf.Tensor2D);
    const [hv, pv] = await Promise.all([h.data(), ph.data()]);
    tf.dispose([x, h, ph]);
    const Hh = hh(t);
    const Wh = wh(t);
    const U = Hh * Wh * t.K;
    const freq = new Float64Array(U);
    for (let r = 0; r < n; r++) {
      for (let k = 0; k < t.K; k++) {
        for (let bi = 0; bi < Hh / t.C; bi++) {
          for (let bj = 0; bj < Wh / t.C; bj++) {
            let on = 0;
            for (let a = 0; a < t.C; a++) for (let b = 0; b < t.C; b++) on += hv[r * U + ((bi * t.C + a) * Wh + bj * t.C + b) * t.K + k];
            expect(on).toBeLessThanOrEqual(1);
          }
        }
      }
      for (let u = 0; u < U; u++) freq[u] += hv[r * U + u] / n;
    }
    for (let u = 0; u < U; u++) expect(Math.abs(freq[u] - pv[u])).toBeLessThan(4 * Math.sqrt((pv[u] * (1 - pv[u])) / n) + 1e-3);
    m.dispose();
  });

  it('testNll honours opts.ais and reports the estimate at 4× the temperatures with the ESS', async () => {
    const t = randomTiny(6, 6, 3, 2, 2, 41, 0.8);
    const m = modelWith(t, { ais: { chains: 20, betas: 30 } });
    const x = tf.tensor2d(randomImages(t, 4, 2), [4, 36]);
    const a = await m.testNll(x, 3);
    const b = await m.testNll(x, 3, undefined, { ais: { chains: 30, betas: 200 } });
    const c = await m.testNll(x, 3, undefined, { ais: { chains: 30, betas: 200 }, convergence: false });
    x.dispose();
    expect(a.kind).toBe('estimate');
    expect(a.details!.betas).toBe(30);
    expect(a.details!.chains).toBe(20);
    expect(b.details!.betas).toBe(200);
    expect(b.details!.chains).toBe(30);
    expect(b.nll[0]).not.toBe(a.nll[0]);
    expect(b.convergence!.knob).toBe('betas');
    expect(b.convergence!.at).toBe(200);
    expect(b.convergence!.at4x).toBe(800);
    expect(b.convergence!.essOf).toBe(30);
    expect(b.convergence!.ess).toBeGreaterThan(1);
    expect(b.convergence!.ess).toBeLessThanOrEqual(30);
    expect(b.convergence!.nll).toBeCloseTo(mean(Array.from(b.nll)), 3);
    expect(Math.abs(b.convergence!.nll4x - b.convergence!.nll)).toBeLessThan(1);
    expect(b.convergence!.converged).toBe(Math.abs(b.convergence!.nll4x - b.convergence!.nll) < 0.5);
    if (!b.convergence!.converged) expect(b.stderr!).toBeGreaterThanOrEqual(Math.abs(b.convergence!.nll4x - b.convergence!.nll));
    expect(c.convergence).toBeUndefined();
    expect(c.nll[0]).toBe(b.nll[0]);
    m.dispose();
  });
});

describe('convrbm trained on binarized MNIST through lab.train', () => {
  const { ctx } = collectingContext();
  const lab = createLab(ctx);
  const data = lab.data.mnist({ limit: 600 });
  const D = data.dim;

  const gapToNoise = async (m: ConvRbm) => {
    const n = data.test.n;
    const x = tf.tensor2d(data.test.x.subarray(0, n * D), [n, D]);
    // noise with the data's mean pixel density, so only structure (not ink) tells them apart
    let ink = 0;
    for (let i = 0; i < n * D; i++) ink += data.test.x[i] / (n * D);
    const r = mulberry32(4);
    const noise = tf.tensor2d(Float32Array.from({ length: n * D }, () => (r.next() < ink ? 1 : 0)), [n, D]);
    const Fd = m.freeEnergy(x);
    const Fn = m.freeEnergy(noise);
    const [a, b] = await Promise.all([Fd.data(), Fn.data()]);
    tf.dispose([x, noise, Fd, Fn]);
    return mean(Array.from(a)) - mean(Array.from(b));
  };

  it('CD-1 with sparsity lowers the free energy of digits relative to noise; seeded; checkpoints round-trip', async () => {
    const cfg = { filters: 8, filterSize: 7, pool: 2, sampleSteps: 5 };
    const m = new ConvRbm(cfg);
    m.build({ kind: data.kind, shape: data.shape, binary: data.binary }, mulberry32(9));
    const before = await gapToNoise(m);
    const curve: number[] = [];
    const tensors: number[] = [];
    const run = await train(ctx, m, data, {
      steps: 60,
      batchSize: 32,
      lr: 3e-3,
      evalEvery: 60,
      sampleEvery: 10_000,
      checkpointEvery: 10_000,
      seed: 2,
      onStep: (step, mm) => {
        curve.push(mm['train/recon']);
        if (step === 10 || step === 55) tensors.push(tf.memory().numTensors);
      },
    });
    expect(tensors[1]).toBe(tensors[0]);
    const after = await gapToNoise(m);
    console.log(`convrbm: F(data) − F(noise) before ${before.toFixed(1)}, after ${after.toFixed(1)}; val/sparsity ${run.metrics['val/sparsity']}`);
    expect(after).toBeLessThan(before - 20);
    expect(mean(curve.slice(-10))).toBeLessThan(mean(curve.slice(0, 10)));
    expect(run.metrics['val/pseudo_ll']).toBeLessThan(0);
    expect(run.metrics['val/sparsity']).toBeGreaterThan(0);
    expect(run.metrics['val/sparsity']).toBeLessThan(0.2);

    // the same seed gives the same curve
    const m2 = new ConvRbm(cfg);
    m2.build({ kind: data.kind, shape: data.shape, binary: data.binary }, mulberry32(9));
    const curve2: number[] = [];
    await train(ctx, m2, data, { steps: 15, batchSize: 32, lr: 3e-3, evalEvery: 10_000, sampleEvery: 10_000, checkpointEvery: 10_000, seed: 2, onStep: (_s, mm) => curve2.push(mm['train/recon']) });
    expect(curve2).toEqual(curve.slice(0, 15));

    // a checkpoint loaded into a fresh model gives the same free energies and samples
    const m3 = new ConvRbm(cfg);
    m3.build({ kind: data.kind, shape: data.shape, binary: data.binary }, mulberry32(1));
    m3.setWeights(m.getWeights());
    const x = tf.tensor2d(data.test.x.subarray(0, 5 * D), [5, D]);
    const [f1, f3] = [m.freeEnergy(x), m3.freeEnergy(x)];
    expect(Array.from(await f3.data())).toEqual(Array.from(await f1.data()));
    const [s1, s3] = [m.sample(3, undefined, 4), m3.sample(3, undefined, 4)];
    expect(Array.from(await s3.data())).toEqual(Array.from(await s1.data()));
    const sv = await s1.data();
    expect(sv.every((v) => v >= 0 && v <= 1)).toBe(true);
    const f = await m.filters();
    expect([f.count, f.dim]).toEqual([8, 49]);
    const frames = await m.gibbs({ n: 2, steps: 4, every: 2, seed: 1 });
    expect(frames.length).toBe(3);
    tf.dispose([x, f1, f3, s1, s3]);
    m.dispose();
    m2.dispose();
    m3.dispose();
  });
});
