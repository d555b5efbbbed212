// NPZ: a zip of .npy files. We read the zip's central directory ourselves (end of
// central directory record → entries → local headers) and unpack stored or
// deflated entries; zip64 sizes (numpy writes zip64 local headers) are understood.
import { crc32 } from '../../util/png';
import { inflateCapped, overBudget, peekInflate, remaining, unpackBudget, type UnpackBudget } from './budget';
import { fail, MAX_VALUES, num } from './errors';
import type { NdArray } from './ndarray';
import { npyPromise, parseNpy } from './npy';

interface Entry {
  name: string;
  method: number;
  compressed: number;
  size: number;
  crc: number;
  offset: number;
}

export function readZip(file: string, b: Uint8Array): Entry[] {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  // the end of central directory record: 22 bytes plus a comment of up to 65535
  let eocd = -1;
  for (let o = b.length - 22; o >= Math.max(0, b.length - 22 - 65535); o--) {
    if (dv.getUint32(o, true) === 0x06054b50) {
      eocd = o;
      break;
    }
  }
  if (eocd < 0) fail(file, 'truncated or malformed zip (NPZ): no end-of-central-directory record (the file may be cut short)');
  let count = dv.getUint16(eocd + 10, true);
  let cdSize = dv.getUint32(eocd + 12, true);
  let cdOffset = dv.getUint32(eocd + 16, true);
  if ((count === 0xffff || cdOffset === 0xffffffff) && eocd >= 20 && dv.getUint32(eocd - 20, true) === 0x07064b50) {
    const z64 = Number(dv.getBigUint64(eocd - 12, true));
    if (z64 + 56 > b.length) fail(file, 'malformed zip64 locator');
    count = Number(dv.getBigUint64(z64 + 32, true));
    cdSize = Number(dv.getBigUint64(z64 + 40, true));
    cdOffset = Number(dv.getBigUint64(z64 + 48, true));
  }
  if (cdOffset + cdSize > b.length) fail(file, `truncated zip (NPZ): the central directory should span bytes ${num(cdOffset)}..${num(cdOffset + cdSize)}, the file has ${num(b.length)}`);
  if (count > cdSize / 46) fail(file, `malformed zip (NPZ): ${num(count)} entries cannot fit a ${num(cdSize)}-byte central directory`);
  const entries: Entry[] = [];
  let o = cdOffset;
  for (let i = 0; i < count; i++) {
    if (o + 46 > b.length || dv.getUint32(o, true) !== 0x02014b50) fail(file, `malformed zip (NPZ): central directory entry ${i + 1} is damaged`);
    const method = dv.getUint16(o + 10, true);
    const crc = dv.getUint32(o + 16, true);
    let compressed = dv.getUint32(o + 20, true);
    let size = dv.getUint32(o + 24, true);
    const nameLen = dv.getUint16(o + 28, true);
    const extraLen = dv.getUint16(o + 30, true);
    const commentLen = dv.getUint16(o + 32, true);
    let offset = dv.getUint32(o + 42, true);
    if (o + 46 + nameLen + extraLen > b.length) fail(file, `malformed zip (NPZ): central directory entry ${i + 1} runs past the end`);
    const name = new TextDecoder().decode(b.subarray(o + 46, o + 46 + nameLen));
    // zip64 extra field (id 1): the 0xffffffff fields, in order size, compressed, offset
    for (let e = o + 46 + nameLen; e + 4 <= o + 46 + nameLen + extraLen; ) {
      const id = dv.getUint16(e, true);
      const len = dv.getUint16(e + 2, true);
      if (id === 1) {
        let p = e + 4;
        const take = () => {
          if (p + 8 > e + 4 + len) fail(file, `malformed zip64 field of ${name}`);
          const v = Number(dv.getBigUint64(p, true));
          p += 8;
          return v;
        };
        if (size === 0xffffffff) size = take();
        if (compressed === 0xffffffff) compressed = take();
        if (offset === 0xffffffff) offset = take();
      }
      e += 4 + len;
    }
    entries.push({ name, method, compressed, size, crc, offset });
    o += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

/**
 * One entry's bytes. A deflated entry draws on the file's unpack budget (budget.ts):
 * the sizes the directory and the entry's NPY header promise are checked against it
 * (and against each other) before it is unpacked, and unpacking stops at the
 * directory's size.
 */
export function unzipEntry(file: string, b: Uint8Array, e: Entry, budget: UnpackBudget = unpackBudget(file, b.length)): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const where = `${file} (entry ${e.name})`;
  if (e.offset + 30 > b.length || dv.getUint32(e.offset, true) !== 0x04034b50) fail(where, 'malformed zip: the local header is missing or damaged');
  const start = e.offset + 30 + dv.getUint16(e.offset + 26, true) + dv.getUint16(e.offset + 28, true);
  if (start + e.compressed > b.length) fail(where, `truncated zip: the entry needs ${num(e.compressed)} bytes from offset ${num(start)}, the file has ${num(b.length)}`);
  if (e.size > MAX_VALUES * 8) fail(where, `the entry claims ${num(e.size)} bytes unpacked, more than one import may hold`);
  // the local header repeats the sizes (unless a data descriptor follows the data, flag bit 3, or zip64 holds them)
  if ((dv.getUint16(e.offset + 6, true) & 8) === 0) {
    const packed = dv.getUint32(e.offset + 18, true);
    const size = dv.getUint32(e.offset + 22, true);
    if (packed !== 0xffffffff && size !== 0xffffffff && (packed !== e.compressed || size !== e.size)) {
      fail(where, `malformed zip: the local header says ${num(packed)} bytes packed, ${num(size)} unpacked; the central directory says ${num(e.compressed)} and ${num(e.size)}`);
    }
  }
  const raw = b.subarray(start, start + e.compressed);
  let out: Uint8Array;
  if (e.method === 0) {
    if (e.compressed !== e.size) fail(where, 'malformed zip: a stored entry whose sizes disagree');
    out = raw;
  } else if (e.method === 8) {
    if (e.size > remaining(budget)) overBudget(budget, `the entry ${e.name} would unpack to`, e.size, false, 'if the data really is this large, save it with np.savez (not np.savez_compressed), which stores the arrays as they are');
    const promise = npyPromise(peekInflate('deflate-raw', raw));
    if (promise !== null && promise !== e.size) {
      if (promise > remaining(budget)) overBudget(budget, `the NPY header of the entry ${e.name} promises`, promise, false);
      fail(where, `corrupt zip: the entry's NPY header promises ${num(promise)} bytes, the central directory says ${num(e.size)}`);
    }
    let inflated: Buffer | null;
    try {
      inflated = inflateCapped('deflate-raw', raw, e.size, e.size);
    } catch (err) {
      fail(where, `corrupt deflate data: ${(err as Error).message}`);
    }
    if (inflated === null) fail(where, `corrupt zip: the entry unpacks to more than the ${num(e.size)} bytes the directory says (unpacking stopped there)`);
    if (inflated.length !== e.size) fail(where, `corrupt zip: the entry unpacks to ${num(inflated.length)} bytes, the directory says ${num(e.size)}`);
    budget.used += inflated.length;
    out = inflated;
  } else fail(where, `zip compression method ${e.method} is not supported (stored and deflated entries are)`);
  if (((crc32(out) ^ 0xffffffff) >>> 0) !== e.crc) fail(where, 'corrupt zip: the CRC-32 of the unpacked entry does not match');
  return out;
}

export const DATA_NAMES = ['x', 'images', 'data', 'X', 'arr_0', 'x_train'];
export const LABEL_NAMES = ['y', 'labels', 'targets', 'Y', 'arr_1', 'y_train'];

/** The data array (and labels, where found) of an NPZ file, chosen by name. */
export function parseNpz(file: string, b: Uint8Array, opts: { x?: string; y?: string | null }, budget: UnpackBudget = unpackBudget(file, b.length)): { x: NdArray; y: NdArray | null; xName: string; yName: string | null; names: string[] } {
  const entries = readZip(file, b);
  const byName = new Map(entries.map((e) => [e.name.replace(/\.npy$/, ''), e]));
  const names = [...byName.keys()];
  if (names.length === 0) fail(file, 'the NPZ archive is empty');
  const xName = opts.x ?? DATA_NAMES.find((n) => byName.has(n)) ?? (names.length === 1 ? names[0] : undefined);
  if (xName === undefined) fail(file, `which array is the data? The archive holds ${names.join(', ')}; pass { x: 'name' } (and { y: 'name' } for labels)`);
  if (!byName.has(xName)) fail(file, `the archive has no array '${xName}' (it holds ${names.join(', ')})`);
  let yName: string | null = opts.y === null ? null : (opts.y ?? LABEL_NAMES.find((n) => byName.has(n) && n !== xName) ?? null);
  if (yName !== null && !byName.has(yName)) {
    if (opts.y !== undefined) fail(file, `the archive has no array '${yName}' (it holds ${names.join(', ')})`);
    yName = null;
  }
  const x = parseNpy(`${file} (array ${xName})`, unzipEntry(file, b, byName.get(xName)!, budget));
  const y = yName === null ? null : parseNpy(`${file} (array ${yName})`, unzipEntry(file, b, byName.get(yName)!, budget));
  return { x, y, xName, yName, names };
}
