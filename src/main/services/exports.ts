// Exports of tracked runs that need no renderer: every metric point as CSV, and
// a run's sample grid at a step as a PNG (re-laid out, padded, upscaled).
// Used by `latentlab export` and by the hosts' export requests.
import { createWriteStream, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { encodeGrayPng, PNG_SIGNATURE } from '../../engine/util/png';
import type { RunRecord } from '../../shared/domain';
import type { Tracker } from './tracker';

export class ExportError extends Error {}

/** A run by its id or by a unique prefix of it; a clear error otherwise. */
export function findRun(tracker: Tracker, ref: string): RunRecord {
  const exact = tracker.getRun(ref);
  if (exact) return exact;
  const matches = tracker.listRuns({ limit: 1_000_000 }).filter((r) => r.id.startsWith(ref));
  if (matches.length === 1) return matches[0];
  if (matches.length === 0) throw new ExportError(`no run '${ref}' in this workspace (latentlab runs lists them)`);
  throw new ExportError(`'${ref}' matches ${matches.length} runs (${matches.slice(0, 4).map((r) => r.id).join(', ')}…): give more of the id`);
}

const csvField = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

/**
 * Every metric point of the runs, long format, one row per (run, key, step):
 * run_id,run_name,key,step,value,wall_time (ISO 8601). Streams to `file`.
 * Resolves with the number of rows written.
 */
export async function exportMetricsCsv(tracker: Tracker, runs: RunRecord[], file: string): Promise<number> {
  const out = createWriteStream(file);
  const failed = new Promise<never>((_, reject) => out.once('error', reject));
  let n = 0;
  // no await while the query iterates: the connection stays free for nobody else
  // in between (the stream buffers what the disk has not taken yet)
  out.write('run_id,run_name,key,step,value,wall_time\n');
  for (const run of runs) {
    const prefix = `${csvField(run.id)},${csvField(run.name)},`;
    let chunk = '';
    for (const p of tracker.iterateMetrics(run.id)) {
      chunk += `${prefix}${csvField(p.key)},${p.step},${p.value},${new Date(p.wallTime).toISOString()}\n`;
      n++;
      if (chunk.length > 1 << 16) {
        out.write(chunk);
        chunk = '';
      }
    }
    if (chunk) out.write(chunk);
  }
  await Promise.race([new Promise<void>((resolve) => out.end(resolve)), failed]);
  return n;
}

export interface DecodedPng {
  width: number;
  height: number;
  /** 1 (gray), 2 (gray + alpha), 3 (RGB) or 4 (RGBA) */
  channels: number;
  pixels: Uint8Array;
}

/** Decodes an 8-bit, non-interlaced PNG (any filter); others get a clear error. */
export function decodePng(buf: Buffer): DecodedPng {
  if (buf.length < 8 || !buf.subarray(0, 8).equals(PNG_SIGNATURE)) throw new ExportError('not a PNG file');
  let off = 8;
  let width = 0, height = 0, depth = 0, color = 0, interlace = 0;
  const idat: Buffer[] = [];
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString('ascii', off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      depth = data[8];
      color = data[9];
      interlace = data[12];
    } else if (type === 'IDAT') idat.push(data);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const channels = ({ 0: 1, 4: 2, 2: 3, 6: 4 } as Record<number, number>)[color];
  if (depth !== 8 || !channels || interlace !== 0) throw new ExportError(`unsupported PNG (bit depth ${depth}, color type ${color}, interlace ${interlace})`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length < (stride + 1) * height) throw new ExportError('truncated PNG data');
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const row = px.subarray(y * stride, (y + 1) * stride);
    const up = y > 0 ? px.subarray((y - 1) * stride, y * stride) : null;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? row[x - channels] : 0;
      const b = up ? up[x] : 0;
      const c = up && x >= channels ? up[x - channels] : 0;
      let v = src[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      } else if (filter !== 0) throw new ExportError(`bad PNG filter ${filter} in row ${y}`);
      row[x] = v & 0xff;
    }
  }
  return { width, height, channels, pixels: px };
}

export interface GridOptions {
  /** the grid logged at this step, else the last one at or before it (default: the last) */
  step?: number;
  rows?: number;
  cols?: number;
  /** pixels between tiles and around the grid (default 1) */
  pad?: number;
  /** integer upscaling for small images (default 1) */
  scale?: number;
}

/**
 * A run's sample grid as PNG: the stored grid cut into its tiles (the artifact
 * records rows and cols; tiles are separated by 1 pixel) and laid out again.
 */
export function exportGridPng(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: GridOptions = {}): { png: Buffer; step: number; width: number; height: number } {
  const grids = tracker.artifacts(run.id, 'samples');
  if (grids.length === 0) throw new ExportError(`run ${run.id} has no sample grids`);
  const at = opts.step === undefined ? grids[grids.length - 1] : [...grids].reverse().find((g) => g.step <= opts.step!);
  if (!at) throw new ExportError(`run ${run.id} has no sample grid at or before step ${opts.step} (the first is at step ${grids[0].step})`);
  const file = isAbsolute(at.path) ? at.path : join(artifactsDir, at.path);
  const img = decodePng(readFileSync(file));
  const meta = at.meta as { rows?: number; cols?: number; n?: number };
  const srcRows = meta.rows ?? 1, srcCols = meta.cols ?? 1, n = meta.n ?? srcRows * srcCols;
  const w = Math.floor((img.width - 1) / srcCols) - 1, h = Math.floor((img.height - 1) / srcRows) - 1;
  if (w <= 0 || h <= 0) throw new ExportError(`grid ${at.path} does not match its recorded ${srcRows}×${srcCols} layout`);
  const cols = opts.cols ?? (opts.rows ? Math.ceil(n / opts.rows) : srcCols);
  const rows = opts.rows ?? Math.ceil(n / cols);
  const pad = opts.pad ?? 1, scale = opts.scale ?? 1;
  for (const [k, v, lo] of [['rows', rows, 1], ['cols', cols, 1], ['pad', pad, 0], ['scale', scale, 1]] as const) {
    if (!Number.isInteger(v) || v < lo || v > 64) throw new ExportError(`--${k} must be an integer from ${lo} to 64 (got ${v})`);
  }
  const W = (cols * (w + pad) + pad) * scale, H = (rows * (h + pad) + pad) * scale;
  const out = new Uint8Array(W * H).fill(40);
  const gray = (x: number, y: number) => {
    const i = (y * img.width + x) * img.channels;
    return img.channels >= 3 ? Math.round((img.pixels[i] + img.pixels[i + 1] + img.pixels[i + 2]) / 3) : img.pixels[i];
  };
  for (let k = 0; k < Math.min(n, rows * cols); k++) {
    const sx = 1 + (k % srcCols) * (w + 1), sy = 1 + Math.floor(k / srcCols) * (h + 1);
    const dx = pad + (k % cols) * (w + pad), dy = pad + Math.floor(k / cols) * (h + pad);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = gray(sx + x, sy + y);
        for (let yy = 0; yy < scale; yy++) out.fill(v, ((dy + y) * scale + yy) * W + (dx + x) * scale, ((dy + y) * scale + yy) * W + (dx + x + 1) * scale);
      }
    }
  }
  return { png: encodeGrayPng(W, H, out), step: at.step, width: W, height: H };
}
