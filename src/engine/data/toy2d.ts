// Toy 2-D distributions with a fixed, seeded draw and the same 80/10/10 split as the
// image data. Mixtures expose their mode centres for sample metrics.
import { mulberry32, type Rng } from '../util/rng';
import { fingerprint, splitRows } from './split';
import type { Dataset } from './types';

export const TOY2D_NAMES = ['moons', '8gaussians', '25gaussians', 'rings', 'spirals', 'checkerboard'] as const;
export type Toy2dName = (typeof TOY2D_NAMES)[number];

export type Toy2dOptions = LatentLab.Toy2dOptions;

const DEFAULT_NOISE: Record<Toy2dName, number> = {
  moons: 0.1,
  '8gaussians': 0.05,
  '25gaussians': 0.05,
  rings: 0.05,
  spirals: 0.1,
  checkerboard: 0,
};

export function toyModes(name: Toy2dName): number[][] | undefined {
  if (name === '8gaussians') {
    const out: number[][] = [];
    for (let k = 0; k < 8; k++) out.push([2 * Math.cos((2 * Math.PI * k) / 8), 2 * Math.sin((2 * Math.PI * k) / 8)]);
    return out;
  }
  if (name === '25gaussians') {
    const out: number[][] = [];
    for (let i = -2; i <= 2; i++) for (let j = -2; j <= 2; j++) out.push([i, j]);
    return out;
  }
  return undefined;
}

function draw(name: Toy2dName, n: number, noise: number, rng: Rng): Float32Array {
  const x = new Float32Array(n * 2);
  const modes = toyModes(name);
  for (let i = 0; i < n; i++) {
    let a = 0;
    let b = 0;
    switch (name) {
      case 'moons': {
        const t = Math.PI * rng.next();
        if (i % 2 === 0) {
          a = Math.cos(t);
          b = Math.sin(t);
        } else {
          a = 1 - Math.cos(t);
          b = 0.5 - Math.sin(t);
        }
        a = (a - 0.5) * 1.5 + noise * rng.normal();
        b = (b - 0.25) * 1.5 + noise * rng.normal();
        break;
      }
      case '8gaussians':
      case '25gaussians': {
        const m = modes![rng.int(modes!.length)];
        a = m[0] + noise * rng.normal();
        b = m[1] + noise * rng.normal();
        break;
      }
      case 'rings': {
        const r = [0.5, 1, 1.5, 2][rng.int(4)];
        const t = 2 * Math.PI * rng.next();
        a = r * Math.cos(t) + noise * rng.normal();
        b = r * Math.sin(t) + noise * rng.normal();
        break;
      }
      case 'spirals': {
        const t = Math.sqrt(rng.next()) * 3 * Math.PI;
        const sign = i % 2 === 0 ? 1 : -1;
        a = (sign * t * Math.cos(t)) / 5 + noise * rng.normal();
        b = (sign * t * Math.sin(t)) / 5 + noise * rng.normal();
        break;
      }
      case 'checkerboard': {
        // 4x4 board on [-2,2]^2, uniform on the squares with an even (row + col)
        let ci = 0;
        let cj = 0;
        do {
          ci = rng.int(4);
          cj = rng.int(4);
        } while ((ci + cj) % 2 !== 0);
        a = ci - 2 + rng.next() + noise * rng.normal();
        b = cj - 2 + rng.next() + noise * rng.normal();
        break;
      }
    }
    x[2 * i] = a;
    x[2 * i + 1] = b;
  }
  return x;
}

const cache = new Map<string, Dataset>();

export function toy2d(name: string, opts: Toy2dOptions = {}): Dataset {
  if (!(TOY2D_NAMES as readonly string[]).includes(name)) {
    throw new Error(`lab.data.toy2d: unknown dataset '${name}' (one of ${TOY2D_NAMES.join(', ')})`);
  }
  const toy = name as Toy2dName;
  const n = Math.max(10, Math.floor(opts.n ?? 10000));
  const noise = opts.noise ?? DEFAULT_NOISE[toy];
  const seed = opts.seed ?? 0;
  const key = JSON.stringify([toy, n, noise, seed]);
  const hit = cache.get(key);
  if (hit) return hit;
  const all = draw(toy, n, noise, mulberry32(seed));
  const rowsOf = splitRows(all, n, 2, seed + 1);
  // each split names the distribution it was drawn from (lab.evaluate's sample metrics read it)
  const splits = { train: { ...rowsOf.train, source: toy }, val: { ...rowsOf.val, source: toy }, test: { ...rowsOf.test, source: toy } };
  const settings = { n, noise, seed };
  const ds: Dataset = {
    name: toy,
    kind: 'points',
    shape: [2],
    dim: 2,
    binary: false,
    ...splits,
    settings,
    fingerprint: fingerprint({ name: toy, ...settings, sizes: [splits.train.n, splits.val.n, splits.test.n] }),
    modes: toyModes(toy),
    modeStd: toyModes(toy) ? noise : undefined,
  };
  cache.set(key, ds);
  return ds;
}
