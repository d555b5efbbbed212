// JSON data files: numbers in arrays become a dataset, as an NPY file would; any
// other JSON is refused with what the file holds, never read silently as text.
//
// Read as data:
//   [0.1, 0.5, …]                  n rows of one value
//   [[x, y], [x, y], …]            n rows of equal length (points)
//   [[[…], …], …]                  n rows of one nested shape (e.g. 28×28 images)
//   {"x": <one of these>, "y": [labels]}
//                                  data under "x" (or "data"), labels under "y" (or
//                                  "labels"); { x: 'key', y: 'key' } name other keys
// Anything else (strings, objects of other keys, ragged or mixed arrays) is an error
// that says what the JSON holds. { kind: 'sequence' } on JSON that is not numbers reads
// the file's characters as text: the one way a user asks for text.
import { fail, num } from './errors';
import type { NdArray } from './ndarray';

export interface JsonData {
  x: NdArray;
  y: NdArray | null;
  /** where the data and labels were: '' for a top-level array, else the key */
  xName: string;
  yName: string | null;
  /** what the file holds, for the import's notes */
  what: string;
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'object' ? 'object' : typeof v);
const plural = (n: number, one: string) => `${num(n)} ${n === 1 ? one : `${one}s`}`;

/** "a JSON object with keys a, b", "a JSON array of 3 strings", …: what a JSON value is, in a few words */
export function describeJson(v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return 'an empty JSON array';
    const kinds = [...new Set(v.map(typeName))];
    if (kinds.length > 1) return `a JSON array of ${num(v.length)} items mixing ${kinds.map((k) => `${k}s`).join(' and ')}`;
    if (kinds[0] !== 'array') return `a JSON array of ${plural(v.length, kinds[0])}`;
    const lengths = [...new Set((v as unknown[][]).map((a) => a.length))];
    const inner = [...new Set((v as unknown[][]).flatMap((a) => a.map(typeName)))];
    const of = inner.length === 0 ? 'nothing' : inner.map((t) => `${t}s`).join(' and ');
    return lengths.length === 1 ? `a JSON array of ${plural(v.length, 'array')} of ${num(lengths[0])} ${of}` : `a JSON array of ${plural(v.length, 'array')} of different lengths (${of})`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return 'an empty JSON object';
    const shown = keys.slice(0, 6).join(', ') + (keys.length > 6 ? `, … (${num(keys.length)} keys)` : '');
    return `a JSON object with ${keys.length === 1 ? 'key' : 'keys'} ${shown}`;
  }
  if (typeof v === 'string') return `a JSON string (${plural(v.length, 'character')})`;
  return `a JSON ${typeName(v)}`;
}

export const WHAT_WE_READ = 'Latent Lab reads JSON arrays of numbers ([1, 2, …]), arrays of equal-length arrays of numbers ([[x, y], …]), or an object whose "x" holds one (labels in "y")';
const AS_TEXT = "to read the file as text, pass { kind: 'sequence' }";

/** A JSON value as an n-d array of finite numbers; a clear error naming the first item that is not one. */
function toNdArray(file: string, v: unknown, where: string): NdArray {
  if (!Array.isArray(v)) fail(file, `${where} is ${describeJson(v)}, not an array of numbers: ${WHAT_WE_READ}`);
  if (v.length === 0) fail(file, `${where} is an empty JSON array: a dataset needs rows`);
  // the shape from the first item at each depth, then every item checked against it
  const shape: number[] = [];
  for (let cur: unknown = v; Array.isArray(cur); cur = cur[0]) {
    if (cur.length === 0) fail(file, `${where} holds an empty array at depth ${shape.length + 1}: rows need values`);
    shape.push(cur.length);
  }
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  let o = 0;
  let integer = true;
  const walk = (a: unknown, depth: number, path: string): void => {
    if (depth === shape.length) {
      if (typeof a !== 'number' || !Number.isFinite(a)) fail(file, `${where}${path} is ${describeJson(a)}; every value must be a number (${WHAT_WE_READ})`);
      if (!Number.isInteger(a)) integer = false;
      data[o++] = a;
      return;
    }
    if (!Array.isArray(a)) fail(file, `${where}${path} is ${describeJson(a)} where an array of ${num(shape[depth])} was expected: the rows must all have one shape`);
    if (a.length !== shape[depth]) fail(file, `${where}${path} has ${plural(a.length, 'item')} where ${where}${'[0]'.repeat(depth)} has ${num(shape[depth])}: the rows must all have one shape`);
    for (let i = 0; i < a.length; i++) walk(a[i], depth + 1, `${path}[${i}]`);
  };
  walk(v, 0, '');
  return { shape, data, dtype: 'json', integer };
}

/** The data (and labels) in a JSON file's text; refuses, saying what the file holds, where it is not numbers. */
export function parseJsonData(file: string, text: string, opts: { x?: string; y?: string | null } = {}): JsonData {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    fail(file, `not valid JSON (${(e as Error).message}): ${WHAT_WE_READ}; ${AS_TEXT}`);
  }
  if (Array.isArray(v)) {
    if (opts.x !== undefined || (opts.y !== undefined && opts.y !== null)) fail(file, `${describeJson(v)}: { x } and { y } name keys of a JSON object, and this file holds an array`);
    if (v.length === 0 || !(typeof v[0] === 'number' || Array.isArray(v[0]))) fail(file, `${describeJson(v)}: ${WHAT_WE_READ}; ${AS_TEXT}`);
    return { x: toNdArray(file, v, 'item'), y: null, xName: '', yName: null, what: describeJson(v) };
  }
  if (v === null || typeof v !== 'object') fail(file, `${describeJson(v)}: ${WHAT_WE_READ}; ${AS_TEXT}`);
  const obj = v as Record<string, unknown>;
  const pick = (asked: string | undefined, names: string[], opt: 'x' | 'y'): string | null => {
    if (asked === undefined) return names.find((k) => k in obj) ?? null;
    if (!(asked in obj)) fail(file, `no key "${asked}" in ${describeJson(v)}: { ${opt}: '${asked}' } names the key that holds the ${opt === 'x' ? 'data' : 'labels'}`);
    return asked;
  };
  const xName = pick(opts.x, ['x', 'data'], 'x');
  if (xName === null) fail(file, `${describeJson(v)}, none of them "x" or "data": ${WHAT_WE_READ}; name the key that holds the data with { x: 'key' }, or ${AS_TEXT}`);
  const yName = opts.y === null ? null : pick(opts.y, ['y', 'labels'], 'y');
  const x = toNdArray(file, obj[xName], `"${xName}"`);
  const y = yName === null ? null : toNdArray(file, obj[yName], `"${yName}"`);
  return { x, y, xName, yName, what: `${describeJson(v)}; data in "${xName}" (${describeJson(obj[xName]).replace(/^a JSON /, 'an ')})${yName ? `, labels in "${yName}"` : ', no labels'}` };
}

/** true when text's first non-blank character opens a JSON array or object */
export const looksLikeJson = (bytes: Uint8Array): boolean => {
  for (let i = 0; i < Math.min(bytes.length, 1024); i++) {
    const c = bytes[i];
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d || (i < 3 && (c === 0xef || c === 0xbb || c === 0xbf))) continue;
    return c === 0x5b || c === 0x7b;
  }
  return false;
};
