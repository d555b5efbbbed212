// Seeded initialisers. Every value is drawn from the run's Rng in row-major order, so
// the same seed gives the same weights whatever the backend.
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../util/rng';

/** the Glorot (Xavier) uniform limit √(6 / (fanIn + fanOut)) */
export const glorotLimit = (fanIn: number, fanOut: number): number => Math.sqrt(6 / (fanIn + fanOut));

/** `n` values drawn uniform(−limit, limit) */
export function uniformValues(n: number, limit: number, rng: Rng): Float32Array {
  const w = new Float32Array(n);
  for (let i = 0; i < n; i++) w[i] = (2 * rng.next() - 1) * limit;
  return w;
}

/** seeded Glorot-uniform values of a weight of `shape` with the given fan-in and fan-out */
export function glorot(shape: number[], fanIn: number, fanOut: number, rng: Rng): tf.Tensor {
  return tf.tensor(uniformValues(shape.reduce((a, b) => a * b, 1), glorotLimit(fanIn, fanOut), rng), shape);
}

/** A trainable [rows, cols] matrix with seeded uniform(−limit, limit) values. */
export function seededMatrix(rows: number, cols: number, limit: number, rng: Rng, name: string): tf.Variable {
  const w = uniformValues(rows * cols, limit, rng);
  // in a tidy: the variable holds the values, the tensor they came in is no one's
  return tf.tidy(() => tf.variable(tf.tensor2d(w, [rows, cols]), true, name));
}
