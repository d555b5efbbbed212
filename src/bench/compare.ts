// `npm run bench:compare`: how long the compare view takes to open for 8 runs
// with 10,000 points per metric. A fresh workspace gets 8 finished runs (4 metrics
// × 10,000 steps each, written through the real tracker), `latentlab serve`
// runs in this process, and headless Chromium (Playwright) ticks the 8 runs and
// opens the view; the clock stops when every chart has drawn all 8 curves.
// Prints the times of each opening and their median; --json for one object.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../main/host/server';
import { nodeEngineLauncher } from '../main/host/node-engine';
import { findChromium } from '../main/services/exports';
import { LabService } from '../main/services/lab-service';
import { appRoot } from '../main/services/paths';
import { Tracker } from '../main/services/tracker';
import { Workspace } from '../main/services/workspace';
import { nodeRequire } from '../engine/util/node-require';

const RUNS = 8;
const POINTS = 10_000;
const KEYS = ['train/loss', 'train/recon', 'train/kl', 'val/elbo'];

function fill(ws: Workspace): void {
  const t = new Tracker(ws.trackerFile);
  const t0 = Date.now() - 3_600_000;
  for (let r = 0; r < RUNS; r++) {
    const id = `r-bench-${r}`;
    t.insertRun({
      id, notebook: 'bench.ipynb', cell: 'c1', name: `vae z=${2 + 2 * r}`, family: 'vae',
      config: { model: { latentDim: 2 + 2 * r, hidden: [512, 256] }, train: { steps: POINTS, batchSize: 128, lr: 1e-3 }, data: { name: 'mnist', sizes: { train: 8000 } }, metricKinds: { 'val/elbo': 'bound' } },
      code: `const model = lab.models.vae({ latentDim: ${2 + 2 * r} });`, dataFingerprint: 'f'.repeat(16), dataName: 'mnist', seed: 1, backend: 'wasm',
      status: 'running', steps: 0, totalSteps: POINTS, startedAt: t0, endedAt: null, heartbeat: null, error: null, finalMetrics: {},
    });
    for (const key of KEYS) {
      const pts = Array.from({ length: POINTS }, (_, s) => ({ key, step: s + 1, value: 100 + 400 / Math.sqrt(s + 1) + 5 * Math.sin(s * 0.37 + r) + r, wallTime: t0 + s * 20 }));
      t.addMetrics(id, pts, POINTS);
    }
    t.endRun(id, 'finished', POINTS, null);
  }
  t.close();
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const repeats = Number(process.argv[process.argv.indexOf('--repeats') + 1]) || 5;
  const chromium = findChromium();
  if (!chromium) {
    console.error('bench:compare needs Chromium (apt-get install chromium, or CHROMIUM_PATH)');
    process.exit(2);
  }
  const { chromium: pw } = nodeRequire()('playwright') as typeof import('playwright');
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-bench-compare-'));
  const workspace = new Workspace(dir);
  workspace.init();
  fill(workspace);
  const service = new LabService({ workspace, launcher: nodeEngineLauncher(), backend: null, log: () => {} });
  const server = await serve({ service, rendererDir: join(appRoot(), 'out', 'renderer'), port: 0 });
  const browser = await pw.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const times: number[] = [];
  const allPoints: number[] = [];
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url);
    const ticks = page.locator('[data-testid="compare-tick"]');
    await ticks.nth(RUNS - 1).waitFor();
    for (let i = 0; i < RUNS; i++) await ticks.nth(i).check();
    for (let rep = 0; rep < repeats; rep++) {
      const start = Date.now();
      await page.locator('[data-testid="compare-open"]').click();
      await page.waitForFunction(
        ([n, runs]) => {
          const charts = document.querySelectorAll('[data-testid="compare-chart"]');
          return charts.length === n && [...charts].every((c) => c.querySelectorAll('.scatterlayer .trace').length === runs);
        },
        [KEYS.length, RUNS] as const,
        { timeout: 120_000, polling: 'raf' },
      );
      times.push(Date.now() - start);
      // every point: 10,000 per curve, 320,000 in all
      const t1 = Date.now();
      await page.locator('[data-testid="compare-points"]').selectOption('10000');
      await page.waitForFunction(
        ([n, want]) => {
          const charts = document.querySelectorAll('[data-testid="compare-chart"]');
          return charts.length === n && [...charts].every((c) => c.getAttribute('data-points') === String(want));
        },
        [KEYS.length, RUNS * POINTS] as const,
        { timeout: 120_000, polling: 'raf' },
      );
      allPoints.push(Date.now() - t1);
      await page.locator('[data-testid="run-row"]').first().click(); // leave the view, so the next click opens it anew
      await page.locator('[data-testid="compare-page"]').waitFor({ state: 'detached' });
    }
  } finally {
    await browser.close();
    await server.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  if (json) console.log(JSON.stringify({ runs: RUNS, pointsPerMetric: POINTS, metrics: KEYS.length, openMs: times, medianMs: median(times), allPointsMs: allPoints, allPointsMedianMs: median(allPoints) }));
  else {
    console.log(`compare view, ${RUNS} runs × ${KEYS.length} metrics × ${POINTS.toLocaleString('en')} points:`);
    console.log(`  open → every curve drawn (2,000 points per curve, min/max buckets): ${times.map((t) => `${t} ms`).join(', ')}; median ${median(times)} ms`);
    console.log(`  switch to all 10,000 points per curve → redrawn: ${allPoints.map((t) => `${t} ms`).join(', ')}; median ${median(allPoints)} ms`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
