// Export requests are bounded and do not stall the host: the grid and GIF a request
// may ask for are capped in pixels (each parameter alone was bounded, their product
// was not: rows=cols=pad=64, scale=8 asked for 47,616² pixels), checked before
// anything is allocated; and the largest allowed export renders in slices, so the
// WebSocket keeps answering meanwhile. A real serve host, tracker and grid artifacts.
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodePng as strictPng } from '../../src/engine/data/import/png';
import { imageGridPng } from '../../src/engine/util/png';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { serve, type RunningServer } from '../../src/main/host/server';
import { decodePng, ExportError, exportGridGif, exportGridPng, MAX_EXPORT_PIXELS, MAX_EXPORT_SIDE } from '../../src/main/services/exports';
import { LabService } from '../../src/main/services/lab-service';
import { Tracker } from '../../src/main/services/tracker';
import { examplesDir, rendererDir } from '../../src/main/services/paths';
import { Workspace } from '../../src/main/services/workspace';
import type { RunRecord } from '../../src/shared/domain';
import { seeded } from '../helpers/data-import-writers';
import { startServeProcess } from '../helpers/serve-process';

let dir: string;
let service: LabService;
let server: RunningServer;
let base: string;

const run = (id: string): RunRecord => ({
  id, notebook: 'vae-mnist.ipynb', cell: 'c3', name: `vae ${id}`, family: 'vae', config: { latentDim: 16, steps: 100 },
  code: 'const x = 1;', dataFingerprint: 'abc', dataName: 'mnist', seed: 1, backend: 'wasm', status: 'finished',
  steps: 100, totalSteps: 100, startedAt: Date.now(), endedAt: Date.now(), heartbeat: null, error: null, finalMetrics: {},
});

/** a run whose sample grids (n random 28×28 tiles, `steps` of them) sit in the artifacts folder */
function addRun(tracker: Tracker, ws: Workspace, id: string, n: number, steps: number[]): void {
  tracker.insertRun(run(id));
  const rng = seeded(n);
  for (const step of steps) {
    const values = Float32Array.from({ length: n * 784 }, () => rng());
    const g = imageGridPng(values, n, 28, 28);
    const rel = `${id}/samples/step-${String(step).padStart(6, '0')}.png`;
    mkdirSync(join(ws.artifactsDir, id, 'samples'), { recursive: true });
    writeFileSync(join(ws.artifactsDir, rel), g.png);
    tracker.addArtifact({ runId: id, step, kind: 'samples', seed: 1, path: rel, meta: { n, rows: g.rows, cols: g.cols } });
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'latentlab-export-bounds-'));
  const ws = new Workspace(dir);
  ws.init(examplesDir());
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher() });
  server = await serve({ service, rendererDir: rendererDir(), port: 0 });
  base = `http://127.0.0.1:${server.port}`;
  addRun(service.tracker, ws, 'r64', 64, [100, 200, 300]);
  // 4,096 tiles: every cell of a 64×64 layout is drawn (the heaviest grid to render)
  addRun(service.tracker, ws, 'r4096', 4096, [100]);
});
afterAll(async () => {
  await server?.close();
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const exportUrl = (kind: string, q: Record<string, string | number>) =>
  `${base}/export/${kind}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(q).map(([k, v]) => [k, String(v)])), token: server.token })}`;

describe('export bounds', () => {
  it('refuses rows=cols=pad=64, scale=8 (47,616² pixels) with a 400 naming the limit and what was asked, at once', async () => {
    const t = performance.now();
    const r = await fetch(exportUrl('grid', { runs: 'r64', rows: 64, cols: 64, pad: 64, scale: 8 }));
    const ms = performance.now() - t;
    expect(r.status).toBe(400);
    const text = await r.text();
    expect(text).toBe(
      `the grid would be 47616×47616 pixels (2267.3 million); an export may be at most ${MAX_EXPORT_SIDE} pixels a side and ${MAX_EXPORT_PIXELS / 1e6} million pixels in all: ask for fewer rows or columns, or a smaller pad or scale`,
    );
    console.log(`refusal of the 47,616² grid: ${ms.toFixed(0)} ms`);
    expect(ms).toBeLessThan(5000); // very generous: the old host took 15.8 s and 4.5 GB
  });

  it('refuses a grid over the side limit, and a GIF over the pixel limit counting every frame', async () => {
    const wide = await fetch(exportUrl('grid', { runs: 'r64', rows: 1, cols: 64, pad: 64, scale: 8 }));
    expect(wide.status).toBe(400);
    expect(await wide.text()).toMatch(/^the grid would be 47616×1248 pixels \(59\.4 million\); an export may be at most 16384 pixels a side/);
    // 3 frames of the 8×8 grid (233² pixels) upscaled 32 times, each with its step in a band of 11·32·1.5 = 528 pixels above: 7456 × 7984 × 3
    const gif = await fetch(exportUrl('gif', { runs: 'r64', scale: 32 }));
    expect(gif.status).toBe(400);
    expect(await gif.text()).toMatch(/^the GIF would be 7456×7984 pixels × 3 frames \(178\.6 million\); an export may be at most 16384 pixels a side and 40 million pixels in all \(every frame counts\)/);
    const ok = await fetch(exportUrl('gif', { runs: 'r64', scale: 4 }));
    expect(ok.status).toBe(200);
    expect(Buffer.from(await ok.arrayBuffer()).subarray(0, 6).toString('ascii')).toBe('GIF89a');
    // a small grid, as the host encodes it: a PNG whose every chunk CRC checks out
    const small = await fetch(exportUrl('grid', { runs: 'r64', rows: 2, cols: 4, pad: 2, scale: 3 }));
    expect(small.status).toBe(200);
    const px = strictPng('grid.png', new Uint8Array(await small.arrayBuffer()));
    expect([px.width, px.height]).toEqual([(4 * 30 + 2) * 3, (2 * 30 + 2) * 3]);
  });

  it('the CLI\'s functions refuse the same before allocating', () => {
    const ws = new Workspace(dir);
    const r = service.tracker.getRun('r64')!;
    expect(() => exportGridPng(service.tracker, ws.artifactsDir, r, { rows: 64, cols: 64, pad: 64, scale: 8 })).toThrow(ExportError);
    expect(() => exportGridGif(service.tracker, ws.artifactsDir, r, { scale: 64 })).toThrow(/the GIF would be 14912×15968 pixels × 3 frames/);
  });

  // 64×64 tiles of 28×28, pad 4, scale 3: 6156² = 37.9 million pixels, under the 40 million limit
  const LARGEST = { runs: 'r4096', rows: 64, cols: 64, pad: 4, scale: 3 };

  it('the largest allowed grid renders in slices: the event loop of this process turns meanwhile', async () => {
    let last = performance.now();
    let stall = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      stall = Math.max(stall, now - last);
      last = now;
    }, 5);
    const t = performance.now();
    const res = await fetch(exportUrl('grid', LARGEST));
    const body = Buffer.from(await res.arrayBuffer());
    const ms = performance.now() - t;
    clearInterval(timer);
    expect(res.status, body.toString().slice(0, 300)).toBe(200);
    const png = decodePng(body);
    expect([png.width, png.height]).toEqual([6156, 6156]);
    console.log(`in-process serve, largest allowed grid (6156×6156 = 37.9 Mpx, 4,096 tiles): ${ms.toFixed(0)} ms, ${(body.length / 1e6).toFixed(1)} MB; longest event-loop stall ${stall.toFixed(0)} ms`);
  });

  it('the built serve host answers its WebSocket while the largest allowed grid renders', async () => {
    const wsDir = mkdtempSync(join(tmpdir(), 'latentlab-export-host-'));
    let proc: ChildProcess | null = null;
    try {
      const w = new Workspace(wsDir);
      w.init(examplesDir());
      const tracker = new Tracker(w.trackerFile);
      addRun(tracker, w, 'r4096', 4096, [100]);
      tracker.close();
      const started = await startServeProcess(wsDir);
      proc = started.proc;
      const url = started.url;
      const token = url.searchParams.get('token')!;
      const ws = new WebSocket(`ws://${url.host}/ws?token=${token}`);
      await new Promise((r, j) => ws.once('open', r).once('error', j));
      const sent = new Map<number, number>();
      const answers: { at: number; latency: number }[] = [];
      ws.on('message', (data) => {
        const msg = JSON.parse(data.toString()) as { id?: number };
        const at = msg.id === undefined ? undefined : sent.get(msg.id);
        if (at !== undefined) answers.push({ at: performance.now(), latency: performance.now() - at });
      });
      let id = 0;
      const ping = setInterval(() => {
        sent.set(++id, performance.now());
        ws.send(JSON.stringify({ id, name: 'runs.list', input: { limit: 5 } }));
      }, 20);
      await new Promise((r) => setTimeout(r, 200));
      const t0 = performance.now();
      const res = await fetch(`http://${url.host}/export/grid?${new URLSearchParams({ ...Object.fromEntries(Object.entries(LARGEST).map(([k, v]) => [k, String(v)])), token })}`);
      const t1 = performance.now(); // the answer's headers: the grid is rendered and encoded
      const body = Buffer.from(await res.arrayBuffer());
      await new Promise((r) => setTimeout(r, 200));
      clearInterval(ping);
      ws.close();
      expect(res.status, body.toString().slice(0, 300)).toBe(200);
      const during = answers.filter((a) => a.at > t0 && a.at < t1);
      const worst = Math.max(...answers.filter((a) => a.at > t0).map((a) => a.latency));
      console.log(`serve host, largest allowed grid: ${(t1 - t0).toFixed(0)} ms to render; ${during.length} WebSocket answers meanwhile, the slowest in ${worst.toFixed(0)} ms`);
      // a render that held the event loop would answer nothing until it ended, and then late by the whole render
      expect(during.length).toBeGreaterThanOrEqual(3);
      expect(worst).toBeLessThan(Math.max(500, (t1 - t0) / 2));
    } finally {
      proc?.kill('SIGKILL');
      rmSync(wsDir, { recursive: true, force: true });
    }
  }, 300_000);
});
