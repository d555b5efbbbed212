// Categorical sequence families (WaveNet on mu-law audio, the character model on
// text): causality, normalization, the chain rule through the sampler's sliding
// window, and learning on the real datasets.
import type { LikelihoodEvaluation } from '../../../../src/engine/eval/evaluate';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import { CharLm } from '../../../../src/engine/models/autoregressive/charlm';
import type { CategoricalSequence } from '../../../../src/engine/models/autoregressive/sequence';
import { Wavenet } from '../../../../src/engine/models/autoregressive/wavenet';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm');
});

function randomize(model: CategoricalSequence, seed: number): void {
  const rng = mulberry32(seed);
  for (const { tensor } of model.getWeights()) {
    const v = new Float32Array(tensor.size).map(() => 2 * (rng.next() - 0.5));
    (tensor as tf.Variable).assign(tf.tensor(v, tensor.shape));
  }
}

const families: [string, () => CategoricalSequence][] = [
  // context 2 + 3 = 5 < T: the sampler's window slides, and the chain-rule check covers it
  ['wavenet', () => new Wavenet({ channels: 4, skipChannels: 5, layers: 2, stacks: 1 })],
  ['wavenet, two stacks', () => new Wavenet({ channels: 3, skipChannels: 8, layers: 2, stacks: 2 })],
  ['charlm attention', () => new CharLm({ dim: 8, layers: 2, heads: 2 })],
  ['charlm gru', () => new CharLm({ kind: 'gru', dim: 6 })],
];

describe.each(families)('%s', (name, make) => {
  const build = (T: number, K: number) => {
    const m = make();
    m.build({ kind: 'sequence', shape: [T], binary: false, levels: K }, mulberry32(5));
    randomize(m, 11);
    return m;
  };

  it('output t depends on no input at or after t (exact zero gradients) and on the one before it', () => {
    const T = 10;
    const K = 4;
    const m = build(T, K);
    const rng = mulberry32(3);
    // 4 rows off the one-hot corners: a relu closed at one position for every row would hide a dependence
    const inp = tf.tensor3d(Float32Array.from({ length: 4 * T * K }, () => rng.next()), [4, T, K]);
    for (let i = 0; i < T; i++) {
      const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(m.logitsFromOneHot(x as tf.Tensor3D), [0, i, 0], [-1, 1, -1])))(inp);
      const gv = g.arraySync() as number[][][];
      for (let j = 0; j < T; j++) {
        const touched = gv.some((row) => row[j].some((v) => v !== 0));
        if (j >= i) expect(touched, `output ${i} must not see input ${j}`).toBe(false);
        if (j === i - 1) expect(touched, `output ${i} must see input ${j}`).toBe(true);
        if (j < i - m.context()) expect(touched, `output ${i} is past its receptive field at ${j}`).toBe(false);
      }
      g.dispose();
    }
    inp.dispose();
    m.dispose();
  });

  it('gives all K^T sequences probabilities that sum to 1, and the parallel log p equals the chain rule through the sampler', async () => {
    const T = name.startsWith('wavenet') ? 8 : 4;
    const K = name.startsWith('wavenet') ? 2 : 3;
    const m = build(T, K);
    const count = K ** T;
    const all = new Float32Array(count * T);
    for (let s = 0; s < count; s++) for (let t = 0, r = s; t < T; t++, r = Math.floor(r / K)) all[s * T + t] = r % K;
    const x = tf.tensor2d(all, [count, T]);
    const nll = (await m.testNll(x)).nll;
    expect(Math.abs(nll.reduce((a, v) => a + Math.exp(-v), 0) - 1)).toBeLessThan(1e-5);
    // the sampler's own windowed passes, fed each sequence's symbols: p(x) = prod_t p(x_t | x_<t)
    for (let s = 0; s < count; s += 7) {
      let logp = 0;
      const row = all.subarray(s * T, (s + 1) * T);
      await m.generate(new Float32Array(0), 0, 1, T, () => 0, undefined, (t, probs) => {
        logp += Math.log(probs[row[t]]);
        return row[t];
      });
      expect(Math.abs(-logp - nll[s])).toBeLessThan(1e-4);
    }
    x.dispose();
    m.dispose();
  });

  it('samples symbols in range, the same ones for the same seed, and with its own noise bank the same ones again', async () => {
    const m = build(12, 5);
    const a = await m.sample(3, undefined, 9);
    const b = await m.sample(3, undefined, 9);
    const av = Array.from(await a.data());
    expect(av.every((v) => Number.isInteger(v) && v >= 0 && v < 5)).toBe(true);
    expect(Array.from(await b.data())).toEqual(av);
    expect(new Set(av).size).toBeGreaterThan(1);
    // the bank sample() draws without a tensor is the one noise() makes
    const bank = m.noise(3, 9);
    const c = await m.sample(3, bank, 0);
    expect(Array.from(await c.data())).toEqual(av);
    tf.dispose([a, b, c, bank]);
    m.dispose();
  });
});

describe('learning on the real data', () => {
  it('wavenet learns the synthetic audio and charlm learns text (exact NLL falls); lab.evaluate records the test NLL; a prompt is completed', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const audio = lab.data.waveforms({ n: 300, length: 128 });
    const wn = lab.models.wavenet({ channels: 16, skipChannels: 16, layers: 5, stacks: 1 });
    const run = await lab.train(wn, audio, { steps: 80, batchSize: 16, evalEvery: 40, sampleEvery: 80, lr: 3e-3 });
    const val = run.history('val/bits_per_dim').values;
    expect(val[0]).toBeGreaterThan(7.5); // about 8 bits per sample before training
    expect(val[val.length - 1]).toBeLessThan(val[0] - 1.5);
    const ev = (await lab.evaluate(wn, audio.test)) as LikelihoodEvaluation;
    expect(ev.kind).toBe('exact');
    expect(ev.bits_per_dim).toBeCloseTo(ev.nll_nats / (128 * Math.LN2), 8);
    expect(messages.some((m) => m.type === 'run.artifact' && m.artifact.runId === run.id && m.artifact.kind === 'samples')).toBe(true);

    const text = lab.data.text({ length: 32, limit: 600 });
    const lm = lab.models.charlm({ dim: 32, layers: 1, heads: 2 });
    const r2 = await lab.train(lm, text, { steps: 40, batchSize: 32, evalEvery: 40, sampleEvery: 1000, lr: 3e-3 });
    const bpc = r2.history('val/bits_per_dim').values;
    expect(bpc[0]).toBeGreaterThan(6);
    expect(bpc[bpc.length - 1]).toBeLessThan(4.5);
    const done = await lm.complete('interface ', { n: 2, length: 20, seed: 4 });
    expect(done).toHaveLength(2);
    for (const s of done) {
      expect(s.startsWith('interface ')).toBe(true);
      expect(s).toHaveLength(20);
    }
    expect(await lm.complete('interface ', { n: 2, length: 20, seed: 4 })).toEqual(done);
    expect(() => lab.models.wavenet().build({ kind: 'image', shape: [28, 28], binary: true }, mulberry32(1))).toThrow('lab.data.waveforms()');
    expect(() => lab.models.charlm({ dim: 10, heads: 4 })).toThrow('must divide dim');
    wn.dispose();
    lm.dispose();
  }, 180_000);
});
