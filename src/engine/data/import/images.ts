// A folder of PNG / JPEG images. Subfolders are classes (sorted names → class index);
// a folder of images without subfolders is unlabelled. Every image must have one size.
import fs from 'node:fs';
import path from 'node:path';
import { checkedProduct, fail } from './errors';
import { decodeJpeg } from './jpeg';
import { decodePng, type Pixels } from './png';
import { sniff } from './sniff';

export const IMAGE_EXT = /\.(png|jpe?g)$/i;

export interface ImageFolder {
  /** [n, h, w] or [n, h, w, 3] values in [0, 1] */
  data: Float32Array;
  n: number;
  shape: number[];
  labels: Uint8Array | null;
  classNames: string[] | null;
  /** relative paths (forward slashes), in row order */
  files: string[];
  notes: string[];
}

/** every file of the folder that will be read, relative, sorted; subfolder names are classes */
export function listImageFolder(dir: string, shown: string): { files: string[]; classNames: string[] | null; ignored: string[] } {
  const visible = (n: string) => !n.startsWith('.');
  const top = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => visible(d.name));
  const subdirs = top.filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const topImages = top.filter((d) => d.isFile() && IMAGE_EXT.test(d.name)).map((d) => d.name).sort();
  const ignored = top.filter((d) => d.isFile() && !IMAGE_EXT.test(d.name)).map((d) => d.name).sort();
  const classDirs = subdirs.filter((s) => fs.readdirSync(path.join(dir, s)).some((f) => visible(f) && IMAGE_EXT.test(f)));
  if (classDirs.length > 0) {
    if (topImages.length > 0) fail(shown, `images sit both in the folder itself (${topImages[0]}, ...) and in class subfolders (${classDirs[0]}/, ...): put every image in a class folder, or none`);
    if (classDirs.length > 256) fail(shown, `${classDirs.length} class folders; at most 256 classes are supported`);
    const files: string[] = [];
    for (const c of classDirs) {
      const inside = fs.readdirSync(path.join(dir, c), { withFileTypes: true }).filter((d) => visible(d.name));
      for (const d of inside) {
        if (d.isFile() && IMAGE_EXT.test(d.name)) files.push(`${c}/${d.name}`);
        else ignored.push(`${c}/${d.name}`);
      }
    }
    return { files: files.sort(), classNames: classDirs, ignored };
  }
  if (topImages.length === 0) fail(shown, 'the folder holds no .png or .jpg images (nor class subfolders of them)');
  return { files: topImages, classNames: null, ignored };
}

export function decodeImage(file: string, bytes: Uint8Array): { pixels: Pixels; note?: string } {
  const kind = sniff(bytes);
  const claimed = /\.png$/i.test(file) ? 'png' : 'jpeg';
  if (kind !== 'png' && kind !== 'jpeg') fail(file, `not a PNG or JPEG image (its content is ${kind ? kind.toUpperCase() : 'unknown'})`);
  const pixels = kind === 'png' ? decodePng(file, bytes) : decodeJpeg(file, bytes);
  return { pixels, note: kind !== claimed ? `${file}: the name says ${claimed.toUpperCase()} but the content is ${kind.toUpperCase()} (read as ${kind.toUpperCase()})` : undefined };
}

/** Decodes the listed images (contents already read) into one array. */
export function readImageFolder(
  shown: string,
  listing: { files: string[]; classNames: string[] | null },
  contents: Uint8Array[],
  color: 'gray' | 'rgb',
): ImageFolder {
  const { files, classNames } = listing;
  const n = files.length;
  let h = 0;
  let w = 0;
  let first = '';
  const C = color === 'rgb' ? 3 : 1;
  let data: Float32Array | null = null;
  const notes: string[] = [];
  const labels = classNames ? new Uint8Array(n) : null;
  for (let i = 0; i < n; i++) {
    const rel = `${shown}/${files[i]}`;
    const { pixels, note } = decodeImage(rel, contents[i]);
    if (note) notes.push(note);
    if (i === 0) {
      h = pixels.height;
      w = pixels.width;
      first = files[i];
      data = new Float32Array(checkedProduct(shown, [n, h, w, C], `${n} images of ${w}×${h}`));
    } else if (pixels.height !== h || pixels.width !== w) {
      fail(rel, `this image is ${pixels.width}×${pixels.height} pixels but ${first} (the first) is ${w}×${h}: every image must have one size`);
    }
    const off = i * h * w * C;
    const src = pixels.data;
    if (C === 1) {
      // ITU-R 601 luma for colour pixels
      if (pixels.channels === 1) data!.set(src, off);
      else for (let p = 0; p < h * w; p++) data![off + p] = 0.299 * src[3 * p] + 0.587 * src[3 * p + 1] + 0.114 * src[3 * p + 2];
    } else if (pixels.channels === 3) data!.set(src, off);
    else for (let p = 0; p < h * w; p++) data![off + 3 * p] = data![off + 3 * p + 1] = data![off + 3 * p + 2] = src[p];
    if (labels) labels[i] = classNames!.indexOf(files[i].split('/')[0]);
  }
  return { data: data!, n, shape: C === 3 ? [h, w, 3] : [h, w], labels, classNames, files, notes };
}
