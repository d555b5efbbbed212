// Nothing lost (issue 8), whole hosts: a `latentlab serve` process killed with SIGKILL
// mid-run and started again, an engine stuck in a loop when its host dies, two
// `latentlab run` processes training into one workspace file at once, and a host
// that dies beside a live one.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { processAlive, Tracker } from '../../src/main/services/tracker';
import { TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';
import { root } from '../helpers/paths';

const cliJs = join(root, 'out', 'main', 'cli.js');
const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  // one build at a time across helpers: the lock, then node on out/main/cli.js itself
  const b = spawnSync('flock', ['/tmp/ll-build.lock', 'npm', 'run', 'build'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  if (b.status !== 0) throw new Error(`build failed: ${b.stderr.slice(-2000)}`);
}, 320_000);
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** `latentlab ARGS` as its own process (the CLI's main, from the build) */
function latentlab(args: string[]): ChildProcess {
  const c = spawn(process.execPath, ['-e', `require(${JSON.stringify(cliJs)}).main(${JSON.stringify(args)}).then((c) => { if (c >= 0) process.exit(c); })`], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(c);
  return c;
}

function collect(c: ChildProcess): { out: () => string; err: () => string; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  c.stdout!.on('data', (d) => (out += d));
  c.stderr!.on('data', (d) => (err += d));
  return { out: () => out, err: () => err, exit: new Promise((r) => c.on('exit', (code) => r(code))) };
}

function call(ws: WebSocket, id: number, name: string, input: unknown): Promise<{ ok: boolean; output?: unknown; error?: string }> {
  return new Promise((resolve) => {
    const on = (data: WebSocket.RawData) => {
      const msg = JSON.parse(data.toString());
      if ('event' in msg || msg.id !== id) return;
      ws.off('message', on);
      resolve(msg);
    };
    ws.on('message', on);
    ws.send(JSON.stringify({ id, name, input }));
  });
}

const TRAIN = `
const data = lab.data.toy2d('moons');
const model = lab.models.vae({ latentDim: 2, hidden: [16] });
const run = await lab.train(model, data, { steps: 100000, batchSize: 64, checkpointEvery: 200, sampleEvery: 100, evalEvery: 500, seed: 2 });`;

/** a notebook of one code cell `c1` in `ws`, trusted (the host runs only code a trusted notebook holds) */
function trustedNotebook(ws: string, name: string, code: string): void {
  const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'c1', metadata: {}, source: code, outputs: [], execution_count: null }] };
  writeFileSync(join(ws, name), JSON.stringify(nb));
  new TrustStore().trust(nb);
}

/** A real `latentlab serve` on `ws`, and a WebSocket client of it (with the token). */
async function serveHost(ws: string) {
  const host = latentlab(['serve', '--workspace', ws, '--port', '0']);
  const io = collect(host);
  const t0 = Date.now();
  while (!/Open (http:\/\/\S+)/.test(io.out())) {
    if (Date.now() - t0 > 60_000 || host.exitCode !== null) throw new Error(`serve did not start: ${io.err()}`);
    await sleep(50);
  }
  const url = new URL(/Open (http:\/\/\S+)/.exec(io.out())![1]);
  const sock = new WebSocket(`ws://${url.host}/ws?token=${url.searchParams.get('token')}`);
  await new Promise((r, j) => {
    sock.once('open', r);
    sock.once('error', j);
  });
  return { host, io, sock, url };
}

describe('a killed serve host', () => {
  it('SIGKILL of `latentlab serve` mid-run: the file passes integrity_check, the run is crashed after a restart, the orphaned engine exits', async () => {
    const ws = tempDir('latentlab-hostkill-');
    trustedNotebook(ws, 'crash.ipynb', TRAIN);
    const { host, io, sock } = await serveHost(ws);
    const t0 = Date.now();
    const runIds: string[] = [];
    let lastStep = 0;
    sock.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.event === 'run.updated' && !runIds.includes(m.payload.run.id)) runIds.push(m.payload.run.id);
      if (m.event === 'run.metrics') lastStep = Math.max(lastStep, ...m.payload.points.map((p: { step: number }) => p.step));
    });
    void call(sock, 1, 'kernel.execute', { notebook: 'crash.ipynb', cellId: 'c1', code: TRAIN });
    while (lastStep < 700) {
      if (Date.now() - t0 > 120_000) throw new Error(`no training progress: ${io.err()}`);
      await sleep(50);
    }
    const engines = spawnSync('pgrep', ['-P', String(host.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    expect(engines.length).toBe(1);
    const enginePid = engines[0];
    const stepAtKill = lastStep;
    const killedAt = Date.now();
    process.kill(host.pid!, 'SIGKILL');
    await io.exit;
    sock.terminate();
    // the engine lost its IPC channel: it exits on its own
    const t1 = Date.now();
    while (processAlive(enginePid) && Date.now() - t1 < 10_000) await sleep(50);
    const engineGoneMs = Date.now() - t1;
    expect(processAlive(enginePid)).toBe(false);

    // the file as the dead host left it
    const db = new Database(join(ws, '.latentlab', 'tracking.sqlite'));
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const runId = runIds[0];
    const row = db.prepare('SELECT status FROM runs WHERE id = ?').get(runId) as { status: string };
    expect(row.status).toBe('running');
    const stepsBefore = (db.prepare(`SELECT step FROM metrics WHERE run_id = ? AND key = 'train/loss' ORDER BY step`).all(runId) as { step: number }[]).map((r) => r.step);
    const artifactsBefore = (db.prepare('SELECT COUNT(*) AS n FROM artifacts WHERE run_id = ?').get(runId) as { n: number }).n;
    db.close();
    expect(stepsBefore).toEqual(Array.from({ length: stepsBefore.length }, (_, i) => i + 1));
    expect(stepsBefore.length).toBeGreaterThanOrEqual(stepAtKill);

    // start it again: the run is crashed, everything written before the kill is there
    const again = latentlab(['serve', '--workspace', ws, '--port', '0']);
    const io2 = collect(again);
    const t2 = Date.now();
    while (!/Open /.test(io2.out())) {
      if (Date.now() - t2 > 60_000) throw new Error(`serve did not restart: ${io2.err()}`);
      await sleep(50);
    }
    const restartMs = Date.now() - t2;
    const t = new Tracker(join(ws, '.latentlab', 'tracking.sqlite'));
    try {
      const run = t.getRun(runId)!;
      expect(run.status).toBe('crashed');
      expect(run.error).toMatch(/host process stopped/);
      expect(t.series(runId, 'train/loss', 1_000_000).steps).toEqual(stepsBefore);
      expect(t.artifacts(runId).length).toBe(artifactsBefore);
      expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(t.resumePoint(runId)?.step).toBeGreaterThanOrEqual(600);
    } finally {
      t.close();
    }
    process.kill(again.pid!, 'SIGTERM');
    await io2.exit;
    console.log(
      `[crash-safety] serve SIGKILL at step ≈${stepAtKill}: orphaned engine exited ${engineGoneMs} ms later; integrity_check ok; ${stepsBefore.length} steps (1..${stepsBefore.length}) and ${artifactsBefore} artifacts kept; ` +
        `run crashed on restart (host up in ${restartMs} ms, ${Date.now() - killedAt} ms after the kill)`,
    );
  }, 240_000);
});

describe('a host killed while its engine is stuck', () => {
  it('an engine in an endless loop exits on its own when its host is SIGKILLed', async () => {
    const ws = tempDir('latentlab-stuck-');
    trustedNotebook(ws, 'stuck.ipynb', 'while (true) {}');
    const { host, io, sock } = await serveHost(ws);
    const t0 = Date.now();
    let busy = false;
    sock.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.event === 'cell.status' && m.payload.status === 'running') busy = true;
    });
    void call(sock, 1, 'kernel.execute', { notebook: 'stuck.ipynb', cellId: 'c1', code: 'while (true) {}' });
    while (!busy) {
      if (Date.now() - t0 > 60_000) throw new Error(`the cell never ran: ${io.err()}`);
      await sleep(50);
    }
    await sleep(500);
    const engines = spawnSync('pgrep', ['-P', String(host.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    expect(engines).toHaveLength(1);
    process.kill(host.pid!, 'SIGKILL');
    await io.exit;
    sock.terminate();
    const t1 = Date.now();
    while (processAlive(engines[0]) && Date.now() - t1 < 10_000) await sleep(50);
    const ms = Date.now() - t1;
    const survived = processAlive(engines[0]);
    if (survived) process.kill(engines[0], 'SIGKILL'); // never leave a spinning engine behind
    expect(survived).toBe(false);
    console.log(`[crash-safety] host SIGKILLed while its engine ran while (true) {}: the engine ended itself ${ms} ms later`);
  }, 120_000);
});

describe('two hosts on one workspace', () => {
  it('two `latentlab run` processes train into the same SQLite file at once: no "database is locked", every run finished', async () => {
    const ws = tempDir('latentlab-two-');
    const cell = (i: number) => ({
      id: `c${i}`, cell_type: 'code', metadata: {}, outputs: [], execution_count: null,
      source: `const run${i} = await lab.train(lab.models.vae({ latentDim: 2, hidden: [16] }), lab.data.toy2d('moons'), { steps: 600, batchSize: 32, sampleEvery: 100, evalEvery: 100, checkpointEvery: 200, seed: ${i} });`,
    });
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [0, 1, 2].map(cell) };
    writeFileSync(join(ws, 'a.ipynb'), JSON.stringify(nb));
    writeFileSync(join(ws, 'b.ipynb'), JSON.stringify(nb));
    const t0 = Date.now();
    const procs = ['a.ipynb', 'b.ipynb'].map((f) => collect(latentlab(['run', join(ws, f), '--workspace', ws, '--json'])));
    const codes = await Promise.all(procs.map((p) => p.exit));
    const ms = Date.now() - t0;
    for (const [i, p] of procs.entries()) {
      expect(p.err()).not.toMatch(/database is locked|SQLITE_BUSY/);
      expect(codes[i], p.err()).toBe(0);
    }
    const outs = procs.map((p) => JSON.parse(p.out().trim()) as { runs: { id: string; status: string; steps: number }[] });
    const t = new Tracker(join(ws, '.latentlab', 'tracking.sqlite'));
    try {
      expect(t.db.pragma('integrity_check', { simple: true })).toBe('ok');
      const runs = t.listRuns();
      expect(runs).toHaveLength(6);
      for (const r of runs) {
        expect(r.status).toBe('finished');
        expect(t.series(r.id, 'train/loss', 10_000).steps).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
      }
      expect(outs.flatMap((o) => o.runs.map((r) => r.status))).toEqual(Array(6).fill('finished'));
      // the two hosts really overlapped in time
      const [a, b] = outs.map((o) => o.runs.map((r) => t.getRun(r.id)!));
      expect(Math.min(a.at(-1)!.endedAt!, b.at(-1)!.endedAt!)).toBeGreaterThan(Math.max(a[0].startedAt, b[0].startedAt));
    } finally {
      t.close();
    }
    console.log(`[crash-safety] two CLI hosts × 3 runs into one workspace at once: ${ms} ms, no "database is locked", all 6 finished`);
  }, 240_000);
});

describe('a host that dies beside a live one', () => {
  it("a second host leaves the first host's live run alone, and marks it crashed once that host is killed", async () => {
    const ws = tempDir('latentlab-beside-');
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: 'c1', cell_type: 'code', metadata: {}, outputs: [], execution_count: null, source: TRAIN }] };
    writeFileSync(join(ws, 'long.ipynb'), JSON.stringify(nb));
    const a = latentlab(['run', join(ws, 'long.ipynb'), '--workspace', ws]);
    const io = collect(a);
    const file = join(ws, '.latentlab', 'tracking.sqlite');
    const t0 = Date.now();
    let runId: string | undefined;
    while (!runId) {
      if (Date.now() - t0 > 120_000 || a.exitCode !== null) throw new Error(`no run started: ${io.err()}`);
      await sleep(200);
      try {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        runId = (db.prepare(`SELECT id FROM runs WHERE status = 'running' AND steps > 100`).get() as { id: string } | undefined)?.id;
        db.close();
      } catch {
        /* not created yet */
      }
    }
    // host B opens the workspace while A trains: A's run is A's
    const b = new LabService({ workspace: new Workspace(ws), launcher: nodeEngineLauncher() });
    const updates: string[] = [];
    b.subscribe((event, payload) => {
      if (event === 'run.updated') updates.push((payload as { run: { id: string; status: string } }).run.status);
    });
    try {
      expect(b.tracker.getRun(runId)!.status).toBe('running');
      process.kill(a.pid!, 'SIGKILL');
      await io.exit;
      const killedAt = Date.now();
      while (b.tracker.getRun(runId)!.status === 'running' && Date.now() - killedAt < 15_000) await sleep(100);
      const ms = Date.now() - killedAt;
      expect(b.tracker.getRun(runId)).toMatchObject({ status: 'crashed', error: expect.stringMatching(/host process stopped/) });
      expect(updates).toContain('crashed'); // B's windows hear of it
      console.log(`[crash-safety] a host killed beside a live one: its run shown crashed by the other host ${ms} ms later`);
    } finally {
      await b.close();
    }
  }, 180_000);
});
