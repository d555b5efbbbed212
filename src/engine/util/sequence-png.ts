// Pictures of sequence samples for the gallery: text rows drawn in DejaVu Sans Mono
// (text-raster.ts), audio windows as waveform strips.
import { decodeText } from '../data/text';
import { muLawDecode } from '../data/waveforms';
import { encodeGrayPng } from './png';
import { fontOf, paintGray, textWidth } from './text-raster';

/** text samples are drawn this many pixels high, a line this many pixels apart */
const TEXT_SIZE = 12;
const TEXT_LINE = 16;

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
  const advance = textWidth('M'.repeat(cols), TEXT_SIZE, 'mono') / cols;
  const W = Math.ceil(cols * advance) + 8;
  const H = lines.length * TEXT_LINE + 8;
  const px = new Uint8Array(W * H).fill(250);
  lines.forEach((line, i) => {
    if (line === '\u0000') {
      const y = 4 + i * TEXT_LINE + (TEXT_LINE >> 1);
      for (let x = 4; x < W - 4; x++) px[y * W + x] = 200;
    }
  });
  paintGray(px, W, H, { x: 0, y: 0, w: W, h: H }, (g) => {
    g.font = fontOf('mono', TEXT_SIZE);
    g.textBaseline = 'middle';
    g.fillStyle = 'rgb(20,20,20)';
    lines.forEach((line, i) => {
      // control characters (a sampled tab, a stray byte) as the replacement mark, not as nothing
      if (line !== '\u0000') g.fillText(line.replace(/[\u0000-\u001f\u007f]/g, '\ufffd'), 4, 4 + i * TEXT_LINE + TEXT_LINE / 2);
    });
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
