// The engine's counter-based random draws (src/engine/ops/random.ts): native on
// wasm, JS elsewhere, the same numbers for the same seed on every backend, and
// the right distributions.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { bernoulli, normal, uniform } from '../../../../src/engine/ops/random';

const N = 100_000; // large enough that the native path splits it over threads

async function on<T>(backend: string, f: () => T): Promise<T> {
  await tf.setBackend(backend);
  return f();
}

describe('engine random draws', () => {
  it('give the same numbers for the same seed on wasm (native) and cpu (JS), and new ones for a new seed', async () => {
    await selectBackend('wasm');
    const p = Float32Array.from({ length: N }, (_, i) => (i % 100) / 100);
    const draws = () =>
      tf.tidy(() => [uniform([N], 7), bernoulli(tf.tensor1d(p), 7), normal([N], 7), uniform([N], 8)].map((t) => Float32Array.from(t.dataSync())));
    const w = await on('wasm', draws);
    const c = await on('cpu', draws);
    expect(w[0]).toEqual(c[0]);
    expect(w[1]).toEqual(c[1]);
    let worst = 0;
    for (let i = 0; i < N; i++) worst = Math.max(worst, Math.abs(w[2][i] - c[2][i]));
    expect(worst).toBeLessThan(1e-5);
    expect(w[3]).not.toEqual(w[0]);
    await tf.setBackend('wasm');
  });

  it('have the right distributions: uniform on [0, 1), standard normal, Bernoulli(p)', async () => {
    await selectBackend('wasm');
    const u = uniform([N], 1).dataSync();
    const z = normal([N], 2).dataSync();
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    const variance = (a: ArrayLike<number>) => {
      const m = mean(a);
      return mean(Array.from(a, (v) => (v - m) ** 2));
    };
    expect(u.every((v) => v >= 0 && v < 1)).toBe(true);
    expect(mean(u)).toBeCloseTo(0.5, 2);
    expect(variance(u)).toBeCloseTo(1 / 12, 2);
    expect(mean(z)).toBeCloseTo(0, 1);
    expect(variance(z)).toBeCloseTo(1, 1);
    // P(|z| > 1.96) ≈ 5%
    expect(Array.from(z).filter((v) => Math.abs(v) > 1.96).length / N).toBeCloseTo(0.05, 2);
    for (const q of [0, 0.13, 0.5, 1]) {
      const b = bernoulli(tf.fill([N], q), 3).dataSync();
      expect(Array.from(b).every((v) => v === 0 || v === 1)).toBe(true);
      expect(mean(b)).toBeCloseTo(q, 2);
    }
    // scaled draws and no gradient through a sample
    expect(mean(uniform([N], 4, -2, 2).dataSync())).toBeCloseTo(0, 1);
    expect(variance(normal([N], 5, 3, 0.5).dataSync())).toBeCloseTo(0.25, 2);
    const g = tf.grad((q: tf.Tensor) => tf.sum(tf.mul(bernoulli(q, 6), q)))(tf.fill([10], 0.5));
    expect(Array.from(g.dataSync()).every((v) => v === 0 || v === 1)).toBe(true);
  });
});
