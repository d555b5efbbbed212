// Gray PNGs of sample grids and plots (encoded by pngjs), and the CRC-32 our PNG,
// zip and npz readers check chunks with.
import { PNG } from 'pngjs';

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

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Encode gray pixels (0..255, row-major, width*height) as an 8-bit grayscale PNG, by
 * pngjs: its adaptive row filters make our grids about half the size of unfiltered
 * rows (see docs/cli.md, "Image formats").
 */
export function encodeGrayPng(width: number, height: number, pixels: Uint8Array): Buffer {
  if (pixels.length !== width * height) throw new Error(`encodeGrayPng: expected ${width * height} pixels, got ${pixels.length}`);
  return PNG.sync.write({ width, height, data: Buffer.from(pixels.buffer, pixels.byteOffset, pixels.byteLength) } as PNG, pngGray());
}

/** pngjs options for 8-bit gray in, 8-bit gray out (used off the thread too: exports.ts); new each time, as pngjs adds to them */
export const pngGray = () => ({ colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 }) as const;

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
