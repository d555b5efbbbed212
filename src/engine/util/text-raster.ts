// Text in our pictures (labels on exported grids, the step on each GIF frame, text
// samples of language models): drawn with a real font, DejaVu Sans / Sans Mono from
// the npm package dejavu-fonts-ttf, through Skia (@napi-rs/canvas, an N-API module
// whose prebuilt binary ships in its platform package, so it loads in plain Node and
// in Electron alike). The fonts are registered by file under names of our own, so no
// system font is ever picked for them (CI is a fresh Debian). Node only: the engine
// and the hosts use it; the renderer never does.
import type * as Canvas from '@napi-rs/canvas';
import { nodeRequire } from './node-require';

export type FontFace = 'sans' | 'mono';
const FAMILY: Record<FontFace, { name: string; file: string }> = {
  sans: { name: 'Latent Lab Sans', file: 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf' },
  mono: { name: 'Latent Lab Mono', file: 'dejavu-fonts-ttf/ttf/DejaVuSansMono.ttf' },
};

let lib: typeof Canvas | null = null;

/** @napi-rs/canvas with our two fonts registered (loaded on first use: most runs draw no text). */
function canvasLib(): typeof Canvas {
  if (lib) return lib;
  const c = nodeRequire()('@napi-rs/canvas') as typeof Canvas;
  for (const f of Object.values(FAMILY)) {
    const file = nodeRequire().resolve(f.file);
    if (!c.GlobalFonts.registerFromPath(file, f.name)) throw new Error(`could not load the font ${file}`);
  }
  lib = c;
  return c;
}

/** the CSS font string of a face at `size` pixels */
export const fontOf = (face: FontFace, size: number): string => `${size}px "${FAMILY[face].name}"`;

let measurer: Canvas.SKRSContext2D | null = null;

/** The width in pixels of `text` in `face` at `size` pixels. */
export function textWidth(text: string, size: number, face: FontFace = 'sans'): number {
  if (!measurer) measurer = canvasLib().createCanvas(1, 1).getContext('2d');
  measurer.font = fontOf(face, size);
  return Math.ceil(measurer.measureText(text).width);
}

/** `text`, cut at its end with '…' until it is at most `width` pixels wide ('' when not even '…' fits). */
export function fitText(text: string, width: number, size: number, face: FontFace = 'sans'): string {
  if (textWidth(text, size, face) <= width) return text;
  for (let n = text.length - 1; n > 0; n--) {
    const cut = `${text.slice(0, n).trimEnd()}…`;
    if (textWidth(cut, size, face) <= width) return cut;
  }
  return textWidth('…', size, face) <= width ? '…' : '';
}

export interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Draws into a region of a gray image (`px`, `W` wide, row-major): the region is
 * copied onto a canvas, `draw` paints it (coordinates are the image's), and the
 * result, antialiased against what was there, is copied back as gray.
 */
export function paintGray(px: Uint8Array, W: number, H: number, region: Region, draw: (g: Canvas.SKRSContext2D) => void): void {
  const x0 = Math.max(0, Math.floor(region.x)), y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(W, Math.ceil(region.x + region.w)), y1 = Math.min(H, Math.ceil(region.y + region.h));
  const w = x1 - x0, h = y1 - y0;
  if (w <= 0 || h <= 0) return;
  const canvas = canvasLib().createCanvas(w, h);
  const g = canvas.getContext('2d');
  const img = g.createImageData(w, h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = px[(y0 + y) * W + x0 + x], o = 4 * (y * w + x);
      img.data[o] = img.data[o + 1] = img.data[o + 2] = v;
      img.data[o + 3] = 255;
    }
  }
  g.putImageData(img, 0, 0);
  g.translate(-x0, -y0);
  draw(g);
  const out = g.getImageData(0, 0, w, h).data;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const o = 4 * (y * w + x);
      // gray text on gray: the channels agree; their mean where antialiasing differs by rounding
      px[(y0 + y) * W + x0 + x] = Math.round((out[o] + out[o + 1] + out[o + 2]) / 3);
    }
  }
}

export interface TextStyle {
  size: number;
  face?: FontFace;
  /** gray level of the text, 0..255 */
  value: number;
  align?: 'left' | 'center' | 'right';
}

/** Draws one line of text with its vertical middle at `cy`, anchored at `x` as `align` says. */
export function drawLine(px: Uint8Array, W: number, H: number, text: string, x: number, cy: number, style: TextStyle): void {
  if (!text) return;
  const face = style.face ?? 'sans', align = style.align ?? 'left';
  const width = textWidth(text, style.size, face);
  const left = align === 'left' ? x : align === 'right' ? x - width : x - width / 2;
  // the region the glyphs can reach: their width, and a line and a half of height (descenders, accents)
  const region = { x: left - 2, y: cy - style.size, w: width + 4, h: 2 * style.size };
  paintGray(px, W, H, region, (g) => {
    g.font = fontOf(face, style.size);
    g.textBaseline = 'middle';
    g.textAlign = align;
    g.fillStyle = `rgb(${style.value},${style.value},${style.value})`;
    g.fillText(text, x, cy);
  });
}
