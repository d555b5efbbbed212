// Nothing lost (issue 8): a real engine process killed by its pid mid-run, resumed
// from its checkpoint, a diverging run, an endless loop, an engine out of memory and
// runs back to back — against a real SQLite file. Figures are printed.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { Workspace } from '../../src/main/services/workspace';
import type { MetricPoint } from '../../src/shared/domain';

const entry = engineEntry();
let dir: string;
let service: LabService;
const received = new Map<string, MetricPoint[]>();

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-crash-'));
  service = new LabService({ workspace: new Workspace(dir), launcher: nodeEngineLauncher(entry) });
  service.subscribe((event, payload) => {
    if (event !== 'run.metrics') return;
    const p = payload as { runId: string; points: MetricPoint[] };
    received.set(p.runId, [...(received.get(p.runId) ?? []), ...p.points]);
  });
  await service.startEngine();
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const TRAIN = (steps: number, extra = '') => `
const data = lab.data.toy2d('moons');
const model = lab.models.vae({ latentDim: 2, hidden: [16] });
const run = await lab.train(model, data, { steps: ${steps}, batchSize: 64, checkpointEvery: 500, sampleEvery: 100, evalEvery: 500, seed: 5, ...{ ${extra} } });
run.id`;

const TOTAL = 5000;
const enginePid = () => (service as unknown as { engine: { pid: number } | null }).engine?.pid;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(f: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}
const stepsOf = (runId: string, key = 'train/loss') => service.tracker.series(runId, key, 100_000);
const newestRunId = () => service.tracker.listRuns()[0]?.id;

describe('nothing lost: a killed engine', () => {
  let runId: string;
  let killedAt: number;
  let ckptStep: number;

  it('SIGKILL mid-run: the run shows crashed within 10 s, every metric older than 1 s and every artifact is kept', async () => {
    const before = newestRunId();
    const pending = service.execute('crash.ipynb', 'c1', TRAIN(TOTAL));
    runId = await until(() => newestRunId() !== before && newestRunId(), 60_000, 'the run to start');
    const startedAt = Date.now();
    // kill between checkpoints, after a few of them and a few seconds of training
    await until(() => service.tracker.checkpoints(runId).some((c) => c.step >= 1000 && c.reason === 'periodic'), 120_000, 'checkpoint 1000');
    await until(() => Date.now() - startedAt > 3000 && (received.get(runId)?.at(-1)?.step ?? 0) % 500 >= 100, 60_000, 'a step past a checkpoint');
    const pid = enginePid()!;
    killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await until(() => service.tracker.getRun(runId)?.status === 'crashed', 10_000, 'the run to show crashed');
    const recoveryMs = Date.now() - killedAt;
    const r = await pending;
    expect(r.status).toBe('error');
    expect(r.outputs.at(-1)).toMatchObject({ type: 'error', name: 'EngineExited', message: expect.stringContaining('SIGKILL') });
    const run = service.tracker.getRun(runId)!;
    expect(run.error).toContain('killed (SIGKILL)');
    expect(run.endedAt).not.toBeNull();

    // every step the trainer logged is there, 1..N with no gap, up to within 1 s of the kill
    const loss = stepsOf(runId);
    const n = loss.steps.length;
    expect(loss.steps).toEqual(Array.from({ length: n }, (_, i) => i + 1));
    const newest = loss.times![n - 1];
    expect(newest).toBeGreaterThanOrEqual(killedAt - 1000);
    // what the host had accepted before the kill is exactly what the file holds
    const heard = received.get(runId)!.filter((p) => p.key === 'train/loss').map((p) => p.step);
    expect(new Set(loss.steps)).toEqual(new Set(heard));
    const olderThan1s = loss.times!.filter((t) => t < killedAt - 1000).length;
    const lost = loss.steps.filter((s, i) => s !== i + 1).length;
    // artifacts: every file written more than a second before the kill has its row
    const rows = new Set(service.tracker.artifacts(runId).map((a) => a.path));
    const files = readdirSync(join(service.workspace.artifactsDir, runId, 'scatter')).map((f) => `${runId}/scatter/${f}`);
    const old = files.filter((f) => statSync(join(service.workspace.artifactsDir, f)).mtimeMs < killedAt - 1000);
    expect(old.length).toBeGreaterThan(3);
    for (const f of old) expect(rows.has(f), f).toBe(true);
    ckptStep = Math.max(...service.tracker.checkpoints(runId).filter((c) => c.reason !== 'best').map((c) => c.step));
    console.log(
      `[crash-safety] engine SIGKILL: run crashed ${recoveryMs} ms after the kill; ${n} steps kept (1..${n}, newest ${killedAt - newest} ms before the kill), ` +
        `${olderThan1s} points older than 1 s, points lost: ${lost}; ${old.length} artifact files, all with rows; last checkpoint step ${ckptStep}`,
    );
    expect(recoveryMs).toBeLessThan(10_000);
  }, 180_000);

  it('resumes the crashed run from its checkpoint: every step once, what the dead run logged after the checkpoint dropped', async () => {
    expect(ckptStep).toBeGreaterThanOrEqual(1000);
    const crashedSteps = stepsOf(runId).steps.length;
    expect(crashedSteps).toBeGreaterThan(ckptStep);
    const resumeAt = Date.now();
    const r = await service.resume(runId);
    expect(r.status, JSON.stringify(r.outputs)).toBe('ok');
    const run = service.tracker.getRun(runId)!;
    expect(run).toMatchObject({ status: 'finished', steps: TOTAL, error: null });
    const loss = stepsOf(runId);
    expect(loss.steps).toEqual(Array.from({ length: TOTAL }, (_, i) => i + 1)); // no duplicate, no gap
    loss.steps.forEach((s, i) => {
      // steps up to the checkpoint come from the first life, the rest from the resumed one
      if (s <= ckptStep) expect(loss.times![i]).toBeLessThan(killedAt);
      else expect(loss.times![i]).toBeGreaterThanOrEqual(resumeAt);
    });
    // the validation curve too (every 500 steps): 0, 500, ..., TOTAL once each
    expect(stepsOf(runId, 'val/elbo').steps).toEqual(Array.from({ length: TOTAL / 500 + 1 }, (_, i) => i * 500));
    // artifacts: one row per step and kind, none from the dead run after the checkpoint
    const arts = service.tracker.artifacts(runId, 'scatter2d');
    // (a first grid at step 0, before any step)
    expect(arts.map((a) => a.step)).toEqual(Array.from({ length: TOTAL / 100 + 1 }, (_, i) => i * 100));
    expect(arts.filter((a) => a.step > ckptStep).every((a) => statSync(join(service.workspace.artifactsDir, a.path)).mtimeMs >= resumeAt)).toBe(true);
    expect(run.finalMetrics['train/loss']).toBe(loss.values.at(-1));
    // the optimizer state was saved beside the checkpoint and loaded back
    expect(existsSync(join(service.workspace.artifactsDir, runId, 'checkpoints', `step-${String(ckptStep).padStart(6, '0')}.optimizer.json`))).toBe(true);
    const around = (lo: number, hi: number) => {
      const v = loss.values.slice(lo - 1, hi);
      return v.reduce((a, b) => a + b, 0) / v.length;
    };
    console.log(
      `[crash-safety] resume: from checkpoint ${ckptStep} (the dead run had reached ${crashedSteps}); ${crashedSteps - ckptStep} steps dropped and retrained; ` +
        `mean loss steps ${ckptStep - 19}..${ckptStep} = ${around(ckptStep - 19, ckptStep).toFixed(3)}, ${ckptStep + 1}..${ckptStep + 20} = ${around(ckptStep + 1, ckptStep + 20).toFixed(3)}`,
    );
  }, 180_000);

  it('refuses to resume a finished run, or one without a checkpoint', async () => {
    await expect(service.resume(runId)).rejects.toThrow(/finished/);
    await expect(service.resume('no-such-run')).rejects.toThrow(/no run/);
  });
});

describe('a diverging run', () => {
  it('stops as diverged at the step its loss went bad, keeps its last good checkpoint and says what to try', async () => {
    const before = newestRunId();
    const r = await service.execute('crash.ipynb', 'c2', TRAIN(400, "checkpointEvery: 1, optimizer: 'sgd', lr: 1e6"));
    const runId = newestRunId()!;
    expect(runId).not.toBe(before);
    expect(r.status).toBe('error');
    const run = service.tracker.getRun(runId)!;
    expect(run.status).toBe('diverged');
    const m = /training diverged: (.+?) became (NaN|-?Infinity) at step (\d+)/.exec(run.error ?? '');
    expect(m, run.error ?? '').not.toBeNull();
    const badStep = Number(m![3]);
    expect(run.error).toMatch(/lower lr/);
    expect(run.error).toMatch(/clipNorm/);
    expect(r.outputs.at(-1)).toMatchObject({ type: 'error', message: expect.stringContaining('diverged') });
    // the run stopped at that step: nothing logged after it
    expect(Math.max(...stepsOf(runId).steps)).toBeLessThanOrEqual(badStep);
    // every checkpoint on record is before it and holds finite weights
    const ckpts = service.tracker.checkpoints(runId);
    for (const c of ckpts) {
      expect(c.step).toBeLessThan(badStep);
      const manifest = JSON.parse(readFileSync(join(service.workspace.artifactsDir, c.path), 'utf8')) as { weightsFile: string };
      const bin = readFileSync(join(service.workspace.artifactsDir, c.path, '..', manifest.weightsFile));
      const w = new Float32Array(bin.buffer, bin.byteOffset, bin.byteLength / 4);
      expect(w.every(Number.isFinite)).toBe(true);
    }
    const files = readdirSync(join(service.workspace.artifactsDir, runId, 'checkpoints')).filter((f) => /^step-\d+\.json$/.test(f));
    for (const f of files) expect(Number(f.slice(5, 11))).toBeLessThan(badStep);
    console.log(`[crash-safety] diverged at step ${badStep}: ${run.error}`);
  }, 60_000);
});

describe('a stuck cell and an engine out of memory', () => {
  it('Stop on an endless loop restarts the engine within 2 s; the next cell runs in the fresh engine', async () => {
    await service.execute('x.ipynb', 'c0', 'globalThis.mark = 1; 1');
    const oldPid = enginePid();
    const pending = service.execute('x.ipynb', 'loop', 'while (true) {}');
    await until(() => service.engineInfo().status === 'busy', 10_000, 'the loop to run');
    await sleep(300);
    const t0 = Date.now();
    const stopping = service.interrupt();
    const r = await pending;
    const cellEndedMs = Date.now() - t0;
    await stopping;
    const readyMs = Date.now() - t0;
    expect(r.status).toBe('interrupted');
    expect(cellEndedMs).toBeLessThan(2000);
    expect(enginePid()).not.toBe(oldPid);
    const next = await service.execute('x.ipynb', 'c1', 'typeof globalThis.mark');
    expect(next.outputs).toContainEqual({ type: 'text', text: 'undefined' }); // a fresh engine
    console.log(`[crash-safety] endless loop: Stop → old engine killed and cell ended in ${cellEndedMs} ms; new engine ready ${readyMs} ms after Stop`);
  }, 60_000);

  it('an engine that runs out of memory is reported as such, and the host goes on', async () => {
    const wdir = mkdtempSync(join(tmpdir(), 'latentlab-oom-'));
    const small = new LabService({ workspace: new Workspace(wdir), launcher: nodeEngineLauncher(entry, process.env, { heapMb: 160 }) });
    try {
      await small.startEngine();
      const t0 = Date.now();
      const r = await small.execute('x.ipynb', 'hog', 'const keep = [];\nfor (;;) keep.push(new Array(100000).fill(Math.random()));');
      const ms = Date.now() - t0;
      expect(r.status).toBe('error');
      expect(r.outputs.at(-1)).toMatchObject({ type: 'error', name: 'EngineOutOfMemory', message: expect.stringContaining('the engine ran out of memory') });
      expect(small.engineInfo()).toMatchObject({ status: 'crashed', detail: expect.stringContaining('out of memory') });
      const next = await small.execute('x.ipynb', 'c1', '6 * 7');
      expect(next.outputs).toContainEqual({ type: 'text', text: '42' });
      console.log(`[crash-safety] out of memory (160 MiB heap): reported ${ms} ms after the cell started; the next cell ran in a new engine`);
    } finally {
      await small.close();
      rmSync(wdir, { recursive: true, force: true });
    }
  }, 90_000);
});

describe('runs back to back and queued at once', () => {
  it('5 runs in a row, then 2 cells queued at once: all finish, none sees "database is locked"', async () => {
    const before = service.tracker.listRuns().length;
    for (let i = 0; i < 5; i++) {
      const r = await service.execute('seq.ipynb', `s${i}`, TRAIN(150));
      expect(r.status, JSON.stringify(r.outputs)).toBe('ok');
    }
    const [a, b] = await Promise.all([service.execute('seq.ipynb', 'q1', TRAIN(150)), service.execute('seq.ipynb', 'q2', TRAIN(150))]);
    for (const r of [a, b]) expect(r.status, JSON.stringify(r.outputs)).toBe('ok');
    const runs = service.tracker.listRuns().slice(0, 7);
    expect(service.tracker.listRuns().length).toBe(before + 7);
    for (const run of runs) {
      expect(run.status).toBe('finished');
      expect(stepsOf(run.id).steps.length).toBe(150);
      expect(run.error).toBeNull();
    }
    expect(service.tracker.db.pragma('integrity_check', { simple: true })).toBe('ok');
  }, 180_000);
});
