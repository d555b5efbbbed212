// What the Import dialog shows about a dataset: shapes, rows per split, classes, the
// value range, the fingerprint, and a preview picture (an image grid, a scatter, a
// waveform) written as a PNG under <artifacts>/imports/<fingerprint>/ with a temp
// file and a rename, so a half-written preview is never served. Plain Node.
import fs from 'node:fs';
import path from 'node:path';
import { deflateSync } from 'node:zlib';
import { crc32, PNG_SIGNATURE } from '../../util/png';
import type { Dataset } from '../types';
import { muLawDecode } from '../waveforms';
import { valueRange } from './dataset';
import { importData, type LoadOptions } from './index';
import { FORMAT_NAMES } from './sniff';

export interface ImportSummary {
  name: string;
  format: string;
  kind: Dataset['kind'];
  shape: number[];
  dim: number;
  binary: boolean;
  rows: { train: number; val: number; test: number };
  classes: number | null;
  classNames: string[];
  range: { min: number; max: number };
  fingerprint: string;
  files: number;
  bytes: number;
  notes: string[];
  /** path of the preview PNG relative to the artifacts folder, or null */
  preview: string | null;
  /** text: the first lines; audio: '' */
  sample: string | null;
  levels: number | null;
  sampleRate: number | null;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE((crc32(out.subarray(4, 8 + data.length)) ^ 0xffffffff) >>> 0, 8 + data.length);
  return out;
}

/** RGB pixels (0..255, row-major, 3 per pixel) as a PNG */
export function encodeRgbPng(width: number, height: number, rgb: Uint8Array): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((3 * width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgb.subarray(y * 3 * width, (y + 1) * 3 * width), y * (3 * width + 1) + 1);
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

const PALETTE = [[31, 119, 180], [255, 127, 14], [44, 160, 44], [214, 39, 40], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127], [188, 189, 34], [23, 190, 207]];

/** up to 64 training images in an 8-column grid, scaled up so small images stay visible */
function imageGrid(ds: Dataset): { w: number; h: number; rgb: Uint8Array } {
  const [ih, iw] = ds.shape;
  const C = ds.shape[2] ?? 1;
  const n = Math.min(64, ds.train.n);
  const cols = Math.min(8, n);
  const rows = Math.ceil(n / cols);
  const zoom = Math.max(1, Math.min(4, Math.floor(64 / Math.max(ih, iw))));
  const cw = iw * zoom + 2;
  const ch = ih * zoom + 2;
  const w = cols * cw;
  const h = rows * ch;
  const rgb = new Uint8Array(w * h * 3).fill(40);
  for (let k = 0; k < n; k++) {
    const ox = (k % cols) * cw + 1;
    const oy = Math.floor(k / cols) * ch + 1;
    for (let y = 0; y < ih * zoom; y++) {
      for (let x = 0; x < iw * zoom; x++) {
        const p = (Math.floor(y / zoom) * iw + Math.floor(x / zoom)) * C;
        const base = k * ds.dim + p;
        const q = ((oy + y) * w + ox + x) * 3;
        for (let c = 0; c < 3; c++) rgb[q + c] = Math.round(255 * Math.min(1, Math.max(0, ds.train.x[base + (C === 3 ? c : 0)])));
      }
    }
  }
  return { w, h, rgb };
}

/** the first two dims of up to 2000 training rows (coloured by class) */
function scatter(ds: Dataset): { w: number; h: number; rgb: Uint8Array } {
  const S = 240;
  const rgb = new Uint8Array(S * S * 3).fill(255);
  const n = Math.min(2000, ds.train.n);
  const d = ds.dim;
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    xs.push(ds.train.x[i * d]);
    ys.push(d > 1 ? ds.train.x[i * d + 1] : 0);
  }
  const span = (v: number[]) => {
    const lo = Math.min(...v);
    const hi = Math.max(...v);
    return [lo, hi > lo ? hi - lo : 1];
  };
  const [x0, xw] = span(xs);
  const [y0, yw] = span(ys);
  for (let i = 0; i < n; i++) {
    const px = Math.round(8 + ((xs[i] - x0) / xw) * (S - 16));
    const py = Math.round(S - 8 - ((ys[i] - y0) / yw) * (S - 16));
    const col = ds.train.y ? PALETTE[ds.train.y[i] % PALETTE.length] : [31, 119, 180];
    for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
      const x = px + dx;
      const y = py + dy;
      if (x < 0 || y < 0 || x >= S || y >= S) continue;
      rgb.set(col, (y * S + x) * 3);
    }
  }
  return { w: S, h: S, rgb };
}

/** four training windows of audio, one under the other */
function waveform(ds: Dataset): { w: number; h: number; rgb: Uint8Array } {
  const W = 480;
  const lanes = Math.min(4, ds.train.n);
  const L = 60;
  const H = lanes * L;
  const rgb = new Uint8Array(W * H * 3).fill(255);
  for (let k = 0; k < lanes; k++) {
    const mid = k * L + L / 2;
    for (let x = 0; x < W; x++) rgb.set([220, 220, 220], (Math.round(mid) * W + x) * 3);
    let prev = mid;
    for (let x = 0; x < W; x++) {
      const t = Math.floor((x / W) * ds.dim);
      const v = ds.levels === 256 ? muLawDecode(ds.train.x[k * ds.dim + t]) : ds.train.x[k * ds.dim + t] / Math.max(1, (ds.levels ?? 2) - 1) * 2 - 1;
      const y = Math.round(mid - v * (L / 2 - 3));
      for (let yy = Math.min(prev, y); yy <= Math.max(prev, y); yy++) rgb.set([31, 119, 180], (yy * W + x) * 3);
      prev = y;
    }
  }
  return { w: W, h: H, rgb };
}

/** writes bytes to `file` through a temp file and a rename */
export function writeAtomic(file: string, bytes: Uint8Array): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Imports `target` (relative to the workspace) and writes its preview; throws ImportError on bad data. */
export function inspectData(target: string, opts: LoadOptions, workspaceDir: string, artifactsDir: string): ImportSummary {
  const { dataset: ds, info } = importData(target, opts, workspaceDir);
  const isAudio = ds.kind === 'sequence' && ds.sampleRate !== undefined;
  let pic: { w: number; h: number; rgb: Uint8Array } | null = null;
  if (ds.kind === 'image') pic = imageGrid(ds);
  else if (ds.kind === 'points') pic = scatter(ds);
  else if (isAudio) pic = waveform(ds);
  let preview: string | null = null;
  if (pic) {
    preview = `imports/${ds.fingerprint}/preview.png`;
    writeAtomic(path.join(artifactsDir, ...preview.split('/')), encodeRgbPng(pic.w, pic.h, pic.rgb));
  }
  const sample = info.head ?? null;
  const range = valueRange(ds.train.x);
  for (const s of [ds.val, ds.test]) {
    const r = valueRange(s.x);
    if (s.n > 0) {
      range.min = Math.min(range.min, r.min);
      range.max = Math.max(range.max, r.max);
    }
  }
  return {
    name: ds.name,
    // what kind of file was read, in words (the dialog shows it)
    format: info.format === 'png' && info.files.length > 1 ? 'image folder' : `${FORMAT_NAMES[info.format]}${info.readAs ? `, read as ${info.readAs}` : ''}`,
    kind: ds.kind,
    shape: ds.shape,
    dim: ds.dim,
    binary: ds.binary,
    rows: { train: ds.train.n, val: ds.val.n, test: ds.test.n },
    classes: ds.classes ?? null,
    classNames: (ds.classNames ?? []).slice(0, 256),
    range,
    fingerprint: ds.fingerprint,
    files: info.files.length + (info.labelsFile ? 1 : 0),
    bytes: info.bytes,
    notes: info.notes,
    preview,
    sample,
    levels: ds.levels ?? null,
    sampleRate: ds.sampleRate ?? null,
  };
}
