// Exports of tracked runs that need no renderer: every metric point as CSV, a
// run's sample grid at a step as a PNG (re-laid out, padded, upscaled), and a
// report of runs as self-contained HTML or as Markdown with an images folder.
// Used by `latentlab export` and by the hosts' export requests.
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { basename, isAbsolute, join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { Worker } from 'node:worker_threads';
import { encodeGrayGif, GRAY_PALETTE, type GrayFrame } from '../../engine/util/gif';
import { nodeRequire } from '../../engine/util/node-require';
import { encodeGrayPng, pngGray, PNG_SIGNATURE } from '../../engine/util/png';
import { drawLine, fitText, textWidth } from '../../engine/util/text-raster';
import type { RunRecord } from '../../shared/domain';
import { flattenConfig, isBookkeeping, lineDiff, metricKindOf, samplePairOf, SAMPLE_METRIC_KEYS, unitOf } from '../../shared/compare';
import { appRoot } from './paths';
import type { Tracker } from './tracker';
import { parseLabels, type ExportRequest } from '../../shared/exports';
import { runName } from '../../shared/run-names';

export { parseLabels };

export class ExportError extends Error {}

/**
 * The most a grid or GIF export may be: pixels a side, and pixels in all (a GIF's
 * frames together). Each of rows, cols, pad and scale is bounded, but not their
 * product: 64 × 64 tiles, pad 64, scale 8 made a 47,616² grid (2.3 billion pixels, a
 * 4.5 GB host). 40 million pixels is a 6,300² PNG, a 64 × 64 grid of 28-pixel tiles
 * at scale 3, or 736 frames of an 8 × 8 grid of them; the largest grid renders in
 * about 1.5 s on a 2-core VM.
 */
export const MAX_EXPORT_SIDE = 16_384;
export const MAX_EXPORT_PIXELS = 40_000_000;

/** Refuses, before anything is allocated, an output over the limits. */
function checkOutputSize(what: 'grid' | 'GIF', width: number, height: number, frames = 1): void {
  const total = width * height * frames;
  if (width <= MAX_EXPORT_SIDE && height <= MAX_EXPORT_SIDE && total <= MAX_EXPORT_PIXELS) return;
  throw new ExportError(
    `the ${what} would be ${width}×${height} pixels${frames > 1 ? ` × ${frames} frames` : ''} (${(total / 1e6).toFixed(1)} million); ` +
      `an export may be at most ${MAX_EXPORT_SIDE} pixels a side and ${MAX_EXPORT_PIXELS / 1e6} million pixels in all${frames > 1 ? ' (every frame counts)' : ''}: ` +
      (what === 'GIF' ? 'ask for a smaller scale' : 'ask for fewer rows or columns, or a smaller pad or scale'),
  );
}

/**
 * Grids and GIFs are rendered by generators that yield every few thousand pixels:
 * `finish` runs one to its end at once (the CLI, reports), `inSlices` runs it a few
 * milliseconds at a time, so a host's event loop (its WebSocket, its other requests)
 * keeps turning while a large export renders.
 */
type Render<T> = Generator<void, T, void>;

function finish<T>(g: Render<T>): T {
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
  }
}

async function inSlices<T>(g: Render<T>, sliceMs = 8): Promise<T> {
  let until = performance.now() + sliceMs;
  for (;;) {
    const r = g.next();
    if (r.done) return r.value;
    if (performance.now() >= until) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      until = performance.now() + sliceMs;
    }
  }
}

/**
 * Images up to this many pixels are encoded in the calling thread (a typical grid
 * takes pngjs ~10 ms); larger ones, up to the 40-million-pixel limit (~0.8 s), on a
 * worker thread, so a host's event loop keeps turning meanwhile.
 */
const OFF_THREAD_PIXELS = 1_000_000;

type EncodeJob =
  | { kind: 'png'; width: number; height: number; pixels: Uint8Array }
  | { kind: 'gif'; width: number; height: number; frames: GrayFrame[] };

// The worker's code: the same library calls as encodeGrayPng and encodeGrayGif, with
// the libraries resolved by the host (a worker from a string has no bundle of its own).
const WORKER_SOURCE = `
const { parentPort, workerData: job } = require('node:worker_threads');
let out;
if (job.kind === 'png') {
  const { PNG } = require(job.lib);
  out = PNG.sync.write({ width: job.width, height: job.height, data: Buffer.from(job.pixels.buffer, job.pixels.byteOffset, job.pixels.byteLength) }, job.options);
} else {
  const { GIFEncoder } = require(job.lib);
  const gif = GIFEncoder({ initialCapacity: Math.max(4096, (job.width * job.height * job.frames.length) >> 1) });
  job.frames.forEach((f, i) => gif.writeFrame(f.pixels, job.width, job.height, i === 0 ? { palette: job.palette, delay: f.delay, repeat: 0 } : { delay: f.delay }));
  gif.finish();
  out = gif.bytesView();
}
const copy = new Uint8Array(out);
parentPort.postMessage(copy, [copy.buffer]);
`;

/** A PNG or GIF encoded by its library: here when small, on a worker thread when large. */
async function encodeForHost(job: EncodeJob): Promise<Buffer> {
  const pixels = job.kind === 'png' ? job.pixels.length : job.frames.reduce((n, f) => n + f.pixels.length, 0);
  if (pixels <= OFF_THREAD_PIXELS) return job.kind === 'png' ? encodeGrayPng(job.width, job.height, job.pixels) : encodeGrayGif(job.width, job.height, job.frames);
  const lib = nodeRequire().resolve(job.kind === 'png' ? 'pngjs' : 'gifenc');
  const data = { ...job, lib, options: pngGray(), palette: GRAY_PALETTE };
  const buffers = job.kind === 'png' ? [job.pixels.buffer] : job.frames.map((f) => f.pixels.buffer);
  return new Promise<Buffer>((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: data, transferList: buffers as ArrayBuffer[] });
    w.once('message', (b: Uint8Array) => resolve(Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    w.once('error', reject);
    w.once('exit', (code) => reject(new ExportError(`the ${job.kind.toUpperCase()} encoder stopped (exit code ${code}) before it answered`)));
  });
}

/** A run by its id or by a unique prefix of it; a clear error otherwise. Its name is the one shown in the app (what differs from its siblings). */
export function findRun(tracker: Tracker, ref: string): RunRecord {
  const exact = tracker.getRun(ref);
  if (exact) return withShownName(tracker, exact);
  const matches = tracker.listRuns({ limit: 1_000_000 }).filter((r) => r.id.startsWith(ref));
  if (matches.length === 1) return withShownName(tracker, matches[0]);
  if (matches.length === 0) throw new ExportError(`no run '${ref}' in this workspace (latentlab runs lists them)`);
  throw new ExportError(`'${ref}' matches ${matches.length} runs (${matches.slice(0, 4).map((r) => r.id).join(', ')}…): give more of the id`);
}

/** the run with the name the app shows for it (shared/run-names.ts), made among its notebook's runs */
function withShownName(tracker: Tracker, run: RunRecord): RunRecord {
  return { ...run, name: runName(run, tracker.listRuns({ notebook: run.notebook, limit: 10_000 })) };
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
  return finish(decodePngRows(buf));
}

function* decodePngRows(buf: Buffer): Render<DecodedPng> {
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
  if (width * height > MAX_EXPORT_PIXELS) throw new ExportError(`a stored PNG of ${width}×${height} pixels is larger than any export may be`);
  const stride = width * channels;
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat), { maxOutputLength: Math.max(1, (stride + 1) * height) });
  } catch (e) {
    throw new ExportError(`corrupt PNG data: ${(e as Error).message}`);
  }
  if (raw.length < (stride + 1) * height) throw new ExportError('truncated PNG data');
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    if ((y & 63) === 63) yield;
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
  /** a label left of each row (at most `rows`), or 'index' for 1, 2, … */
  rowLabels?: string[] | 'index';
  /** a label above each column (at most `cols`), or 'index' for 1, 2, … */
  colLabels?: string[] | 'index';
  /** a line of text in a band above the grid (each GIF frame's step) */
  caption?: string;
}

/** labels are drawn this many pixels high at scale 1, in this gray on the grid's background (40) */
export const LABEL_SIZE = 11;
const LABEL_GRAY = 230;

const numbered = (labels: string[] | 'index' | undefined, n: number) => (labels === 'index' ? Array.from({ length: n }, (_, i) => String(i + 1)) : labels);

/**
 * A run's sample grid as PNG: the stored grid cut into its tiles (the artifact
 * records rows and cols; tiles are separated by 1 pixel) and laid out again.
 */
export function exportGridPng(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: GridOptions = {}): { png: Buffer; step: number; width: number; height: number } {
  const g = finish(gridPixels(tracker, artifactsDir, run, opts));
  return { png: encodeGrayPng(g.width, g.height, g.pixels), step: g.step, width: g.width, height: g.height };
}

/** exportGridPng for a host: rendered in slices, encoded off the event loop. */
export async function exportGridPngAsync(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: GridOptions = {}): Promise<{ png: Buffer; step: number; width: number; height: number }> {
  const g = await inSlices(gridPixels(tracker, artifactsDir, run, opts));
  return { png: await encodeForHost({ kind: 'png', width: g.width, height: g.height, pixels: g.pixels }), step: g.step, width: g.width, height: g.height };
}

/**
 * The re-laid-out grid as gray pixels (what exportGridPng encodes, and each GIF
 * frame). `gifFrames`: the frames of the GIF it is one of, for the size limit.
 */
function* gridPixels(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: GridOptions, gifFrames?: number): Render<{ pixels: Uint8Array; step: number; width: number; height: number }> {
  const grids = tracker.artifacts(run.id, 'samples');
  if (grids.length === 0) throw new ExportError(`run ${run.id} has no sample grids`);
  const at = opts.step === undefined ? grids[grids.length - 1] : [...grids].reverse().find((g) => g.step <= opts.step!);
  if (!at) throw new ExportError(`run ${run.id} has no sample grid at or before step ${opts.step} (the first is at step ${grids[0].step})`);
  const file = isAbsolute(at.path) ? at.path : join(artifactsDir, at.path);
  const img = yield* decodePngRows(readFileSync(file));
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
  const rowLabels = numbered(opts.rowLabels, rows), colLabels = numbered(opts.colLabels, cols);
  for (const [k, labels, max] of [['row', rowLabels, rows], ['column', colLabels, cols]] as const) {
    if (labels && labels.length > max) throw new ExportError(`${labels.length} ${k} labels for ${max} ${k}s`);
    if (labels?.some((l) => l.length > 40)) throw new ExportError(`${k} labels are at most 40 characters`);
  }
  // labels sit in margins left of and above the tiles, in DejaVu Sans at the grid's
  // scale; a caption (a GIF frame's step) in a band above them
  const size = LABEL_SIZE * scale, line = Math.ceil(size * 1.5);
  const left = rowLabels?.length ? Math.max(...rowLabels.map((l) => textWidth(l, size))) + 6 * scale : 0;
  const band = opts.caption ? line : 0;
  const top = band + (colLabels?.length ? line : 0);
  const gridW = (cols * (w + pad) + pad) * scale, gridH = (rows * (h + pad) + pad) * scale;
  const W = left + gridW, H = top + gridH;
  checkOutputSize(gifFrames === undefined ? 'grid' : 'GIF', W, H, gifFrames);
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y += 256) {
    out.fill(40, y * W, Math.min(H, y + 256) * W);
    yield;
  }
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
        for (let yy = 0; yy < scale; yy++) out.fill(v, (top + (dy + y) * scale + yy) * W + left + (dx + x) * scale, (top + (dy + y) * scale + yy) * W + left + (dx + x + 1) * scale);
      }
      yield;
    }
  }
  const style = { size, value: LABEL_GRAY };
  rowLabels?.forEach((label, r) => {
    drawLine(out, W, H, label, left - 3 * scale, top + (pad + r * (h + pad) + h / 2) * scale, { ...style, align: 'right' });
  });
  colLabels?.forEach((label, c) => {
    // centred over its column; a label wider than the column is cut to fit, with '…'
    const text = fitText(label, (w + pad) * scale, size);
    drawLine(out, W, H, text, left + (pad + c * (w + pad) + w / 2) * scale, band + line / 2, { ...style, align: 'center' });
  });
  if (opts.caption) drawLine(out, W, H, fitText(opts.caption, W - 4 * scale, size), 2 * scale, line / 2, style);
  return { pixels: out, step: at.step, width: W, height: H };
}

/** A run's last interpolation strip, upscaled `scale` times, as PNG (null where it logged none). */
export function stripPng(tracker: Tracker, artifactsDir: string, run: RunRecord, scale = 2): { png: Buffer; step: number; endpoints: string } | null {
  const strips = tracker.artifacts(run.id, 'interpolation');
  const at = strips[strips.length - 1];
  if (!at) return null;
  const img = decodePng(readFileSync(isAbsolute(at.path) ? at.path : join(artifactsDir, at.path)));
  const W = img.width * scale, H = img.height * scale;
  const out = new Uint8Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) out[y * W + x] = img.pixels[(Math.floor(y / scale) * img.width + Math.floor(x / scale)) * img.channels];
  }
  return { png: encodeGrayPng(W, H, out), step: at.step, endpoints: String(at.meta.endpoints ?? '') };
}

/** What differs between the runs: settings (flattened), seed, backend, data; the code is diffed separately. */
function differences(runs: RunRecord[]): { key: string; values: string[] }[] {
  const flat = runs.map((r) => flattenConfig(r.config));
  const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => !isBookkeeping(k)).sort();
  const rows = keys.map((key) => ({ key, values: flat.map((f) => f[key] ?? '—') }));
  rows.push(
    { key: 'seed', values: runs.map((r) => String(r.seed)) },
    { key: 'backend', values: runs.map((r) => r.backend) },
    { key: 'data', values: runs.map((r) => `${r.dataName} ${r.dataFingerprint.slice(0, 12)}`) },
  );
  return rows.filter((r) => new Set(r.values).size > 1);
}

/**
 * A run's settings as table rows: one per setting, grouped by its section (model,
 * train, data, …: the first level of the config) with the rest of its path as the
 * setting's name; values as a person writes them (text unquoted, lists comma
 * separated, no value as —). `span`: on a section's first row, how many rows it has.
 * What the app records for itself (metric kinds, the sweep record) is left out.
 */
export function settingRows(config: Record<string, unknown>): { section: string; key: string; value: string; span: number }[] {
  const rows: { section: string; key: string; value: string; span: number }[] = [];
  const show = (v: unknown): string =>
    v === null || v === undefined ? '—' : typeof v === 'string' ? v : Array.isArray(v) ? v.map((x) => (typeof x === 'object' && x !== null ? JSON.stringify(x) : show(x))).join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  for (const [section, value] of Object.entries(config)) {
    if (isBookkeeping(section) || section === 'sweep') continue;
    const leaves: [string, unknown][] = [];
    const walk = (v: unknown, path: string) => {
      if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
      else leaves.push([path, v]);
    };
    walk(value, '');
    leaves.forEach(([key, v], i) => rows.push({ section, key: key || '(value)', value: show(v), span: i === 0 ? leaves.length : 0 }));
  }
  return rows;
}

/** text in a Markdown table cell: pipes escaped, on one line */
const mdCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');

const STRIP_NOTE: Record<string, string> = {
  data: 'decoded between the codes of the first two validation images (shown at the ends)',
  prior: 'decoded along a great circle between two prior draws of the sample seed',
};

/**
 * The kind of a metric as the runs recorded it (exact, bound, estimate, …), for
 * a table header; where the runs disagree the header says so.
 */
function kindOf(runs: RunRecord[], key: string): string {
  const kinds = new Set(runs.map((r) => metricKindOf(r, key)).filter(Boolean));
  if (kinds.size === 0) return '';
  const unit = unitOf(key, [...kinds] as string[]);
  const u = unit ? `, ${unit}` : '';
  return kinds.size === 1 ? ` <small>(${esc([...kinds][0]!)}${u})</small>` : ` <small>(kinds differ: ${esc([...kinds].join(', '))} — not comparable${u})</small>`;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];
const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : Number(v.toPrecision(5)).toString());

/** One metric of several runs as a self-contained SVG line chart (min/max-downsampled). */
export function curveSvg(title: string, series: { label: string; steps: number[]; values: number[] }[], width = 560, height = 250): string {
  const pts = series.flatMap((s) => s.values.filter(Number.isFinite));
  const steps = series.flatMap((s) => s.steps);
  const [y0, y1] = pts.length ? [Math.min(...pts), Math.max(...pts)] : [0, 1];
  const [x0, x1] = steps.length ? [Math.min(...steps), Math.max(...steps)] : [0, 1];
  // three legend entries a row, or one a row where labels are long (they differ at their ends)
  const perRow = series.some((x) => x.label.length > 24) ? 1 : 3;
  const legendRows = Math.ceil(series.length / perRow);
  const L = 64, R = 12, T = 30 + 13 * legendRows, B = 32;
  const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (width - L - R);
  const sy = (y: number) => T + (1 - (y - y0) / (y1 - y0 || 1)) * (height - T - B);
  const lines = series.map((s, i) => {
    const d = s.steps.map((x, k) => (Number.isFinite(s.values[k]) ? `${sx(x).toFixed(1)},${sy(s.values[k]).toFixed(1)}` : '')).filter(Boolean).join(' ');
    return `<polyline fill="none" stroke="${PALETTE[i % PALETTE.length]}" stroke-width="1.5" points="${d}"><title>${esc(s.label)}</title></polyline>`;
  });
  const legend = series.map((s, i) => `<text x="${L + (i % perRow) * 160}" y="${32 + Math.floor(i / perRow) * 13}" font-size="11" fill="${PALETTE[i % PALETTE.length]}">— ${esc(s.label.slice(0, 70))}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" data-metric="${esc(title)}">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${L}" y="14" font-size="12" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${L}" y1="${height - B}" x2="${width - R}" y2="${height - B}" stroke="#999"/><line x1="${L}" y1="${T}" x2="${L}" y2="${height - B}" stroke="#999"/>`,
    `<text x="${L - 4}" y="${T + 4}" font-size="10" text-anchor="end">${fmt(y1)}</text><text x="${L - 4}" y="${height - B}" font-size="10" text-anchor="end">${fmt(y0)}</text>`,
    `<text x="${L}" y="${height - B + 14}" font-size="10">${x0}</text><text x="${width - R}" y="${height - B + 14}" font-size="10" text-anchor="end">${x1}</text>`,
    `<text x="${(L + width - R) / 2}" y="${height - 4}" font-size="10" text-anchor="middle">step</text>`,
    ...lines, ...legend, '</svg>',
  ].join('\n');
}

/**
 * The runs' sample metrics (FID, KID, precision/recall, class coverage; MMD on points),
 * each with the classifier version and sample count it was computed with; `warning`
 * says why they are not comparable when those pairs differ.
 */
export function sampleSection(runs: RunRecord[]): { keys: string[]; rows: { run: RunRecord; pair: string; values: (number | null)[] }[]; warning: string } | null {
  const keys = SAMPLE_METRIC_KEYS.filter((k) => runs.some((r) => k in r.finalMetrics));
  if (keys.length === 0) return null;
  const holding = runs.filter((r) => keys.some((k) => k in r.finalMetrics));
  const rows = holding.map((run) => ({ run, pair: samplePairOf(run), values: keys.map((k) => (k in run.finalMetrics ? run.finalMetrics[k] : null)) }));
  const pairs = [...new Set(rows.map((r) => r.pair))];
  const warning = pairs.length > 1 ? `these runs' sample metrics were computed with different classifier versions or sample counts (${rows.map((r) => `${r.run.id.slice(-4)}: ${r.pair}`).join(', ')}), so they cannot be ranked against each other.` : '';
  return { keys, rows, warning };
}

export interface ReportEnvironment {
  appVersion: string;
  node: string;
  generatedAt: number;
}

/** This app's version and Node's, now. */
export function exportEnv(): ReportEnvironment {
  let appVersion = 'unknown';
  try {
    appVersion = (JSON.parse(readFileSync(join(appRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // a packaged app without its package.json still exports
  }
  return { appVersion, node: process.version, generatedAt: Date.now() };
}

/**
 * A report of runs: curves (one chart per metric, the runs overlaid), each run's
 * last sample grid, its settings, final metrics, model code and environment.
 * 'html' is one self-contained file (inline SVG, PNGs as data URIs); 'md' is
 * Markdown beside a folder of the same images. Returns the files written.
 */
export function exportReport(tracker: Tracker, artifactsDir: string, runs: RunRecord[], format: 'html' | 'md', out: string, env: ReportEnvironment): string[] {
  const runKeys = new Map(runs.map((r) => [r.id, tracker.metricKeys(r.id)]));
  // evaluations first (what a reader looks for), then training curves
  const keys = [...new Set([...runKeys.values()].flat())].sort((a, b) => Number(b.startsWith('val/')) - Number(a.startsWith('val/')) || a.localeCompare(b));
  const charts = keys.map((key) => ({
    key,
    svg: curveSvg(key, runs.filter((r) => runKeys.get(r.id)!.includes(key)).map((r) => ({ label: r.name, ...tracker.series(r.id, key, 600) }))),
  }));
  const grids = runs.map((r) => {
    try {
      const g = exportGridPng(tracker, artifactsDir, r, { scale: 2 });
      return { run: r, png: g.png, step: g.step };
    } catch {
      return { run: r, png: null, step: null };
    }
  });
  const strips = runs.map((r) => {
    try {
      return stripPng(tracker, artifactsDir, r);
    } catch {
      return null;
    }
  });
  const diffs = runs.length > 1 ? differences(runs) : [];
  const samples = sampleSection(runs);
  const datasets = [...new Set(runs.map((r) => `${r.dataName} ${r.dataFingerprint.slice(0, 12)}`))];
  const dataWarning = datasets.length > 1 ? `these runs were trained on different data or preprocessing (${datasets.join(', ')}), so their likelihoods cannot be ranked against each other.` : '';
  const codeDiffs = runs.slice(1).map((r) => (r.code === runs[0].code ? null : lineDiff(runs[0].code, r.code)));
  const when = (t: number | null) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '—');
  const title = runs.length === 1 ? `Run ${runs[0].name} (${runs[0].id})` : `${runs.length} runs: ${runs.map((r) => r.name).join(', ')}`;
  const files: string[] = [];
  if (format === 'html') {
    const parts = [
      '<!doctype html><html><head><meta charset="utf-8">',
      `<title>${esc(title)}</title>`,
      '<style>body{font-family:sans-serif;max-width:1200px;margin:24px auto;color:#222}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;overflow-wrap:anywhere}pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}.charts{display:flex;flex-wrap:wrap;gap:8px}h2{border-bottom:1px solid #ddd}pre.diff .add{background:#e6ffec}pre.diff .del{background:#ffebe9}img{image-rendering:pixelated}.warn{background:#fff4d6;padding:6px 10px}table.settings th[scope=rowgroup]{vertical-align:top;background:#f4f4f4}table.settings td:last-child{font-family:monospace}@media print{body{margin:0;max-width:none}pre{white-space:pre-wrap;overflow-wrap:anywhere}.charts svg{width:49%;height:auto}h2{break-after:avoid}figure,table{break-inside:avoid}}</style>',
      '</head><body>',
      `<h1>${esc(title)}</h1>`,
      `<p>Latent Lab ${esc(env.appVersion)} · Node ${esc(env.node)} · generated ${when(env.generatedAt)} UTC</p>`,
      '<h2>Curves</h2><div class="charts">', ...charts.map((c) => c.svg), '</div>',
      '<h2>Summary</h2><table><tr><th>run</th><th>status</th><th>steps</th><th>family</th><th>backend</th><th>seed</th><th>data</th>' +
        keys.filter((k) => k.startsWith('val/')).map((k) => `<th>${esc(k)}${kindOf(runs, k)}</th>`).join('') + '</tr>',
      ...runs.map((r) => `<tr><td>${esc(r.name)} <small>${esc(r.id)}</small></td><td>${r.status}</td><td>${r.steps}/${r.totalSteps}</td><td>${esc(r.family)}</td><td>${esc(r.backend)}</td><td>${r.seed}</td><td>${esc(r.dataName)} <small>${esc(r.dataFingerprint.slice(0, 12))}</small></td>` +
        keys.filter((k) => k.startsWith('val/')).map((k) => `<td>${k in r.finalMetrics ? fmt(r.finalMetrics[k]) : '—'}</td>`).join('') + '</tr>'),
      '</table>',
      dataWarning ? `<p class="warn"><b>Not comparable:</b> ${esc(dataWarning)}</p>` : '',
      ...(samples
        ? [
            '<h2>Sample quality</h2><table data-section="sample-metrics"><tr><th>run</th><th>computed with</th>' + samples.keys.map((k) => `<th>${esc(k)}${kindOf(runs, k)}</th>`).join('') + '</tr>',
            ...samples.rows.map((r) => `<tr><td>${esc(r.run.name)} <small>${esc(r.run.id)}</small></td><td>${esc(r.pair)}</td>${r.values.map((v) => `<td>${v === null ? '—' : fmt(v)}</td>`).join('')}</tr>`),
            '</table>',
            samples.warning ? `<p class="warn" data-warning="sample-metrics"><b>Not comparable:</b> ${esc(samples.warning)}</p>` : '',
          ]
        : []),
      ...(runs.length > 1
        ? [
            '<h2>What differs</h2>',
            diffs.length === 0 ? '<p>No setting, seed, backend or data differs.</p>' : '<table><tr><th>setting</th>' + runs.map((r) => `<th>${esc(r.id.slice(-4))}</th>`).join('') + '</tr>',
            ...diffs.map((d) => `<tr><td>${esc(d.key)}</td>${d.values.map((v) => `<td><code>${esc(v)}</code></td>`).join('')}</tr>`),
            diffs.length ? '</table>' : '',
            ...codeDiffs.map((d, i) =>
              d === null
                ? `<p>Model code of ${esc(runs[i + 1].id)}: the same as ${esc(runs[0].id)}.</p>`
                : `<h3>Model code: ${esc(runs[i + 1].id)} against ${esc(runs[0].id)}</h3><pre class="diff">${d.map((l) => `<span class="${l.op === '+' ? 'add' : l.op === '-' ? 'del' : ''}">${l.op} ${esc(l.text)}</span>`).join('\n')}</pre>`,
            ),
          ]
        : []),
      ...runs.flatMap((r, i) => [
        `<h2>${esc(r.name)} <small>${esc(r.id)}</small></h2>`,
        `<p>${r.status}, ${r.steps} of ${r.totalSteps} steps, ${when(r.startedAt)} → ${when(r.endedAt)} UTC; backend ${esc(r.backend)}; seed ${r.seed}; data ${esc(r.dataName)} (${esc(r.dataFingerprint)}); notebook ${esc(r.notebook || '—')}</p>`,
        grids[i].png ? `<figure><img alt="samples of ${esc(r.name)} at step ${grids[i].step}" src="data:image/png;base64,${grids[i].png!.toString('base64')}"><figcaption>samples at step ${grids[i].step}</figcaption></figure>` : '<p>(no sample grid)</p>',
        strips[i] ? `<figure><img alt="interpolation of ${esc(r.name)} at step ${strips[i]!.step}" src="data:image/png;base64,${strips[i]!.png.toString('base64')}"><figcaption>interpolation at step ${strips[i]!.step}, ${STRIP_NOTE[strips[i]!.endpoints] ?? ''}</figcaption></figure>` : '',
        '<h3>Settings</h3><table class="settings" data-section="settings"><tr><th>section</th><th>setting</th><th>value</th></tr>',
        ...settingRows(r.config).map((row) => `<tr>${row.span ? `<th rowspan="${row.span}" scope="rowgroup">${esc(row.section)}</th>` : ''}<td>${esc(row.key)}</td><td>${esc(row.value)}</td></tr>`),
        '</table>',
        '<h3>Final metrics</h3><table>', ...Object.entries(r.finalMetrics).map(([k, v]) => `<tr><td>${esc(k)}</td><td>${fmt(v)}</td></tr>`), '</table>',
        `<h3>Model code</h3><pre>${esc(r.code)}</pre>`,
      ]),
      '</body></html>',
    ];
    writeFileSync(out, parts.join('\n'));
    files.push(out);
  } else {
    const dir = out.replace(/\.md$/i, '') + '_files';
    mkdirSync(dir, { recursive: true });
    const rel = basename(dir);
    const lines = [`# ${title}`, '', `Latent Lab ${env.appVersion} · Node ${env.node} · generated ${when(env.generatedAt)} UTC`, '', '## Curves', ''];
    charts.forEach((c, i) => {
      const f = `curve-${i + 1}.svg`;
      writeFileSync(join(dir, f), c.svg);
      files.push(join(dir, f));
      lines.push(`![${c.key}](${rel}/${f})`, '');
    });
    // validation metrics as in the HTML summary, each header with its kind and unit (markup stripped)
    const valKeys = keys.filter((k) => k.startsWith('val/'));
    const valHead = valKeys.map((k) => `${k}${kindOf(runs, k).replace(/<[^>]+>/g, '')}`);
    lines.push('## Summary', '', `| run | status | steps | family | backend | seed | data |${valHead.map((h) => ` ${h} |`).join('')}`, `|---|---|---|---|---|---|---|${valKeys.map(() => '---|').join('')}`);
    for (const r of runs) {
      const vals = valKeys.map((k) => ` ${k in r.finalMetrics ? fmt(r.finalMetrics[k]) : '—'} |`).join('');
      lines.push(`| ${r.name} \`${r.id}\` | ${r.status} | ${r.steps}/${r.totalSteps} | ${r.family} | ${r.backend} | ${r.seed} | ${r.dataName} \`${r.dataFingerprint.slice(0, 12)}\` |${vals}`);
    }
    if (dataWarning) lines.push('', `**Not comparable:** ${dataWarning}`);
    if (samples) {
      lines.push('', '## Sample quality', '', `| run | computed with |${samples.keys.map((k) => ` ${k}${kindOf(runs, k).replace(/<[^>]+>/g, '')} |`).join('')}`, `|---|---|${samples.keys.map(() => '---|').join('')}`);
      for (const r of samples.rows) lines.push(`| ${r.run.name} \`${r.run.id}\` | ${r.pair} |${r.values.map((v) => ` ${v === null ? '—' : fmt(v)} |`).join('')}`);
      if (samples.warning) lines.push('', `**Not comparable:** ${samples.warning}`);
    }
    if (runs.length > 1) {
      lines.push('', '## What differs', '');
      if (diffs.length === 0) lines.push('No setting, seed, backend or data differs.');
      else lines.push(`| setting | ${runs.map((r) => r.id.slice(-4)).join(' | ')} |`, `|---|${runs.map(() => '---|').join('')}`, ...diffs.map((d) => `| ${d.key} | ${d.values.map((v) => `\`${v}\``).join(' | ')} |`));
      codeDiffs.forEach((d, i) => {
        if (d) lines.push('', `Model code of \`${runs[i + 1].id}\` against \`${runs[0].id}\`:`, '', '```diff', ...d.map((l) => `${l.op}${l.text}`), '```');
      });
    }
    runs.forEach((r, i) => {
      lines.push('', `## ${r.name} \`${r.id}\``, '');
      if (grids[i].png) {
        const f = `samples-${i + 1}.png`;
        writeFileSync(join(dir, f), grids[i].png!);
        files.push(join(dir, f));
        lines.push(`![samples at step ${grids[i].step}](${rel}/${f})`, '');
      }
      if (strips[i]) {
        const f = `interpolation-${i + 1}.png`;
        writeFileSync(join(dir, f), strips[i]!.png);
        files.push(join(dir, f));
        lines.push(`![interpolation at step ${strips[i]!.step}](${rel}/${f})`, '', `Interpolation at step ${strips[i]!.step}, ${STRIP_NOTE[strips[i]!.endpoints] ?? ''}.`, '');
      }
      lines.push('| section | setting | value |', '|---|---|---|', ...settingRows(r.config).map((row) => `| ${row.span ? mdCell(row.section) : ''} | ${mdCell(row.key)} | ${mdCell(row.value)} |`), '');
      lines.push('| metric | final |', '|---|---|', ...Object.entries(r.finalMetrics).map(([k, v]) => `| ${k} | ${fmt(v)} |`), '');
      lines.push('```ts', r.code, '```');
    });
    writeFileSync(out, lines.join('\n') + '\n');
    files.unshift(out);
  }
  return files;
}

/**
 * The evolution of a run's sample grid over training as an animated GIF: one
 * frame per logged grid (gray, 256 levels) with its step written above it,
 * `delay` ms each, looping, the last frame held three times as long.
 */
export function exportGridGif(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: { scale?: number; delay?: number } = {}): { gif: Buffer; frames: number; width: number; height: number } {
  const g = finish(gridGifFrames(tracker, artifactsDir, run, opts));
  return { gif: encodeGrayGif(g.width, g.height, g.frames), frames: g.frames.length, width: g.width, height: g.height };
}

/** exportGridGif for a host: rendered in slices, the event loop turning in between; a large GIF encoded on a worker thread. */
export async function exportGridGifAsync(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: { scale?: number; delay?: number } = {}): Promise<{ gif: Buffer; frames: number; width: number; height: number }> {
  const g = await inSlices(gridGifFrames(tracker, artifactsDir, run, opts));
  const n = g.frames.length;
  return { gif: await encodeForHost({ kind: 'gif', width: g.width, height: g.height, frames: g.frames }), frames: n, width: g.width, height: g.height };
}

/** The frame of each logged grid, captioned "step N". */
function* gridGifFrames(tracker: Tracker, artifactsDir: string, run: RunRecord, opts: { scale?: number; delay?: number }): Render<{ frames: GrayFrame[]; width: number; height: number }> {
  const steps = tracker.artifacts(run.id, 'samples').map((a) => a.step);
  if (steps.length === 0) throw new ExportError(`run ${run.id} has no sample grids`);
  const delay = opts.delay ?? 400;
  if (!Number.isInteger(delay) || delay < 20 || delay > 60_000) throw new ExportError(`--delay must be whole milliseconds from 20 to 60000 (got ${delay})`);
  // every frame is held before encoding: the size limit counts them all (checked on the first, before it is drawn)
  const frames: GrayFrame[] = [];
  let width = 0, height = 0;
  for (const [i, step] of steps.entries()) {
    const f = yield* gridPixels(tracker, artifactsDir, run, { step, scale: opts.scale ?? 1, caption: stepCaption(step) }, steps.length);
    if (i === 0) [width, height] = [f.width, f.height];
    // a later grid laid out otherwise than the first cannot share the GIF's canvas
    if (f.width !== width || f.height !== height) throw new ExportError(`the grid at step ${step} is ${f.width}×${f.height}, the first ${width}×${height}: a GIF's frames are one size`);
    frames.push({ pixels: f.pixels, delay: i === steps.length - 1 ? 3 * delay : delay });
  }
  return { frames, width, height };
}

/** what each GIF frame says above its grid */
export const stepCaption = (step: number): string => `step ${step.toLocaleString('en-US')}`;

/**
 * One export as bytes for a host to send (the browser host as a download, the
 * desktop through lab://export, which Electron saves through its dialog).
 * `params`: step, rows, cols, pad, scale, delay as the CLI takes them.
 */
/** An export's file, from its request (parsed by the host with parseExportQuery). */
export async function renderExport(
  tracker: Tracker, artifactsDir: string, req: ExportRequest, env: ReportEnvironment,
): Promise<{ body: Buffer; filename: string; contentType: string }> {
  const runs = req.runs.map((r) => findRun(tracker, r));
  const base = runs.length === 1 ? runs[0].id : `${runs.length}-runs`;
  if (req.kind === 'gif') {
    const g = await exportGridGifAsync(tracker, artifactsDir, runs[0], { scale: req.scale, delay: req.delay });
    return { body: g.gif, filename: `${base}-samples.gif`, contentType: 'image/gif' };
  }
  if (req.kind === 'grid') {
    const { step, rows, cols, pad, scale, rowLabels, colLabels } = req;
    const g = await exportGridPngAsync(tracker, artifactsDir, runs[0], { step, rows, cols, pad, scale, rowLabels, colLabels });
    return { body: g.png, filename: `${base}-samples-step${g.step}.png`, contentType: 'image/png' };
  }
  // the file writers, through a temporary folder
  const tmp = mkdtempSync(join(tmpdir(), 'latentlab-export-'));
  try {
    if (req.kind === 'metrics') {
      await exportMetricsCsv(tracker, runs, join(tmp, 'm.csv'));
      return { body: readFileSync(join(tmp, 'm.csv')), filename: `${base}-metrics.csv`, contentType: 'text/csv; charset=utf-8' };
    }
    if (req.format === 'pdf') {
      exportReportPdf(tracker, artifactsDir, runs, join(tmp, 'r.pdf'), env);
      return { body: readFileSync(join(tmp, 'r.pdf')), filename: `${base}-report.pdf`, contentType: 'application/pdf' };
    }
    exportReport(tracker, artifactsDir, runs, 'html', join(tmp, 'r.html'), env);
    return { body: readFileSync(join(tmp, 'r.html')), filename: `${base}-report.html`, contentType: 'text/html; charset=utf-8' };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Chromium for printing reports to PDF: CHROMIUM_PATH, else the usual places; null where there is none. */
export function findChromium(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

/**
 * The HTML report printed to PDF by headless Chromium (the desktop app has its
 * own printer, Electron's printToPDF). A clear error where no Chromium is found.
 */
export function exportReportPdf(tracker: Tracker, artifactsDir: string, runs: RunRecord[], out: string, env: ReportEnvironment): void {
  const chromium = findChromium();
  if (!chromium) throw new ExportError('a PDF needs Chromium (apt-get install chromium, or set CHROMIUM_PATH); the HTML report prints to PDF from any browser');
  const tmp = mkdtempSync(join(tmpdir(), 'latentlab-pdf-'));
  try {
    const html = join(tmp, 'report.html');
    exportReport(tracker, artifactsDir, runs, 'html', html, env);
    const r = spawnSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--no-pdf-header-footer', `--user-data-dir=${join(tmp, 'profile')}`, `--print-to-pdf=${out}`, pathToFileURL(html).href], { encoding: 'utf8', timeout: 120_000 });
    if (r.status !== 0 || !existsSync(out)) throw new ExportError(`Chromium could not print the report: ${(r.stderr || r.error?.message || `exit ${r.status}`).trim().split('\n').pop()}`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
