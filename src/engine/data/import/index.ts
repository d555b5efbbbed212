// lab.data.load: one entry for a user's own data. A path (relative to the workspace,
// or absolute) to an IDX / NPY / NPZ / CSV / text / WAV file or a folder of PNG / JPEG
// images (class subfolders) or WAV files. The format comes from the content (magic
// bytes); everything is read and checked before a Dataset exists, so a bad file
// leaves nothing half-imported. Plain Node: the host imports this to preview data.
import fs from 'node:fs';
import path from 'node:path';
import { encodeText, TEXT_VOCAB } from '../text';
import type { Dataset } from '../types';
import { muLawEncode, parseWav } from '../waveforms';
import { parseCsv, type CsvOptions } from './csv';
import { arrayRows, buildDataset, contentHash, labelRows, MIN_ROWS, type Rows, type ShapeOptions } from './dataset';
import { fail, ImportError, num } from './errors';
import { parseIdx } from './idx';
import { describeJson, parseJsonData, type JsonData } from './json';
import { IMAGE_EXT, listImageFolder, readImageFolder } from './images';
import type { NdArray } from './ndarray';
import { parseNpy } from './npy';
import { parseNpz } from './npz';
import { FORMAT_NAMES, identify, type Format } from './sniff';

export { ImportError } from './errors';

export type LoadOptions = LatentLab.LoadOptions;

export interface ImportInfo {
  format: Format;
  /** the files read, relative to the path given (one entry '' for a single file) */
  files: string[];
  bytes: number;
  content: string;
  notes: string[];
  /** the labels file read beside an IDX / NPY data file */
  labelsFile?: string;
  /** text and CSV: the first lines of the file */
  head?: string;
  /** set where a file was read otherwise than its format says (JSON read as text: 'text') */
  readAs?: string;
}

export interface Imported {
  dataset: Dataset;
  info: ImportInfo;
}

const MAX_FILE = 2 ** 31 - 1;
const OPTION_KEYS = new Set(['labels', 'x', 'y', 'length', 'hop', 'name', 'kind', 'scale', 'color', 'binarize', 'levels', 'limit', 'splitSeed', 'header', 'label']);

function readFile(shown: string, abs: string): Buffer {
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    fail(shown, 'no such file or folder');
  }
  if (st.size > MAX_FILE) fail(shown, `the file is ${num(st.size)} bytes; files up to ${num(MAX_FILE)} bytes are read`);
  try {
    return fs.readFileSync(abs);
  } catch (e) {
    fail(shown, `cannot read it: ${(e as Error).message}`);
  }
}

function checkOptions(opts: LoadOptions): void {
  if (typeof opts !== 'object' || opts === null || Array.isArray(opts)) throw new Error('lab.data.load: options must be an object, e.g. { labels: "labels.idx" }');
  for (const k of Object.keys(opts)) if (!OPTION_KEYS.has(k)) throw new Error(`lab.data.load: unknown option '${k}' (known: ${[...OPTION_KEYS].join(', ')})`);
  const oneOf = (k: keyof LoadOptions, allowed: unknown[]) => {
    if (opts[k] !== undefined && !allowed.includes(opts[k])) throw new Error(`lab.data.load: ${k} must be one of ${allowed.map((a) => JSON.stringify(a)).join(', ')} (got ${JSON.stringify(opts[k])})`);
  };
  oneOf('kind', ['image', 'points', 'sequence']);
  oneOf('color', ['gray', 'rgb']);
  oneOf('binarize', [false, 'threshold', 'stochastic']);
  if (opts.scale !== undefined && !(typeof opts.scale === 'number' && opts.scale > 0 && Number.isFinite(opts.scale))) throw new Error(`lab.data.load: scale must be a number > 0 (got ${JSON.stringify(opts.scale)})`);
  for (const k of ['length', 'hop', 'levels', 'limit', 'splitSeed'] as const) {
    const v = opts[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) throw new Error(`lab.data.load: ${k} must be a number >= 0 (got ${JSON.stringify(v)})`);
  }
}

/** the settings that change the rows (recorded, and part of the fingerprint) */
function loadSettings(format: Format, opts: LoadOptions): Record<string, unknown> {
  const s: Record<string, unknown> = { format };
  for (const k of ['x', 'y', 'kind', 'scale', 'color', 'levels', 'header', 'label', 'length', 'hop'] as const) if (opts[k] !== undefined) s[k] = opts[k];
  return s;
}

/** the labels IDX next to an images IDX: train-images-idx3-ubyte(.gz) → train-labels-idx1-ubyte(.gz) */
export function pairedLabels(abs: string): string | null {
  const base = path.basename(abs);
  if (!/images/i.test(base)) return null;
  const stem = base.replace(/images/i, (m) => (m === 'IMAGES' ? 'LABELS' : m[0] === 'I' ? 'Labels' : 'labels')).replace(/idx3/i, 'idx1');
  for (const cand of [stem, stem.replace(/\.gz$/i, ''), `${stem.replace(/\.gz$/i, '')}.gz`]) {
    const p = path.join(path.dirname(abs), cand);
    if (cand !== base && fs.existsSync(p) && fs.statSync(p).isFile()) return p;
  }
  return null;
}

function readArrayFile(shown: string, bytes: Uint8Array): { arr: NdArray; gz: boolean; format: Format; note?: string } {
  const s = identify(shown, bytes);
  if (s.format === 'idx') return { arr: parseIdx(shown, s.bytes), gz: s.gzipped, format: s.format, note: s.note };
  if (s.format === 'npy') return { arr: parseNpy(shown, s.bytes), gz: s.gzipped, format: s.format, note: s.note };
  fail(shown, `a labels file must be IDX or NPY, this one is ${FORMAT_NAMES[s.format]}`);
}

/**
 * Loads `target` (relative to `baseDir` unless absolute) into a Dataset and says what
 * was read. Throws an ImportError naming the file on any problem.
 */
export function importData(target: string, opts: LoadOptions = {}, baseDir = process.cwd()): Imported {
  if (typeof target !== 'string' || target.trim() === '') throw new Error('lab.data.load: give a path (relative to the workspace folder, or absolute)');
  checkOptions(opts);
  const shown = target;
  const abs = path.resolve(baseDir, target);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    fail(shown, `no such file or folder (looked for ${abs})`);
  }
  const name = opts.name ?? path.basename(abs).replace(/\.gz$/i, '').replace(/\.(npy|npz|csv|tsv|json|txt|wav|idx)$/i, '');
  if (st.isDirectory()) return importFolder(shown, abs, name, opts);
  const raw = readFile(shown, abs);
  const s = identify(shown, raw);
  const notes = s.note ? [`${shown}: ${s.note}`] : [];
  const info = (files: string[], bytes: number, content: string, extra: Partial<ImportInfo> = {}): ImportInfo => ({ format: s.format, files, bytes, content, notes, ...extra });
  const settings = loadSettings(s.format, opts);
  switch (s.format) {
    case 'idx':
    case 'npy': {
      const arr = s.format === 'idx' ? parseIdx(shown, s.bytes) : parseNpy(shown, s.bytes);
      const hashed: { rel: string | null; bytes: Uint8Array }[] = [{ rel: null, bytes: raw }];
      let labels: Uint8Array | null = null;
      let labelsFile: string | undefined;
      const labelsAbs = typeof opts.labels === 'string' ? path.resolve(baseDir, opts.labels) : opts.labels === false || s.format !== 'idx' ? null : pairedLabels(abs);
      if (labelsAbs) {
        const lShown = typeof opts.labels === 'string' ? opts.labels : path.join(path.dirname(shown), path.basename(labelsAbs));
        const lRaw = readFile(lShown, labelsAbs);
        const l = readArrayFile(lShown, lRaw);
        if (l.note) notes.push(`${lShown}: ${l.note}`);
        labels = labelRows(lShown, l.arr, arr.shape[0] ?? 0);
        hashed.push({ rel: null, bytes: lRaw });
        labelsFile = lShown;
        settings.labels = true;
      }
      const rows = arrayRows(shown, arr, labels, opts);
      const content = contentHash(hashed);
      return { dataset: buildDataset(name, shown, rows, content, { ...settings, gzipped: s.gzipped }, opts), info: info([''], raw.length, content, { labelsFile }) };
    }
    case 'npz': {
      const z = parseNpz(shown, s.bytes, { x: opts.x, y: opts.y }, s.budget);
      const labels = z.y ? labelRows(`${shown} (array ${z.yName})`, z.y, z.x.shape[0] ?? 0) : null;
      const rows = arrayRows(`${shown} (array ${z.xName})`, z.x, labels, opts);
      const content = contentHash([{ rel: null, bytes: raw }]);
      notes.push(`arrays in the archive: ${z.names.join(', ')}; data: ${z.xName}${z.yName ? `, labels: ${z.yName}` : ', no labels'}`);
      return { dataset: buildDataset(name, shown, rows, content, { ...settings, arrays: [z.xName, z.yName] }, opts), info: info([''], raw.length, content) };
    }
    case 'csv': {
      const csvText = decodeUtf8(shown, s.bytes);
      const table = parseCsv(shown, csvText, opts);
      const rows: Rows = { kind: 'points', shape: [table.dim], data: table.data, n: table.n, labels: table.labels, classNames: table.classNames, settings: { columns: table.columns, header: table.header } };
      if (opts.kind && opts.kind !== 'points') fail(shown, `CSV rows are points; kind '${opts.kind}' is not supported for CSV`);
      const content = contentHash([{ rel: null, bytes: raw }]);
      return { dataset: buildDataset(name, shown, rows, content, settings, opts), info: info([''], raw.length, content, { head: firstLines(csvText) }) };
    }
    case 'json': {
      const content = contentHash([{ rel: null, bytes: raw }]);
      const text = decodeUtf8(shown, s.bytes);
      let json: JsonData | null = null;
      try {
        json = parseJsonData(shown, text, { x: opts.x, y: opts.y });
      } catch (e) {
        // JSON that is not numbers is read as text only where the user asked for sequences
        if (!(e instanceof ImportError) || opts.kind !== 'sequence') throw e;
      }
      if (!json) {
        let what = 'not valid JSON';
        try {
          what = describeJson(JSON.parse(text));
        } catch {
          // keep 'not valid JSON'
        }
        notes.push(`${shown}: ${what}, not numbers: read as text (its characters are the sequence), as { kind: 'sequence' } asks`);
        return { dataset: textRows(shown, name, text, content, { ...settings, as: 'text' }, opts), info: info([''], raw.length, content, { head: firstLines(text), readAs: 'text' }) };
      }
      const labels = json.y ? labelRows(`${shown} (${json.yName})`, json.y, json.x.shape[0]) : null;
      const rows = arrayRows(json.xName ? `${shown} ("${json.xName}")` : shown, json.x, labels, opts);
      notes.push(`${shown}: ${json.what}: read as ${num(rows.n)} ${rows.kind === 'image' ? 'images' : rows.kind === 'sequence' ? 'sequences' : 'points'} of shape [${rows.shape.join(', ')}]`);
      return { dataset: buildDataset(name, shown, rows, content, { ...settings, keys: [json.xName, json.yName] }, opts), info: info([''], raw.length, content) };
    }
    case 'text': {
      const content = contentHash([{ rel: null, bytes: raw }]);
      const text = decodeUtf8(shown, s.bytes);
      return { dataset: textRows(shown, name, text, content, settings, opts), info: info([''], raw.length, content, { head: firstLines(text) }) };
    }
    case 'wav': {
      const content = contentHash([{ rel: null, bytes: raw }]);
      return { dataset: wavRows(shown, name, [{ shown, bytes: s.bytes }], content, settings, opts), info: info([''], raw.length, content) };
    }
    case 'png':
    case 'jpeg':
      fail(shown, `${s.note ? `${s.note}; ` : ''}this is a single ${FORMAT_NAMES[s.format]}, not a dataset: load the folder of images it belongs to (class subfolders become labels)`);
  }
}

function importFolder(shown: string, abs: string, name: string, opts: LoadOptions): Imported {
  const entries = fs.readdirSync(abs).filter((f) => !f.startsWith('.'));
  const wavs = entries.filter((f) => /\.wav$/i.test(f)).sort();
  const hasImages = entries.some((f) => IMAGE_EXT.test(f)) || entries.some((f) => {
    const p = path.join(abs, f);
    return fs.statSync(p).isDirectory() && fs.readdirSync(p).some((g) => IMAGE_EXT.test(g));
  });
  if (!hasImages && wavs.length > 0) {
    const files = wavs.map((f) => ({ shown: `${shown}/${f}`, bytes: readFile(`${shown}/${f}`, path.join(abs, f)) as Uint8Array }));
    const content = contentHash(files.map((f, i) => ({ rel: wavs[i], bytes: f.bytes })));
    const settings = { ...loadSettings('wav', opts), files: wavs.length };
    const bytes = files.reduce((a, f) => a + f.bytes.length, 0);
    return { dataset: wavRows(shown, name, files, content, settings, opts), info: { format: 'wav', files: wavs, bytes, content, notes: [] } };
  }
  const listing = listImageFolder(abs, shown);
  const contents = listing.files.map((f) => readFile(`${shown}/${f}`, path.join(abs, ...f.split('/'))) as Uint8Array);
  const color = opts.color ?? 'gray';
  const folder = readImageFolder(shown, listing, contents, color);
  const content = contentHash(listing.files.map((rel, i) => ({ rel, bytes: contents[i] })));
  const rows: Rows = { kind: 'image', shape: folder.shape, data: folder.data, n: folder.n, labels: folder.labels, classNames: folder.classNames, settings: { color } };
  if (opts.kind && opts.kind !== 'image') fail(shown, `a folder of images loads as kind 'image', not '${opts.kind}'`);
  const notes = [...folder.notes];
  if (listing.ignored.length) notes.push(`ignored ${listing.ignored.length} file(s) that are not images: ${listing.ignored.slice(0, 5).join(', ')}${listing.ignored.length > 5 ? ', ...' : ''}`);
  const settings = { ...loadSettings('png', opts), format: 'image-folder', files: listing.files.length };
  const bytes = contents.reduce((a, b) => a + b.length, 0);
  return { dataset: buildDataset(name, shown, rows, content, settings, opts), info: { format: 'png', files: listing.files, bytes, content, notes } };
}

const firstLines = (s: string, n = 12): string => s.slice(0, 4000).split(/\r?\n/).slice(0, n).join('\n');

function decodeUtf8(file: string, b: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    // find the first bad byte to name it
    let i = 0;
    for (let step = 1 << 20; step >= 1; step >>= 1) {
      while (i + step <= b.length) {
        try {
          new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, i + step));
          i += step;
        } catch {
          break;
        }
      }
    }
    fail(file, `not valid UTF-8 text (a bad byte near offset ${num(i)}); save it as UTF-8`);
  }
}

function textRows(shown: string, name: string, text: string, content: string, settings: Record<string, unknown>, opts: LoadOptions): Dataset {
  const length = Math.floor(opts.length ?? 128);
  if (length < 4) fail(shown, `length must be >= 4 (got ${opts.length})`);
  const codes = encodeText(text.replace(/\r\n/g, '\n'));
  const n = Math.floor(codes.length / length);
  if (n < MIN_ROWS) fail(shown, `${num(codes.length)} characters make ${n} rows of ${length}; at least ${MIN_ROWS} are needed (a longer text or a shorter { length })`);
  const all = new Float32Array(n * length);
  for (let i = 0; i < n * length; i++) all[i] = codes[i];
  const rows: Rows = { kind: 'sequence', shape: [length], data: all, n, labels: null, classNames: null, levels: TEXT_VOCAB.length, extra: { vocab: TEXT_VOCAB }, settings: { characters: codes.length, vocab: 'newline + printable ASCII (96)' } };
  return withSequenceShape(buildDataset(name, shown, rows, content, { ...settings, length }, opts), length);
}

function wavRows(shown: string, name: string, files: { shown: string; bytes: Uint8Array }[], content: string, settings: Record<string, unknown>, opts: LoadOptions): Dataset {
  const length = Math.floor(opts.length ?? 256);
  const hop = Math.floor(opts.hop ?? length);
  if (length < 8) fail(shown, `length must be >= 8 (got ${opts.length})`);
  if (hop < 1) fail(shown, `hop must be >= 1 (got ${opts.hop})`);
  let rate = 0;
  let first = '';
  const windows: Float32Array[] = [];
  for (const f of files) {
    let audio;
    try {
      audio = parseWav(f.bytes, f.shown);
    } catch (e) {
      fail(f.shown, (e as Error).message.replace(/^lab\.data\.wav: \S+ /, ''));
    }
    if (!(audio.sampleRate > 0)) fail(f.shown, `sample rate ${audio.sampleRate} Hz`);
    if (rate && audio.sampleRate !== rate) fail(f.shown, `${audio.sampleRate} Hz, but ${first} is ${rate} Hz (resample them to one rate)`);
    if (!rate) first = f.shown;
    rate = audio.sampleRate;
    for (let s = 0; s + length <= audio.samples.length; s += hop) {
      const w = new Float32Array(length);
      for (let t = 0; t < length; t++) w[t] = muLawEncode(Number.isFinite(audio.samples[s + t]) ? audio.samples[s + t] : 0);
      windows.push(w);
    }
  }
  if (windows.length < MIN_ROWS) fail(shown, `${windows.length} windows of ${length} samples; at least ${MIN_ROWS} are needed (a shorter { length } or a smaller { hop })`);
  const all = new Float32Array(windows.length * length);
  windows.forEach((w, i) => all.set(w, i * length));
  const rows: Rows = { kind: 'sequence', shape: [length], data: all, n: windows.length, labels: null, classNames: null, levels: 256, extra: { sampleRate: rate }, settings: { sampleRate: rate, encoding: 'mu-law 8-bit' } };
  return withSequenceShape(buildDataset(name, shown, rows, content, { ...settings, length, hop }, opts), length);
}

/** sequences are never binary images: the flag only speaks of 0/1 pixel data */
function withSequenceShape(ds: Dataset, length: number): Dataset {
  return { ...ds, shape: [length], dim: length, binary: false };
}

/** lab.data.load: the Dataset alone */
export function loadData(target: string, opts: LoadOptions = {}, baseDir = process.cwd()): Dataset {
  return importData(target, opts, baseDir).dataset;
}

export const isImportError = (e: unknown): e is ImportError => e instanceof ImportError;
