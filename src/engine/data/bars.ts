// Bars and stripes (MacKay; Ackley, Hinton & Sejnowski's test bed for Boltzmann
// machines): size x size binary images in which either whole rows or whole columns
// are on. There are 2^(size+1) - 2 distinct patterns (the empty and the full image
// are both a "bars" and a "stripes" pattern). Here the data distribution is uniform
// over the distinct patterns, so its entropy is exactly log(#patterns) nats: the
// lowest NLL any model can reach, which a notebook can draw as a floor.
// Every split holds each pattern the same number of times (shuffled with the seed),
// so a split's empirical distribution is the data distribution itself.
import { mulberry32, permutation } from '../util/rng';
import { fingerprint } from './split';
import type { Split } from './types';

export type BarsOptions = LatentLab.BarsOptions;

/**
 * The distinct bars-and-stripes patterns of a size x size image, row-major 0/1:
 * first every subset of rows switched on (stripes, including empty and full), then
 * every subset of columns (bars) other than the empty and the full one.
 */
export function barsAndStripesPatterns(size: number): Float32Array[] {
  if (!Number.isInteger(size) || size < 2 || size > 8) throw new Error(`lab.data.barsAndStripes: size must be an integer from 2 to 8, got ${size}`);
  const out: Float32Array[] = [];
  const all = (1 << size) - 1;
  for (let m = 0; m <= all; m++) {
    const x = new Float32Array(size * size);
    for (let r = 0; r < size; r++) if ((m >> r) & 1) for (let c = 0; c < size; c++) x[r * size + c] = 1;
    out.push(x);
  }
  for (let m = 1; m < all; m++) {
    const x = new Float32Array(size * size);
    for (let c = 0; c < size; c++) if ((m >> c) & 1) for (let r = 0; r < size; r++) x[r * size + c] = 1;
    out.push(x);
  }
  return out;
}

function repeatedSplit(patterns: Float32Array[], repeats: number, dim: number, seed: number): Split {
  const n = patterns.length * repeats;
  const perm = permutation(n, mulberry32(seed));
  const x = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) x.set(patterns[perm[i] % patterns.length], i * dim);
  return { x, n };
}

const cache = new Map<string, LatentLab.BarsDataset>();

export function barsAndStripes(opts: BarsOptions = {}): LatentLab.BarsDataset {
  const size = opts.size ?? 3;
  const repeats = Math.floor(opts.repeats ?? 64);
  const evalRepeats = Math.floor(opts.evalRepeats ?? 8);
  const seed = Math.floor(opts.seed ?? 0);
  if (!(repeats >= 1) || !(evalRepeats >= 1)) throw new Error('lab.data.barsAndStripes: repeats and evalRepeats must be >= 1');
  const key = JSON.stringify([size, repeats, evalRepeats, seed]);
  const hit = cache.get(key);
  if (hit) return hit;
  const patterns = barsAndStripesPatterns(size);
  const dim = size * size;
  const count = patterns.length;
  const entropy = Math.log(count);
  const train = repeatedSplit(patterns, repeats, dim, seed);
  const val = repeatedSplit(patterns, evalRepeats, dim, seed + 1);
  const test = repeatedSplit(patterns, evalRepeats, dim, seed + 2);
  const settings: LatentLab.BarsSettings = {
    size,
    repeats,
    evalRepeats,
    seed,
    /** distinct patterns, each equally likely */
    patterns: count,
    /** entropy of the data distribution in nats: the lowest NLL a model can reach */
    entropy,
    /** the same in bits per pixel */
    entropyBitsPerDim: entropy / (dim * Math.LN2),
  };
  const name = 'bars-and-stripes';
  const ds: LatentLab.BarsDataset = {
    name,
    kind: 'image',
    shape: [size, size],
    dim,
    binary: true,
    train,
    val,
    test,
    settings,
    fingerprint: fingerprint({ name, ...settings, sizes: [train.n, val.n, test.n] }),
  };
  cache.set(key, ds);
  return ds;
}
