// The pictures exports draw: labels on a grid in a real font (DejaVu through Skia),
// a GIF whose every frame says its step, text samples in a monospaced font. A real
// tracker and real grid artifacts (MNIST digits); the PNGs are read back by pngjs and
// the GIFs by the tests' own reader, and checked by their pixels, not their bytes.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageDataset } from '../../src/engine/data/mnist';
import { textSamplesPng } from '../../src/engine/util/sequence-png';
import { imageGridPng } from '../../src/engine/util/png';
import { drawLine } from '../../src/engine/util/text-raster';
import { encodeText } from '../../src/engine/data/text';
import { exportEnv, exportGridGif, exportGridGifAsync, exportGridPng, exportGridPngAsync, exportReport, LABEL_SIZE, stepCaption } from '../../src/main/services/exports';
import { Tracker } from '../../src/main/services/tracker';
import { Workspace } from '../../src/main/services/workspace';
import type { RunRecord } from '../../src/shared/domain';
import { readGif } from '../helpers/gif-reader';

const dir = mkdtempSync(join(tmpdir(), 'latentlab-export-images-'));
const ws = new Workspace(dir);
let tracker: Tracker;
let run: RunRecord;
/** where a person can look at what the tests drew (LATENTLAB_SHOTS=folder) */
const shots = process.env.LATENTLAB_SHOTS;
const keep = (name: string, bytes: Buffer) => {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  writeFileSync(join(shots, name), bytes);
};

const STEPS = [0, 200, 1200];
// a run's config as lab.train records it: sections, nested settings, lists, nulls, and the app's own bookkeeping
const CONFIG = {
  model: { latentDim: 16, hidden: [512, 256], likelihood: 'bernoulli' },
  train: { steps: 1200, lr: 0.001, clipNorm: null, schedule: { type: 'constant' }, best: { key: 'val/elbo', mode: 'max' } },
  data: { name: 'mnist', sizes: { train: 8000, val: 1000, test: 1000 } },
  metricKinds: { 'val/elbo': 'bound' },
};

beforeAll(() => {
  ws.init();
  tracker = new Tracker(ws.trackerFile);
  run = {
    id: 'r-images', notebook: 'vae-mnist.ipynb', cell: 'c3', name: 'vae images', family: 'vae', config: CONFIG,
    code: '', dataFingerprint: 'abc', dataName: 'mnist', seed: 1, backend: 'wasm', status: 'finished',
    steps: 1200, totalSteps: 1200, startedAt: Date.now(), endedAt: Date.now(), heartbeat: null, error: null, finalMetrics: {},
  };
  tracker.insertRun(run);
  const digits = imageDataset('mnist');
  const x = digits.train.x;
  for (const [i, step] of STEPS.entries()) {
    // 16 digits, different ones at each step
    const values = x.subarray(i * 16 * 784, (i + 1) * 16 * 784);
    const g = imageGridPng(values, 16, 28, 28);
    const rel = `${run.id}/samples/step-${String(step).padStart(6, '0')}.png`;
    mkdirSync(join(ws.artifactsDir, run.id, 'samples'), { recursive: true });
    writeFileSync(join(ws.artifactsDir, rel), g.png);
    tracker.addArtifact({ runId: run.id, step, kind: 'samples', seed: 1, path: rel, meta: { n: 16, rows: g.rows, cols: g.cols } });
  }
});
afterAll(() => {
  tracker?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** gray pixels of a PNG, read by pngjs (not by our code) */
function gray(png: Buffer): { width: number; height: number; px: Uint8Array } {
  const img = PNG.sync.read(png);
  const px = new Uint8Array(img.width * img.height);
  for (let i = 0; i < px.length; i++) px[i] = img.data[4 * i];
  return { width: img.width, height: img.height, px };
}

/** the bounding box of pixels brighter than the background (40) in a rectangle, and how many levels they take */
function ink(img: { width: number; px: Uint8Array }, x0: number, y0: number, x1: number, y1: number) {
  let minX = Infinity, maxX = -1, minY = Infinity, maxY = -1, n = 0;
  const levels = new Set<number>();
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const v = img.px[y * img.width + x];
      if (v <= 40) continue;
      n++;
      levels.add(v);
      [minX, maxX, minY, maxY] = [Math.min(minX, x), Math.max(maxX, x), Math.min(minY, y), Math.max(maxY, y)];
    }
  }
  return { n, minX, maxX, minY, maxY, levels: levels.size };
}

const crop = (img: { width: number; px: Uint8Array }, x0: number, y0: number, x1: number, y1: number) => {
  const out: number[] = [];
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out.push(img.px[y * img.width + x]);
  return Buffer.from(out);
};

describe('grid labels in a real font', () => {
  it('draws row and column labels, antialiased and in mixed case, in margins beside tiles that stay as they were', async () => {
    const scale = 3, pad = 2;
    const plain = gray(exportGridPng(tracker, ws.artifactsDir, run, { rows: 2, cols: 4, pad, scale }).png);
    const labels = { rowLabels: ['noise', 'Mean'], colLabels: ['z=-2', 'z=-1', 'z=1', 'a label far too long for a column'] };
    const out = exportGridPng(tracker, ws.artifactsDir, run, { rows: 2, cols: 4, pad, scale, ...labels });
    keep('grid-labelled.png', out.png);
    const img = gray(out.png);
    const left = img.width - plain.width, top = img.height - plain.height;
    expect(top).toBe(Math.ceil(LABEL_SIZE * scale * 1.5));
    expect(left).toBeGreaterThan(20);
    // the tiles as they were, moved right and down by the margins
    expect(crop(img, left, top, img.width, img.height).equals(crop(plain, 0, 0, plain.width, plain.height))).toBe(true);
    // each row label right-aligned against the tiles, centred on its row
    const tile = 28 + pad;
    for (let r = 0; r < 2; r++) {
      const rowTop = top + (pad + r * tile) * scale, rowBottom = rowTop + 28 * scale;
      const box = ink(img, 0, top + r * tile * scale, left, top + (r + 1) * tile * scale);
      expect(box.n).toBeGreaterThan(30);
      expect(box.maxX).toBeGreaterThan(left - 6 * scale);
      expect(Math.abs((box.minY + box.maxY) / 2 - (rowTop + rowBottom) / 2)).toBeLessThan(LABEL_SIZE * scale * 0.4);
      // a real font is antialiased: many gray levels, not the two of a bitmap font
      expect(box.levels).toBeGreaterThan(20);
    }
    // each column label within its own column; the long one cut to fit
    for (let c = 0; c < 4; c++) {
      const x0 = left + c * tile * scale, x1 = left + (c + 1) * tile * scale + pad * scale;
      const box = ink(img, x0, 0, x1, top);
      expect(box.n, `column ${c}`).toBeGreaterThan(20);
      expect(box.minX).toBeGreaterThanOrEqual(x0);
      expect(box.maxX).toBeLessThan(x1);
    }
    // lower case is its own shape: 'noise' and 'NOISE' differ (the old font drew both in capitals)
    const upper = gray(exportGridPng(tracker, ws.artifactsDir, run, { rows: 2, cols: 4, pad, scale, ...labels, rowLabels: ['NOISE', 'Mean'] }).png);
    expect(upper.width).not.toBe(img.width); // capitals are wider in DejaVu Sans
    // the host's path (rendered in slices, encoded by the same library) gives the same picture
    const hosted = gray((await exportGridPngAsync(tracker, ws.artifactsDir, run, { rows: 2, cols: 4, pad, scale, ...labels })).png);
    expect(Buffer.from(hosted.px).equals(Buffer.from(img.px))).toBe(true);
  });
});

describe('GIF over training', () => {
  it('every frame says the step its grid was logged at, above the grid of that step', async () => {
    const scale = 2;
    const out = exportGridGif(tracker, ws.artifactsDir, run, { scale, delay: 300 });
    keep('training.gif', out.gif);
    const frames = readGif(out.gif);
    expect(frames).toHaveLength(STEPS.length);
    expect(frames.map((f) => f.delay)).toEqual([300, 300, 900]);
    const band = Math.ceil(LABEL_SIZE * scale * 1.5);
    for (const [i, step] of STEPS.entries()) {
      const f = { width: frames[i].width, px: frames[i].pixels };
      expect(frames[i].height).toBe(out.height);
      // below the band: the grid of that step, as the grid export draws it
      const grid = gray(exportGridPng(tracker, ws.artifactsDir, run, { step, scale }).png);
      expect(frames[i].height - band).toBe(grid.height);
      expect(crop(f, 0, band, f.width, frames[i].height).equals(Buffer.from(grid.px))).toBe(true);
      // in the band: "step N", as the font draws it, and ink there
      const expected = new Uint8Array(f.width * band).fill(40);
      drawLine(expected, f.width, band, stepCaption(step), 2 * scale, band / 2, { size: LABEL_SIZE * scale, value: 230 });
      expect(crop(f, 0, 0, f.width, band).equals(Buffer.from(expected))).toBe(true);
      expect(ink(f, 0, 0, f.width, band).n).toBeGreaterThan(50);
      // a PNG of the frame to look at
      if (shots) {
        const png = new PNG({ width: f.width, height: frames[i].height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
        keep(`gif-frame-${step}.png`, PNG.sync.write({ width: f.width, height: frames[i].height, data: Buffer.from(f.px) } as PNG, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
        void png;
      }
    }
    // the captions differ from frame to frame (each says its own step)
    const bands = frames.map((fr) => crop({ width: fr.width, px: fr.pixels }, 0, 0, fr.width, band));
    expect(bands[0].equals(bands[1])).toBe(false);
    expect(bands[1].equals(bands[2])).toBe(false);
    expect(stepCaption(1200)).toBe('step 1,200');
    // the host's path: the same frames (a large GIF is encoded on a worker thread, by the same library)
    const hosted = readGif((await exportGridGifAsync(tracker, ws.artifactsDir, run, { scale, delay: 300 })).gif);
    expect(hosted.map((h) => Buffer.from(h.pixels).equals(Buffer.from(frames[hosted.indexOf(h)].pixels)))).toEqual([true, true, true]);
    const big = exportGridGif(tracker, ws.artifactsDir, run, { scale: 8, delay: 300 });
    const bigHosted = await exportGridGifAsync(tracker, ws.artifactsDir, run, { scale: 8, delay: 300 });
    expect(big.width * big.height * 3).toBeGreaterThan(1_000_000); // over the in-thread limit: the worker encoded it
    expect(bigHosted.gif.equals(big.gif)).toBe(true);
  });
});

describe('text samples', () => {
  it('are drawn in a monospaced font, lower case as lower case', () => {
    const draw = (s: string) => {
      const codes = encodeText(s);
      return gray(textSamplesPng(Float32Array.from(codes), 1, codes.length, 32));
    };
    const lower = draw('the quick brown fox');
    const upper = draw('THE QUICK BROWN FOX');
    keep('text-samples.png', textSamplesPng(Float32Array.from(encodeText('the quick brown fox jumps over the lazy dog, 42 times.')), 1, 53, 32));
    expect([lower.width, lower.height]).toEqual([upper.width, upper.height]);
    expect(Buffer.from(lower.px).equals(Buffer.from(upper.px))).toBe(false);
    // monospaced: "iiii" and "MMMM" reach equally far
    const right = (img: { width: number; height: number; px: Uint8Array }) => {
      let max = 0;
      for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) if (img.px[y * img.width + x] < 128) max = Math.max(max, x);
      return max;
    };
    expect(Math.abs(right(draw('iiii')) - right(draw('MMMM')))).toBeLessThanOrEqual(3);
  });
});

describe('report settings', () => {
  it('are a table of section, setting and value in HTML and Markdown, not JSON', () => {
    const html = join(dir, 'report.html');
    exportReport(tracker, ws.artifactsDir, [run], 'html', html, exportEnv());
    if (shots) writeFileSync(join(shots, 'report.html'), readFileSync(html));
    const text = readFileSync(html, 'utf8');
    const table = /<h3>Settings<\/h3>(<table class="settings"[\s\S]*?<\/table>)/.exec(text)?.[1] ?? '';
    expect(table).toContain('<tr><th>section</th><th>setting</th><th>value</th></tr>');
    // each section heads its rows; nested settings by their path; lists and text as written
    expect(table).toContain('<tr><th rowspan="3" scope="rowgroup">model</th><td>latentDim</td><td>16</td></tr>');
    expect(table).toContain('<tr><td>hidden</td><td>512, 256</td></tr>');
    expect(table).toContain('<tr><td>likelihood</td><td>bernoulli</td></tr>');
    expect(table).toContain('<tr><th rowspan="6" scope="rowgroup">train</th><td>steps</td><td>1200</td></tr>');
    expect(table).toContain('<tr><td>clipNorm</td><td>—</td></tr>');
    expect(table).toContain('<tr><td>schedule.type</td><td>constant</td></tr>');
    expect(table).toContain('<tr><td>best.key</td><td>val/elbo</td></tr>');
    expect(table).toContain('<tr><th rowspan="4" scope="rowgroup">data</th><td>name</td><td>mnist</td></tr>');
    expect(table).toContain('<tr><td>sizes.val</td><td>1000</td></tr>');
    expect(table).not.toContain('metricKinds');
    expect(table).not.toMatch(/\{|&quot;/); // no JSON left in a cell
    expect(table.match(/<tr>/g)).toHaveLength(1 + 3 + 6 + 4);
    const md = join(dir, 'report.md');
    exportReport(tracker, ws.artifactsDir, [run], 'md', md, exportEnv());
    const mdText = readFileSync(md, 'utf8');
    expect(mdText).toContain('| section | setting | value |\n|---|---|---|\n| model | latentDim | 16 |\n|  | hidden | 512, 256 |');
    expect(mdText).toContain('| train | steps | 1200 |');
    expect(mdText).toContain('|  | best.mode | max |');
    expect(mdText).not.toContain('`{');
  });
});
