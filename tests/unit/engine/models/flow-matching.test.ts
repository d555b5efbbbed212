// Flow matching: the ODE solvers' orders, the ODE mapping base draws to the data and back
// (the exact marginal velocity between two Gaussians carries N(0, I) onto N(μ, s²I); a
// trained field is inverted by integrating backwards), the change-of-variables
// log-density of that Gaussian flow against the closed form, Hutchinson's trace estimator
// unbiased against the exact divergence, the probes knob changing the work and the result,
// training lowering the loss, checkpoints, and the two views.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { createLab } from '../../../../src/engine/lab/lab';
import { basisProbes, drawProbes, FlowMatching, odeSolve, probedDivergence, type OdeSolver, type VelocityFn } from '../../../../src/engine/models/diffusion/flow-matching';
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
const col = (v: ArrayLike<number>, w: number, c: number) => Float64Array.from({ length: v.length / w }, (_, i) => v[i * w + c]);
const sdOf = (v: ArrayLike<number>) => {
  const m = meanOf(v);
  let s = 0;
  for (let i = 0; i < v.length; i++) s += (v[i] - m) ** 2;
  return Math.sqrt(s / (v.length - 1));
};

/** a flow-matching model built (not trained) on points of dimension D */
function pointsModel(D: number, cfg: ConstructorParameters<typeof FlowMatching>[0] = {}): FlowMatching {
  const m = new FlowMatching({ hidden: [16], ...cfg });
  m.build({ kind: 'points', shape: [D], binary: false }, mulberry32(1));
  return m;
}

/**
 * The marginal velocity of the straight (σ_min = 0) path from N(0, I) to N(μ, s²I):
 * v(x, t) = E[x_1 − x_0 | x_t = x] = μ + (t s² − (1 − t)) / σ_t² · (x − tμ), σ_t² = (1 − t)² + t² s².
 * Its flow is x(t) = tμ + σ_t x(0): at t = 1, μ + s x(0).
 */
function gaussianVelocity(mu: number[], s: number): VelocityFn {
  return (x, t) =>
    tf.tidy(() => {
      const tc = tf.reshape(t, [-1, 1]);
      const sig2 = tf.add(tf.square(tf.sub(1, tc)), tf.mul(tf.square(tc), s * s));
      const gain = tf.div(tf.sub(tf.mul(tc, s * s), tf.sub(1, tc)), sig2);
      const m = tf.tensor2d(mu, [1, mu.length]);
      return tf.add(m, tf.mul(gain, tf.sub(x, tf.mul(tc, m)))) as tf.Tensor2D;
    });
}

/** log N(x; μ, s²I) per row */
function gaussianLogDensity(x: Float32Array, D: number, mu: number[], s: number): Float64Array {
  const n = x.length / D;
  return Float64Array.from({ length: n }, (_, i) => {
    let q = 0;
    for (let d = 0; d < D; d++) q += ((x[i * D + d] - mu[d]) / s) ** 2;
    return -0.5 * q - D * Math.log(s) - 0.5 * D * Math.log(2 * Math.PI);
  });
}

describe('ODE solvers', () => {
  it('each fixed-step solver converges at its order on dx/dt = x cos t', async () => {
    // exact: x(1) = x(0) e^{sin 1}
    const f = ([x]: tf.Tensor[], t: number) => [tf.mul(x, Math.cos(t))];
    const exact = Math.exp(Math.sin(1));
    const errAt = async (solver: OdeSolver, steps: number) => {
      const [y] = odeSolve(f, [tf.scalar(1)], 0, 1, steps, solver);
      const v = (await y.data())[0];
      y.dispose();
      return Math.abs(v - exact);
    };
    // halving h divides the error by about 2^order (steps kept few enough for float32 to resolve RK4's error)
    for (const [solver, order, steps] of [['euler', 1, 16], ['midpoint', 2, 8], ['rk4', 4, 2]] as const) {
      const ratio = (await errAt(solver, steps)) / (await errAt(solver, 2 * steps));
      expect(Math.log2(ratio)).toBeGreaterThan(order - 0.5);
      expect(Math.log2(ratio)).toBeLessThan(order + 0.5);
    }
  });
});

describe('the ODE maps the base to the data and back', () => {
  it('the Gaussian marginal velocity carries N(0, I) draws to μ + s·x(0), i.e. onto N(μ, s²I), and back', async () => {
    const mu = [1.5, -0.5];
    const s = 0.4;
    const model = pointsModel(2, { solver: 'rk4', odeSteps: 20 });
    model.setVelocity(gaussianVelocity(mu, s));
    const x0 = model.noise(4000, 7);
    const x1 = model.integrate(x0, 0, 1);
    const back = model.integrate(x1, 1, 0);
    const [a, b, c] = (await Promise.all([x0.data(), x1.data(), back.data()])) as Float32Array[];
    tf.dispose([x0, x1, back]);
    let worst = 0;
    let worstBack = 0;
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(b[i] - (mu[i % 2] + s * a[i])));
      worstBack = Math.max(worstBack, Math.abs(c[i] - a[i]));
    }
    // point by point the closed-form map, within RK4's error at 20 steps
    expect(worst).toBeLessThan(1e-3);
    expect(worstBack).toBeLessThan(1e-3);
    // so the pushed-forward draws have the target's moments
    for (let d = 0; d < 2; d++) {
      expect(Math.abs(meanOf(col(b, 2, d)) - mu[d])).toBeLessThan(0.03);
      expect(Math.abs(sdOf(col(b, 2, d)) - s)).toBeLessThan(0.02);
    }
    // Euler at 20 steps is visibly worse than RK4 (first order), still close
    const e = model.integrate(tf.tensor2d(a.subarray(0, 200), [100, 2]), 0, 1, { solver: 'euler' });
    const ev = (await e.data()) as Float32Array;
    e.dispose();
    let worstEuler = 0;
    for (let i = 0; i < ev.length; i++) worstEuler = Math.max(worstEuler, Math.abs(ev[i] - (mu[i % 2] + s * a[i])));
    expect(worstEuler).toBeGreaterThan(10 * worst);
    expect(worstEuler).toBeLessThan(0.2);
    model.dispose();
  });

  it('a trained velocity field: forward then backward returns to the start within the solver tolerance, and samples land on the data', async () => {
    const { ctx } = collectingContext();
    const data = toy2d('8gaussians');
    const model = new FlowMatching({ hidden: [64, 64], odeSteps: 40 });
    await train(ctx, model, data, { steps: 300, batchSize: 256, lr: 3e-3, evalEvery: 300, sampleEvery: 10000, checkpointEvery: 10000, seed: 1 });
    const x0 = model.noise(500, 3);
    const x1 = model.integrate(x0, 0, 1);
    const back = model.integrate(x1, 1, 0);
    const [a, b, c] = (await Promise.all([x0.data(), x1.data(), back.data()])) as Float32Array[];
    tf.dispose([x0, x1, back]);
    let moved = 0;
    let err = 0;
    for (let i = 0; i < a.length; i++) {
      moved += Math.abs(b[i] - a[i]) / a.length;
      err = Math.max(err, Math.abs(c[i] - a[i]));
    }
    expect(moved).toBeGreaterThan(0.3); // the field is not trivial
    expect(err).toBeLessThan(1e-3);
    // the forward map's end points lie on the circle of radius 2 the modes sit on
    const radius = Float64Array.from({ length: 500 }, (_, i) => Math.hypot(b[2 * i], b[2 * i + 1]));
    expect(Math.abs(meanOf(radius) - 2)).toBeLessThan(0.25);
    model.dispose();
  }, 120_000);
});

describe('likelihood by the instantaneous change of variables', () => {
  it('the Gaussian flow gives the closed-form log N(x; μ, s²I), with the exact trace and with Hutchinson', async () => {
    const mu = [0.5, -1, 0.25];
    const s = 0.6;
    const D = 3;
    const model = pointsModel(D, { odeSteps: 20, probe: 'gaussian' });
    model.setVelocity(gaussianVelocity(mu, s));
    const x = tf.add(tf.mul(normal([50, D], 11), s), tf.tensor2d(mu, [1, D])) as tf.Tensor2D;
    const xv = (await x.data()) as Float32Array;
    const want = gaussianLogDensity(xv, D, mu, s);
    const exact = model.exactLogDensity(x);
    const probes = drawProbes('gaussian', 64 * 50, D, 5);
    const est = model.logDensity(x, probes);
    const [ev, hv] = (await Promise.all([exact.data(), est.data()])) as Float32Array[];
    tf.dispose([exact, est, probes]);
    for (let i = 0; i < 50; i++) expect(Math.abs(ev[i] - want[i])).toBeLessThan(1e-3);
    // Gaussian probes have spread; their mean over 64 probes matches the closed form on average
    const hutch = Float64Array.from({ length: 50 }, (_, i) => meanOf(Float64Array.from({ length: 64 }, (_, p) => hv[p * 50 + i])));
    expect(Math.abs(meanOf(hutch) - meanOf(want))).toBeLessThan(0.05);
    // testNll reports the estimate as such, with the exact trace and its solver check beside it
    const r = await model.testNll(x, 1, undefined, { probes: 8 });
    expect(r.kind).toBe('estimate');
    expect(Math.abs(meanOf(r.nll) + meanOf(want))).toBeLessThan(0.1);
    expect(Math.abs(r.details!.exactTraceNll + meanOf(want))).toBeLessThan(1e-3);
    expect(Math.abs(r.details!.exactTraceNll2xSteps - r.details!.exactTraceNll)).toBeLessThan(1e-3);
    expect(r.stderr).toBeGreaterThan(0);
    x.dispose();
    model.dispose();
  });

  it("Hutchinson's estimate is unbiased: its mean over many probes matches the exact divergence", async () => {
    // v(x) = tanh(x A): ∇·v = Σ_j (1 − v_j²) A_jj, nonlinear with off-diagonal Jacobian entries
    const D = 4;
    const m = 6;
    const rng = mulberry32(3);
    const A = Float32Array.from({ length: D * D }, () => rng.normal());
    const At = tf.tensor2d(A, [D, D]);
    const v: VelocityFn = (x) => tf.tanh(tf.matMul(x, At)) as tf.Tensor2D;
    const x = normal([m, D], 9) as tf.Tensor2D;
    const vx = (await tf.tidy(() => v(x, tf.zeros([m]) as tf.Tensor1D)).data()) as Float32Array;
    const closed = Float64Array.from({ length: m }, (_, i) => {
      let s = 0;
      for (let j = 0; j < D; j++) s += (1 - vx[i * D + j] ** 2) * A[j * D + j];
      return s;
    });
    const basis = basisProbes(m, D);
    const ex = probedDivergence(v, x, 0, basis);
    const exv = (await ex.data()) as Float32Array;
    for (let i = 0; i < m; i++) {
      let s = 0;
      for (let d = 0; d < D; d++) s += exv[d * m + i];
      expect(s).toBeCloseTo(closed[i], 4);
    }
    const K = 4000;
    for (const kind of ['rademacher', 'gaussian'] as const) {
      const probes = drawProbes(kind, K * m, D, kind === 'gaussian' ? 21 : 22);
      const est = probedDivergence(v, x, 0, probes);
      const ev = (await est.data()) as Float32Array;
      tf.dispose([probes, est]);
      for (let i = 0; i < m; i++) {
        const row = Float64Array.from({ length: K }, (_, k) => ev[k * m + i]);
        const se = sdOf(row) / Math.sqrt(K);
        expect(sdOf(row)).toBeGreaterThan(0.05); // a real spread: not the trace in disguise
        expect(Math.abs(meanOf(row) - closed[i])).toBeLessThan(4 * se);
      }
    }
    tf.dispose([At, x, basis, ex]);
  });

  it('opts.probes changes the work and the result, and the 4× estimate comes in convergence', async () => {
    const model = pointsModel(2, { odeSteps: 4, solver: 'euler' });
    const rng = mulberry32(4);
    const A = Float32Array.from({ length: 4 }, () => rng.normal());
    const At = tf.tensor2d(A, [2, 2]);
    let rows = 0;
    model.setVelocity((x, t) => {
      rows += x.shape[0];
      return tf.tidy(() => tf.mul(tf.tanh(tf.matMul(x, At)), tf.reshape(tf.add(t, 1), [-1, 1])));
    });
    const x = normal([40, 2], 2) as tf.Tensor2D;
    const count = async (opts: { probes?: number; convergence?: boolean }) => {
      rows = 0;
      const r = await model.testNll(x, 5, undefined, opts);
      return { r, rows };
    };
    const a = await count({ probes: 2, convergence: false });
    const b = await count({ probes: 8, convergence: false });
    const c = await count({});
    expect(a.r.details!.probes).toBe(2);
    expect(b.r.details!.probes).toBe(8);
    expect(c.r.details!.probes).toBe(4); // the model's default
    expect(a.r.convergence).toBeUndefined();
    // the exact-trace passes are the same in both; the probed pass grows with the probes
    expect(b.rows).toBeGreaterThan(a.rows);
    expect(meanOf(a.r.nll)).not.toBe(meanOf(b.r.nll));
    // with convergence: 4× the probes run too
    expect(c.r.convergence?.knob).toBe('probes');
    expect(c.r.convergence?.at).toBe(4);
    expect(c.r.convergence?.at4x).toBe(16);
    expect(c.r.convergence?.nll).toBeCloseTo(meanOf(c.r.nll), 4);
    expect(Math.abs(c.r.convergence!.nll4x - c.r.convergence!.nll)).toBeLessThan(0.2);
    await expect(model.testNll(x, 5, undefined, { probes: 0 })).rejects.toThrow(/probes/);
    tf.dispose([x, At]);
    model.dispose();
  });
});

describe('training', () => {
  it('lowers the flow-matching loss, is seeded, and checkpoints round-trip', async () => {
    const data = toy2d('moons', { n: 2000 });
    const valX = tf.tensor2d(data.val.x, [data.val.n, 2]);
    // untrained, v = 0 (the zero-initialized output layer): the loss is E‖x_1 − x_0‖²/D
    const untrained = pointsModel(2, { hidden: [32, 32] });
    const before = await untrained.validationLoss(valX, 1);
    untrained.dispose();
    const runOnce = async () => {
      const { ctx } = collectingContext();
      const model = new FlowMatching({ hidden: [32, 32] });
      await train(ctx, model, data, { steps: 150, batchSize: 128, lr: 3e-3, evalEvery: 1000, sampleEvery: 10000, checkpointEvery: 10000, seed: 2 });
      const after = await model.validationLoss(valX, 1);
      return { model, after };
    };
    const one = await runOnce();
    expect(before).toBeGreaterThan(0.5);
    expect(one.after).toBeLessThan(0.8 * before);
    const two = await runOnce();
    expect(two.after).toBe(one.after);
    // checkpoints: another model with the weights samples the same points
    const fresh = new FlowMatching({ hidden: [32, 32] });
    fresh.build({ kind: 'points', shape: [2], binary: false }, mulberry32(99));
    fresh.setWeights(one.model.getWeights());
    const n1 = one.model.noise(20, 1);
    const s1 = one.model.sample(20, n1);
    const s2 = fresh.sample(20, n1);
    expect(Array.from(await s2.data())).toEqual(Array.from(await s1.data()));
    const ev = await one.model.evaluate(valX, 3);
    expect(ev['val/loss'].kind).toBe('loss');
    expect(ev['val/mmd'].kind).toBe('sample');
    tf.dispose([n1, s1, s2, valX]);
    for (const m of [one.model, two.model, fresh]) m.dispose();
  }, 120_000);

  it('on images: samples in [0, 1]; the NLL is on the 8-bit dequantized scale', async () => {
    const { lab } = recordingLab();
    const data = lab.data.mnist({ binarize: false, limit: 100 });
    const model = lab.models.flowMatching({ net: 'mlp', hidden: [16], odeSteps: 2, solver: 'euler' }) as unknown as FlowMatching;
    await lab.train(model, data, { steps: 2, batchSize: 16, sampleEvery: 1000, checkpointEvery: 1000 });
    const x = model.sample(2, undefined, 1);
    const v = await x.data();
    x.dispose();
    expect(Math.min(...v)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...v)).toBeLessThanOrEqual(1);
    // with v = 0 (the zero-initialized output layer) the density is N(0, I) on [−1, 1] pixels: known in closed form
    model.setVelocity((y) => tf.mul(y, 0) as tf.Tensor2D);
    const xs = tf.tensor2d(data.test.x.subarray(0, 3 * 784), [3, 784]);
    const r = await model.testNll(xs, 1, undefined, { probes: 1, convergence: false });
    expect(r.kind).toBe('estimate');
    expect(r.details!.exactTraceNll).toBeUndefined(); // D = 784: no exact trace
    // nll = Σ ½(y² + log 2π) − D log 2 + D log 256 with y = 2u − 1, u within 1/256 of the pixel
    const px = data.test.x.subarray(0, 784);
    let lo = 0;
    let hi = 0;
    for (const p of px) {
      const k = Math.round(p * 255);
      const ya = (2 * k) / 256 - 1;
      const yb = (2 * (k + 1)) / 256 - 1;
      const [a, b] = [0.5 * ya * ya, 0.5 * yb * yb].sort((m, n) => m - n);
      lo += (ya < 0 && yb > 0 ? 0 : a) + 0.5 * Math.log(2 * Math.PI) + Math.log(128);
      hi += b + 0.5 * Math.log(2 * Math.PI) + Math.log(128);
    }
    expect(r.nll[0]).toBeGreaterThan(lo - 1e-2);
    expect(r.nll[0]).toBeLessThan(hi + 1e-2);
    xs.dispose();
    model.dispose();
  }, 60_000);

  it('refuses bad options with the option named', () => {
    const lab = createLab(collectingContext().ctx);
    expect(() => lab.models.flowMatching({ solver: 'dopri5' as never })).toThrow(/solver/);
    expect(() => lab.models.flowMatching({ odeSteps: 0 })).toThrow(/odeSteps/);
    expect(() => lab.models.flowMatching({ probes: 0 })).toThrow(/probes/);
    expect(() => lab.models.flowMatching({ sigmaMin: 1 })).toThrow(/sigmaMin/);
    expect(() => lab.models.flowMatching({ probe: 'uniform' as never })).toThrow(/probe/);
  });
});

describe('views', () => {
  it('odeTrajectories draws the paths with their straightness; velocityField draws arrows at each t', async () => {
    const { lab, outputs } = recordingLab();
    const data = lab.data.toy2d('8gaussians', { n: 1000 });
    const model = lab.models.flowMatching({ hidden: [16], odeSteps: 5 }) as unknown as FlowMatching;
    await lab.train(model, data, { steps: 3, batchSize: 64, sampleEvery: 1000, checkpointEvery: 1000 });
    // a known field: a constant velocity moves every point along a straight line
    model.setVelocity((x) => tf.add(tf.mul(x, 0), tf.tensor2d([[1, 0.5]])) as tf.Tensor2D);
    outputs.length = 0;
    const tr = await lab.views.odeTrajectories(model, { data, n: 50 });
    expect(tr.t).toHaveLength(6);
    expect(tr.t[0]).toBe(0);
    expect(tr.t[5]).toBe(1);
    expect(tr.straightness).toBeGreaterThan(0.999);
    expect(tr.mmd).toBeGreaterThan(0);
    // a rotation, v = (−y, x), moves them on arcs of a quarter radian: chord / arc = 2 sin(1/2)
    model.setVelocity((x) => tf.tidy(() => tf.concat([tf.neg(tf.slice(x, [0, 1], [-1, 1])), tf.slice(x, [0, 0], [-1, 1])], 1)) as tf.Tensor2D);
    const bent = await lab.views.odeTrajectories(model, { n: 50 });
    expect(bent.straightness).toBeCloseTo(2 * Math.sin(0.5), 2);
    const vf = await lab.views.velocityField(model, { t: [0, 1], data, grid: 6 });
    expect(vf.t).toEqual([0, 1]);
    expect(vf.meanSpeed).toHaveLength(2);
    expect(outputs.filter((o) => o.type === 'plot')).toHaveLength(3);
    await expect(lab.views.odeTrajectories(lab.models.gan(), {})).rejects.toThrow(/train|flowMatching/);
    model.dispose();
  }, 60_000);
});
