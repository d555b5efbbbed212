// A PNG decoder on node's zlib: colour types 0 (gray), 2 (RGB), 3 (palette), 4 (gray +
// alpha), 6 (RGBA); bit depths 1/2/4/8/16 as the type allows; all five row filters.
// Interlaced (Adam7) images are refused with a message. CRCs are checked.
import { crc32 } from '../../util/png';
import { inflateCapped, overBudget, remaining, unpackBudget, type UnpackBudget } from './budget';
import { fail, num } from './errors';

export interface Pixels {
  width: number;
  height: number;
  /** 1 (gray) or 3 (RGB), values in [0, 1]; alpha is dropped */
  channels: 1 | 3;
  data: Float32Array;
}

/** the largest image accepted (pixels), checked before anything is allocated */
export const MAX_PIXELS = 64 * 1024 * 1024;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
const DEPTHS: Record<number, number[]> = { 0: [1, 2, 4, 8, 16], 2: [8, 16], 3: [1, 2, 4, 8], 4: [8, 16], 6: [8, 16] };

/** `budget`: what the image data may unpack to (budget.ts; by default the file's own) */
export function decodePng(file: string, b: Uint8Array, budget: UnpackBudget = unpackBudget(file, b.length)): Pixels {
  if (b.length < 8 || b[0] !== 0x89 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47) fail(file, 'not a PNG file: no PNG signature');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let o = 8;
  let ihdr: { w: number; h: number; depth: number; type: number; interlace: number } | null = null;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let ended = false;
  while (o < b.length) {
    if (o + 12 > b.length) fail(file, `truncated PNG: a chunk header at byte ${num(o)} is cut off`);
    const len = dv.getUint32(o, false);
    const type = String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]);
    if (o + 12 + len > b.length) fail(file, `truncated PNG: the ${JSON.stringify(type)} chunk needs ${num(len)} bytes, the file ends first`);
    const body = b.subarray(o + 8, o + 8 + len);
    const crc = dv.getUint32(o + 8 + len, false);
    if (((crc32(b.subarray(o + 4, o + 8 + len)) ^ 0xffffffff) >>> 0) !== crc) fail(file, `corrupt PNG: the CRC of the ${JSON.stringify(type)} chunk at byte ${num(o)} does not match`);
    if (type === 'IHDR') {
      if (len !== 13) fail(file, 'malformed PNG: IHDR is not 13 bytes');
      ihdr = { w: dv.getUint32(o + 8, false), h: dv.getUint32(o + 12, false), depth: body[8], type: body[9], interlace: body[12] };
      if (body[10] !== 0 || body[11] !== 0) fail(file, 'malformed PNG: unknown compression or filter method');
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') {
      ended = true;
      break;
    }
    o += 12 + len;
  }
  if (!ihdr) fail(file, 'malformed PNG: no IHDR chunk');
  const { w, h, depth, type, interlace } = ihdr;
  if (!(type in CHANNELS)) fail(file, `PNG colour type ${type} does not exist`);
  if (!DEPTHS[type].includes(depth)) fail(file, `PNG bit depth ${depth} is not allowed with colour type ${type}`);
  if (interlace === 1) fail(file, 'interlaced (Adam7) PNGs are not supported: save the image without interlacing');
  if (interlace !== 0) fail(file, `unknown PNG interlace method ${interlace}`);
  if (w < 1 || h < 1) fail(file, `PNG of ${w}×${h} pixels`);
  if (w * h > MAX_PIXELS) fail(file, `PNG of ${w}×${h} pixels is larger than the ${num(MAX_PIXELS)} pixels one image may have`);
  if (type === 3 && (!palette || palette.length % 3 !== 0 || palette.length === 0)) fail(file, 'malformed PNG: a palette image without a valid PLTE chunk');
  if (!ended) fail(file, 'truncated PNG: no IEND chunk (the file may be cut short)');
  if (idat.length === 0) fail(file, 'malformed PNG: no image data (IDAT)');
  const ch = CHANNELS[type];
  const bitsPerPixel = ch * depth;
  const rowBytes = Math.ceil((w * bitsPerPixel) / 8);
  const bpp = Math.max(1, bitsPerPixel / 8);
  const expected = h * (rowBytes + 1);
  if (expected > remaining(budget)) overBudget(budget, `the image data (${w}×${h} pixels, ${bitsPerPixel} bits each) would unpack to`, expected, false, 'an image this large is not a dataset\'s: scale it down');
  let raw: Buffer | null;
  try {
    raw = inflateCapped('zlib', Buffer.concat(idat), expected, expected);
  } catch (e) {
    fail(file, `corrupt PNG image data: ${(e as Error).message}`);
  }
  if (raw === null) fail(file, `corrupt PNG: the image data unpacks to more than the ${num(expected)} bytes ${w}×${h} pixels need`);
  budget.used += raw.length;
  if (raw.length < expected) fail(file, `truncated PNG image data: ${num(raw.length)} bytes unpacked, ${w}×${h} pixels need ${num(expected)}`);
  // undo the row filters in place
  const rows = new Uint8Array(h * rowBytes);
  for (let y = 0; y < h; y++) {
    const f = raw[y * (rowBytes + 1)];
    const src = y * (rowBytes + 1) + 1;
    const cur = y * rowBytes;
    const prev = cur - rowBytes;
    for (let x = 0; x < rowBytes; x++) {
      const a = x >= bpp ? rows[cur + x - bpp] : 0;
      const up = y > 0 ? rows[prev + x] : 0;
      const c = x >= bpp && y > 0 ? rows[prev + x - bpp] : 0;
      let v = raw[src + x];
      switch (f) {
        case 0:
          break;
        case 1:
          v += a;
          break;
        case 2:
          v += up;
          break;
        case 3:
          v += (a + up) >> 1;
          break;
        case 4: {
          const p = a + up - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - up);
          const pc = Math.abs(p - c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? up : c;
          break;
        }
        default:
          fail(file, `corrupt PNG: row ${y} has filter type ${f} (0 to 4 exist)`);
      }
      rows[cur + x] = v & 0xff;
    }
  }
  // samples → [0, 1], palette expanded, alpha dropped
  const max = (1 << depth) - 1;
  const sample = (y: number, i: number): number => {
    if (depth === 8) return rows[y * rowBytes + i];
    if (depth === 16) return (rows[y * rowBytes + 2 * i] << 8) | rows[y * rowBytes + 2 * i + 1];
    const bit = i * depth;
    return (rows[y * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & max;
  };
  const color = type === 2 || type === 6 || (type === 3 && !isGrayPalette(palette!));
  const out = new Float32Array(w * h * (color ? 3 : 1));
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = y * w + x;
      if (type === 3) {
        const k = sample(y, x);
        if (3 * k + 2 >= palette!.length) fail(file, `corrupt PNG: pixel (${x}, ${y}) uses palette entry ${k}, the palette has ${palette!.length / 3}`);
        if (color) for (let c = 0; c < 3; c++) out[3 * p + c] = palette![3 * k + c] / 255;
        else out[p] = palette![3 * k] / 255;
      } else if (color) {
        for (let c = 0; c < 3; c++) out[3 * p + c] = sample(y, x * ch + c) / max;
      } else out[p] = sample(y, x * ch) / max;
    }
  }
  return { width: w, height: h, channels: color ? 3 : 1, data: out };
}

function isGrayPalette(p: Uint8Array): boolean {
  for (let i = 0; i + 2 < p.length; i += 3) if (p[i] !== p[i + 1] || p[i] !== p[i + 2]) return false;
  return true;
}
