// Text for character-level models: rows of `length` symbols over a fixed vocabulary
// (newline plus printable ASCII; tabs become spaces and anything else '?'), so runs
// on different texts still share symbol indices. The embedded corpus is the
// TypeScript standard library declarations that ship with the `typescript` package
// (doc comments in English and declarations: code and prose). A file or a string
// of one's own works the same way.
import fs from 'node:fs';
import path from 'node:path';
import { nodeRequire } from '../util/node-require';
import { fingerprint } from './split';
import type { Dataset } from './types';
import { sequenceDataset, wholeAtLeast } from './waveforms';

/** index 0 is newline, then ' ' (32) to '~' (126) */
export const TEXT_VOCAB = '\n' + Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');
const UNKNOWN = TEXT_VOCAB.indexOf('?');

export function encodeText(s: string): Int32Array {
  const out = new Int32Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[i] = c === 10 ? 0 : c === 9 ? 1 : c >= 32 && c <= 126 ? c - 31 : UNKNOWN;
  }
  return out;
}

export function decodeText(codes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < codes.length; i++) s += TEXT_VOCAB[codes[i]] ?? '?';
  return s;
}

export type TextOptions = LatentLab.TextOptions;

const cache = new Map<string, Dataset>();

/** the embedded corpus: TypeScript's lib.es5 and lib.es2015.* declarations */
export function typescriptLibText(): string {
  let dir: string;
  try {
    dir = path.dirname(nodeRequire().resolve('typescript/lib/lib.es5.d.ts'));
  } catch {
    throw new Error("lab.data.text: the embedded corpus comes from the 'typescript' package, which is not installed here; pass { file } or { text }");
  }
  const names = fs.readdirSync(dir).filter((f) => f === 'lib.es5.d.ts' || /^lib\.es2015\.[a-z.]+\.d\.ts$/.test(f)).sort();
  // the licence header repeats in every file: drop it
  return names.map((f) => fs.readFileSync(path.join(dir, f), 'utf8').replace(/^\/\*![\s\S]*?\*\/\s*/, '')).join('\n');
}

export function textDataset(opts: TextOptions = {}): Dataset {
  const length = wholeAtLeast(opts.length ?? 128, 4, 'length');
  if (opts.text !== undefined && typeof opts.text !== 'string') throw new Error('lab.data.text: text must be a string');
  if (opts.file !== undefined && typeof opts.file !== 'string') throw new Error('lab.data.text: file must be a path');
  let source: string;
  let raw: string;
  if (opts.text !== undefined) {
    source = 'text';
    raw = opts.text;
  } else if (opts.file !== undefined) {
    source = path.basename(opts.file);
    try {
      raw = fs.readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new Error(`lab.data.text: cannot read ${opts.file}: ${(e as Error).message}`);
    }
  } else {
    source = 'typescript-lib';
    raw = typescriptLibText();
  }
  const content = fingerprint(raw);
  const key = JSON.stringify([content, length, opts.limit ?? null]);
  const hit = cache.get(key);
  if (hit) return hit;
  const codes = encodeText(raw.replace(/\r\n/g, '\n'));
  let n = Math.floor(codes.length / length);
  if (opts.limit !== undefined) n = Math.min(n, wholeAtLeast(opts.limit, 10, 'limit'));
  if (n < 10) throw new Error(`lab.data.text: ${codes.length} characters make ${n} rows of ${length}; at least 10 are needed (a longer text or a shorter length)`);
  const all = new Float32Array(n * length);
  for (let i = 0; i < n * length; i++) all[i] = codes[i];
  const settings = { source, length, limit: opts.limit ?? null, characters: codes.length, content, vocab: 'newline + printable ASCII (96)' };
  const ds = sequenceDataset(source === 'typescript-lib' ? 'text' : `text:${source}`, all, n, length, TEXT_VOCAB.length, settings, 7, { vocab: TEXT_VOCAB });
  cache.set(key, ds);
  return ds;
}
