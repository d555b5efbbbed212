// IDX (the format of the MNIST files): 0x00 0x00, a dtype byte, a dims count, then
// big-endian uint32 dims and big-endian values.
import { checkedProduct, fail, num } from './errors';
import type { NdArray } from './ndarray';

const TYPES: Record<number, { name: string; size: number; integer: boolean }> = {
  0x08: { name: 'u1', size: 1, integer: true },
  0x09: { name: 'i1', size: 1, integer: true },
  0x0b: { name: 'i2', size: 2, integer: true },
  0x0c: { name: 'i4', size: 4, integer: true },
  0x0d: { name: 'f4', size: 4, integer: false },
  0x0e: { name: 'f8', size: 8, integer: false },
};

/**
 * The size in bytes (header and data) an IDX file's header promises, from its first
 * bytes alone; null when they are not an IDX header. Nothing is allocated.
 */
export function idxPromise(b: Uint8Array): number | null {
  if (b.length < 4 || b[0] !== 0 || b[1] !== 0) return null;
  const t = TYPES[b[2]];
  const ndims = b[3];
  if (!t || ndims < 1 || ndims > 16 || b.length < 4 + 4 * ndims) return null;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let count = 1;
  for (let i = 0; i < ndims; i++) count *= dv.getUint32(4 + 4 * i, false);
  return 4 + 4 * ndims + count * t.size;
}

export function parseIdx(file: string, b: Uint8Array): NdArray {
  if (b.length < 4) fail(file, `truncated IDX file: ${b.length} bytes, shorter than the 4-byte magic number`);
  if (b[0] !== 0 || b[1] !== 0) fail(file, 'not an IDX file: it does not start with 00 00');
  const t = TYPES[b[2]];
  if (!t) fail(file, `IDX dtype byte 0x${b[2].toString(16).padStart(2, '0')} is not one of 08 (ubyte), 09 (byte), 0B (short), 0C (int), 0D (float), 0E (double)`);
  const ndims = b[3];
  if (ndims < 1) fail(file, 'IDX header with 0 dimensions');
  const header = 4 + 4 * ndims;
  if (b.length < header) fail(file, `truncated IDX file: ${ndims} dims need a ${header}-byte header, the file has ${num(b.length)} bytes`);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dims = Array.from({ length: ndims }, (_, i) => dv.getUint32(4 + 4 * i, false));
  const count = checkedProduct(file, dims, 'IDX header');
  const need = count * t.size;
  const have = b.length - header;
  if (need > have) fail(file, `truncated IDX file: the header promises ${dims.join('×')}${t.size > 1 ? `×${t.size}` : ''} = ${num(need)} bytes, the file has ${num(have)}`);
  if (need < have) fail(file, `malformed IDX file: the header promises ${dims.join('×')} = ${num(need)} bytes of data, but ${num(have - need)} more bytes follow`);
  const data = new Float32Array(count);
  switch (t.name) {
    case 'u1':
      for (let i = 0; i < count; i++) data[i] = b[header + i];
      break;
    case 'i1':
      for (let i = 0; i < count; i++) data[i] = dv.getInt8(header + i);
      break;
    case 'i2':
      for (let i = 0; i < count; i++) data[i] = dv.getInt16(header + 2 * i, false);
      break;
    case 'i4':
      for (let i = 0; i < count; i++) data[i] = dv.getInt32(header + 4 * i, false);
      break;
    case 'f4':
      for (let i = 0; i < count; i++) data[i] = dv.getFloat32(header + 4 * i, false);
      break;
    default:
      for (let i = 0; i < count; i++) data[i] = dv.getFloat64(header + 8 * i, false);
  }
  return { shape: dims, data, dtype: t.name, integer: t.integer };
}
