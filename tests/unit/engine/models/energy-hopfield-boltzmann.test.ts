// Hopfield networks and small Boltzmann machines. Hopfield: recall from corrupted
// patterns, energy descent on every single update, capacity running out with the
// load, and the recall view counting what the network recalls. Boltzmann: log Z, p(v)
// and the gradient against brute force written here, independently of the model;
// training by the real trainer towards the entropy of bars and stripes; Gibbs
// sampling checked transition by transition.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { barsAndStripes, barsAndStripesPatterns } from '../../../../src/engine/data/bars';
import { Boltzmann } from '../../../../src/engine/models/energy/boltzmann';
import { capacity, corrupt, Hopfield, overlap } from '../../../../src/engine/models/energy/hopfield';
import type { StepContext } from '../../../../src/engine/models/types';
import { readMetrics, train } from '../../../../src/engine/train/trainer';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';
import { glyphs } from '../../../../src/engine/data/glyphs';
import { recordingLab } from '../../../helpers/recording-lab';

beforeAll(async () => {
  await selectBackend('wasm');
});

/** random 0/1 patterns, drawn here (not with the module's helpers) */
function bitPatterns(count: number, N: number, seed: number): Float32Array[] {
  const rng = mulberry32(seed);
  return Array.from({ length: count }, () => Float32Array.from({ length: N }, () => (rng.next() < 0.5 ? 1 : 0)));
}

const spin = (v: number) => (v > 0.5 ? 1 : -1);

/** E(s) = -1/2 s^T W s with W = (1/N) sum xi xi^T, zero diagonal, all computed here */
function hebbEnergy(patterns: Float32Array[], N: number): (state: Float32Array) => number {
  const W = new Float64Array(N * N);
  for (const p of patterns) for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (i !== j) W[i * N + j] += (spin(p[i]) * spin(p[j])) / N;
  return (state) => {
    let e = 0;
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) e += spin(state[i]) * W[i * N + j] * spin(state[j]);
    return -0.5 * e;
  };
}

describe('Hopfield network', () => {
  it('stores 5 random 100-unit patterns (Hebbian, accumulating) and recalls each exactly from 10% flipped bits', () => {
    const N = 100;
    for (const seed of [1, 2, 3, 4]) {
      const pats = bitPatterns(5, N, seed);
      const net = new Hopfield({ units: N });
      net.store(pats.slice(0, 2)).store(pats.slice(2)); // two calls accumulate
      expect(net.patterns).toBe(5);
      // the weights are (1/N) sum xi xi^T with a zero diagonal
      const W = net.weights();
      for (let i = 0; i < N; i++) expect(W[i * N + i]).toBe(0);
      const rng = mulberry32(seed + 100);
      for (let k = 0; k < 50; k++) {
        const i = rng.int(N);
        const j = rng.int(N);
        const want = i === j ? 0 : pats.reduce((s, p) => s + spin(p[i]) * spin(p[j]), 0) / N;
        expect(W[i * N + j]).toBeCloseTo(want, 12);
      }
      pats.forEach((p, k) => {
        const probe = corrupt(p, 0.1, seed * 10 + k);
        expect(probe.reduce((s, v, i) => s + (v !== p[i] ? 1 : 0), 0)).toBe(10); // exactly 10 bits flipped
        expect(probe.every((v) => v === 0 || v === 1)).toBe(true); // 0/1 in, 0/1 out
        const res = net.recall(probe, { seed: seed + k });
        expect(res.converged).toBe(true);
        expect(Array.from(res.frames[res.frames.length - 1])).toEqual(Array.from(p));
        expect(Array.from(res.state)).toEqual(Array.from(p, spin));
        expect(overlap(res.state, p)).toBe(1);
        expect(overlap(probe, p)).toBeCloseTo(0.8, 12); // 10 of 100 bits wrong: m = 1 - 2 * 0.1
      });
    }
    // the same network in ±1: patterns given as ±1 give the same weights
    const pats = bitPatterns(3, 20, 9);
    const a = new Hopfield({ units: 20 }).store(pats).weights();
    const b = new Hopfield({ units: 20 }).store(pats.map((p) => p.map(spin))).weights();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('asynchronous recall never raises the energy, on any single update', () => {
    const N = 100;
    for (const seed of [11, 12, 13]) {
      const pats = bitPatterns(12, N, seed); // a heavy load: long descents, spurious minima
      const net = new Hopfield({ units: N }).store(pats);
      const E = hebbEnergy(pats, N);
      // a random start, far from every pattern
      const start = bitPatterns(1, N, seed + 50)[0];
      const res = net.recall(start, { seed, every: 1 });
      expect(res.converged).toBe(true);
      expect(res.frames.length).toBe(res.sweeps * N + 1); // a frame after every single-unit update
      let drops = 0;
      for (let t = 1; t < res.frames.length; t++) {
        const changed = res.frames[t].reduce((s, v, i) => s + (v !== res.frames[t - 1][i] ? 1 : 0), 0);
        expect(changed).toBeLessThanOrEqual(1); // one unit at a time
        const e0 = E(res.frames[t - 1]);
        const e1 = E(res.frames[t]);
        expect(e1, `update ${t}`).toBeLessThanOrEqual(e0 + 1e-9);
        if (e1 < e0 - 1e-9) drops++;
        expect(res.energies[t]).toBeCloseTo(e1, 9);
        expect(net.energy(res.frames[t])).toBeCloseTo(e1, 9);
      }
      expect(drops).toBe(res.flips); // every flip lowers the energy
      expect(res.flips).toBeGreaterThan(10);
    }
  });

  it('capacity: recall is reliable at 0.05 N stored patterns and fails at 0.3 N (N = 100)', () => {
    const res = capacity({ units: 100, counts: [5, 30], flip: 0.1, trials: 4, seed: 7 });
    expect(res.load).toEqual([0.05, 0.3]);
    expect(res.recalled[0]).toBeGreaterThanOrEqual(0.95);
    expect(res.recalled[1]).toBeLessThanOrEqual(0.2);
    expect(res.overlap[0]).toBeGreaterThan(res.overlap[1]);
  });
});

// ---- Boltzmann machines: brute force, written here ----

/** a random symmetric coupling matrix with a zero diagonal, and biases */
function randomParams(K: number, seed: number, scale: number): { U: Float32Array; b: Float32Array } {
  const rng = mulberry32(seed);
  const U = new Float32Array(K * K);
  for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) U[i * K + j] = U[j * K + i] = scale * (2 * rng.next() - 1);
  const b = Float32Array.from({ length: K }, () => scale * (2 * rng.next() - 1));
  return { U, b };
}

function buildModel(D: number, H: number, seed: number, scale: number): { model: Boltzmann; U: Float32Array; b: Float32Array } {
  const model = new Boltzmann({ hidden: H });
  model.build({ kind: 'points', shape: [D], binary: true }, mulberry32(seed));
  const { U, b } = randomParams(D + H, seed + 1, scale);
  model.setWeights([
    { name: 'boltzmann/U', tensor: tf.tensor2d(U, [D + H, D + H]) },
    { name: 'boltzmann/b', tensor: tf.tensor1d(b) },
  ]);
  return { model, U, b };
}

/** bit i of state index s is unit i (visible units first) */
const bit = (s: number, i: number) => (s >> i) & 1;

/** -E(x) = sum_{i<j} U_ij x_i x_j + sum_i b_i x_i */
function negEnergy(s: number, U: Float32Array, b: Float32Array, K: number): number {
  let e = 0;
  for (let i = 0; i < K; i++) {
    if (!bit(s, i)) continue;
    e += b[i];
    for (let j = i + 1; j < K; j++) if (bit(s, j)) e += U[i * K + j];
  }
  return e;
}

/** the joint P(x) over all 2^K states and log Z, by brute force */
function bruteJoint(U: Float32Array, b: Float32Array, K: number): { P: Float64Array; logZ: number } {
  const w = new Float64Array(1 << K);
  let Z = 0;
  for (let s = 0; s < 1 << K; s++) Z += w[s] = Math.exp(negEnergy(s, U, b, K));
  return { P: w.map((v) => v / Z), logZ: Math.log(Z) };
}

describe('Boltzmann machine: exact by enumeration', () => {
  it('log Z and p(v) equal brute force, with and without hidden units; p sums to 1; samples follow p', async () => {
    for (const [D, H] of [[6, 0], [5, 3], [3, 5]]) {
      const K = D + H;
      const { model, U, b } = buildModel(D, H, 10 * D + H, 1.5);
      const { P, logZ } = bruteJoint(U, b, K);
      expect(Math.abs((await model.logPartition()) - logZ), `log Z, ${D}+${H}`).toBeLessThan(1e-4);
      // marginal p(v) = sum_h P(v, h)
      const pv = new Float64Array(1 << D);
      for (let s = 0; s < 1 << K; s++) pv[s & ((1 << D) - 1)] += P[s];
      const got = await model.probabilities();
      expect(got.length).toBe(1 << D);
      expect(Math.abs(got.reduce((a, c) => a + c, 0) - 1)).toBeLessThan(1e-9);
      got.forEach((p, v) => expect(Math.abs(p - pv[v]), `p(v=${v})`).toBeLessThan(1e-5 + 1e-4 * pv[v]));
      // per-example exact NLL
      const rows = [0, 3, (1 << D) - 1, 5 % (1 << D)];
      const x = tf.tensor2d(rows.flatMap((v) => Array.from({ length: D }, (_, i) => bit(v, i))), [rows.length, D]);
      const t = await model.testNll(x, 0);
      expect(t.kind).toBe('exact');
      rows.forEach((v, r) => expect(Math.abs(t.nll[r] + Math.log(pv[v]))).toBeLessThan(1e-4));
      // exact sampling: the histogram of 20000 draws follows p(v)
      const n = 20000;
      const smp = model.sample(n, undefined, 3);
      const sv = await smp.data();
      const hist = new Float64Array(1 << D);
      for (let r = 0; r < n; r++) {
        let k = 0;
        for (let i = 0; i < D; i++) if (sv[r * D + i] === 1) k |= 1 << i;
        hist[k] += 1 / n;
      }
      hist.forEach((h, v) => expect(Math.abs(h - pv[v]), `sample freq of v=${v}`).toBeLessThan(5 * Math.sqrt(pv[v] / n) + 2e-3));
      tf.dispose([x, smp]);
      model.dispose();
    }
    // more than 20 units is refused with the limit named
    expect(() => new Boltzmann({ hidden: 5 }).build({ kind: 'image', shape: [4, 4], binary: true }, mulberry32(1))).toThrow(/21 units exceed the limit of 20/);
    expect(() => new Boltzmann().build({ kind: 'image', shape: [4, 4], binary: false }, mulberry32(1))).toThrow('binary data');
  });

  it('the autodiff gradient of the mean NLL is the positive minus negative phase statistics', async () => {
    const D = 4;
    const H = 2;
    const K = D + H;
    const { model, U, b } = buildModel(D, H, 77, 1);
    const { P } = bruteJoint(U, b, K);
    // a batch of 12 data rows
    const rng = mulberry32(5);
    const rows = Array.from({ length: 12 }, () => rng.int(1 << D));
    const x = tf.tensor2d(rows.flatMap((v) => Array.from({ length: D }, (_, i) => bit(v, i))), [rows.length, D]);
    // <x_i x_j>_model over P(x); <x_i x_j>_data with v clamped to each row and h ~ p(h | v)
    const model2 = new Float64Array(K * K);
    for (let s = 0; s < 1 << K; s++) for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) model2[i * K + j] += P[s] * bit(s, i) * bit(s, j);
    const data2 = new Float64Array(K * K);
    let nll = 0;
    let pvSum = 0;
    for (const v of rows) {
      let pv = 0;
      for (let h = 0; h < 1 << H; h++) pv += P[v | (h << D)];
      pvSum += pv;
      nll -= Math.log(pv) / rows.length;
      for (let h = 0; h < 1 << H; h++) {
        const s = v | (h << D);
        const w = P[s] / pv / rows.length;
        for (let i = 0; i < K; i++) for (let j = 0; j < K; j++) data2[i * K + j] += w * bit(s, i) * bit(s, j);
      }
    }
    expect(pvSum).toBeGreaterThan(0);
    // the model's own training step, with a context that records the gradient
    let grads: tf.NamedTensorMap = {};
    let names: string[] = [];
    const ctx: StepContext = {
      minimize(group, loss, vars) {
        expect(group).toBe('boltzmann');
        names = vars.map((v) => v.name);
        const { value, grads: g } = tf.variableGrads(loss, vars);
        grads = g;
        return value;
      },
      seed: () => 1,
    };
    const m = await readMetrics(await model.trainStep(x, 1, ctx));
    expect(Math.abs(m['train/loss'] - nll)).toBeLessThan(1e-4);
    const [uName, bName] = names;
    const gU = await grads[uName].data();
    const gb = await grads[bName].data();
    for (let i = 0; i < K; i++) {
      // d NLL / d b_i = <x_i>_model - <x_i>_data
      expect(Math.abs(gb[i] - (model2[i * K + i] - data2[i * K + i])), `b_${i}`).toBeLessThan(1e-4);
      for (let j = 0; j < K; j++) {
        // U_ij and U_ji share the pair's coupling: each gets half of <x_i x_j>_model - <x_i x_j>_data
        const want = i === j ? 0 : 0.5 * (model2[i * K + j] - data2[i * K + j]);
        expect(Math.abs(gU[i * K + j] - want), `U_${i}${j}`).toBeLessThan(1e-4);
      }
    }
    // the statistics differ: the check is not vacuous
    expect(Math.max(...Array.from(gU, Math.abs))).toBeGreaterThan(0.01);
    tf.dispose([x, ...Object.values(grads)]);
    model.dispose();
  });
});

describe('Boltzmann machine: Gibbs sampling', () => {
  it('one sweep moves states by the exact transition kernel, and that kernel leaves P invariant', async () => {
    const D = 3;
    const H = 1;
    const K = D + H;
    const S = 1 << K;
    const { model, U, b } = buildModel(D, H, 31, 1.5);
    const { P } = bruteJoint(U, b, K);
    // the model's p(v) is the visible marginal of this P
    const pv = await model.probabilities();
    for (let v = 0; v < 1 << D; v++) expect(Math.abs(pv[v] - (P[v] + P[v | (1 << D)]))).toBeLessThan(1e-5);
    // one sweep, units 0..K-1 in turn, each drawn from p(x_i = 1 | rest) = s(b_i + sum_j U_ij x_j)
    let T = Array.from({ length: S }, (_, s) => Float64Array.from({ length: S }, (_, t) => (s === t ? 1 : 0)));
    for (let i = 0; i < K; i++) {
      const Ti = Array.from({ length: S }, (_, s) => {
        let a = b[i];
        for (let j = 0; j < K; j++) if (j !== i && bit(s, j)) a += U[i * K + j];
        const p1 = 1 / (1 + Math.exp(-a));
        const row = new Float64Array(S);
        row[s | (1 << i)] += p1;
        row[s & ~(1 << i)] += 1 - p1;
        return row;
      });
      T = T.map((row) => {
        const out = new Float64Array(S);
        row.forEach((w, m) => Ti[m].forEach((q, t) => (out[t] += w * q)));
        return out;
      });
    }
    // P T = P, exactly (up to rounding)
    for (let t = 0; t < S; t++) {
      const pt = P.reduce((acc, p, s) => acc + p * T[s][t], 0);
      expect(Math.abs(pt - P[t])).toBeLessThan(1e-12);
    }
    // the sampler's one-sweep transitions from every start state follow T
    const n = 4000;
    let worst = 0;
    for (let s = 0; s < S; s++) {
      const init = Array.from({ length: D }, (_, i) => bit(s, i));
      const initHidden = Array.from({ length: H }, (_, i) => bit(s, D + i));
      const res = await model.gibbs({ n, steps: 1, seed: 100 + s, init, initHidden });
      expect(res.frames.length).toBe(2);
      const freq = new Float64Array(S);
      for (let r = 0; r < n; r++) {
        let t = 0;
        for (let i = 0; i < D; i++) if (res.visible[r * D + i] === 1) t |= 1 << i;
        for (let i = 0; i < H; i++) if (res.hidden[r * H + i] === 1) t |= 1 << (D + i);
        freq[t] += 1 / n;
      }
      for (let t = 0; t < S; t++) {
        const q = T[s][t];
        const z = Math.abs(freq[t] - q) / Math.sqrt(Math.max(q * (1 - q), 1e-6) / n);
        worst = Math.max(worst, z);
        expect(Math.abs(freq[t] - q), `T[${s}][${t}]`).toBeLessThan(5 * Math.sqrt(q * (1 - q) / n) + 1e-3);
      }
    }
    expect(worst).toBeLessThan(5);
    model.dispose();
  });

  it('clamped units never change, and the free units then sample p(free | clamped)', async () => {
    const D = 6;
    const H = 2;
    const { model } = buildModel(D, H, 57, 1.2);
    const clamp = [1, 0, 1, 0, 0, 1];
    const rng = mulberry32(3);
    const n = 3000;
    // every chain starts anywhere, with units 0, 2, 5 held at 1, 0, 1
    const init = Array.from({ length: n }, () => Array.from({ length: D }, (_, i) => (i === 0 || i === 5 ? 1 : i === 2 ? 0 : rng.int(2))));
    const res = await model.gibbs({ n, steps: 30, seed: 9, init, clamp, every: 1 });
    expect(res.frames.length).toBe(31);
    let moved = 0;
    for (const f of res.frames) for (let r = 0; r < n; r++) for (const i of [0, 2, 5]) if (f[r * D + i] !== init[r][i]) moved++;
    expect(moved).toBe(0);
    // the free units' end states against the exact conditional from p(v)
    const pv = await model.probabilities();
    const fixed = (v: number) => bit(v, 0) === 1 && bit(v, 2) === 0 && bit(v, 5) === 1;
    let mass = 0;
    pv.forEach((p, v) => fixed(v) && (mass += p));
    const freq = new Float64Array(1 << D);
    for (let r = 0; r < n; r++) {
      let v = 0;
      for (let i = 0; i < D; i++) if (res.visible[r * D + i] === 1) v |= 1 << i;
      freq[v] += 1 / n;
    }
    pv.forEach((p, v) => {
      const q = fixed(v) ? p / mass : 0;
      expect(Math.abs(freq[v] - q), `v=${v}`).toBeLessThan(5 * Math.sqrt(q * (1 - q) / n) + 2e-3);
    });
    // without a clamp the same chains move those units
    const free = await model.gibbs({ n: 200, steps: 5, seed: 9, init: init.slice(0, 200) });
    expect(free.visible.some((v, k) => k % D === 2 && v === 1)).toBe(true);
    await expect(model.gibbs({ clamp })).rejects.toThrow('clamp needs init');
    model.dispose();
  });
});

describe('Boltzmann machine on bars and stripes 3x3', () => {
  it('trained by lab.train, its exact NLL falls to within 0.03 nats of the data entropy log 14', async () => {
    const data = barsAndStripes({ size: 3 });
    const entropy = Math.log(14);
    expect(data.settings.entropy).toBeCloseTo(entropy, 12);
    const { ctx, messages } = collectingContext();
    const model = new Boltzmann({ hidden: 4 });
    // full batches: the train split holds every pattern equally often, so each step follows the exact gradient
    const run = await train(ctx, model, data, { steps: 400, batchSize: data.train.n, lr: 0.1, evalEvery: 50, sampleEvery: 400, checkpointEvery: 1000, seed: 1 });
    const val = run.history('val/nll').values;
    // an untrained model is near uniform over 2^9 images: 9 log 2 nats
    expect(Math.abs(val[0] - 9 * Math.LN2)).toBeLessThan(0.1);
    const last = val[val.length - 1];
    // the validation split is the data distribution itself: its NLL is entropy + KL >= entropy
    expect(last).toBeGreaterThan(entropy - 1e-4);
    expect(last).toBeLessThan(entropy + 0.03);
    expect(run.metrics['val/bits_per_dim']).toBeCloseTo(last / (9 * Math.LN2), 6);
    const start = messages.find((m) => m.type === 'run.start');
    expect(start && start.type === 'run.start' && (start.run.config.metricKinds as Record<string, string>)['val/nll']).toBe('exact');
    // nearly all of p(v) sits on the 14 patterns, about 1/14 each
    const p = await model.probabilities();
    const pats = barsAndStripesPatterns(3).map((x) => x.reduce((k, v, i) => k | (v << i), 0));
    const onData = pats.reduce((s, k) => s + p[k], 0);
    expect(onData).toBeGreaterThan(0.97);
    for (const k of pats) expect(Math.abs(p[k] - 1 / 14)).toBeLessThan(0.02);
    // exact test NLL agrees with the validation number (same distribution)
    const xt = tf.tensor2d(data.test.x, [data.test.n, 9]);
    const t = await model.testNll(xt, 0);
    expect(t.kind).toBe('exact');
    expect(Math.abs(t.nll.reduce((a, c) => a + c, 0) / t.nll.length - last)).toBeLessThan(1e-4);
    // exact samples are bars and stripes
    const smp = model.sample(500, undefined, 4);
    const sv = await smp.data();
    let valid = 0;
    for (let r = 0; r < 500; r++) {
      let k = 0;
      for (let i = 0; i < 9; i++) k |= sv[r * 9 + i] << i;
      if (pats.includes(k)) valid++;
    }
    expect(valid / 500).toBeGreaterThan(0.93);
    tf.dispose([xt, smp]);
    model.dispose();
  }, 60_000);
});

describe('hopfield views', () => {
  it('recall counts exactly the recalled patterns; letters come from the font', async () => {
    const { lab: rl, outputs } = recordingLab();
    const net = rl.models.hopfield({ units: 100 });
    const pats = rl.models.hopfield.randomPatterns(5, 100, 3);
    net.store(pats);
    const r = await rl.views.recall(net, pats, { flip: 0.1, seed: 2, shape: [10, 10] });
    expect(r).toMatchObject({ recalled: 5, of: 5 });
    // correlated patterns (letters on a common background) overload a network far below 0.138 N
    const g = glyphs('HOPFD', { scale: 2 });
    expect(g.shape).toEqual([18, 14]);
    expect(g.x.length).toBe(5 * 18 * 14);
    const five = rl.models.hopfield({ units: 252 });
    const letters = Array.from({ length: 5 }, (_, i) => g.x.slice(i * 252, (i + 1) * 252));
    five.store(letters);
    expect((await rl.views.recall(five, letters, { flip: 0.2, seed: 1, shape: g.shape })).recalled).toBeLessThan(5);
    const cap = await rl.views.capacity({ units: 100, counts: [5, 40], trials: 2, seed: 1 });
    expect(cap.recalled[0]).toBeGreaterThan(0.9);
    expect(cap.recalled[1]).toBeLessThan(0.2);
    expect(outputs.filter((o) => o.type === 'image')).toHaveLength(2);
    expect(outputs.filter((o) => o.type === 'plot')).toHaveLength(1);
  }, 30_000);
});
