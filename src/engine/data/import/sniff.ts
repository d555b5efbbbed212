// What a file is, by its first bytes (magic numbers), and what its name claims.
// The content decides; a name that disagrees is reported, never trusted.
import { inflateCapped, overBudget, peekInflate, promisedSize, remaining, unpackBudget, type UnpackBudget } from './budget';
import { fail, num } from './errors';
import { looksLikeJson } from './json';

export type Format = 'idx' | 'npy' | 'npz' | 'png' | 'jpeg' | 'wav' | 'csv' | 'json' | 'text';

export const FORMAT_NAMES: Record<Format, string> = {
  idx: 'IDX', npy: 'NPY', npz: 'NPZ', png: 'PNG image', jpeg: 'JPEG image', wav: 'WAV audio', csv: 'CSV', json: 'JSON', text: 'plain text',
};

const IDX_TYPES = new Set([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e]);

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** the format the bytes announce, or null when no magic number matches */
export function sniff(b: Uint8Array): Exclude<Format, 'csv' | 'json' | 'text'> | null {
  const ascii = (o: number, s: string) => b.length >= o + s.length && [...s].every((c, i) => b[o + i] === c.charCodeAt(0));
  if (b.length >= 6 && b[0] === 0x93 && ascii(1, 'NUMPY')) return 'npy';
  if (ascii(0, 'PK\x03\x04') || ascii(0, 'PK\x05\x06')) return 'npz';
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, 'RIFF') && ascii(8, 'WAVE')) return 'wav';
  if (b.length >= 4 && b[0] === 0 && b[1] === 0 && IDX_TYPES.has(b[2]) && b[3] >= 1 && b[3] <= 16) return 'idx';
  return null;
}

/** the format a file name claims (after a .gz suffix is dropped), or null */
export function formatOfName(name: string): Format | null {
  const n = name.toLowerCase().replace(/\.gz$/, '');
  if (/\.npy$/.test(n)) return 'npy';
  if (/\.npz$/.test(n)) return 'npz';
  if (/\.png$/.test(n)) return 'png';
  if (/\.jpe?g$/.test(n)) return 'jpeg';
  if (/\.wav$/.test(n)) return 'wav';
  if (/\.(csv|tsv)$/.test(n)) return 'csv';
  if (/\.json$/.test(n)) return 'json';
  if (/\.(txt|text|md)$/.test(n)) return 'text';
  if (/\.idx\d*$|idx\d+-u?byte$|-ubyte$/.test(n)) return 'idx';
  return null;
}

/** true when the bytes look like text: no NUL and few control characters in the first 8 KiB */
export function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 8192);
  let control = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i];
    if (c === 0) return false;
    if (c < 32 && c !== 9 && c !== 10 && c !== 13 && c !== 12) control++;
  }
  return control <= n * 0.01;
}

export const hexStart = (b: Uint8Array): string =>
  Array.from(b.subarray(0, 8), (x) => x.toString(16).padStart(2, '0')).join(' ') || '(empty file)';

/**
 * Gunzips when the bytes start with 1f 8b, within the file's unpack budget (see
 * budget.ts): a size the stream's header (IDX, NPY) or trailer promises is checked
 * before anything is unpacked, and the output is capped at it while unpacking.
 */
export function maybeGunzip(file: string, b: Uint8Array, budget: UnpackBudget = unpackBudget(file, b.length)): { bytes: Uint8Array; gzipped: boolean } {
  if (!isGzip(b)) return { bytes: b, gzipped: false };
  const head = peekInflate('gzip', b);
  const promise = promisedSize(head);
  let cap = remaining(budget);
  if (promise) {
    if (promise.bytes > cap) overBudget(budget, `the gzip stream's ${promise.what} header promises`, promise.bytes, false);
    // a little more than the promise, so a few stray bytes after the data are reported as such
    cap = Math.min(cap, promise.bytes + 65536);
  } else {
    // ISIZE: the last member's size mod 2^32, never more than what the stream unpacks to
    const isize = b.length >= 18 ? new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(b.length - 4, true) : 0;
    if (isize > cap) overBudget(budget, 'the gzip trailer says the stream unpacks to', isize, false);
    // binary content without a magic number is refused whole: no need to unpack it first
    if (head.length >= 16 && sniff(head) === null && head.subarray(0, 8192).includes(0)) classify(file, head);
  }
  let out: Buffer | null;
  try {
    out = inflateCapped('gzip', b, cap, promise?.bytes);
  } catch (e) {
    const msg = (e as Error).message;
    if (/unexpected end/i.test(msg)) fail(file, `truncated gzip stream (${num(b.length)} bytes; the compressed data ends early)`);
    fail(file, `corrupt gzip stream: ${msg}`);
  }
  if (out === null) {
    if (promise) fail(file, `the gzip stream unpacks to more than the ${num(promise.bytes)} bytes its ${promise.what} header promises (unpacking stopped at ${num(cap)})`);
    overBudget(budget, 'the gzip stream unpacks to', cap, true);
  }
  budget.used += out.length;
  return { bytes: out, gzipped: true };
}

export interface Sniffed {
  format: Format;
  bytes: Uint8Array;
  gzipped: boolean;
  /** set when the name claims another format than the content */
  note?: string;
  /** what the file may still unpack to (an NPZ's deflated entries draw on it) */
  budget: UnpackBudget;
}

/** Decides a file's format from its (gunzipped) content, checking the name against it. */
export function identify(file: string, raw: Uint8Array): Sniffed {
  const budget = unpackBudget(file, raw.length);
  const { bytes, gzipped } = maybeGunzip(file, raw, budget);
  return { ...classify(file, bytes), bytes, gzipped, budget };
}

/** The format of (the first bytes of) unpacked content and a note where the name disagrees; refuses what no reader takes. */
function classify(file: string, bytes: Uint8Array): { format: Format; note?: string } {
  const byName = formatOfName(file);
  const byContent = sniff(bytes);
  if (byContent) {
    const note =
      byName && byName !== byContent && !(byName === 'npy' && byContent === 'npz')
        ? `the name says ${FORMAT_NAMES[byName]} but the content is ${FORMAT_NAMES[byContent]} (read as ${FORMAT_NAMES[byContent]})`
        : undefined;
    return { format: byContent, note };
  }
  // no magic number: only text formats may lack one
  if (byName && byName !== 'csv' && byName !== 'json' && byName !== 'text') {
    fail(file, `not a valid ${FORMAT_NAMES[byName]} file: its first bytes (${hexStart(bytes)}) are not ${FORMAT_NAMES[byName]}'s signature`);
  }
  if (!looksLikeText(bytes)) fail(file, `not a format this importer reads (IDX, NPY, NPZ, PNG, JPEG, WAV, CSV, JSON, text): its first bytes are ${hexStart(bytes)}`);
  // a file without a known extension that opens a JSON array or object is read as JSON (and refused as data if it is not numbers)
  return { format: byName ?? (looksLikeJson(bytes) ? 'json' : 'text') };
}
