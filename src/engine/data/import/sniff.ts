// What a file is, by its first bytes (magic numbers), and what its name claims.
// The content decides; a name that disagrees is reported, never trusted.
import { gunzipSync } from 'node:zlib';
import { fail, num } from './errors';

export type Format = 'idx' | 'npy' | 'npz' | 'png' | 'jpeg' | 'wav' | 'csv' | 'text';

export const FORMAT_NAMES: Record<Format, string> = {
  idx: 'IDX', npy: 'NPY', npz: 'NPZ', png: 'PNG image', jpeg: 'JPEG image', wav: 'WAV audio', csv: 'CSV', text: 'plain text',
};

/** the largest decompressed size accepted from a .gz file */
export const MAX_GUNZIP = 2 ** 31 - 1;

const IDX_TYPES = new Set([0x08, 0x09, 0x0b, 0x0c, 0x0d, 0x0e]);

export function isGzip(b: Uint8Array): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** the format the bytes announce, or null when no magic number matches */
export function sniff(b: Uint8Array): Exclude<Format, 'csv' | 'text'> | null {
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

/** gunzips when the bytes start with 1f 8b; the size is capped before memory is spent */
export function maybeGunzip(file: string, b: Uint8Array): { bytes: Uint8Array; gzipped: boolean } {
  if (!isGzip(b)) return { bytes: b, gzipped: false };
  try {
    return { bytes: gunzipSync(b, { maxOutputLength: MAX_GUNZIP }), gzipped: true };
  } catch (e) {
    const msg = (e as Error).message;
    if (/unexpected end/i.test(msg)) fail(file, `truncated gzip stream (${num(b.length)} bytes; the compressed data ends early)`);
    if (/maxOutputLength|Cannot create a Buffer|buffer/i.test(msg)) fail(file, `the gzip stream unpacks to more than ${num(MAX_GUNZIP)} bytes`);
    fail(file, `corrupt gzip stream: ${msg}`);
  }
}

export interface Sniffed {
  format: Format;
  bytes: Uint8Array;
  gzipped: boolean;
  /** set when the name claims another format than the content */
  note?: string;
}

/** Decides a file's format from its (gunzipped) content, checking the name against it. */
export function identify(file: string, raw: Uint8Array): Sniffed {
  const { bytes, gzipped } = maybeGunzip(file, raw);
  const byName = formatOfName(file);
  const byContent = sniff(bytes);
  if (byContent) {
    const note =
      byName && byName !== byContent && !(byName === 'npy' && byContent === 'npz')
        ? `the name says ${FORMAT_NAMES[byName]} but the content is ${FORMAT_NAMES[byContent]} (read as ${FORMAT_NAMES[byContent]})`
        : undefined;
    return { format: byContent, bytes, gzipped, note };
  }
  // no magic number: only text formats may lack one
  if (byName && byName !== 'csv' && byName !== 'text') {
    fail(file, `not a valid ${FORMAT_NAMES[byName]} file: its first bytes (${hexStart(bytes)}) are not ${FORMAT_NAMES[byName]}'s signature`);
  }
  if (!looksLikeText(bytes)) fail(file, `not a format this importer reads (IDX, NPY, NPZ, PNG, JPEG, WAV, CSV, text): its first bytes are ${hexStart(bytes)}`);
  return { format: byName ?? 'text', bytes, gzipped };
}
