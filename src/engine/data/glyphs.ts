// Letters and digits as binary patterns, from the app's own 5×7 pixel font: small,
// recognizable memories for a Hopfield network (lab.data.glyphs('HOPFIELD')).
import { drawText, GLYPH_H, GLYPH_W } from '../../shared/bitmap-font';

export interface Glyphs {
  /** one row of 0/1 values per character */
  x: Float32Array;
  n: number;
  /** [height, width] of each pattern */
  shape: [number, number];
  chars: string;
}

/** Each character drawn at `scale` with a one-font-pixel margin: (7+2)·scale × (5+2)·scale units. */
export function glyphs(chars: string, opts: { scale?: number } = {}): Glyphs {
  if (typeof chars !== 'string' || chars.length === 0) throw new TypeError(`lab.data.glyphs: give the characters to draw, e.g. lab.data.glyphs('ABCDE')`);
  const scale = Math.floor(opts.scale ?? 1);
  if (!(scale >= 1 && scale <= 4)) throw new RangeError(`lab.data.glyphs: scale must be 1, 2, 3 or 4 (got ${opts.scale})`);
  const h = (GLYPH_H + 2) * scale;
  const w = (GLYPH_W + 2) * scale;
  const x = new Float32Array(chars.length * h * w);
  const px = new Uint8Array(h * w);
  for (let i = 0; i < chars.length; i++) {
    px.fill(0);
    drawText(px, w, h, chars[i], scale, scale, scale, 1);
    for (let k = 0; k < h * w; k++) x[i * h * w + k] = px[k];
  }
  return { x, n: chars.length, shape: [h, w], chars };
}
