// The fused Adam the engine uses on wasm takes the same steps as tf.train.adam.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { nativeKernels } from '../../../../src/engine/backend/native';
import { adamStep, FusedAdam } from '../../../../src/engine/train/fused-adam';
import { createOptimizer } from '../../../../src/engine/train/optimizers';
import { skipWhen } from '../../../helpers/skip';

function train(opt: tf.Optimizer, steps: number): number[][] {
  const W = tf.variable(tf.tensor2d([[0.5, -0.3], [0.2, 0.8], [-0.7, 0.1]]));
  const b = tf.variable(tf.tensor1d([0.1, -0.2]));
  const x = tf.tensor2d([[1, 2, 3], [0.5, -1, 2], [2, 0, -1], [1, 1, 1]]);
  const y = tf.tensor2d([[1, 0], [0, 1], [1, 1], [0, 0]]);
  for (let i = 0; i < steps; i++) {
    opt.minimize(() => tf.losses.meanSquaredError(y, tf.add(tf.matMul(x, W), b)) as tf.Scalar, false, [W, b]);
  }
  const out = [Array.from(W.dataSync()), Array.from(b.dataSync())];
  tf.dispose([W, b, x, y]);
  opt.dispose();
  return out;
}

describe('fused Adam (wasm)', () => {
  it('matches tf.train.adam step for step', async () => {
    await selectBackend('wasm');
    expect(createOptimizer({ optimizer: 'adam', lr: 0.05, beta1: 0.9, beta2: 0.999, momentum: 0, clipNorm: null, weightDecay: 0 })).toBeInstanceOf(FusedAdam);
    const fused = train(new FusedAdam(0.05), 25);
    const reference = train(tf.train.adam(0.05), 25);
    for (let k = 0; k < 2; k++) for (let i = 0; i < fused[k].length; i++) expect(fused[k][i]).toBeCloseTo(reference[k][i], 4); // float64 arithmetic in the loop vs float32 kernels
    // and it really moved
    expect(fused[0][0]).not.toBeCloseTo(0.5, 2);
  });

  it('leaves no buffers behind', async () => {
    await selectBackend('wasm');
    const buffers = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const W = tf.variable(tf.randomNormal([20, 10]));
    const x = tf.randomNormal([8, 20]);
    const opt = new FusedAdam(0.01);
    const step = () => opt.minimize(() => tf.sum(tf.square(tf.matMul(x, W))) as tf.Scalar, false, [W]);
    step();
    const before = buffers();
    for (let i = 0; i < 5; i++) step();
    expect(buffers()).toBe(before);
    tf.dispose([W, x]);
  });

  it('native and TypeScript Adam loops agree', (ctx) => {
    const { kernels, why } = nativeKernels();
    skipWhen(ctx, kernels ? null : `the native addon is not loaded: ${why}`);
    const n = 1003;
    const arrays = () => ({
      w: Float32Array.from({ length: n }, (_, i) => Math.sin(i)),
      m: Float32Array.from({ length: n }, (_, i) => 0.01 * Math.cos(i)),
      v: Float32Array.from({ length: n }, (_, i) => 0.001 * (1 + Math.sin(3 * i))),
      out: new Float32Array(n),
    });
    const g = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.3));
    const a = arrays();
    const b = arrays();
    nativeKernels().kernels!.adam(a.w, g, a.m, a.v, a.out, [0.01, 0.9, 0.999, 1e-7, 1 - 0.9 ** 3, 1 - 0.999 ** 3]);
    adamStep(b.w, g, b.m, b.v, b.out, 0.01, 0.9, 0.999, 1e-7, 1 - 0.9 ** 3, 1 - 0.999 ** 3);
    for (const k of ['out', 'm', 'v'] as const) for (let i = 0; i < n; i++) expect(a[k][i]).toBeCloseTo(b[k][i], 5);
    expect(a.out[0]).not.toBe(a.w[0]);
  });
});
