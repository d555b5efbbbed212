// Animated gray GIFs (an export's grid over training), encoded by gifenc: the pixels
// are the palette indices of 256 grays, so nothing is quantized.
import { GIFEncoder } from 'gifenc';

export interface GrayFrame {
  pixels: Uint8Array;
  /** ms this frame is shown */
  delay: number;
}

export const GRAY_PALETTE: number[][] = Array.from({ length: 256 }, (_, i) => [i, i, i]);

/** Frames of one size as a looping GIF. */
export function encodeGrayGif(width: number, height: number, frames: GrayFrame[]): Buffer {
  const gif = GIFEncoder({ initialCapacity: Math.max(4096, (width * height * frames.length) >> 1) });
  frames.forEach((f, i) => {
    if (f.pixels.length !== width * height) throw new Error(`encodeGrayGif: frame ${i} has ${f.pixels.length} pixels, not ${width * height}`);
    gif.writeFrame(f.pixels, width, height, i === 0 ? { palette: GRAY_PALETTE, delay: f.delay, repeat: 0 } : { delay: f.delay });
  });
  gif.finish();
  const b = gif.bytesView();
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
