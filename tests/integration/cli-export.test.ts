// `latentlab export metrics|grid` on a real run: the VAE example trained for a few
// steps by `latentlab run`, then exported the way a user would.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePng, LABEL_SIZE } from '../../src/main/services/exports';
import { Tracker } from '../../src/main/services/tracker';
import { Workspace } from '../../src/main/services/workspace';
import { chromiumArgs, chromiumPath, noChromium } from '../helpers/chromium';
import { readGif } from '../helpers/gif-reader';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const bin = join(root, 'bin', 'latentlab.js');
const dir = mkdtempSync(join(tmpdir(), 'latentlab-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

let runId = '';
beforeAll(() => {
  copyFileSync(join(root, 'resources/notebooks/vae-mnist.ipynb'), join(dir, 'vae-mnist.ipynb'));
  const r = cli('run', join(dir, 'vae-mnist.ipynb'), '-p', 'steps', '210', '--json'); // grids at 200 and 210
  expect(r.status, r.stderr).toBe(0);
  runId = JSON.parse(r.stdout.trim()).runs[0].id;
}, 300_000);

describe('latentlab export', () => {
  it('writes every metric point of a run as CSV', () => {
    const out = join(dir, 'metrics.csv');
    const r = cli('export', 'metrics', runId.slice(0, 8), '--out', out, '--workspace', dir);
    expect(r.status, r.stderr).toBe(0);
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n');
    expect(lines[0]).toBe('run_id,run_name,key,step,value,wall_time');
    const tracker = new Tracker(new Workspace(dir).trackerFile);
    try {
      const keys = tracker.metricKeys(runId);
      const points = keys.reduce((n, k) => n + tracker.series(runId, k, 1e9).steps.length, 0);
      expect(points).toBeGreaterThan(30);
      expect(lines.length - 1).toBe(points);
      // a row as written: the run, a key, its step and value as numbers, an ISO time
      const row = lines.find((l) => l.includes(',train/loss,'))!.split(',');
      expect(row[0]).toBe(runId);
      expect(Number.isFinite(Number(row[4]))).toBe(true);
      expect(new Date(row[5]).getTime()).toBeGreaterThan(0);
      const loss = tracker.series(runId, 'train/loss', 1e9);
      const csvLoss = lines.filter((l) => l.split(',')[2] === 'train/loss').map((l) => Number(l.split(',')[4]));
      expect(csvLoss).toEqual(loss.values);
    } finally {
      tracker.close();
    }
  });

  it('writes the sample grid laid out, padded and upscaled as asked, as a PNG that decodes', () => {
    const out = join(dir, 'grid.png');
    const r = cli('export', 'grid', runId, '--out', out, '--rows', '2', '--cols', '4', '--pad', '2', '--scale', '3', '--workspace', dir);
    expect(r.status, r.stderr).toBe(0);
    const png = decodePng(readFileSync(out));
    // 28×28 MNIST tiles: (4·(28+2)+2)·3 wide, (2·(28+2)+2)·3 high
    expect([png.width, png.height, png.channels]).toEqual([366, 186, 1]);
    // ink: not one flat colour
    expect(new Set(png.pixels).size).toBeGreaterThan(10);
    const plain = join(dir, 'plain.png');
    expect(cli('export', 'grid', runId, '--out', plain, '--step', '1000000', '--workspace', dir).status).toBe(0);
    const p = decodePng(readFileSync(plain));
    expect(p.width).toBe(8 * 29 + 1); // as stored: 8 columns, 1-pixel borders
    // labels: numbered rows on the left, named columns on top, in margins; the tiles unchanged
    const labelled = join(dir, 'labelled.png');
    const l = cli('export', 'grid', runId, '--out', labelled, '--rows', '2', '--cols', '4', '--pad', '2', '--scale', '3', '--row-labels', 'index', '--col-labels', 'a,b,c,d', '--workspace', dir);
    expect(l.status, l.stderr).toBe(0);
    const lp = decodePng(readFileSync(labelled));
    // margins: left, as wide as the widest row label ("2" at 33 px) and 6 pixels a scale step; above, a line and a half
    const left = lp.width - 366, top = lp.height - 186;
    expect(top).toBe(Math.ceil(LABEL_SIZE * 3 * 1.5));
    expect(left).toBeGreaterThan(6 * 3);
    expect(left).toBeLessThan(6 * 3 + 40);
    const at = (img: typeof lp, x: number, y: number) => img.pixels[y * img.width + x];
    let same = true;
    for (let y = 0; y < 186 && same; y++) for (let x = 0; x < 366; x++) if (at(lp, x + left, y + top) !== at(png, x, y)) same = false;
    expect(same).toBe(true);
    const ink = (x0: number, y0: number, x1: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (at(lp, x, y) > 200) n++;
      return n;
    };
    expect(ink(0, top, left, lp.height)).toBeGreaterThan(20); // "1" and "2"
    expect(ink(left, 0, lp.width, top)).toBeGreaterThan(40); // "a" to "d"
    const tooMany = cli('export', 'grid', runId, '--out', join(dir, 'x.png'), '--rows', '2', '--row-labels', 'a,b,c', '--workspace', dir);
    expect(tooMany.stderr).toContain('3 row labels for 2 rows');
  });

  it('writes a self-contained HTML report that shows every curve and grid in Chromium, and a Markdown one with its images', async (ctx) => {
    // a second run to compare with the first
    copyFileSync(join(root, 'resources/notebooks/vae-mnist.ipynb'), join(dir, 'vae-small.ipynb'));
    const second = cli('run', join(dir, 'vae-small.ipynb'), '-p', 'steps', '20', '-p', 'latentDim', '4', '--json');
    expect(second.status, second.stderr).toBe(0);
    const other = JSON.parse(second.stdout.trim()).runs[0].id as string;
    const html = join(dir, 'report.html');
    const r = cli('export', 'report', runId, other, '--out', html, '--workspace', dir);
    expect(r.status, r.stderr).toBe(0);
    const text = readFileSync(html, 'utf8');
    expect(text).not.toMatch(/(src|href)="(?!data:)[^"#]/); // nothing outside the file
    const tracker = new Tracker(new Workspace(dir).trackerFile);
    const keys = [...new Set([...tracker.metricKeys(runId), ...tracker.metricKeys(other)])];
    tracker.close();
    expect(text).toContain('val/elbo <small>(bound, nats)</small>');
    expect(text).toContain('lab.models.vae'); // the model code
    // what differs between the two: the latent size, in a table
    expect(text).toMatch(/<h2>What differs<\/h2>[\s\S]*<td>model\.latentDim<\/td><td><code>16<\/code><\/td><td><code>4<\/code><\/td>/);
    // each run's interpolation strip, with where its endpoints come from
    expect(text.match(/interpolation at step \d+, decoded between the codes of the first two validation images/g)).toHaveLength(2);

    const exe = chromiumPath();
    if (exe) {
      const browser = await chromium.launch({ executablePath: exe, args: chromiumArgs });
      try {
        const page = await browser.newPage();
        await page.goto(pathToFileURL(html).href);
        const shown = await page.evaluate(() => ({
          charts: [...document.querySelectorAll('svg[data-metric]')].map((s) => s.getAttribute('data-metric')),
          lines: document.querySelectorAll('svg[data-metric] polyline').length,
          images: [...document.images].map((i) => i.complete && i.naturalWidth > 0),
        }));
        expect(shown.charts.sort()).toEqual(keys.sort());
        expect(shown.lines).toBeGreaterThanOrEqual(keys.length);
        expect(shown.images).toEqual([true, true, true, true]); // two grids, two interpolation strips
      } finally {
        await browser.close();
      }
    }

    const md = join(dir, 'report.md');
    expect(cli('export', 'report', runId, other, '--out', md, '--workspace', dir).status).toBe(0);
    const mdText = readFileSync(md, 'utf8');
    const linked = [...mdText.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]);
    expect(linked.length).toBe(keys.length + 4);
    for (const f of linked) expect(existsSync(join(dir, f)), f).toBe(true);
    // PDF, printed by headless Chromium where there is one: pages, each a real page object
    const pdf = join(dir, 'report.pdf');
    const printed = cli('export', 'report', runId, other, '--out', pdf, '--workspace', dir);
    if (!exe) expect(printed.stderr).toContain('a PDF needs Chromium');
    else {
      expect(printed.status, printed.stderr).toBe(0);
      const bytes = readFileSync(pdf);
      expect(bytes.toString('latin1', 0, 5)).toBe('%PDF-');
      const pages = (bytes.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
      expect(pages).toBeGreaterThan(1);
      const info = spawnSync('pdfinfo', [pdf], { encoding: 'utf8' });
      if (info.status === 0) expect(Number(/Pages:\s+(\d+)/.exec(info.stdout)![1])).toBe(pages);
    }
    expect(cli('export', 'report', runId, '--out', join(dir, 'r.txt'), '--format', 'txt', '--workspace', dir).stderr).toContain('--format is html, md or pdf');
    // without a browser the report's pictures and the PDF were not checked: not a pass
    if (!exe) skipWhen(ctx, `${noChromium()}: the report was checked as text only, and the PDF's refusal`);
  }, 300_000);

  it('writes the grid over training as an animated GIF, a frame per logged grid with its step, that decodes to the grids', async (ctx) => {
    const out = join(dir, 'evolution.gif');
    const r = cli('export', 'gif', runId, '--out', out, '--delay', '250', '--workspace', dir);
    expect(r.status, r.stderr).toBe(0);
    const gif = readFileSync(out);
    const tracker = new Tracker(new Workspace(dir).trackerFile);
    const steps = tracker.artifacts(runId, 'samples').map((a) => a.step);
    tracker.close();
    const frames = readGif(gif);
    expect(gif.toString('ascii', 0, 6)).toBe('GIF89a');
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(frames.length).toBe(steps.length);
    // each frame: its step written in a band above the grid of that step
    const band = Math.ceil(LABEL_SIZE * 1.5);
    for (const [i, step] of steps.entries()) {
      const png = join(dir, `step-${step}.png`);
      expect(cli('export', 'grid', runId, '--step', String(step), '--out', png, '--workspace', dir).status).toBe(0);
      const expected = decodePng(readFileSync(png));
      expect([frames[i].width, frames[i].height]).toEqual([expected.width, expected.height + band]);
      expect(Buffer.from(frames[i].pixels.subarray(band * expected.width)).equals(Buffer.from(expected.pixels))).toBe(true);
      const lit = frames[i].pixels.subarray(0, band * expected.width).filter((v) => v > 200).length;
      expect(lit, `the caption of step ${step}`).toBeGreaterThan(20);
    }
    expect(Buffer.from(frames[0].pixels.subarray(0, band * frames[0].width)).equals(Buffer.from(frames[1].pixels.subarray(0, band * frames[1].width)))).toBe(false);
    // and a real decoder agrees: Chromium shows the first frame as read
    const exe = chromiumPath();
    if (!exe) return skipWhen(ctx, `${noChromium()}: the GIF was checked with the test decoder only, not shown by a browser`);
    const browser = await chromium.launch({ executablePath: exe, args: chromiumArgs });
    try {
      const page = await browser.newPage();
      const shown = await page.evaluate(async (b64) => {
        const img = new Image();
        img.src = `data:image/gif;base64,${b64}`;
        await img.decode();
        const c = document.createElement('canvas');
        [c.width, c.height] = [img.width, img.height];
        const g = c.getContext('2d')!;
        g.drawImage(img, 0, 0);
        return Array.from(g.getImageData(0, 0, c.width, c.height).data.filter((_, k) => k % 4 === 0));
      }, gif.toString('base64'));
      expect(Buffer.from(shown).equals(Buffer.from(frames[0].pixels))).toBe(true);
    } finally {
      await browser.close();
    }
  }, 120_000);

  it('says what is wrong, with a non-zero exit, for a bad run, step or option', () => {
    const none = cli('export', 'metrics', 'no-such-run', '--out', join(dir, 'x.csv'), '--workspace', dir);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain("no run 'no-such-run'");
    const early = cli('export', 'grid', runId, '--out', join(dir, 'x.png'), '--step', '0', '--workspace', dir);
    if (early.status !== 0) expect(early.stderr).toMatch(/no sample grid at or before step 0/);
    expect(cli('export', 'grid', runId, '--workspace', dir).stderr).toContain('needs --out FILE');
    expect(cli('export', 'grid', runId, '--out', join(dir, 'x.png'), '--scale', 'big', '--workspace', dir).stderr).toContain('--scale takes a whole number');
    expect(cli('export', 'grid', runId, '--out', join(dir, 'x.png'), '--scale', '0', '--workspace', dir).stderr).toContain('--scale must be an integer from 1 to 64');
    expect(cli('export', 'pictures', runId).status).toBe(2);
  });
});
