// Pictures of sequence samples for the gallery: text rows drawn in the bitmap font
// (upper case: the font has no lower case), audio windows as waveform strips.
import { ADVANCE, drawText, GLYPH_H } from '../../shared/bitmap-font';
import { decodeText } from '../data/text';
import { muLawDecode } from '../data/waveforms';
import { encodeGrayPng } from './png';

/** n text samples, `cols` characters per line, a blank line between samples */
export function textSamplesPng(values: Float32Array, n: number, T: number, cols = 64): Buffer {
  const lines: string[] = [];
  for (let r = 0; r < n; r++) {
    const text = decodeText(values.subarray(r * T, (r + 1) * T));
    for (const para of text.split('\n')) {
      for (let s = 0; s < Math.max(1, para.length); s += cols) lines.push(para.slice(s, s + cols));
    }
    if (r < n - 1) lines.push('\u0000'); // a rule between samples
  }
  const lh = GLYPH_H + 3;
  const W = cols * ADVANCE + 8;
  const H = lines.length * lh + 8;
  const px = new Uint8Array(W * H).fill(250);
  lines.forEach((line, i) => {
    const y = 4 + i * lh;
    if (line === '\u0000') {
      for (let x = 4; x < W - 4; x++) px[(y + (lh >> 1)) * W + x] = 200;
    } else drawText(px, W, H, line, 4, y, 1, 20);
  });
  return encodeGrayPng(W, H, px);
}

/** n mu-law windows as waveform strips of `width` x `height` pixels each */
export function waveformSamplesPng(values: Float32Array, n: number, T: number, width = 512, height = 64): Buffer {
  const pad = 2;
  const W = width + 2 * pad;
  const H = n * (height + pad) + pad;
  const px = new Uint8Array(W * H).fill(250);
  for (let r = 0; r < n; r++) {
    const top = pad + r * (height + pad);
    for (let x = 0; x < width; x++) px[(top + (height >> 1)) * W + pad + x] = 215; // the zero line
    let prevY = -1;
    for (let x = 0; x < width; x++) {
      const t = Math.min(T - 1, Math.floor((x * T) / width));
      const a = muLawDecode(values[r * T + t]);
      const y = top + Math.round(((1 - a) / 2) * (height - 1));
      const [lo, hi] = prevY < 0 ? [y, y] : [Math.min(prevY, y), Math.max(prevY, y)];
      for (let yy = lo; yy <= hi; yy++) px[yy * W + pad + x] = 30;
      prevY = y;
    }
    if (r < n - 1) for (let x = 0; x < W; x++) px[(top + height + (pad >> 1)) * W + x] = 200;
  }
  return encodeGrayPng(W, H, px);
}
