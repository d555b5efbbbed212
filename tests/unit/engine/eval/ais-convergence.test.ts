// Estimates show whether they have converged: lab.evaluate's knobs (ais, k, convergence)
// reach the estimators, the estimate is re-run at 4× its knob, and the error bar that is
// reported covers what the short schedule gets wrong (checked against an exact log Z).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { effectiveSampleSize } from '../../../../src/engine/eval/ais';
import { evaluateModel, type LikelihoodModel } from '../../../../src/engine/eval/evaluate';
import { createLab } from '../../../../src/engine/lab/lab';
import { Dbm } from '../../../../src/engine/models/energy/dbm';
import { Dbn } from '../../../../src/engine/models/energy/dbn';
import { Rbm } from '../../../../src/engine/models/energy/rbm';
import { Vae } from '../../../../src/engine/models/latent/vae';
import type { DataInfo, NamedWeight } from '../../../../src/engine/models/types';
import { train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { evalJson } from '../../../../src/main/host/cli';
import { convergenceFromMetrics, convergenceNote } from '../../../../src/shared/convergence';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

const V = 120;
const H = 20;

/**
 * A bernoulli RBM of 120 × 20 units with large weights (N(0, 0.6²)): its exact log Z takes
 * 2^20 hidden states (a few seconds), too many for testNll's own enumeration budget, so
 * testNll estimates it by AIS; large weights make the distributions change fast with β,
 * so a short schedule is badly off.
 */
function hardRbm(scale = 0.6): Rbm {
  const r = mulberry32(3);
  const m = new Rbm({ hidden: H });
  m.build({ kind: 'image', shape: [V], binary: true }, mulberry32(1));
  const ws: NamedWeight[] = [
    { name: 'rbm/W', tensor: tf.tensor2d(Float32Array.from({ length: V * H }, () => scale * r.normal()), [V, H]) },
    { name: 'rbm/b', tensor: tf.tensor1d(Float32Array.from({ length: V }, () => 0.5 * r.normal())) },
    { name: 'rbm/c', tensor: tf.tensor1d(Float32Array.from({ length: H }, () => 0.5 * r.normal())) },
  ];
  m.setWeights(ws);
  tf.dispose(ws.map((w) => w.tensor));
  return m;
}

/** a split of n random binary rows */
function binarySplit(n: number, D: number, seed: number) {
  const r = mulberry32(seed);
  return { x: Float32Array.from({ length: n * D }, () => (r.next() < 0.3 ? 1 : 0)), n };
}

describe('AIS on an RBM whose log Z is known exactly', () => {
  const { ctx } = collectingContext();
  const model = hardRbm();
  const split = binarySplit(5, V, 4);
  let exact = 0;
  beforeAll(async () => {
    exact = await model.exactLogZ();
  }, 120_000);

  it('a short schedule is flagged unconverged, and its error bar covers the true error', async () => {
    const e = await evaluateModel(ctx, model as LikelihoodModel, split, { ais: { chains: 100, betas: 10 }, record: false });
    const c = e.convergence!;
    expect(e.kind).toBe('estimate');
    expect(c.knob).toBe('betas');
    expect([c.at, c.at4x]).toEqual([10, 40]);
    expect(c.tolerance).toBe(0.5);
    expect(c.converged).toBe(false);
    expect(c.note).toMatch(/^not converged: 4× temperatures moved it by/);
    // the short run alone is far off, and its own delta-method stderr claims far less than that error
    const err1x = Math.abs(e.details!.logZ1x - exact);
    expect(err1x).toBeGreaterThan(1);
    expect(e.details!.logZ1xStderr).toBeLessThan(err1x);
    // what is reported: the 4× estimate, with an error bar at least the move, which covers its true error
    expect(Math.abs(e.nll_nats - c.nll4x)).toBeLessThan(1e-3);
    expect(e.stderr!).toBeGreaterThanOrEqual(Math.abs(c.nll4x - c.nll) - 1e-9);
    expect(Math.abs(e.details!.logZ - exact)).toBeLessThanOrEqual(e.stderr!);
    // ESS of the importance weights is in [1, chains]
    for (const ess of [c.ess!, c.ess4x!]) {
      expect(ess).toBeGreaterThanOrEqual(1);
      expect(ess).toBeLessThanOrEqual(100);
    }
    expect(c.essOf).toBe(100);
  }, 60_000);

  it('a long schedule converges and lands within its error bar of the exact log Z', async () => {
    const e = await evaluateModel(ctx, model as LikelihoodModel, split, { ais: { chains: 100, betas: 1000 }, record: false });
    const c = e.convergence!;
    expect(c.converged).toBe(true);
    expect([c.at, c.at4x]).toEqual([1000, 4000]);
    expect(Math.abs(c.nll4x - c.nll)).toBeLessThan(0.5);
    expect(Math.abs(e.details!.logZ - exact)).toBeLessThanOrEqual(e.stderr!);
    expect(e.stderr!).toBeLessThan(0.1);
    // more temperatures, more effective samples
    expect(c.ess!).toBeGreaterThan(30);
    expect(c.ess!).toBeLessThanOrEqual(100);
  }, 120_000);

  it("lab.evaluate's ais knobs change the work done (chains, temperatures) and the result; convergence: false skips the 4× run", async () => {
    const a = await evaluateModel(ctx, model as LikelihoodModel, split, { ais: { chains: 20, betas: 30 }, record: false });
    const b = await evaluateModel(ctx, model as LikelihoodModel, split, { ais: { chains: 40, betas: 60 }, record: false });
    expect([a.details!.chains, a.details!.betas, a.details!.betas4x]).toEqual([20, 30, 120]);
    expect([b.details!.chains, b.details!.betas, b.details!.betas4x]).toEqual([40, 60, 240]);
    expect(a.nll_nats).not.toBe(b.nll_nats);
    // only chains, or only betas: the other comes from the model's config (100 chains, 2000 temperatures)
    const c = await evaluateModel(ctx, model as LikelihoodModel, split, { ais: { betas: 25 }, convergence: false, record: false });
    expect([c.details!.chains, c.details!.betas]).toEqual([100, 25]);
    expect(c.convergence).toBeUndefined();
    expect(c.details!.betas4x).toBeUndefined();
    // without the check the reported number is the one run's, with its delta-method stderr
    expect(c.stderr).toBe(c.details!.logZStderr);
    // bad knobs are refused like the config's
    await expect(evaluateModel(ctx, model as LikelihoodModel, split, { ais: { betas: 0 }, record: false })).rejects.toThrow(/ais\.betas must be an integer >= 1, got 0/);
    await expect(evaluateModel(ctx, model as LikelihoodModel, split, { ais: { chains: 2.5 }, record: false })).rejects.toThrow(/ais\.chains must be an integer >= 2/);
  }, 60_000);

  it('effectiveSampleSize: M for equal weights, 1 for one dominant weight, (Σw)²/Σw² between', () => {
    expect(effectiveSampleSize([0, 0, 0, 0])).toBeCloseTo(4, 12);
    expect(effectiveSampleSize([0, -1000, -1000])).toBeCloseTo(1, 12);
    const w = [1, 2, 3];
    expect(effectiveSampleSize(w.map(Math.log))).toBeCloseTo(36 / 14, 12);
  });
});

describe('DBN and DBM: the top (or joint) log Z is checked the same way', () => {
  const { ctx } = collectingContext();
  const info: DataInfo = { kind: 'image', shape: [30], binary: true };
  const split = binarySplit(4, 30, 8);

  it('dbn and dbm honour ais and report convergence at 4× the temperatures', async () => {
    const dbn = new Dbn({ layers: [25, 25], initScale: 0.5 });
    dbn.build(info, mulberry32(2));
    const dbm = new Dbm({ layers: [25, 25], initScale: 0.5 });
    dbm.build(info, mulberry32(2));
    for (const m of [dbn, dbm]) {
      const e = await evaluateModel(ctx, m as unknown as LikelihoodModel, split, { ais: { chains: 10, betas: 20 }, record: false });
      expect(e.kind, m.family).toBe('estimate');
      expect([e.details!.chains, e.details!.betas, e.details!.betas4x], m.family).toEqual([10, 20, 80]);
      const c = e.convergence!;
      expect([c.knob, c.at, c.at4x], m.family).toEqual(['betas', 20, 80]);
      expect(Math.abs(e.nll_nats - c.nll4x), m.family).toBeLessThan(1e-3);
      expect(e.stderr!, m.family).toBeGreaterThanOrEqual(Math.abs(c.nll4x - c.nll) - 1e-9);
      expect(c.converged, m.family).toBe(Math.abs(c.nll4x - c.nll) < 0.5);
      const off = await evaluateModel(ctx, m as unknown as LikelihoodModel, split, { ais: { chains: 10, betas: 20 }, convergence: false, record: false });
      expect(off.convergence, m.family).toBeUndefined();
      expect(off.details!.betas4x, m.family).toBeUndefined();
      m.dispose();
    }
  }, 60_000);
});

describe("the VAE's IWAE bound honours k", () => {
  const { ctx } = collectingContext();
  const D = 20;
  const split = binarySplit(30, D, 9);
  const model = new Vae({ latentDim: 4, hidden: [16], evalK: 7 });
  model.build({ kind: 'points', shape: [D], binary: true }, mulberry32(3));

  it('k changes the samples drawn and the bound; the check at 4k reports ESS; convergence: false skips it', async () => {
    const own = await evaluateModel(ctx, model as LikelihoodModel, split, { record: false });
    expect(own.details!.k).toBe(7);
    const off = await evaluateModel(ctx, model as LikelihoodModel, split, { k: 5, convergence: false, record: false });
    expect(off.details).toEqual({ k: 5, samples: 30 * 5 });
    expect(off.convergence).toBeUndefined();
    const big = await evaluateModel(ctx, model as LikelihoodModel, split, { k: 50, convergence: false, record: false });
    expect(big.details).toEqual({ k: 50, samples: 30 * 50 });
    // more samples: a tighter bound (IWAE-k rises with k), whatever the draws
    expect(big.nll_nats).toBeLessThan(off.nll_nats);
    const on = await evaluateModel(ctx, model as LikelihoodModel, split, { k: 5, record: false });
    const c = on.convergence!;
    expect(on.kind).toBe('bound');
    expect([c.knob, c.at, c.at4x]).toEqual(['k', 5, 20]);
    // the bound reported is the one at k, over every row (30 rows: the check covers them all)
    expect(on.nll_nats).toBeCloseTo(off.nll_nats, 4);
    expect(c.nll).toBeCloseTo(on.nll_nats, 4);
    expect(c.rows).toBeUndefined();
    expect(on.details!.samples).toBe(30 * 5 + 30 * 20);
    expect(c.converged).toBe(Math.abs(c.nll4x - c.nll) < c.tolerance);
    expect(c.ess!).toBeGreaterThanOrEqual(1);
    expect(c.ess!).toBeLessThanOrEqual(5);
    expect(c.ess4x!).toBeGreaterThanOrEqual(1);
    expect(c.ess4x!).toBeLessThanOrEqual(20);
    await expect(evaluateModel(ctx, model as LikelihoodModel, split, { k: 0, record: false })).rejects.toThrow(/k .*must be a whole number >= 1, got 0/);
  }, 60_000);
});

describe('the convergence check is recorded on the run and shown', () => {
  it('lab.evaluate records test/nll_1x, test/nll_4x, test/nll_converged, test/knob_betas, test/nll_ess (info) and `latentlab run --json` reads them back', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ limit: 300 });
    const m = new Rbm({ hidden: 24, sampleSteps: 5, ais: { chains: 10, betas: 20 } });
    await train(ctx, m, data, { steps: 5, batchSize: 32, evalEvery: 100, sampleEvery: 100, checkpointEvery: 100, seed: 1 });
    const e = await lab.evaluate(m, data.test);
    const c = e.convergence!;
    const ev = messages.filter((x) => x.type === 'run.eval').at(-1) as Extract<(typeof messages)[number], { type: 'run.eval' }>;
    const rec = Object.fromEntries(ev.points.map((p) => [p.key, p.value]));
    expect(rec['test/nll']).toBeCloseTo(e.nll_nats, 4);
    expect(rec['test/nll_stderr']).toBeCloseTo(e.stderr!, 6);
    expect(rec['test/nll_1x']).toBeCloseTo(c.nll, 4);
    expect(rec['test/nll_4x']).toBeCloseTo(c.nll4x, 4);
    expect(rec['test/nll_converged']).toBe(c.converged ? 1 : 0);
    expect(rec['test/knob_betas']).toBe(20);
    expect(rec['test/nll_ess']).toBeCloseTo(c.ess!, 6);
    expect(rec['test/nll_ess_of']).toBe(10);
    for (const k of ['test/nll_1x', 'test/nll_4x', 'test/nll_converged', 'test/knob_betas', 'test/nll_ess']) expect(ev.kinds?.[k], k).toBe('info');
    // the CLI's eval JSON
    const metrics = Object.fromEntries(Object.entries(rec).map(([k, v]) => [k, { last: v }]));
    const j = evalJson({ dataName: 'mnist', config: { metricKinds: { 'test/nll': 'estimate' } } }, metrics) as { convergence: { knob: string; at: number; converged: boolean; note: string; nll4x: number } };
    expect(j.convergence).toMatchObject({ knob: 'betas', at: 20, converged: c.converged, nll4x: rec['test/nll_4x'] });
    expect(j.convergence.note).toBe(c.note);
    m.dispose();
  }, 120_000);

  it('the note says by how much 4× the knob moved the estimate', () => {
    const metrics: Record<string, number> = { 'test/nll_1x': 75.1, 'test/nll_4x': 78.3, 'test/nll_converged': 0, 'test/nll_tolerance': 0.5, 'test/knob_betas': 2000 };
    const c = convergenceFromMetrics((k) => metrics[k], Object.keys(metrics))!;
    expect(c).toMatchObject({ knob: 'betas', at: 2000, converged: false });
    expect(convergenceNote(c)).toBe('not converged: 4× temperatures moved it by 3.20 nats (tolerance 0.5)');
    expect(convergenceNote({ knob: 'k', nll: 90, nll4x: 89.8, tolerance: 0.5, converged: true })).toBe('converged: 4× importance samples moved it by 0.20 nats (< 0.5)');
  });
});
