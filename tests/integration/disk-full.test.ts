// A full disk (issue 16): a workspace on a real 40 MB tmpfs is filled while a run
// trains. The run fails with a one-line reason that names the file it could not
// write, the host stays up and answers, no temp file is left behind, and once there
// is room again the file passes integrity_check and the run is no longer 'running'.
// A database that turns read-only does the same. Both hosts: the in-process
// LabService that `latentlab serve` wraps, and a `latentlab run` process (no stack
// trace, exit 1, the reason as its last line).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs';
import { saveCheckpoint } from '../../src/engine/train/checkpoints';
import { dispatch } from '../../src/shared/channel';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const entry = engineEntry();

/** a tmpfs needs root and a kernel that lets this container mount one: found out once, the reason kept */
function probeTmpfs(): string | null {
  if (process.platform !== 'linux') return 'a tmpfs mount needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a tmpfs needs root';
  const d = mkdtempSync(join(tmpdir(), 'latentlab-tmpfs-probe-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', d], { encoding: 'utf8' });
  if (m.status !== 0) {
    rmSync(d, { recursive: true, force: true });
    return `mount -t tmpfs failed here: ${(m.stderr || m.error?.message || '').trim()}`;
  }
  spawnSync('umount', [d]);
  rmSync(d, { recursive: true, force: true });
  return null;
}
const noTmpfs = probeTmpfs();

const mounts: string[] = [];
const plainDirs: string[] = [];
function smallDisk(): string {
  const d = mkdtempSync(join(tmpdir(), 'latentlab-full-'));
  const m = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=40m', 'tmpfs', d], { encoding: 'utf8' });
  if (m.status !== 0) throw new Error(`mount failed: ${m.stderr}`);
  mounts.push(d);
  return d;
}
afterAll(() => {
  for (const d of plainDirs) rmSync(d, { recursive: true, force: true });
  for (const d of mounts) {
    spawnSync('umount', ['-l', d]);
    rmSync(d, { recursive: true, force: true });
  }
});
beforeAll(() => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
});

/** writes zeros until the disk refuses; returns the filler file (remove it to make room) */
function fillDisk(dir: string): string {
  const file = join(dir, 'filler.bin');
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
  // and the last bytes too, so the next page SQLite or the engine writes fails
  const small = Buffer.alloc(4096);
  try {
    for (;;) writeSync(fd, small);
  } catch {
    /* full */
  } finally {
    closeSync(fd);
  }
  return file;
}

/** every file below dir */
function filesBelow(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesBelow(p));
    else out.push(p);
  }
  return out;
}

// many metric points a second (a batch every 250 ms), a checkpoint and a best checkpoint every 20 steps
const TRAIN = `
const data = lab.data.mnist({ binarize: true });
const model = lab.models.vae({ latentDim: 8, hidden: [256] });
const run = await lab.train(model, data, { steps: 100000, batchSize: 32, evalEvery: 20, evalSize: 100, sampleEvery: 40, checkpointEvery: 20, seed: 3 });`;

function notebookWith(ws: string, code: string, name = 'train.ipynb'): void {
  const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'c1', metadata: {}, source: code, outputs: [], execution_count: null }] };
  writeFileSync(join(ws, name), JSON.stringify(nb));
  new TrustStore().trust(nb);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** runs train.ipynb's cell in the service; resolves once the run has logged step 60 */
async function trainPastStep60(service: LabService): Promise<{ pending: Promise<unknown>; lastStep: number }> {
  let lastStep = 0;
  service.subscribe((event, payload) => {
    if (event === 'run.metrics') lastStep = Math.max(lastStep, ...(payload as { points: { step: number }[] }).points.map((p) => p.step));
  });
  const pending = dispatch(service.handlers(), 'kernel.execute', { notebook: 'train.ipynb', cellId: 'c1', code: TRAIN });
  const t0 = Date.now();
  while (lastStep < 60) {
    if (Date.now() - t0 > 120_000) throw new Error(`no progress: ${JSON.stringify(await Promise.race([pending, sleep(0)]))}`);
    await sleep(20);
  }
  return { pending, lastStep };
}

describe('a full disk', () => {
  it('the host that serves the UI: the run fails naming the file, the host answers, no temp file stays, the file is sound', async (ctx) => {
    skipWhen(ctx, noTmpfs);
    const disk = smallDisk();
    const ws = join(disk, 'ws');
    mkdirSync(ws);
    notebookWith(ws, TRAIN);
    const service = new LabService({ workspace: new Workspace(ws), launcher: nodeEngineLauncher(entry) });
    try {
      const { pending, lastStep } = await trainPastStep60(service);
      const filler = fillDisk(disk);
      const filledAt = Date.now();
      const r = (await pending) as { ok: boolean; output: { status: string; outputs: { type: string; name?: string; message?: string }[] } };
      const endedMs = Date.now() - filledAt;
      expect(r.ok).toBe(true);
      expect(r.output.status).toBe('error');
      const err = r.output.outputs.find((o) => o.type === 'error')!;
      // one line that names the file it could not write (the tracking database, or an artifact or checkpoint)
      expect(err.message).not.toContain('\n');
      expect(err.message).toMatch(new RegExp(`${ws.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\.latentlab/\\S+`));
      expect(err.message).toMatch(/SQLITE_FULL|disk is full|ENOSPC|no space left/i);

      // the host is up and answers
      const list = (await dispatch(service.handlers(), 'runs.list', {})) as { ok: boolean; output: { runs: { id: string; status: string; error: string | null }[] } };
      expect(list.ok).toBe(true);
      // a failed atomic write left no temp file behind
      const tmps = filesBelow(join(ws, '.latentlab')).filter((f) => f.endsWith('.tmp'));
      expect(tmps).toEqual([]);

      // room again: the run's end is written (at once, or by the host's next sweep) and the file is sound
      rmSync(filler);
      const runId = list.output.runs[0].id;
      const t1 = Date.now();
      while (service.tracker.getRun(runId)?.status === 'running') {
        if (Date.now() - t1 > 15_000) throw new Error('the run stayed running after the disk had room again');
        await sleep(100);
      }
      const run = service.tracker.getRun(runId)!;
      expect(run.status).toBe('failed');
      expect(run.error).toContain(`${ws}/.latentlab/`);
      expect(service.tracker.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const steps = service.tracker.series(runId, 'train/loss', 1e6).steps;
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1)); // what was written has no gap
      // and the host trains again
      const short = TRAIN.replace('steps: 100000', 'steps: 5');
      notebookWith(ws, short, 'short.ipynb');
      const again = (await dispatch(service.handlers(), 'kernel.execute', { notebook: 'short.ipynb', cellId: 'c1', code: short })) as { ok: boolean; output: { status: string } };
      expect(again, JSON.stringify(again)).toMatchObject({ ok: true, output: { status: 'ok' } });
      console.log(`[disk-full] serve host: the cell ended ${endedMs} ms after the disk filled at step ~${lastStep}: ${err.message}`);
    } finally {
      await service.close();
    }
  }, 240_000);

  it('`latentlab run`: exit 1, the reason in one line that names the file, no stack trace', async (ctx) => {
    skipWhen(ctx, noTmpfs);
    const disk = smallDisk();
    const ws = join(disk, 'ws');
    mkdirSync(ws);
    notebookWith(ws, TRAIN);
    const proc = spawn(process.execPath, [join(root, 'bin', 'latentlab.js'), 'run', join(ws, 'train.ipynb'), '--workspace', ws], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    proc.stderr!.on('data', (d) => (err += d));
    proc.stdout!.resume();
    const t0 = Date.now();
    const file = join(ws, '.latentlab', 'tracking.sqlite');
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`ended early: ${err}`);
      if (Date.now() - t0 > 120_000) throw new Error('no progress');
      if (existsSync(file)) {
        try {
          const db = new Database(file, { readonly: true, fileMustExist: true });
          const row = db.prepare('SELECT MAX(steps) AS s FROM runs').get() as { s: number | null };
          db.close();
          if ((row.s ?? 0) >= 60) break;
        } catch {
          /* being created */
        }
      }
      await sleep(100);
    }
    const filler = fillDisk(disk);
    const code = await new Promise<number | null>((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.on('exit', (c) => r(c))));
    expect(code, err).toBe(1);
    expect(err).not.toMatch(/^\s+at /m); // no stack trace
    const last = err.trim().split('\n').at(-1)!;
    expect(last, err).toMatch(/^latentlab: .*train\.ipynb stopped at cell 1 \(c1\)( line \d+)?: /);
    expect(last, err).toContain(`${ws}/.latentlab/`);
    expect(filesBelow(join(ws, '.latentlab')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    rmSync(filler);
    const db = new Database(file);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
    console.log(`[disk-full] latentlab run: ${last}`);
  }, 240_000);

  it('a checkpoint that does not fit: the error names the file and no temp file stays', async (ctx) => {
    skipWhen(ctx, noTmpfs);
    const disk = smallDisk();
    const dir = join(disk, 'artifacts');
    mkdirSync(dir);
    // 40 MB of room, a checkpoint of 48 MB
    const w = tf.zeros([12, 1024, 1024]);
    try {
      await expect(saveCheckpoint(dir, 'r1/checkpoints', 'best', [{ name: 'w', tensor: w }], { runId: 'r1', family: 'vae', step: 60, reason: 'best', config: {}, metricKey: null, metricValue: null }))
        .rejects.toThrow(new RegExp(`could not write the checkpoint ${dir}/r1/checkpoints/best\\.bin: ENOSPC`));
    } finally {
      w.dispose();
    }
    expect(filesBelow(dir)).toEqual([]);
  });
});

describe('a read-only database', () => {
  it('the database turns read-only mid-run: the run fails naming the file, the host answers, and the end is written once it is writable again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latentlab-readonly-'));
    plainDirs.push(dir);
    notebookWith(dir, TRAIN);
    const service = new LabService({ workspace: new Workspace(dir), launcher: nodeEngineLauncher(entry) });
    try {
      const { pending } = await trainPastStep60(service);
      // SQLite's own read-only state on the host's connection: every write now fails with SQLITE_READONLY
      service.tracker.db.pragma('query_only = ON');
      const r = (await pending) as { output: { status: string; outputs: { type: string; message?: string }[] } };
      expect(r.output.status).toBe('error');
      const err = r.output.outputs.find((o) => o.type === 'error')!;
      expect(err.message).not.toContain('\n');
      expect(err.message).toContain(`writing ${dir}/.latentlab/tracking.sqlite failed`);
      expect(err.message).toMatch(/readonly|read-only/i);
      const list = (await dispatch(service.handlers(), 'runs.list', {})) as { ok: boolean; output: { runs: { id: string; status: string }[] } };
      expect(list.ok).toBe(true);
      const runId = list.output.runs[0].id;
      expect(list.output.runs[0].status).toBe('running'); // its end could not be written yet
      service.tracker.db.pragma('query_only = OFF');
      const t1 = Date.now();
      while (service.tracker.getRun(runId)?.status === 'running') {
        if (Date.now() - t1 > 15_000) throw new Error('the run stayed running once the database was writable again');
        await sleep(100);
      }
      expect(service.tracker.getRun(runId)).toMatchObject({ status: 'failed', error: expect.stringContaining(`${dir}/.latentlab/tracking.sqlite`) });
      expect(service.tracker.db.pragma('integrity_check', { simple: true })).toBe('ok');
      console.log(`[disk-full] read-only database: ${err.message}; its end written ${Date.now() - t1} ms after it was writable again`);
    } finally {
      await service.close();
    }
  }, 240_000);
});
