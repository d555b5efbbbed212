// Interpolation strips: decode the codes on a path between two fixed endpoints.
// Endpoints come from data where the model can encode (a VAE's posterior means of
// the first two validation images, which every run on the same split shares) and
// from the run's sample seed otherwise (a GAN's prior). Prior draws are joined by
// a great-circle path (slerp): a straight line between two Gaussian draws passes
// through codes of atypically small norm.
import * as tf from '@tensorflow/tfjs';
import type { Model } from '../models/types';

/** frames decoded between (and including) the two endpoints */
export const INTERPOLATION_FRAMES = 10;

export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
  return out;
}

export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb || 1)));
  const theta = Math.acos(cos);
  // nearly parallel, or opposite (no unique great circle): the straight line
  if (theta < 1e-4 || Math.abs(Math.sin(theta)) < 1e-6) return lerp(a, b, t);
  const wa = Math.sin((1 - t) * theta) / Math.sin(theta);
  const wb = Math.sin(t * theta) / Math.sin(theta);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

export interface Endpoints {
  /** 'data': encodings of two validation examples (shown at both ends); 'prior': two draws */
  from: 'data' | 'prior';
  a: Float32Array;
  b: Float32Array;
  /** the two examples, [2, D], when from = 'data' */
  examples: Float32Array | null;
}

export async function interpolationEndpoints(model: Model, val: Float32Array, dim: number, seed: number): Promise<Endpoints> {
  if (model.encodeMean && val.length >= 2 * dim) {
    const examples = val.slice(0, 2 * dim);
    const x = tf.tensor2d(examples, [2, dim]);
    let z: tf.Tensor2D;
    try {
      z = await model.encodeMean(x);
    } finally {
      x.dispose();
    }
    const codes = (await z.data()) as Float32Array;
    z.dispose();
    const L = codes.length / 2;
    return { from: 'data', a: codes.slice(0, L), b: codes.slice(L), examples };
  }
  const z = model.noise(2, seed);
  const codes = (await z.data()) as Float32Array;
  z.dispose();
  const L = codes.length / 2;
  return { from: 'prior', a: codes.slice(0, L), b: codes.slice(L), examples: null };
}

/**
 * The strip's images [n, D] in [0,1]: decoded frames, with the two examples at the
 * ends when the endpoints came from data.
 */
export async function interpolationStrip(model: Model, ends: Endpoints, dim: number, frames = INTERPOLATION_FRAMES): Promise<{ values: Float32Array; n: number }> {
  const L = ends.a.length;
  const path = ends.from === 'data' ? lerp : slerp;
  const codes = new Float32Array(frames * L);
  for (let k = 0; k < frames; k++) codes.set(path(ends.a, ends.b, frames === 1 ? 0 : k / (frames - 1)), k * L);
  const z = tf.tensor2d(codes, [frames, L]);
  const x = await model.sample(frames, z, 0);
  const decoded = (await x.data()) as Float32Array;
  tf.dispose([z, x]);
  if (!ends.examples) return { values: decoded, n: frames };
  const values = new Float32Array((frames + 2) * dim);
  values.set(ends.examples.subarray(0, dim), 0);
  values.set(decoded, dim);
  values.set(ends.examples.subarray(dim, 2 * dim), (frames + 1) * dim);
  return { values, n: frames + 2 };
}
