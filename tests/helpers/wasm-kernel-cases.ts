// (shared cases, not a test file) Our wasm matmul kernels: transposed products go through an explicit transpose
// and the fast untransposed kernel, and must give the same numbers as tfjs's cpu backend.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/engine/backend/select';
import { wasmKernelsDetail } from '../../src/engine/backend/wasm-kernels';

async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

/** The same checks run on the native kernels (this file) and on the portable fallbacks (the -fallback file). */
export function wasmKernelTests(label: string): void {
describe(`wasm kernels: ${label}`, () => {
  it('say what runs the products', async () => {
    await selectBackend('wasm');
    console.log(`[wasm kernels] ${wasmKernelsDetail()}`);
    expect(wasmKernelsDetail()).toMatch(label === 'native' ? /^native sgemm/ : /not|off/);
  });

  it('match the cpu backend for every transpose combination, batched and fused', async () => {
    const sel = await selectBackend('wasm');
    expect(sel.backend).toBe('wasm');
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 53], [53, 29], false, false],
      [[53, 37], [53, 29], true, false],
      [[37, 53], [29, 53], false, true],
      [[53, 37], [29, 53], true, true],
      [[3, 17, 9], [3, 11, 17], true, true],
      [[2, 5, 7], [2, 6, 7], false, true],
    ];
    for (const [sa, sb, ta, tb] of cases) {
      const a = Array.from({ length: sa.reduce((x, y) => x * y) }, (_, i) => Math.sin(i * 1.3));
      const b = Array.from({ length: sb.reduce((x, y) => x * y) }, (_, i) => Math.cos(i * 0.7));
      const run = () =>
        tf.tidy(() => {
          const A = tf.tensor(a, sa);
          const B = tf.tensor(b, sb);
          const plain = tf.matMul(A as tf.Tensor2D, B as tf.Tensor2D, ta, tb);
          const bias = tf.ones([plain.shape[plain.shape.length - 1]]);
          const fused = tf.fused.matMul({ a: A as tf.Tensor2D, b: B as tf.Tensor2D, transposeA: ta, transposeB: tb, bias, activation: 'relu' });
          return [plain.arraySync(), fused.arraySync()];
        });
      const onWasm = await on('wasm', run);
      const onCpu = await on('cpu', run);
      const flat = (x: unknown) => (x as number[]).flat(3) as number[];
      for (let k = 0; k < 2; k++) {
        const w = flat(onWasm[k]);
        const c = flat(onCpu[k]);
        expect(w.length).toBe(c.length);
        for (let i = 0; i < w.length; i++) expect(w[i]).toBeCloseTo(c[i], 3);
      }
    }
    await tf.setBackend('wasm');
  });

  it('convolve a batch larger than one patch-matrix chunk (the native path splits it) like the cpu backend', async () => {
    await selectBackend('wasm');
    const xs = [20, 28, 28, 32] as [number, number, number, number];
    const fs = [3, 3, 32, 4] as [number, number, number, number];
    const xv = Float32Array.from({ length: xs.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.013));
    const fv = Float32Array.from({ length: fs.reduce((a, b) => a * b) }, (_, i) => Math.cos(i * 0.07));
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(xv, xs);
        const f = tf.tensor4d(fv, fs);
        const loss = (xi: tf.Tensor, w: tf.Tensor) => {
          const y = tf.conv2d(xi as tf.Tensor4D, w as tf.Tensor4D, 1, 'same');
          return tf.sum(tf.mul(y, tf.cos(tf.range(0, y.size).reshape(y.shape))));
        };
        const [dx, dw] = tf.grads(loss)([x, f]);
        return [tf.conv2d(x, f, 1, 'same').dataSync(), dx.dataSync(), dw.dataSync()].map((a) => Float32Array.from(a));
      });
    const w = await on('wasm', run);
    const c = await on('cpu', run);
    for (let k = 0; k < 3; k++) {
      expect(w[k].length).toBe(c[k].length);
      let worst = 0;
      for (let i = 0; i < w[k].length; i++) worst = Math.max(worst, Math.abs(w[k][i] - c[k][i]) / (1 + Math.abs(c[k][i])));
      expect(worst).toBeLessThan(1e-3);
    }
    await tf.setBackend('wasm');
  });

  it('sum like the cpu backend, the bias-gradient fast path (all axes but the last) and the others', async () => {
    await selectBackend('wasm');
    const x = Array.from({ length: 2 * 3 * 4 * 5 }, (_, i) => Math.sin(i * 0.9));
    const cases: [number | number[], boolean][] = [[[0, 1, 2], false], [[0, 1, 2], true], [[2, 0, 1], false], [[-4, -3, -2], false], [[0, 1], false], [3, false], [[1, 2, 3], false]];
    for (const [axis, keepDims] of cases) {
      const run = () => tf.tidy(() => {
        const s = tf.sum(tf.tensor4d(x, [2, 3, 4, 5]), axis, keepDims);
        return { shape: s.shape, values: Array.from(s.dataSync()) };
      });
      const w = await on('wasm', run);
      const c = await on('cpu', run);
      expect(w.shape).toEqual(c.shape);
      for (let i = 0; i < w.values.length; i++) expect(w.values[i]).toBeCloseTo(c.values[i], 4);
    }
    await tf.setBackend('wasm');
  });

  it('leak no tensors through the temporary transposes', async () => {
    await tf.setBackend('wasm');
    const a = tf.randomNormal([64, 32]);
    const b = tf.randomNormal([48, 32]);
    // the backend's own count of buffers: temporaries never become tf tensors
    const buffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const c = tf.randomNormal([64, 16]);
    tf.matMul(a, b, false, true).dispose();
    const before = buffers();
    for (let i = 0; i < 5; i++) tf.matMul(a, b, false, true).dispose(); // [64,32]·[32,48]
    for (let i = 0; i < 5; i++) tf.matMul(a, c, true, false).dispose(); // [32,64]·[64,16]
    expect(buffers()).toBe(before);
    tf.dispose([a, b, c]);
  });

  it('train convolutions: Conv2DBackpropFilter and Conv2DBackpropInput match the cpu backend (strides, padding, transposed conv)', async () => {
    await selectBackend('wasm');
    const cases: { x: number[]; f: number[]; stride: number; pad: 'same' | 'valid'; transpose?: boolean }[] = [
      { x: [2, 7, 7, 3], f: [3, 3, 3, 4], stride: 1, pad: 'same' },
      { x: [3, 6, 5, 1], f: [5, 5, 1, 4], stride: 1, pad: 'same' },
      { x: [2, 8, 8, 2], f: [3, 3, 2, 5], stride: 2, pad: 'same' },
      { x: [1, 9, 6, 2], f: [2, 3, 2, 3], stride: 1, pad: 'valid' },
      { x: [2, 4, 4, 3], f: [4, 4, 2, 3], stride: 2, pad: 'same', transpose: true },
      // even taps: 'same' pads one more after than before
      { x: [2, 6, 7, 3], f: [4, 2, 3, 2], stride: 1, pad: 'same' },
      { x: [2, 5, 5, 3], f: [3, 3, 2, 3], stride: 1, pad: 'same', transpose: true },
      // a 1-channel first layer of a PixelCNN (7×7) and its wide 3×3 successor
      { x: [2, 9, 9, 1], f: [7, 7, 1, 8], stride: 1, pad: 'same' },
      { x: [3, 9, 9, 16], f: [3, 3, 16, 16], stride: 1, pad: 'same' },
      // strided, with enough channels for the per-phase input gradient; a stride
      // larger than the filter leaves phases no tap reaches
      { x: [2, 9, 8, 6], f: [3, 3, 6, 5], stride: 2, pad: 'same' },
      { x: [2, 10, 10, 4], f: [2, 2, 4, 3], stride: 3, pad: 'valid' },
      { x: [2, 4, 4, 8], f: [4, 4, 6, 8], stride: 2, pad: 'same', transpose: true },
    ];
    for (const c of cases) {
      const xv = Array.from({ length: c.x.reduce((a, b) => a * b) }, (_, i) => Math.sin(i * 0.37));
      const fv = Array.from({ length: c.f.reduce((a, b) => a * b) }, (_, i) => Math.cos(i * 0.11));
      const grad = () =>
        tf.tidy(() => {
          const x = tf.tensor4d(xv, c.x as [number, number, number, number]);
          const f = tf.tensor4d(fv, c.f as [number, number, number, number]);
          const loss = (xi: tf.Tensor, w: tf.Tensor) => {
            const y = c.transpose
              ? tf.conv2dTranspose(xi as tf.Tensor4D, w as tf.Tensor4D, [c.x[0], c.x[1] * c.stride, c.x[2] * c.stride, c.f[2]], c.stride, c.pad)
              : tf.conv2d(xi as tf.Tensor4D, w as tf.Tensor4D, c.stride, c.pad);
            return tf.sum(tf.mul(y, tf.sin(tf.range(0, y.size).reshape(y.shape))));
          };
          // forward value, d/dx (Conv2DBackpropInput, or Conv2D for a transposed conv), d/dw
          const value = loss(x, f).arraySync();
          const [dx, dw] = tf.grads(loss)([x, f]);
          return [[value], dx.flatten().arraySync(), dw.flatten().arraySync()];
        });
      const w = (await on('wasm', grad)) as number[][];
      const cpu = (await on('cpu', grad)) as number[][];
      for (let k = 0; k < 3; k++) {
        expect(w[k].length).toBe(cpu[k].length);
        for (let i = 0; i < w[k].length; i++) expect(w[k][i]).toBeCloseTo(cpu[k][i], 2);
      }
    }
    await tf.setBackend('wasm');
  });

  it('compute elementwise ops, broadcasts, masks and activation gradients (second order too) like the cpu backend', async () => {
    await selectBackend('wasm');
    // values across every branch: large, tiny, zero, signs, NaN, ±Infinity; a
    // tensor large enough to be split over threads
    const special = [0, -0, 1e-30, -1e-30, 1e-6, -1e-6, 0.25, -0.25, 0.31, -0.29, 3, -3, 15, -15, 20, -20, 88, -88, 100, -100, NaN, Infinity, -Infinity];
    const n = 70_000;
    const xs = Float32Array.from({ length: n }, (_, i) => (i < special.length ? special[i] : 12 * Math.sin(i * 0.37) * Math.cos(i * 0.011)));
    const ys = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.7) * 3 + 0.5);
    const cases: [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor][] = [
      ['relu', (x) => tf.relu(x)], ['step', (x) => tf.step(x, 0.3)], ['leakyRelu', (x) => tf.leakyRelu(x, 0.2)], ['neg', (x) => tf.neg(x)],
      ['square', (x) => tf.square(x)], ['sigmoid', (x) => tf.sigmoid(x)], ['tanh', (x) => tf.tanh(x)], ['exp', (x) => tf.exp(x)],
      ['softplus', (x) => tf.softplus(x)], ['log', (x) => tf.log(tf.abs(x))], ['sqrt', (x) => tf.sqrt(tf.abs(x))], ['abs', (x) => tf.abs(x)],
      ['add', (x, y) => tf.add(x, y)], ['sub', (x, y) => tf.sub(x, y)], ['mul', (x, y) => tf.mul(x, y)], ['div', (x, y) => tf.div(x, y)],
      ['maximum', (x, y) => tf.maximum(x, y)], ['minimum', (x, y) => tf.minimum(x, y)], ['squaredDifference', (x, y) => tf.squaredDifference(x, y)],
      // broadcasts: a trailing row either side, a scalar either side, and a general one (not native)
      ['add row', (x, y) => tf.add(x.reshape([700, 100]), y.slice(0, 100))], ['sub row left', (x, y) => tf.sub(y.slice(0, 100).reshape([1, 100]), x.reshape([700, 100]))],
      ['div scalar', (x) => tf.div(x, 3)], ['sub scalar left', (x) => tf.sub(2, x)], ['mul column', (x, y) => tf.mul(x.reshape([700, 100]), y.slice(0, 700).reshape([700, 1]))],
      ['greater', (x, y) => tf.cast(tf.greater(x, y), 'float32')], ['greater row', (x, y) => tf.cast(tf.greater(x.reshape([700, 100]), y.slice(0, 100)), 'float32')],
      ['where', (x, y) => tf.where(tf.greater(x, 0), x, y)], ['clone', (x) => tf.clone(x)], ['cast', (x) => tf.cast(x, 'float32')],
      ['sum rows', (x) => tf.sum(x.reshape([70, 10, 100]), [0, 1])], ['mean rows', (x) => tf.mean(x.reshape([700, 100]), 0)],
      ['mean rows kept', (x) => tf.mean(x.reshape([70, 10, 100]), [0, 1], true)],
      // split and concat along the last, a middle and the first axis (and their gradients)
      ['split last', (x) => { const [a, b] = tf.split(x.reshape([700, 100]), [30, 70], 1); return tf.concat([b, a], 1); }],
      ['split middle', (x) => { const [a, b, c] = tf.split(x.reshape([70, 10, 100]), [2, 5, 3], 1); return tf.concat([c, a, b], 1); }],
      ['split first', (x) => { const [a, b] = tf.split(x.reshape([700, 100]), [699, 1], 0); return tf.concat([b, a, b], 0); }],
      ['d split', (x, y) => tf.grad((t: tf.Tensor) => { const [a, b] = tf.split(t.reshape([700, 100]), 2, 1); return tf.sum(tf.mul(tf.concat([tf.exp(tf.sin(a)), b], 1), y.reshape([700, 100]))); })(x)],
      // gradients through the activations, and the gradient of a gradient
      ...(['relu', 'leakyRelu', 'sigmoid', 'tanh'] as const).map((f): [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor] => {
        const act = (t: tf.Tensor) => (f === 'leakyRelu' ? tf.leakyRelu(t, 0.2) : tf[f](t));
        return [`d ${f}`, (x, y) => tf.grad((t: tf.Tensor) => tf.sum(tf.mul(act(t), y.slice(0, 8000))))(x.slice(0, 8000))];
      }),
      ...(['sigmoid', 'tanh'] as const).map((f): [string, (x: tf.Tensor, y: tf.Tensor) => tf.Tensor] => {
        const act = (t: tf.Tensor) => tf[f](t);
        const first = (t: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sum(tf.mul(act(u), tf.square(u))))(t);
        return [`d² ${f}`, (x) => tf.grad((t: tf.Tensor) => tf.sum(first(t)))(tf.mul(tf.sin(x.slice(0, 8000)), 5))];
      }),
    ];
    for (const [name, f] of cases) {
      const run = () => tf.tidy(() => Float32Array.from(f(tf.tensor1d(xs), tf.tensor1d(ys)).dataSync()));
      const w = await on('wasm', run);
      const c = await on('cpu', run);
      expect(w.length, name).toBe(c.length);
      // the first element out of tolerance, if any (one expect per case, not per element)
      const tol = name.startsWith('d²') ? 1e-4 : 2e-6; // a second derivative cancels terms: float32 rounding shows more
      const bad = Array.from(w).findIndex((v, i) =>
        Number.isNaN(c[i]) ? !Number.isNaN(v) : !Number.isFinite(c[i]) ? v !== c[i] : !(Math.abs(v - c[i]) <= tol * Math.max(1, Math.abs(c[i]))));
      expect(bad, bad < 0 ? name : `${name}[${bad}] (x = ${xs[bad]}): wasm ${w[bad]}, cpu ${c[bad]}`).toBe(-1);
    }
    await tf.setBackend('wasm');
  });
});
}
