// NPY (numpy's .npy): "\x93NUMPY", version, a header length (2 bytes in v1, 4 in v2/v3),
// a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (n, ...)}, data.
import { checkedProduct, fail, num } from './errors';
import type { NdArray } from './ndarray';

const KINDS: Record<string, { size: number; integer: boolean }> = {
  u1: { size: 1, integer: true }, i1: { size: 1, integer: true }, b1: { size: 1, integer: true },
  u2: { size: 2, integer: true }, i2: { size: 2, integer: true },
  u4: { size: 4, integer: true }, i4: { size: 4, integer: true },
  u8: { size: 8, integer: true }, i8: { size: 8, integer: true },
  f4: { size: 4, integer: false }, f8: { size: 8, integer: false },
};

const headerFields = (header: string) => ({
  descr: /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1],
  fortran: /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1],
  shapeText: /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1],
});

/**
 * The size in bytes (preamble, header and data) an NPY file's header promises, from
 * its first bytes alone; null when they are not a whole, readable NPY header.
 * Nothing is allocated.
 */
export function npyPromise(b: Uint8Array): number | null {
  if (b.length < 10 || b[0] !== 0x93 || String.fromCharCode(...b.subarray(1, 6)) !== 'NUMPY') return null;
  const major = b[6];
  if (major < 1 || major > 3) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (b.length < 8 + lenBytes) return null;
  const start = 8 + lenBytes + (major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true));
  if (start > b.length) return null;
  const { descr, shapeText } = headerFields(new TextDecoder('latin1').decode(b.subarray(8 + lenBytes, start)));
  const info = KINDS[/^[<>|=]?([uifb]\d+)$/.exec(descr ?? '')?.[1] ?? ''];
  if (!info || shapeText === undefined) return null;
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.some((p) => !/^\d+L?$/.test(p))) return null;
  return start + parts.reduce((n, p) => n * Number.parseInt(p, 10), 1) * info.size;
}

export function parseNpy(file: string, b: Uint8Array): NdArray {
  if (b.length < 10) fail(file, `truncated NPY file: ${b.length} bytes, shorter than its 10-byte preamble`);
  if (b[0] !== 0x93 || String.fromCharCode(...b.subarray(1, 6)) !== 'NUMPY') fail(file, 'not an NPY file: it does not start with \\x93NUMPY');
  const major = b[6];
  if (major < 1 || major > 3) fail(file, `NPY version ${major}.${b[7]} is not one this reader knows (1, 2, 3)`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const lenBytes = major === 1 ? 2 : 4;
  if (b.length < 8 + lenBytes) fail(file, 'truncated NPY file: it ends inside the header length');
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const start = 8 + lenBytes + hlen;
  if (start > b.length) fail(file, `truncated NPY file: the header is ${num(hlen)} bytes, the file ends after ${num(b.length - 8 - lenBytes)}`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(b.subarray(8 + lenBytes, start));
  const { descr, fortran, shapeText } = headerFields(header);
  if (descr === undefined || fortran === undefined || shapeText === undefined) fail(file, `malformed NPY header (it needs 'descr', 'fortran_order' and 'shape'): ${JSON.stringify(header.trim().slice(0, 120))}`);
  const m = /^([<>|=]?)([uifb])(\d+)$/.exec(descr);
  const kind = m ? `${m[2]}${m[3]}` : '';
  const info = KINDS[kind];
  if (!m || !info) fail(file, `NPY dtype '${descr}' is not supported (supported: u1 i1 i2 i4 i8 u2 u4 u8 f4 f8 b1, little or big endian; no structured or object arrays)`);
  const little = m[1] !== '>';
  const parts = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.some((p) => !/^\d+L?$/.test(p))) fail(file, `malformed NPY shape (${shapeText})`);
  const shape = parts.map((p) => Number.parseInt(p, 10));
  const count = checkedProduct(file, shape, 'NPY header');
  const need = count * info.size;
  const have = b.length - start;
  if (need > have) fail(file, `truncated NPY file: the header promises ${shape.join('×') || 'a scalar'} ${descr} = ${num(need)} bytes, the file has ${num(have)}`);
  if (need < have) fail(file, `malformed NPY file: the header promises ${num(need)} bytes of data, but ${num(have - need)} more bytes follow`);
  const data = new Float32Array(count);
  const read = reader(kind, dv, start, little);
  for (let i = 0; i < count; i++) data[i] = read(i);
  const out: NdArray = { shape, data, dtype: kind, integer: info.integer };
  return fortran === 'True' ? fromFortran(out) : out;
}

function reader(kind: string, dv: DataView, o: number, le: boolean): (i: number) => number {
  switch (kind) {
    case 'u1':
    case 'b1':
      return (i) => dv.getUint8(o + i);
    case 'i1':
      return (i) => dv.getInt8(o + i);
    case 'u2':
      return (i) => dv.getUint16(o + 2 * i, le);
    case 'i2':
      return (i) => dv.getInt16(o + 2 * i, le);
    case 'u4':
      return (i) => dv.getUint32(o + 4 * i, le);
    case 'i4':
      return (i) => dv.getInt32(o + 4 * i, le);
    case 'u8':
      return (i) => Number(dv.getBigUint64(o + 8 * i, le));
    case 'i8':
      return (i) => Number(dv.getBigInt64(o + 8 * i, le));
    case 'f4':
      return (i) => dv.getFloat32(o + 4 * i, le);
    default:
      return (i) => dv.getFloat64(o + 8 * i, le);
  }
}

/** Fortran (column-major) order to C order: element (i0, i1, ...) sits at Σ i_k·Π_{j<k} d_j. */
function fromFortran(a: NdArray): NdArray {
  const { shape } = a;
  if (shape.length < 2) return a;
  const fStride = shape.map((_, k) => shape.slice(0, k).reduce((p, d) => p * d, 1));
  const out = new Float32Array(a.data.length);
  const idx = new Array<number>(shape.length).fill(0);
  for (let c = 0; c < out.length; c++) {
    let f = 0;
    for (let k = 0; k < shape.length; k++) f += idx[k] * fStride[k];
    out[c] = a.data[f];
    // advance the C-order index (last dim fastest)
    for (let k = shape.length - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return { ...a, data: out };
}
