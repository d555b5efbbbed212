// Arrays of rows → the engine's Dataset: scaling to [0, 1] for images, optional
// binarization, a seeded subset, labels shuffled with their rows, the 80/10/10 split.
import { createHash } from 'node:crypto';
import { mulberry32, permutation } from '../../util/rng';
import { fingerprint, splitRows } from '../split';
import type { Dataset, Split } from '../types';
import { fail, num } from './errors';
import type { NdArray } from './ndarray';

/** how rows become a dataset: the declared options of lab.data.load that shape them */
export type ShapeOptions = Pick<LatentLab.LoadOptions, 'kind' | 'scale' | 'color' | 'binarize' | 'levels' | 'limit' | 'splitSeed'>;

/** the rows of a dataset before the split */
export interface Rows {
  kind: 'image' | 'points' | 'sequence';
  shape: number[];
  data: Float32Array;
  n: number;
  labels: Uint8Array | null;
  classNames: string[] | null;
  levels?: number;
  extra?: Partial<Dataset>;
  /** what was done to the values (recorded in settings) */
  settings: Record<string, unknown>;
}

export const MIN_ROWS = 10;

export function valueRange(a: Float32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min: a.length ? min : 0, max: a.length ? max : 0 };
}

/** An array [n, ...] (IDX, NPY, NPZ) as rows of the right kind. */
export function arrayRows(file: string, x: NdArray, labels: Uint8Array | null, opts: ShapeOptions): Rows {
  if (x.shape.length === 0) fail(file, 'the array is a scalar; a dataset needs rows ([n, ...])');
  const n = x.shape[0];
  let rest = x.shape.length === 1 ? [1] : x.shape.slice(1);
  let data = x.data;
  const per = n > 0 ? data.length / n : 1;
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) fail(file, `row ${num(Math.floor(i / per))} holds ${data[i]}; the data must be finite numbers`);
  const kind = opts.kind ?? (rest.length >= 2 ? 'image' : 'points');
  const settings: Record<string, unknown> = { dtype: x.dtype, stored: x.shape };
  if (kind === 'image') {
    // channels first [n, C, h, w] (C = 1 or 3) → channels last
    if (rest.length === 3 && (rest[0] === 1 || rest[0] === 3) && ![1, 3, 4].includes(rest[2])) {
      const [C, h, w] = rest;
      const t = new Float32Array(data.length);
      for (let r = 0; r < n; r++) for (let c = 0; c < C; c++) for (let p = 0; p < h * w; p++) t[r * C * h * w + p * C + c] = data[r * C * h * w + c * h * w + p];
      data = t;
      rest = [h, w, C];
      settings.layout = 'channels first → last';
    }
    if (rest.length === 3 && rest[2] === 1) rest = [rest[0], rest[1]];
    if (rest.length === 3 && rest[2] === 4) {
      const [h, w] = rest;
      const t = new Float32Array(n * h * w * 3);
      for (let p = 0; p < n * h * w; p++) for (let c = 0; c < 3; c++) t[3 * p + c] = data[4 * p + c];
      data = t;
      rest = [h, w, 3];
      settings.alpha = 'dropped';
    }
    if (rest.length !== 2 && !(rest.length === 3 && rest[2] === 3)) fail(file, `rows of shape [${rest.join(', ')}] are not images ([h, w], [h, w, 1|3|4] or [1|3, h, w]); pass { kind: 'points' } to use them as flat vectors`);
    const { min, max } = valueRange(data);
    const scale = opts.scale ?? (min >= 0 && max <= 1 ? 1 : min >= 0 && max <= 255 ? 255 : NaN);
    if (!(scale > 0)) fail(file, `values range from ${min} to ${max}, neither [0, 1] nor [0, 255] as images need: pass { scale: N } to divide by N, or { kind: 'points' } to keep them as they are`);
    if (scale !== 1) {
      const t = new Float32Array(data.length);
      for (let i = 0; i < t.length; i++) t[i] = data[i] / scale;
      data = t;
    }
    settings.scale = scale;
    if (opts.color === 'gray' && rest.length === 3) {
      const [h, w] = rest;
      const t = new Float32Array(n * h * w);
      for (let p = 0; p < n * h * w; p++) t[p] = 0.299 * data[3 * p] + 0.587 * data[3 * p + 1] + 0.114 * data[3 * p + 2];
      data = t;
      rest = [h, w];
    }
    return { kind, shape: rest, data, n, labels, classNames: null, settings };
  }
  const dim = rest.reduce((a, b) => a * b, 1);
  if (kind === 'sequence') {
    const { min, max } = valueRange(data);
    for (let i = 0; i < data.length; i++) if (!Number.isInteger(data[i])) fail(file, `sequence values must be whole symbols 0, 1, 2, ...; value ${num(i)} is ${data[i]}`);
    if (min < 0) fail(file, `sequence values must be symbols >= 0; the smallest is ${min}`);
    const levels = opts.levels ?? max + 1;
    if (max >= levels) fail(file, `a value ${max} is out of range for levels = ${levels}`);
    return { kind, shape: [dim], data, n, labels, classNames: null, levels, settings: { ...settings, levels } };
  }
  return { kind: 'points', shape: [dim], data, n, labels, classNames: null, settings };
}

/** A label array: n whole numbers in 0..255. */
export function labelRows(file: string, y: NdArray, n: number): Uint8Array {
  const count = y.data.length;
  if (y.shape.length > 2 || (y.shape.length === 2 && y.shape[1] !== 1)) fail(file, `labels must be one number per row ([n] or [n, 1]); this array is [${y.shape.join(', ')}]`);
  if (count !== n) fail(file, `${num(count)} labels for ${num(n)} rows of data`);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = y.data[i];
    if (!Number.isInteger(v) || v < 0 || v > 255) fail(file, `label ${num(i)} is ${v}; labels must be whole numbers 0..255`);
    out[i] = v;
  }
  return out;
}

/** content hash of files: their bytes (and, for folders, their relative paths) in order */
export function contentHash(files: { rel: string | null; bytes: Uint8Array }[]): string {
  const h = createHash('sha256');
  for (const f of files) {
    if (f.rel !== null) h.update(`${f.rel}\0`);
    h.update(`${f.bytes.length}\0`);
    h.update(f.bytes);
  }
  return h.digest('hex');
}

/** Rows → Dataset with the seeded 80/10/10 split, labels kept with their rows. */
export function buildDataset(name: string, file: string, rows: Rows, content: string, settings: Record<string, unknown>, opts: ShapeOptions): Dataset {
  const dim = rows.shape.reduce((a, b) => a * b, 1);
  let { data, n, labels } = rows;
  if (n < MIN_ROWS) fail(file, `${n} row(s); a dataset needs at least ${MIN_ROWS} (80/10/10 split)`);
  const splitSeed = opts.splitSeed ?? 0;
  if (opts.limit !== undefined) {
    if (!Number.isInteger(opts.limit) || opts.limit < MIN_ROWS) fail(file, `limit must be a whole number >= ${MIN_ROWS} (got ${String(opts.limit)})`);
    if (opts.limit < n) {
      const pick = permutation(n, mulberry32(splitSeed + 0x5eed)).slice(0, opts.limit);
      const sub = new Float32Array(opts.limit * dim);
      pick.forEach((src, i) => sub.set(data.subarray(src * dim, (src + 1) * dim), i * dim));
      labels = labels ? Uint8Array.from(pick, (src) => labels![src]) : null;
      data = sub;
      n = opts.limit;
    }
  }
  const binarize = rows.kind === 'image' ? opts.binarize || false : false;
  if (binarize) {
    const rng = mulberry32(0);
    const t = new Float32Array(data.length);
    for (let i = 0; i < t.length; i++) t[i] = binarize === 'threshold' ? (data[i] > 0.5 ? 1 : 0) : rng.next() < data[i] ? 1 : 0;
    data = t;
  }
  let binary = true;
  for (let i = 0; i < data.length && binary; i++) binary = data[i] === 0 || data[i] === 1;
  const parts = splitRows(data, n, dim, splitSeed);
  const source = name;
  let splits: { train: Split; val: Split; test: Split } = {
    train: { ...parts.train, source },
    val: { ...parts.val, source },
    test: { ...parts.test, source },
  };
  let classes: number | undefined;
  let classNames: string[] | undefined;
  if (labels) {
    const ys = splitRows(Float32Array.from(labels), n, 1, splitSeed);
    splits = {
      train: { ...splits.train, y: Uint8Array.from(ys.train.x) },
      val: { ...splits.val, y: Uint8Array.from(ys.val.x) },
      test: { ...splits.test, y: Uint8Array.from(ys.test.x) },
    };
    const maxLabel = labels.reduce((m, v) => Math.max(m, v), 0);
    classNames = rows.classNames ?? Array.from({ length: maxLabel + 1 }, (_, i) => String(i));
    classes = classNames.length;
  }
  const allSettings = { ...settings, ...rows.settings, splitSeed, limit: opts.limit ?? null, binarize: binarize || null, content };
  const sizes = [splits.train.n, splits.val.n, splits.test.n];
  return {
    name,
    kind: rows.kind,
    shape: rows.shape,
    dim,
    binary,
    ...splits,
    settings: allSettings,
    ...(rows.levels !== undefined ? { levels: rows.levels } : {}),
    ...(classes !== undefined ? { classes, classNames } : {}),
    ...rows.extra,
    fingerprint: fingerprint({ name: 'import', ...allSettings, kind: rows.kind, shape: rows.shape, sizes }),
  };
}
