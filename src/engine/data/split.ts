import { createHash } from 'node:crypto';
import { permutation, mulberry32 } from '../util/rng';
import type { Split } from './types';

/** Fixed 80/10/10 split of `n` rows after a shuffle with `seed`. */
export function splitRows(
  all: Float32Array,
  n: number,
  dim: number,
  seed: number,
): { train: Split; val: Split; test: Split } {
  const perm = permutation(n, mulberry32(seed));
  const nVal = Math.round(n * 0.1);
  const nTest = Math.round(n * 0.1);
  const nTrain = n - nVal - nTest;
  const take = (from: number, count: number): Split => {
    const x = new Float32Array(count * dim);
    for (let i = 0; i < count; i++) {
      const src = perm[from + i];
      x.set(all.subarray(src * dim, (src + 1) * dim), i * dim);
    }
    return { x, n: count };
  };
  return { train: take(0, nTrain), val: take(nTrain, nVal), test: take(nTrain + nVal, nTest) };
}

export function fingerprint(parts: unknown): string {
  return createHash('sha1').update(JSON.stringify(parts)).digest('hex');
}
