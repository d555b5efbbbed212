// The host services with a real engine process (out/main/engine.js, built by
// `npm test`'s pretest) and a real SQLite file.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../src/shared/api';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { Workspace } from '../../src/main/services/workspace';

const entry = engineEntry();
let dir: string;
let service: LabService;
const events: { event: EventName; payload: unknown }[] = [];

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-svc-'));
  service = new LabService({ workspace: new Workspace(dir), launcher: nodeEngineLauncher(entry), interruptGraceMs: 3000 });
  service.subscribe((event, payload) => events.push({ event, payload }));
  await service.startEngine();
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TRAIN = (steps: number, extra = '') => `
const data = lab.data.mnist({ binarize: true, limit: 600 });
const model = lab.models.vae({ latentDim: 4, hidden: [64] });
const run = await lab.train(model, data, { steps: ${steps}, batchSize: 32, sampleEvery: 10, evalEvery: 10, checkpointEvery: 10, seed: 3 ${extra} });
run.id`;

describe('lab service + engine process', () => {
  it('reports the backend it picked', () => {
    const info = service.engineInfo();
    expect(info.status).toBe('idle');
    expect(info.available.length).toBeGreaterThan(0);
    expect(info.available).toContain(info.backend);
  });

  it('runs a training cell: the run, its metric batches, sample grids and checkpoints land in SQLite and on disk', async () => {
    const r = await service.execute('vae-mnist.ipynb', 'c3', TRAIN(20));
    expect(r.status).toBe('ok');
    const runOut = r.outputs.find((o) => o.type === 'run');
    expect(runOut).toBeDefined();
    const runId = (runOut as { runId: string }).runId;
    const run = service.tracker.getRun(runId)!;
    expect(run).toMatchObject({ status: 'finished', steps: 20, family: 'vae', notebook: 'vae-mnist.ipynb', cell: 'c3', seed: 3 });
    expect(run.code).toContain('lab.models.vae');
    expect(service.tracker.series(runId, 'train/loss').steps.length).toBeGreaterThanOrEqual(10);
    const grids = service.tracker.artifacts(runId, 'samples');
    expect(grids.length).toBeGreaterThanOrEqual(2);
    const png = readFileSync(join(service.workspace.artifactsDir, grids[0].path));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(service.tracker.checkpoints(runId).length).toBeGreaterThan(0);
    // the UI heard about it live
    expect(events.some((e) => e.event === 'run.metrics' && (e.payload as { runId: string }).runId === runId)).toBe(true);
    expect(events.some((e) => e.event === 'run.artifact')).toBe(true);
  });

  it('reports an error with the cell line', async () => {
    const r = await service.execute('x.ipynb', 'c9', 'const a = 1;\nconst b: number = 2;\nthrow new Error("boom " + (a + b));');
    expect(r.status).toBe('error');
    expect(r.outputs.at(-1)).toMatchObject({ type: 'error', message: 'boom 3', line: 3 });
  });

  it('stops a training run on interrupt: the run ends stopped, the cell interrupted', async () => {
    const pending = service.execute('vae-mnist.ipynb', 'c3', TRAIN(100_000));
    await new Promise<void>((resolve) => {
      const t = setInterval(() => {
        if (events.some((e) => e.event === 'run.metrics')) {
          clearInterval(t);
          resolve();
        }
      }, 100);
    });
    const runsBefore = service.tracker.listRuns().length;
    // a cell queued behind the running one never starts once Stop is pressed
    const queued = service.execute('vae-mnist.ipynb', 'c4', TRAIN(50));
    await service.interrupt();
    const r = await pending;
    expect(r.status).toBe('interrupted');
    expect(await queued).toMatchObject({ status: 'interrupted', outputs: [] });
    const newest = service.tracker.listRuns()[0];
    expect(service.tracker.listRuns().length).toBe(runsBefore);
    expect(newest.status).toBe('stopped');
    expect(newest.steps).toBeLessThan(100_000);
  });

  it('survives an engine crash: the cell errors, the run is crashed, the next cell gets a new engine', async () => {
    const pending = service.execute('vae-mnist.ipynb', 'c3', TRAIN(100_000));
    await new Promise((r) => setTimeout(r, 4000));
    const pid = (service as unknown as { engine: { pid: number } }).engine.pid;
    process.kill(pid, 'SIGKILL');
    const r = await pending;
    expect(r.status).toBe('error');
    expect(r.outputs.at(-1)).toMatchObject({ type: 'error', name: 'EngineExited' });
    expect(service.tracker.listRuns()[0].status).toBe('crashed');
    const next = await service.execute('x.ipynb', 'c1', '6 * 7');
    expect(next.status).toBe('ok');
    expect(next.outputs).toContainEqual({ type: 'text', text: '42' });
  });
});
