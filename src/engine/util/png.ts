// A minimal PNG encoder (8-bit grayscale, no interlace): enough for sample grids
// and scatter plots without a native image dependency.
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array, crc = 0xffffffff): number {
  let c = crc;
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return c >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  Buffer.from(data.buffer, data.byteOffset, data.byteLength).copy(out, 8);
  const crc = (crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0;
  out.writeUInt32BE(crc, 8 + data.length);
  return out;
}

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encode gray pixels (0..255, row-major, width*height) as a PNG file. */
export function encodeGrayPng(width: number, height: number, pixels: Uint8Array): Buffer {
  if (pixels.length !== width * height) throw new Error(`encodeGrayPng: expected ${width * height} pixels, got ${pixels.length}`);
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) copyGrayScanline(raw, pixels, width, y);
  return grayPngFromIdat(width, height, deflateSync(raw));
}

/** Row y of the pixels as a PNG scanline (filter byte 0, "none", then the row) into `raw`. */
export function copyGrayScanline(raw: Buffer, pixels: Uint8Array, width: number, y: number): void {
  raw[y * (width + 1)] = 0;
  raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
}

/** The PNG file of an 8-bit gray image whose deflated scanlines are `idat`. */
export function grayPngFromIdat(width: number, height: number, idat: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 0; // grayscale
  ihdr[10] = 0; // deflate
  ihdr[11] = 0; // adaptive filtering
  ihdr[12] = 0; // no interlace
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]);
}

/**
 * Tile n images (values in [0,1], each h*w) into a grid of `cols` columns with a
 * 1-pixel dark border; returns the PNG bytes and the grid shape.
 */
export function imageGridPng(
  values: Float32Array | number[],
  n: number,
  h: number,
  w: number,
  cols = Math.ceil(Math.sqrt(n)),
  pad = 1,
): { png: Buffer; rows: number; cols: number } {
  const rows = Math.ceil(n / cols);
  const W = cols * (w + pad) + pad;
  const H = rows * (h + pad) + pad;
  const px = new Uint8Array(W * H).fill(40);
  for (let k = 0; k < n; k++) {
    const r = Math.floor(k / cols);
    const c = k % cols;
    const oy = pad + r * (h + pad);
    const ox = pad + c * (w + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = values[k * h * w + y * w + x];
        const clamped = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
        px[(oy + y) * W + ox + x] = Math.round(clamped * 255);
      }
    }
  }
  return { png: encodeGrayPng(W, H, px), rows, cols };
}

/** Rasterize 2-D points: `background` points in light gray, `points` in black, on white. */
export function scatterPng(points: number[][], background: number[][] = [], size = 320): Buffer {
  const all = points.concat(background);
  let lo = -1;
  let hi = 1;
  for (const p of all) {
    for (const v of p) {
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  const margin = (hi - lo) * 0.05;
  lo -= margin;
  hi += margin;
  const px = new Uint8Array(size * size).fill(255);
  const plot = (pts: number[][], shade: number) => {
    for (const [x, y] of pts) {
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      const cx = Math.round(((x - lo) / (hi - lo)) * (size - 1));
      const cy = Math.round((1 - (y - lo) / (hi - lo)) * (size - 1));
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const xx = cx + dx;
          const yy = cy + dy;
          if (xx >= 0 && yy >= 0 && xx < size && yy < size) px[yy * size + xx] = Math.min(px[yy * size + xx], shade);
        }
      }
    }
  };
  plot(background, 200);
  plot(points, 0);
  return encodeGrayPng(size, size, px);
}
