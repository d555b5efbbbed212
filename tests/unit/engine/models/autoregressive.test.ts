// Binary autoregressive families (FVSBN, NADE, MADE): the properties that make their
// likelihoods exact. Weights are randomized first, so a zero-initialized layer
// cannot make a property hold by accident.
import type { LikelihoodEvaluation } from '../../../../src/engine/eval/evaluate';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { createLab } from '../../../../src/engine/lab/lab';
import type { BinaryAutoregressive } from '../../../../src/engine/models/autoregressive/chain-rule';
import { Fvsbn } from '../../../../src/engine/models/autoregressive/fvsbn';
import { Made } from '../../../../src/engine/models/autoregressive/made';
import { Nade } from '../../../../src/engine/models/autoregressive/nade';
import { PixelCnn } from '../../../../src/engine/models/autoregressive/pixelcnn';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { collectingContext } from '../../../helpers/engine';

beforeAll(async () => {
  await selectBackend('wasm'); // what runs here (with our native kernels): masked weights are exact zeros there too
});


function randomize(model: BinaryAutoregressive, seed: number): void {
  const rng = mulberry32(seed);
  for (const { tensor } of model.getWeights()) {
    const v = new Float32Array(tensor.size).map(() => 2 * (rng.next() - 0.5));
    (tensor as tf.Variable).assign(tf.tensor(v, tensor.shape));
  }
}

function allStates(d: number): Float32Array {
  const x = new Float32Array((1 << d) * d);
  for (let s = 0; s < 1 << d; s++) for (let i = 0; i < d; i++) x[s * d + i] = (s >> i) & 1;
  return x;
}

const families: [string, () => BinaryAutoregressive, number[]][] = [
  ['fvsbn', () => new Fvsbn(), [6]],
  ['nade', () => new Nade({ hidden: 7 }), [6]],
  ['made', () => new Made({ hidden: [12, 12] }), [6]],
  ['made, 3 shuffled orders (ensemble)', () => new Made({ hidden: [12], masks: 3 }), [6]],
  // a 3 x 3 image: 512 states; 3 type-B layers make the receptive field larger than the image
  ['pixelcnn', () => new PixelCnn({ filters: 4, layers: 3, firstKernel: 3 }), [3, 3]],
  ['gated pixelcnn', () => new PixelCnn({ filters: 4, layers: 3, firstKernel: 3, gated: true }), [3, 3]],
  // binary RGB, 2 x 2 pixels x 3 channels: R, then G given R, then B given R and G, pixel after pixel
  ['pixelcnn, RGB channel order', () => new PixelCnn({ filters: 6, layers: 2, firstKernel: 3 }), [2, 2, 3]],
  ['gated pixelcnn, RGB channel order', () => new PixelCnn({ filters: 6, layers: 2, firstKernel: 3, gated: true }), [2, 2, 3]],
];

describe('the blind spot', () => {
  it('stacked masked 3x3 layers never see two columns right of the row above; the gated stacks do', () => {
    const out = 3 * 4 + 0; // pixel (3, 0) of a 4 x 4 image
    const upRight = 2 * 4 + 2; // pixel (2, 2): one row up, two columns right
    const influence = (m: BinaryAutoregressive) => {
      m.build({ kind: 'image', shape: [4, 4], binary: true }, mulberry32(2));
      randomize(m, 3);
      const x = tf.fill([1, 16], 0.5) as tf.Tensor2D;
      const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(m.logits(inp as tf.Tensor2D), [0, out], [1, 1])))(x);
      const v = g.dataSync()[upRight];
      tf.dispose([x, g]);
      m.dispose();
      return v;
    };
    expect(influence(new PixelCnn({ filters: 4, layers: 4, firstKernel: 3 }))).toBe(0);
    expect(influence(new PixelCnn({ filters: 4, layers: 4, firstKernel: 3, gated: true }))).not.toBe(0);
  });
});

describe('the RGB channel order', () => {
  it('inside a pixel G sees R, B sees R and G, and R sees neither (plain and gated)', () => {
    for (const gated of [false, true]) {
      const m = new PixelCnn({ filters: 12, layers: 2, firstKernel: 3, gated });
      m.build({ kind: 'image', shape: [2, 2, 3], binary: true }, mulberry32(2));
      randomize(m, 4);
      // 8 random inputs: one whose relus all close on a path cannot hide a dependence
      const rng = mulberry32(6);
      const x = tf.tensor2d(Float32Array.from({ length: 8 * 12 }, () => rng.next()), [8, 12]);
      const sees = (out: number) => {
        const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(m.logits(inp as tf.Tensor2D), [0, out], [-1, 1])))(x);
        const gv = g.dataSync();
        const v = Array.from({ length: 12 }, (_, j) => Array.from({ length: 8 }, (_, r) => gv[r * 12 + j]).some((d) => d !== 0));
        g.dispose();
        return v;
      };
      const px = 3 * 3; // the last pixel's R, G, B are inputs 9, 10, 11
      expect(sees(px).slice(px, px + 3), `gated ${gated}: R`).toEqual([false, false, false]);
      expect(sees(px + 1).slice(px, px + 3), `gated ${gated}: G`).toEqual([true, false, false]);
      expect(sees(px + 2).slice(px, px + 3), `gated ${gated}: B`).toEqual([true, true, false]);
      expect(sees(px).slice(0, px).some(Boolean), `gated ${gated}: earlier pixels`).toBe(true);
      x.dispose();
      m.dispose();
    }
  });
});

describe.each(families)('%s', (_name, make, shape) => {
  const D = shape.reduce((a, b) => a * b, 1);
  const build = () => {
    const m = make();
    m.build({ kind: shape.length > 1 ? 'image' : 'points', shape, binary: true }, mulberry32(5));
    randomize(m, 11);
    return m;
  };

  it('gives all 2^d states probabilities that sum to 1', async () => {
    const m = build();
    const x = tf.tensor2d(allStates(D), [1 << D, D]);
    const nll = (await m.testNll(x)).nll;
    const total = nll.reduce((a, v) => a + Math.exp(-v), 0);
    expect(Math.abs(total - 1)).toBeLessThan(1e-5);
    x.dispose();
    m.dispose();
  });

  it('output i depends on no input at or after i in its order (exact zero gradients), and the parallel log p equals the chain rule', async () => {
    const m = build();
    const order = m.order();
    const rank = new Int32Array(D);
    order.forEach((d, t) => (rank[d] = t));
    const x = tf.tensor2d(allStates(D), [1 << D, D]);
    for (let i = 0; i < D; i++) {
      const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(m.logits(inp as tf.Tensor2D), [0, i], [-1, 1])))(tf.add(x, 0.3)); // off the corners too
      const gv = g.arraySync() as number[][];
      for (let j = 0; j < D; j++) {
        const touched = gv.some((row) => row[j] !== 0);
        if (rank[j] >= rank[i]) expect(touched, `output ${i} must not see input ${j}`).toBe(false);
      }
      g.dispose();
    }
    // chain rule, one position at a time: feed only the positions before it in the order
    const xs = allStates(D);
    const parallel = (await m.testNll(x)).nll;
    for (let s = 0; s < 1 << D; s += 5) {
      let logp = 0;
      for (let t = 0; t < D; t++) {
        const prefix = new Float32Array(D);
        for (let u = 0; u < t; u++) prefix[order[u]] = xs[s * D + order[u]];
        const l = tf.tidy(() => m.logits(tf.tensor2d(prefix, [1, D])).dataSync()[order[t]]);
        const xi = xs[s * D + order[t]];
        logp += xi === 1 ? -Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l));
      }
      if (_name.includes('ensemble')) continue; // the ensemble mixes orders: the chain rule holds per order (above)
      expect(Math.abs(-logp - parallel[s])).toBeLessThan(1e-5);
    }
    x.dispose();
    m.dispose();
  });

  it('samples bits, the same ones for the same seed, and with its own noise bank the same ones again', async () => {
    const m = build();
    const a = await m.sample(5, undefined, 3);
    const b = await m.sample(5, undefined, 3);
    const av = Array.from(await a.data());
    expect(av.every((v) => v === 0 || v === 1)).toBe(true);
    expect(Array.from(await b.data())).toEqual(av);
    // the fast samplers (running sums for FVSBN and NADE) draw what D full passes draw
    const generic = Object.getPrototypeOf(Object.getPrototypeOf(m)).sample as BinaryAutoregressive['sample'];
    const slow = await generic.call(m, 5, undefined, 3);
    expect(Array.from(await slow.data())).toEqual(av);
    // the bank sample() draws without a tensor is the one noise() makes
    const bank = m.noise(5, 3);
    const c = await m.sample(5, bank, 0);
    expect(Array.from(await c.data())).toEqual(av);
    tf.dispose([a, b, slow, c, bank]);
    m.dispose();
  });
});

describe('on binarized MNIST', () => {
  it('each family learns (validation NLL falls, exact) and lab.evaluate records the test NLL on its run', async () => {
    const { ctx, messages } = collectingContext();
    const lab = createLab(ctx);
    const data = lab.data.mnist({ limit: 600 });
    for (const model of [lab.models.fvsbn(), lab.models.nade({ hidden: 20 }), lab.models.made({ hidden: [64] }), lab.models.pixelcnn({ filters: 8, layers: 1 })]) {
      const run = await lab.train(model, data, { steps: 30, batchSize: 32, evalEvery: 30, sampleEvery: 1000, lr: 3e-3 });
      const val = run.history('val/nll').values;
      expect(val[val.length - 1]).toBeLessThan(val[0] - 50);
      const ev = (await lab.evaluate(model, data.test)) as LikelihoodEvaluation;
      expect(ev.kind).toBe('exact');
      expect(ev.n).toBe(data.test.n);
      expect(ev.bits_per_dim).toBeCloseTo(ev.nll_nats / (784 * Math.LN2), 10);
      const rec = messages.find((m) => m.type === 'run.eval' && m.runId === run.id);
      expect(rec && rec.type === 'run.eval' && rec.points.map((p) => p.key)).toEqual(['test/nll', 'test/bits_per_dim']);
      const start = messages.find((m) => m.type === 'run.start' && m.run.id === run.id);
      expect(start && start.type === 'run.start' && (start.run.config.metricKinds as Record<string, string>)['test/nll']).toBe('exact');
      model.dispose();
    }
    expect(() => lab.models.fvsbn().build({ kind: 'image', shape: [28, 28], binary: false }, mulberry32(1))).toThrow('binary data');
    // a GAN has no likelihood: lab.evaluate judges its samples instead, once it is trained
    await expect(lab.evaluate(lab.models.gan(), data.test)).rejects.toThrow('train the gan first');
  }, 120_000);
});
