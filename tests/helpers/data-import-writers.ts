// Writers of the formats lab.data.load reads, written for the tests from the format
// descriptions (independent of the readers), so a round trip checks the readers.
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { crc32 } from '../../src/engine/util/png';

const crc = (b: Uint8Array) => (crc32(b) ^ 0xffffffff) >>> 0;

export const IDX_TYPE = { u1: 0x08, i1: 0x09, i2: 0x0b, i4: 0x0c, f4: 0x0d, f8: 0x0e } as const;

export function writeIdx(type: keyof typeof IDX_TYPE, dims: number[], values: ArrayLike<number>, gzip = false): Buffer {
  const size = { u1: 1, i1: 1, i2: 2, i4: 4, f4: 4, f8: 8 }[type];
  const b = Buffer.alloc(4 + 4 * dims.length + size * values.length);
  b[2] = IDX_TYPE[type];
  b[3] = dims.length;
  dims.forEach((d, i) => b.writeUInt32BE(d, 4 + 4 * i));
  let o = 4 + 4 * dims.length;
  for (let i = 0; i < values.length; i++, o += size) {
    const v = values[i];
    if (type === 'u1') b.writeUInt8(v, o);
    else if (type === 'i1') b.writeInt8(v, o);
    else if (type === 'i2') b.writeInt16BE(v, o);
    else if (type === 'i4') b.writeInt32BE(v, o);
    else if (type === 'f4') b.writeFloatBE(v, o);
    else b.writeDoubleBE(v, o);
  }
  return gzip ? gzipSync(b) : b;
}

export type NpyDtype = 'u1' | 'i1' | 'i2' | 'i4' | 'i8' | 'f4' | 'f8' | 'b1';

/** an NPY file; `fortran` writes the values (given in C order) column-major */
export function writeNpy(dtype: NpyDtype, shape: number[], values: ArrayLike<number>, opts: { bigEndian?: boolean; version?: 1 | 2 | 3; fortran?: boolean } = {}): Buffer {
  const size = { u1: 1, i1: 1, b1: 1, i2: 2, i4: 4, i8: 8, f4: 4, f8: 8 }[dtype];
  const order = size === 1 ? '|' : opts.bigEndian ? '>' : '<';
  const version = opts.version ?? 1;
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${order}${dtype}', 'fortran_order': ${opts.fortran ? 'True' : 'False'}, 'shape': ${shapeText}, }`;
  const pre = version === 1 ? 10 : 12;
  header += ' '.repeat(64 - ((pre + header.length + 1) % 64)) + '\n';
  const b = Buffer.alloc(pre + header.length + size * values.length);
  b[0] = 0x93;
  b.write('NUMPY', 1, 'latin1');
  b[6] = version;
  if (version === 1) b.writeUInt16LE(header.length, 8);
  else b.writeUInt32LE(header.length, 8);
  b.write(header, pre, 'latin1');
  // the order the values are stored in
  let order2: number[] = Array.from({ length: values.length }, (_, i) => i);
  if (opts.fortran && shape.length > 1) {
    order2 = [];
    const cStride = shape.map((_, k) => shape.slice(k + 1).reduce((p, d) => p * d, 1));
    const idx = new Array(shape.length).fill(0);
    for (let f = 0; f < values.length; f++) {
      order2.push(idx.reduce((s, v, k) => s + v * cStride[k], 0));
      for (let k = 0; k < shape.length; k++) {
        if (++idx[k] < shape[k]) break;
        idx[k] = 0;
      }
    }
  }
  const le = !opts.bigEndian;
  let o = pre + header.length;
  for (const src of order2) {
    const v = values[src];
    if (dtype === 'u1' || dtype === 'b1') b.writeUInt8(v, o);
    else if (dtype === 'i1') b.writeInt8(v, o);
    else if (dtype === 'i2') le ? b.writeInt16LE(v, o) : b.writeInt16BE(v, o);
    else if (dtype === 'i4') le ? b.writeInt32LE(v, o) : b.writeInt32BE(v, o);
    else if (dtype === 'i8') le ? b.writeBigInt64LE(BigInt(v), o) : b.writeBigInt64BE(BigInt(v), o);
    else if (dtype === 'f4') le ? b.writeFloatLE(v, o) : b.writeFloatBE(v, o);
    else le ? b.writeDoubleLE(v, o) : b.writeDoubleBE(v, o);
    o += size;
  }
  return b;
}

/** a zip of named files, stored or deflated (local headers, central directory, end record) */
export function writeZip(files: { name: string; data: Buffer }[], deflate: boolean): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const body = deflate ? deflateRawSync(f.data) : f.data;
    const name = Buffer.from(f.name, 'utf8');
    const c = crc(f.data);
    const lh = Buffer.alloc(30);
    lh.writeUInt32LE(0x04034b50, 0);
    lh.writeUInt16LE(20, 4);
    lh.writeUInt16LE(deflate ? 8 : 0, 8);
    lh.writeUInt32LE(c, 14);
    lh.writeUInt32LE(body.length, 18);
    lh.writeUInt32LE(f.data.length, 22);
    lh.writeUInt16LE(name.length, 26);
    const ch = Buffer.alloc(46);
    ch.writeUInt32LE(0x02014b50, 0);
    ch.writeUInt16LE(20, 4);
    ch.writeUInt16LE(20, 6);
    ch.writeUInt16LE(deflate ? 8 : 0, 10);
    ch.writeUInt32LE(c, 16);
    ch.writeUInt32LE(body.length, 20);
    ch.writeUInt32LE(f.data.length, 24);
    ch.writeUInt16LE(name.length, 28);
    ch.writeUInt32LE(offset, 42);
    locals.push(lh, name, body);
    centrals.push(ch, name);
    offset += 30 + name.length + body.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/**
 * A PNG of samples (row-major, `channels` per pixel, each 0..2^depth-1) with colour
 * `type`, `depth` bits and row filter `filter(y)` (0..4), packing sub-byte depths.
 */
export function writePng(w: number, h: number, type: 0 | 2 | 3 | 4 | 6, depth: 1 | 2 | 4 | 8 | 16, samples: ArrayLike<number>, opts: { filter?: (y: number) => number; palette?: number[][] } = {}): Buffer {
  const ch = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[type];
  const rowBytes = Math.ceil((w * ch * depth) / 8);
  const bpp = Math.max(1, (ch * depth) / 8);
  const rows: Buffer[] = [];
  for (let y = 0; y < h; y++) {
    const r = Buffer.alloc(rowBytes);
    for (let i = 0; i < w * ch; i++) {
      const v = samples[y * w * ch + i];
      if (depth === 8) r[i] = v;
      else if (depth === 16) r.writeUInt16BE(v, 2 * i);
      else r[(i * depth) >> 3] |= v << (8 - depth - ((i * depth) & 7));
    }
    rows.push(r);
  }
  const raw = Buffer.alloc(h * (rowBytes + 1));
  for (let y = 0; y < h; y++) {
    const f = opts.filter ? opts.filter(y) : 0;
    raw[y * (rowBytes + 1)] = f;
    const cur = rows[y];
    const prev = y > 0 ? rows[y - 1] : Buffer.alloc(rowBytes);
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? cur[x - bpp] : 0;
      const b = prev[x];
      const c = x >= bpp ? prev[x - bpp] : 0;
      let pred = 0;
      if (f === 1) pred = a;
      else if (f === 2) pred = b;
      else if (f === 3) pred = (a + b) >> 1;
      else if (f === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        pred = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      raw[y * (rowBytes + 1) + 1 + x] = (cur[x] - pred) & 0xff;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = depth;
  ihdr[9] = type;
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), pngChunk('IHDR', ihdr)];
  if (opts.palette) parts.push(pngChunk('PLTE', Buffer.from(opts.palette.flat())));
  const z = deflateSync(raw);
  // two IDAT chunks: a reader must join them
  const cut = Math.floor(z.length / 2);
  parts.push(pngChunk('IDAT', z.subarray(0, cut)), pngChunk('IDAT', z.subarray(cut)), pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** a tiny seeded generator for the fuzz cases */
export function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
