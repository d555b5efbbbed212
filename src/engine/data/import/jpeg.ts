// JPEG through the pure-JS decoder of the `jpeg-js` package, with its resolution and
// memory limits set, so a hostile header cannot make it allocate without bound.
import { decode } from 'jpeg-js';
import { fail } from './errors';
import type { Pixels } from './png';

export function decodeJpeg(file: string, b: Uint8Array): Pixels {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = decode(b, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 24, maxMemoryUsageInMB: 512 });
  } catch (e) {
    fail(file, `cannot decode this JPEG: ${(e as Error).message}`);
  }
  const { width, height, data } = img;
  if (!(width >= 1 && height >= 1) || data.length !== width * height * 3) fail(file, `the JPEG decoded to ${width}×${height} pixels with ${data.length} values`);
  // gray when every pixel has R = G = B (a grayscale JPEG decodes to three equal channels)
  let gray = true;
  for (let i = 0; i < data.length && gray; i += 3) gray = data[i] === data[i + 1] && data[i] === data[i + 2];
  const out = new Float32Array(gray ? width * height : data.length);
  if (gray) for (let p = 0; p < out.length; p++) out[p] = data[3 * p] / 255;
  else for (let i = 0; i < out.length; i++) out[i] = data[i] / 255;
  return { width, height, channels: gray ? 1 : 3, data: out };
}
