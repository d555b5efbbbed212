// The webgpu backend against tfjs's cpu backend, on whatever adapter Dawn finds (in CI:
// SwiftShader, a CPU Vulkan that Debian's chromium ships; vitest.config.mts points the
// Vulkan loader at it). Forward values and gradients of the ops the models use, our own
// WGSL kernels (conv filter gradient, Adam, random draws), and training steps of the
// bench's reference models. Skipped, with the reason, where no adapter is found.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { probeWebgpu, registerWebgpu, webgpuAdapter } from '../../../../src/engine/backend/webgpu';
import { backpropFilterSlices } from '../../../../src/engine/backend/webgpu-kernels';
import { WebgpuAdam } from '../../../../src/engine/train/fused-adam';
import { bernoulli, normal, uniform, uniformValues } from '../../../../src/engine/ops/random';
import { REFERENCE_SET } from '../../../../src/bench/reference-tf';
import { mulberry32 } from '../../../../src/engine/util/rng';
import { skipWhen } from '../../../helpers/skip';

let unavailable: string | null = null;

beforeAll(async () => {
  const { reason } = await probeWebgpu();
  unavailable = reason;
  if (!reason) {
    await registerWebgpu();
    // every op on the GPU: tfjs-webgpu would otherwise run small ops on the CPU
    tf.env().set('WEBGPU_CPU_FORWARD', false);
  }
});
afterAll(async () => {
  await tf.setBackend('cpu');
});

const need = (ctx: TestContext) => skipWhen(ctx, unavailable ? `no WebGPU adapter: ${unavailable}` : null);

const values = (n: number, seed: number, lo = -1, hi = 1) => {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r.next());
};
const size = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** the largest |a − b| over max(1, |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

interface OpCase {
  name: string;
  shapes: number[][];
  fn: (...x: tf.Tensor[]) => tf.Tensor;
  /** inputs in (lo, hi): e.g. positive for log and sqrt */
  range?: [number, number];
  /** no gradient through it (comparisons, argmax) */
  noGrad?: boolean;
  /** the relative error allowed (default 2e-5 forward, 5e-5 gradients) */
  tol?: number;
}

const t4 = (t: tf.Tensor) => t as tf.Tensor4D;
const t2 = (t: tf.Tensor) => t as tf.Tensor2D;

// The ops of the model zoo: dense and convolutional layers (PixelCNN masks, DCGAN,
// conv VAE, Glow), flows' couplings, the losses and the reductions.
const OPS: OpCase[] = [
  { name: 'matMul', shapes: [[33, 70], [70, 45]], fn: (a, b) => tf.matMul(t2(a), t2(b)) },
  { name: 'matMul (transposed b)', shapes: [[33, 70], [45, 70]], fn: (a, b) => tf.matMul(t2(a), t2(b), false, true) },
  { name: 'conv2d 3×3 same', shapes: [[2, 9, 9, 5], [3, 3, 5, 7]], fn: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'same') },
  { name: 'conv2d 7×7 same (PixelCNN type A)', shapes: [[2, 12, 12, 1], [7, 7, 1, 16]], fn: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'same') },
  { name: 'conv2d 4×4 stride 2 (DCGAN D)', shapes: [[3, 14, 14, 8], [4, 4, 8, 6]], fn: (x, w) => tf.conv2d(t4(x), t4(w), 2, 'same') },
  { name: 'conv2d 1×1', shapes: [[2, 6, 6, 12], [1, 1, 12, 4]], fn: (x, w) => tf.conv2d(t4(x), t4(w), 1, 'valid') },
  { name: 'conv2dTranspose stride 2 (DCGAN G)', shapes: [[2, 7, 7, 6], [4, 4, 5, 6]], fn: (x, w) => tf.conv2dTranspose(t4(x), t4(w), [2, 14, 14, 5], 2, 'same') },
  { name: 'add (broadcast bias)', shapes: [[16, 30], [30]], fn: (a, b) => tf.add(a, b) },
  { name: 'sub', shapes: [[16, 30], [16, 30]], fn: (a, b) => tf.sub(a, b) },
  { name: 'mul', shapes: [[16, 30], [16, 30]], fn: (a, b) => tf.mul(a, b) },
  { name: 'div', shapes: [[16, 30], [16, 30]], fn: (a, b) => tf.div(a, tf.add(tf.abs(b), 0.5)) },
  { name: 'relu', shapes: [[40, 50]], fn: (x) => tf.relu(x) },
  { name: 'leakyRelu', shapes: [[40, 50]], fn: (x) => tf.leakyRelu(x, 0.2) },
  { name: 'elu', shapes: [[40, 50]], fn: (x) => tf.elu(x) },
  { name: 'sigmoid', shapes: [[40, 50]], fn: (x) => tf.sigmoid(tf.mul(x, 4)) },
  { name: 'tanh', shapes: [[40, 50]], fn: (x) => tf.tanh(tf.mul(x, 2)) },
  { name: 'softplus', shapes: [[40, 50]], fn: (x) => tf.softplus(tf.mul(x, 5)) },
  { name: 'exp', shapes: [[40, 50]], fn: (x) => tf.exp(x) },
  { name: 'log', shapes: [[40, 50]], fn: (x) => tf.log(x), range: [0.1, 3] },
  { name: 'sqrt', shapes: [[40, 50]], fn: (x) => tf.sqrt(x), range: [0.1, 3] },
  { name: 'square', shapes: [[40, 50]], fn: (x) => tf.square(x) },
  { name: 'abs', shapes: [[40, 50]], fn: (x) => tf.abs(x) },
  // WGSL promises sin and cos to 2^-11 absolute on [-π, π] (the DDPM's time embeddings)
  { name: 'sin / cos (time embeddings)', shapes: [[40, 50]], fn: (x) => tf.add(tf.sin(tf.mul(x, 3)), tf.cos(x)), tol: 1e-3 },
  { name: 'sum over rows', shapes: [[64, 33]], fn: (x) => tf.sum(x, 0) },
  { name: 'sum over columns', shapes: [[64, 33]], fn: (x) => tf.sum(x, 1) },
  { name: 'mean', shapes: [[64, 33]], fn: (x) => tf.mean(x, 1) },
  { name: 'max', shapes: [[64, 33]], fn: (x) => tf.max(x, 1) },
  { name: 'logSumExp', shapes: [[64, 33]], fn: (x) => tf.logSumExp(tf.mul(x, 8), 1) },
  { name: 'softmax', shapes: [[64, 33]], fn: (x) => tf.softmax(tf.mul(x, 4)) },
  { name: 'logSoftmax', shapes: [[64, 33]], fn: (x) => tf.logSoftmax(tf.mul(x, 4)) },
  { name: 'concat', shapes: [[10, 7], [10, 5]], fn: (a, b) => tf.concat([a, b], 1) },
  { name: 'slice', shapes: [[20, 30]], fn: (x) => tf.slice(x, [3, 4], [10, 20]) },
  { name: 'transpose + reshape (squeeze)', shapes: [[2, 8, 8, 3]], fn: (x) => tf.reshape(tf.transpose(tf.reshape(x, [2, 4, 2, 4, 2, 3]), [0, 1, 3, 2, 4, 5]), [2, 4, 4, 12]) },
  { name: 'gather', shapes: [[30, 8]], fn: (x) => tf.gather(x, tf.tensor1d([3, 0, 29, 3, 7], 'int32')) },
  { name: 'maximum / minimum', shapes: [[20, 20], [20, 20]], fn: (a, b) => tf.add(tf.maximum(a, b), tf.minimum(a, tf.mul(b, 0.5))) },
  { name: 'where', shapes: [[20, 20], [20, 20]], fn: (a, b) => tf.where(tf.tensor2d(values(400, 5), [20, 20]).greater(0), a, tf.mul(b, 2)) },
  { name: 'clipByValue', shapes: [[20, 20]], fn: (x) => tf.clipByValue(tf.mul(x, 3), -1, 1) },
  { name: 'pad', shapes: [[2, 5, 5, 3]], fn: (x) => tf.pad(x, [[0, 0], [1, 2], [2, 1], [0, 0]]) },
  { name: 'moments (batch/act norm)', shapes: [[32, 10]], fn: (x) => { const m = tf.moments(x, 0); return tf.concat([m.mean, m.variance]); } },
  { name: 'sigmoid cross-entropy (the Bernoulli likelihood)', shapes: [[16, 30], [16, 30]], fn: (l, x) => tf.sub(tf.softplus(tf.mul(l, 3)), tf.mul(tf.step(x), tf.mul(l, 3))) },
  { name: 'argMax', shapes: [[16, 30]], fn: (x) => tf.argMax(x, 1), noGrad: true },
];

/** forward values and gradients of Σ fn(x)·r on the current backend */
async function run(c: OpCase, seed: number): Promise<{ y: Float32Array | Int32Array; grads: Float32Array[] }> {
  const [lo, hi] = c.range ?? [-1, 1];
  const xs = c.shapes.map((s, i) => tf.tensor(values(size(s), seed + i, lo, hi), s));
  try {
    const y = c.fn(...xs);
    const out = { y: (await y.data()) as Float32Array | Int32Array, grads: [] as Float32Array[] };
    if (!c.noGrad) {
      const r = tf.tensor(values(y.size, seed + 99), y.shape);
      const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(c.fn(...a), r)))(xs);
      for (const g of gs) out.grads.push((await g.data()) as Float32Array);
      tf.dispose([r, ...gs]);
    }
    y.dispose();
    return out;
  } finally {
    tf.dispose(xs);
  }
}

describe('webgpu: ops against the cpu backend (forward and gradient)', () => {
  for (const [k, c] of OPS.entries()) {
    it(c.name, async (ctx) => {
      need(ctx);
      await tf.setBackend('cpu');
      const want = await run(c, 100 * k + 1);
      await tf.setBackend('webgpu');
      const got = await run(c, 100 * k + 1);
      const fwd = relErr(got.y, want.y);
      const grad = Math.max(0, ...want.grads.map((g, i) => relErr(got.grads[i], g)));
      // the parity table (vitest prints it with the test's output)
      console.log(`[parity] ${c.name}: forward ${fwd.toExponential(1)}, gradient ${c.noGrad ? '—' : grad.toExponential(1)}`);
      expect(fwd).toBeLessThan(c.tol ?? 2e-5);
      expect(got.grads.length).toBe(want.grads.length);
      for (let i = 0; i < want.grads.length; i++) expect(relErr(got.grads[i], want.grads[i]), `gradient ${i}`).toBeLessThan(c.tol ?? 5e-5);
    });
  }
});

describe('webgpu: our kernels', () => {
  it('names the adapter it runs on', async (ctx) => {
    need(ctx);
    await tf.setBackend('webgpu');
    const a = webgpuAdapter();
    expect(a).not.toBeNull();
    expect(a!.label.length).toBeGreaterThan(0);
  });

  // PixelCNN (7×7 type A on 1 channel, 3×3 on 64), DCGAN (4×4 stride 2), the conv VAE (3×3 stride 2)
  const shapes: [string, number[], number[], number, 'same' | 'valid'][] = [
    ['PixelCNN 7×7 type A', [8, 28, 28, 1], [7, 7, 1, 32], 1, 'same'],
    ['PixelCNN 3×3, 64 → 64', [2, 14, 14, 64], [3, 3, 64, 64], 1, 'same'],
    ['DCGAN 4×4 stride 2', [8, 14, 14, 32], [4, 4, 32, 64], 2, 'same'],
    ['conv VAE 3×3 stride 2', [8, 28, 28, 1], [3, 3, 1, 32], 2, 'same'],
    ['ragged: 5×5 valid, 3 → 10', [3, 11, 13, 3], [5, 5, 3, 10], 1, 'valid'],
  ];
  for (const [name, xs, fs, stride, pad] of shapes) {
    it(`Conv2DBackpropFilter: ${name} equals the cpu backend's`, async (ctx) => {
      need(ctx);
      const x = values(size(xs), 7);
      const outH = pad === 'same' ? Math.ceil(xs[1] / stride) : Math.floor((xs[1] - fs[0]) / stride) + 1;
      const outW = pad === 'same' ? Math.ceil(xs[2] / stride) : Math.floor((xs[2] - fs[1]) / stride) + 1;
      const dyShape = [xs[0], outH, outW, fs[3]];
      const dy = values(size(dyShape), 8);
      // the filter's gradient of Σ conv2d(x, w)·dy is Conv2DBackpropFilter(x, dy)
      const grad = async () => {
        const xt = tf.tensor4d(x, xs as [number, number, number, number]);
        const dyt = tf.tensor4d(dy, dyShape as [number, number, number, number]);
        const w = tf.zeros(fs as [number, number, number, number]) as tf.Tensor4D;
        const dw = tf.grad((f: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xt, f as tf.Tensor4D, stride, pad), dyt)))(w);
        const v = (await dw.data()) as Float32Array;
        expect(dw.shape).toEqual(fs);
        tf.dispose([xt, dyt, w, dw]);
        return v;
      };
      await tf.setBackend('cpu');
      const want = await grad();
      await tf.setBackend('webgpu');
      const got = await grad();
      // sums of up to 50,000 products: relative to the size of the sum
      const scale = Math.max(...Array.from(want, Math.abs));
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      console.log(`[parity] Conv2DBackpropFilter ${name}: ${(worst / scale).toExponential(1)} of the largest entry`);
      expect(worst / scale).toBeLessThan(1e-5);
    });
  }

  it('Conv2DBackpropFilter splits long sums into slices that cover k exactly once', () => {
    for (const [K, R, CO] of [[100_352, 576, 64], [1568, 49, 32], [10, 75, 10], [4096, 16, 16]]) {
      const { slices, kPerSlice } = backpropFilterSlices(K, R, CO);
      expect(slices * kPerSlice).toBeGreaterThanOrEqual(K);
      expect((slices - 1) * kPerSlice).toBeLessThan(K);
      expect(kPerSlice % 16).toBe(0);
    }
  });

  it('Adam: two dispatches a variable, the same steps as tf.train.adam on the cpu backend', async (ctx) => {
    need(ctx);
    const w0 = values(300, 3);
    const grads = [values(300, 4), values(300, 5), values(300, 6)];
    const steps = async (make: () => tf.Optimizer) => {
      const v = tf.variable(tf.tensor2d(w0, [20, 15]), true, `adam_parity_${tf.getBackend()}`);
      const opt = make();
      for (const g of grads) opt.applyGradients({ [v.name]: tf.tensor2d(g, [20, 15]) });
      const out = (await v.data()) as Float32Array;
      const state = await opt.getWeights();
      const m = state.length > 1 ? ((await state[1].tensor.data()) as Float32Array) : null;
      opt.dispose();
      v.dispose();
      return { out, m };
    };
    await tf.setBackend('cpu');
    const want = await steps(() => tf.train.adam(0.01, 0.9, 0.999));
    await tf.setBackend('webgpu');
    const got = await steps(() => new WebgpuAdam(0.01, 0.9, 0.999));
    console.log(`[parity] Adam: weights after 3 steps ${relErr(got.out, want.out).toExponential(1)}`);
    expect(relErr(got.out, want.out)).toBeLessThan(1e-6);
    // its state is [iter, m.., v..] like the wasm FusedAdam's: m after three steps
    const m = new Float32Array(300);
    for (const g of grads) for (let i = 0; i < 300; i++) m[i] = 0.9 * m[i] + 0.1 * g[i];
    expect(relErr(got.m!, m)).toBeLessThan(1e-6);
  });

  it('random draws: uniform and Bernoulli are the CPU backends\' very numbers, normal agrees to float precision', async (ctx) => {
    need(ctx);
    const shape = [37, 129];
    const draw = async () => {
      const u = uniform(shape, 12345);
      const z = normal(shape, 777);
      const p = tf.tensor2d(values(size(shape), 9, 0, 1), shape as [number, number]);
      const b = bernoulli(p, 4242);
      const out = { u: (await u.data()) as Float32Array, z: (await z.data()) as Float32Array, b: (await b.data()) as Float32Array };
      tf.dispose([u, z, p, b]);
      return out;
    };
    await tf.setBackend('cpu');
    const want = await draw();
    await tf.setBackend('webgpu');
    const got = await draw();
    expect(Array.from(got.u)).toEqual(Array.from(want.u));
    expect(Array.from(got.u)).toEqual(Array.from(uniformValues(12345, size(shape))));
    expect(Array.from(got.b)).toEqual(Array.from(want.b));
    let worst = 0;
    for (let i = 0; i < want.z.length; i++) worst = Math.max(worst, Math.abs(got.z[i] - want.z[i]));
    console.log(`[parity] random: uniform and Bernoulli identical; normal max |diff| ${worst.toExponential(1)}`);
    expect(worst).toBeLessThan(1e-5);
    // and they are draws: mean ≈ 0, variance ≈ 1
    const mean = got.z.reduce((a, b) => a + b, 0) / got.z.length;
    expect(Math.abs(mean)).toBeLessThan(0.05);
  });
});

describe('webgpu: a training step of each bench reference model', () => {
  for (const name of Object.keys(REFERENCE_SET)) {
    it(`${name}: three steps give the losses the cpu backend gives`, async (ctx) => {
      need(ctx);
      const losses = async () => {
        const model = REFERENCE_SET[name](4);
        const out: number[] = [];
        try {
          for (let i = 0; i < 3; i++) out.push(await model.step());
        } finally {
          model.dispose();
        }
        return out;
      };
      await tf.setBackend('cpu');
      const want = await losses();
      await tf.setBackend('webgpu');
      const got = await losses();
      console.log(`[parity] ${name}: losses cpu ${want.map((v) => v.toPrecision(6)).join(', ')} / webgpu ${got.map((v) => v.toPrecision(6)).join(', ')}`);
      for (let i = 0; i < 3; i++) expect(Math.abs(got[i] - want[i]) / Math.max(1, Math.abs(want[i])), `step ${i + 1}`).toBeLessThan(1e-3);
      // the steps trained: the loss moved
      expect(got[2]).not.toBe(got[0]);
    }, 300_000);
  }
});
