// A GIF reader for the tests, written from the format's description (blocks, LZW),
// independent of the encoder the app uses: the frames' indices (our GIFs' palette is
// 256 grays, index = gray level) and each frame's delay in ms.
/** The frames of a GIF with a 256-entry gray palette, by the format's block structure and LZW. */
export function readGif(buf: Buffer): { width: number; height: number; pixels: Uint8Array; delay: number }[] {
  let off = 13 + (buf[10] & 0x80 ? 3 * (1 << ((buf[10] & 7) + 1)) : 0);
  const frames: { width: number; height: number; pixels: Uint8Array; delay: number }[] = [];
  let delay = 0;
  const subBlocks = () => {
    const parts: Buffer[] = [];
    while (buf[off] !== 0) {
      parts.push(buf.subarray(off + 1, off + 1 + buf[off]));
      off += 1 + buf[off];
    }
    off++;
    return Buffer.concat(parts);
  };
  while (off < buf.length && buf[off] !== 0x3b) {
    if (buf[off] === 0x21) {
      // a graphic control extension carries the next frame's delay, in hundredths of a second
      if (buf[off + 1] === 0xf9) delay = buf.readUInt16LE(off + 4) * 10;
      off += 2;
      subBlocks();
    } else if (buf[off] === 0x2c) {
      const width = buf.readUInt16LE(off + 5), height = buf.readUInt16LE(off + 7);
      const local = buf[off + 9] & 0x80 ? 3 * (1 << ((buf[off + 9] & 7) + 1)) : 0;
      off += 10 + local;
      const min = buf[off];
      off += 1;
      frames.push({ width, height, pixels: unlzw(subBlocks(), min, width * height), delay });
    } else throw new Error(`bad GIF block 0x${buf[off].toString(16)} at ${off}`);
  }
  return frames;
}

function unlzw(data: Buffer, min: number, n: number): Uint8Array {
  const clear = 1 << min, end = clear + 1;
  const out = new Uint8Array(n);
  let o = 0, pos = 0, size = min + 1;
  let dict: number[][] = [];
  const reset = () => {
    dict = Array.from({ length: clear + 2 }, (_, i) => [i]);
    size = min + 1;
  };
  reset();
  let prev: number[] | null = null;
  for (;;) {
    let code = 0;
    for (let b = 0; b < size; b++, pos++) code |= ((data[pos >> 3] >> (pos & 7)) & 1) << b;
    if (code === clear) {
      reset();
      prev = null;
      continue;
    }
    if (code === end) break;
    const entry: number[] = code < dict.length ? dict[code] : [...prev!, prev![0]];
    if (prev) dict.push([...prev, entry[0]]);
    for (const v of entry) out[o++] = v;
    prev = entry;
    if (dict.length === 1 << size && size < 12) size++;
  }
  return out;
}
