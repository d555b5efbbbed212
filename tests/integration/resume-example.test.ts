// Resume as a user meets it (issue 16): the shipped vae-mnist notebook run by
// `latentlab run … -p steps N`, its engine (and, separately, the whole host) killed
// by pid after the step-1000 checkpoint, the workspace opened again by a fresh host,
// Resume: the run rebuilds its parameters (the -p values it was started with), goes
// on to N and its curve holds each step 1..N once. And resume is held to trust: a
// database whose recorded code was changed, or a workspace from elsewhere, does not run.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry, examplesDir } from '../../src/main/services/paths';
import { Tracker } from '../../src/main/services/tracker';
import { TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';
import { root } from '../helpers/paths';

const cliJs = join(root, 'out', 'main', 'cli.js');
const entry = engineEntry();
const N = 1200;
const dirs: string[] = [];
const children: ChildProcess[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(() => {
  if (!existsSync(entry) || !existsSync(cliJs)) throw new Error(`${cliJs} is missing: run \`npm run build\` first (npm test does)`);
});
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function workspaceWithExample(): string {
  const ws = mkdtempSync(join(tmpdir(), 'latentlab-resume-ex-'));
  dirs.push(ws);
  copyFileSync(join(examplesDir(), 'vae-mnist.ipynb'), join(ws, 'vae-mnist.ipynb'));
  return ws;
}

/** `latentlab run vae-mnist.ipynb -p steps N` in `ws`, as its own process */
function startRun(ws: string): { proc: ChildProcess; err: () => string } {
  const args = ['run', join(ws, 'vae-mnist.ipynb'), '-p', 'steps', String(N), '--workspace', ws];
  const proc = spawn(process.execPath, [join(root, 'bin', 'latentlab.js'), ...args], { cwd: ws, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(proc);
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.resume();
  return { proc, err: () => err };
}

/** waits until the run in `ws` has its step-1000 checkpoint and a few steps past it */
async function untilPastCheckpoint(ws: string, proc: ChildProcess, err: () => string): Promise<string> {
  const file = join(ws, '.latentlab', 'tracking.sqlite');
  const t0 = Date.now();
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`latentlab run ended early: ${err().slice(-2000)}`);
    if (Date.now() - t0 > 240_000) throw new Error('timed out waiting for checkpoint 1000');
    if (existsSync(file)) {
      try {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          db.pragma('busy_timeout = 2000');
          const row = db
            .prepare(`SELECT r.id, r.steps FROM runs r JOIN checkpoints c ON c.run_id = r.id WHERE c.step = 1000 AND c.reason = 'periodic'`)
            .get() as { id: string; steps: number } | undefined;
          if (row && row.steps >= 1060) return row.id;
        } finally {
          db.close();
        }
      } catch {
        // the file is being created: look again
      }
    }
    await sleep(100);
  }
}

/** the engine process under a `latentlab run` */
function engineOf(pid: number): number {
  const kids = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
  if (kids.length !== 1) throw new Error(`expected one engine under ${pid}, found ${kids.join(' ') || 'none'}`);
  return kids[0];
}

async function reopenAndResume(ws: string, runId: string, what: string) {
  const service = new LabService({ workspace: new Workspace(ws), launcher: nodeEngineLauncher(entry) });
  try {
    const before = service.tracker.getRun(runId)!;
    expect(before.status).toBe('crashed');
    // the -p values are recorded with the run
    expect(before.config.params).toEqual({ steps: N });
    expect(before.totalSteps).toBe(N);
    const t0 = Date.now();
    const r = await service.resume(runId);
    expect(r.status, JSON.stringify(r.outputs)).toBe('ok');
    const run = service.tracker.getRun(runId)!;
    expect(run).toMatchObject({ status: 'finished', steps: N, totalSteps: N, error: null });
    const loss = service.tracker.series(runId, 'train/loss', 100_000);
    expect(loss.steps).toEqual(Array.from({ length: N }, (_, i) => i + 1)); // each step once
    const ckpt = service.tracker.checkpoints(runId).filter((c) => c.reason === 'periodic').map((c) => c.step);
    expect(ckpt).toContain(1000);
    console.log(`[resume-example] ${what}: crashed at step ${before.steps}, resumed from 1000 to ${N} in ${Date.now() - t0} ms; ${loss.steps.length} steps, each once`);
  } finally {
    await service.close();
  }
}

/** a copy of the first test's workspace as the kill left it, for the trust tests */
let crashedCopy = '';
let crashedRun = '';

describe('resume of the shipped example after a crash', () => {
  it('engine SIGKILLed mid-run: reopened, Resume rebuilds the parameters and -p values and finishes at N', async () => {
    const ws = workspaceWithExample();
    const { proc, err } = startRun(ws);
    const runId = await untilPastCheckpoint(ws, proc, err);
    process.kill(engineOf(proc.pid!), 'SIGKILL');
    const code = await new Promise<number | null>((r) => (proc.exitCode !== null ? r(proc.exitCode) : proc.on('exit', (c) => r(c))));
    expect(code).toBe(1);
    expect(err()).toMatch(/latentlab: .* stopped at cell 4 \(c3\): EngineExited: the engine process was killed \(SIGKILL\)/);
    crashedCopy = mkdtempSync(join(tmpdir(), 'latentlab-resume-copy-'));
    dirs.push(crashedCopy);
    cpSync(ws, crashedCopy, { recursive: true });
    crashedRun = runId;
    await reopenAndResume(ws, runId, 'engine killed');
  }, 300_000);

  it('the host (`latentlab run` itself) SIGKILLed mid-run: reopened, the run is crashed and resumes to N', async () => {
    const ws = workspaceWithExample();
    const { proc, err } = startRun(ws);
    const runId = await untilPastCheckpoint(ws, proc, err);
    const engine = engineOf(proc.pid!);
    process.kill(proc.pid!, 'SIGKILL');
    // the orphaned engine notices and exits by itself
    const t0 = Date.now();
    while (spawnSync('kill', ['-0', String(engine)]).status === 0) {
      if (Date.now() - t0 > 15_000) throw new Error('the orphaned engine did not exit');
      await sleep(100);
    }
    await reopenAndResume(ws, runId, 'host killed');
  }, 300_000);
});

describe('resume is held to trust', () => {
  let ws: string;
  let runId: string;

  beforeAll(() => {
    // the first test's workspace as its engine kill left it: a crashed run with a checkpoint
    if (!crashedCopy) throw new Error('the engine-kill test did not leave its workspace');
    ws = crashedCopy;
    runId = crashedRun;
  });

  it('a run whose recorded code was changed in the database does not run; nothing reaches the engine', async () => {
    const t = new Tracker(join(ws, '.latentlab', 'tracking.sqlite'));
    const original = t.getRun(runId)!.code;
    t.db.prepare('UPDATE runs SET code = ? WHERE id = ?').run(`${original}\nglobalThis.pwned = true;`, runId);
    t.close();
    const service = new LabService({ workspace: new Workspace(ws), launcher: nodeEngineLauncher(entry) });
    const started: string[] = [];
    service.subscribe((event, payload) => {
      if (event === 'cell.status') started.push((payload as { cellId: string }).cellId);
    });
    try {
      await expect(service.resume(runId)).rejects.toThrow(/does not resume: its recorded code did not run in Latent Lab on this computer/);
      expect(started).toEqual([]);
      expect(service.engineInfo().status).toBe('stopped');
    } finally {
      await service.close();
    }
    const back = new Tracker(join(ws, '.latentlab', 'tracking.sqlite'));
    back.db.prepare('UPDATE runs SET code = ? WHERE id = ?').run(original, runId);
    back.close();
  }, 60_000);

  it('the same workspace opened by another user (another trust store) does not resume until its notebook is trusted', async () => {
    const otherConfig = mkdtempSync(join(tmpdir(), 'latentlab-other-user-'));
    dirs.push(otherConfig);
    const workspace = new Workspace(ws, { trust: new TrustStore(otherConfig) });
    const service = new LabService({ workspace, launcher: nodeEngineLauncher(entry) });
    try {
      await expect(service.resume(runId)).rejects.toThrow(/does not resume/);
      // trusting the notebook (its code is the run's code; the -p cell is data) lets it resume
      workspace.trustNotebook('vae-mnist.ipynb');
      const r = await service.resume(runId);
      expect(r.status, JSON.stringify(r.outputs)).toBe('ok');
      expect(service.tracker.getRun(runId)).toMatchObject({ status: 'finished', steps: N });
    } finally {
      await service.close();
    }
  }, 300_000);
});
