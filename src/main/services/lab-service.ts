// The host side of Latent Lab: implements every LabApi request over the
// workspace, the tracker and the engine process, and turns engine messages
// into tracker writes and UI events. Host-agnostic: no electron import.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload, LabHandlers } from '../../shared/api';
import { mergeOutput, type CellOutput, type EngineInfo, type ExecStatus } from '../../shared/domain';
import { EngineToHost } from '../../shared/engine-protocol';
import { describeExit, type EngineExit, type EngineLauncher, type EngineProcess } from './engine-process';
import { inspectForUi } from './data-inspect';
import { Tracker } from './tracker';
import type { Workspace } from './workspace';

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Execution {
  id: string;
  notebook: string;
  cellId: string;
  outputs: CellOutput[];
  resolve: (r: { executionId: string; status: ExecStatus; outputs: CellOutput[] }) => void;
  /** settles when the cell has ended, however it ended */
  finished: Promise<unknown>;
}

export interface LabServiceOptions {
  workspace: Workspace;
  launcher: EngineLauncher;
  emit?: Emit;
  backend?: string | null;
  /** how long an interrupted cell may take to stop before the engine is restarted */
  interruptGraceMs?: number;
  trackerNativeBinding?: string;
  log?: (msg: string) => void;
}

export class LabService {
  readonly tracker: Tracker;
  private engine: EngineProcess | null = null;
  private ready: Promise<void> | null = null;
  private info: EngineInfo = { status: 'stopped', backend: null, available: [], preferred: null };
  private executions = new Map<string, Execution>();
  private queue: Promise<unknown> = Promise.resolve();
  private nextExec = 1;
  /** bumped by Stop and Restart: cells queued before it never start */
  private generation = 0;
  private liveRuns = new Set<string>();
  private lastRunUpdate = new Map<string, number>();
  private handlerTable: LabHandlers | null = null;
  private listeners = new Set<Emit>();
  private readonly grace: number;
  private orphanSweep: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly opts: LabServiceOptions) {
    opts.workspace.init();
    this.tracker = new Tracker(opts.workspace.trackerFile, { nativeBinding: opts.trackerNativeBinding, backgroundCheckpoints: true });
    // a run still 'running' in the file whose host is gone (killed, power cut) crashed;
    // another host training into this workspace right now keeps its runs. Looked at
    // again every 5 s, so a host that dies beside this one is noticed too.
    this.tracker.markOrphansCrashed();
    this.orphanSweep = setInterval(() => this.sweepOrphans(), 5_000);
    this.orphanSweep.unref?.();
    this.info.preferred = opts.backend ?? null;
    // a busy cell (an endless loop) gets a new engine within 2 s of Stop
    this.grace = opts.interruptGraceMs ?? 1500;
    if (opts.emit) this.listeners.add(opts.emit);
  }

  get workspace(): Workspace {
    return this.opts.workspace;
  }

  /** Adds an event listener (each connected window / socket has one). */
  subscribe(listener: Emit): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private sweepOrphans(): void {
    try {
      const before = (this.tracker.db.prepare(`SELECT id FROM runs WHERE status = 'running'`).all() as { id: string }[]).map((r) => r.id);
      if (before.length === 0 || this.tracker.markOrphansCrashed() === 0) return;
      for (const id of before) {
        const run = this.tracker.getRun(id);
        if (run && run.status === 'crashed') this.emit('run.updated', { run });
      }
    } catch (e) {
      this.opts.log?.(`orphan sweep: ${(e as Error).message}`);
    }
  }

  private emit: Emit = (event, payload) => {
    for (const l of this.listeners) {
      try {
        l(event, payload);
      } catch (e) {
        this.opts.log?.(`event listener failed: ${(e as Error).message}`);
      }
    }
  };

  private setInfo(patch: Partial<EngineInfo>): void {
    this.info = { ...this.info, ...patch };
    this.emit('engine.status', this.info);
  }

  /** Starts the engine process if it is not running; resolves when it is ready. */
  startEngine(): Promise<void> {
    if (this.ready) return this.ready;
    this.setInfo({ status: 'starting' });
    const engine = this.opts.launcher();
    this.engine = engine;
    this.ready = new Promise<void>((resolve, reject) => {
      let isReady = false;
      engine.onMessage((raw) => {
        if (this.engine !== engine) return; // a replaced engine's last words
        const parsed = EngineToHost.safeParse(raw);
        if (!parsed.success) {
          this.opts.log?.(`ignored a malformed engine message: ${parsed.error.issues[0]?.message}`);
          return;
        }
        const msg = parsed.data;
        if (msg.type === 'ready') {
          isReady = true;
          this.setInfo({ status: 'idle', backend: msg.backend, available: msg.available, detail: msg.detail });
          resolve();
          return;
        }
        this.onEngineMessage(msg);
      });
      engine.onExit((code, detail) => {
        if (!isReady) reject(new Error(`the engine process exited before it was ready: ${describeExit(code, detail)}`));
        if (this.engine !== engine) return; // an engine we already replaced
        this.engine = null;
        this.ready = null;
        const reason = describeExit(code, detail);
        this.failAll(reason, detail);
        this.setInfo({ status: code === 0 ? 'stopped' : 'crashed', backend: null, detail: code === 0 ? undefined : reason });
      });
      engine.send({
        type: 'init',
        workspace: this.opts.workspace.dir,
        artifactsDir: this.opts.workspace.artifactsDir,
        backend: this.info.preferred,
      });
    });
    this.ready.catch(() => undefined);
    return this.ready;
  }

  /** Ends every pending execution and live run (as crashed) when the engine goes away. */
  private failAll(reason: string, detail?: EngineExit): void {
    for (const ex of this.executions.values()) {
      const out: CellOutput = { type: 'error', name: detail?.outOfMemory ? 'EngineOutOfMemory' : 'EngineExited', message: reason, line: null };
      ex.outputs.push(out);
      this.emit('cell.output', { notebook: ex.notebook, cellId: ex.cellId, executionId: ex.id, output: out });
      this.finish(ex, 'error');
    }
    // what reached the tracker stays: the run is crashed at its last written step
    for (const runId of [...this.liveRuns]) this.endRun(runId, 'crashed', 0, reason);
  }

  private finish(ex: Execution, status: ExecStatus): void {
    this.executions.delete(ex.id);
    this.emit('cell.status', { notebook: ex.notebook, cellId: ex.cellId, executionId: ex.id, status });
    if (this.executions.size === 0 && this.engine) this.setInfo({ status: 'idle' });
    ex.resolve({ executionId: ex.id, status, outputs: ex.outputs });
  }

  private endRun(runId: string, status: 'finished' | 'stopped' | 'failed' | 'crashed' | 'diverged', steps: number, error: string | null): void {
    this.liveRuns.delete(runId);
    this.lastRunUpdate.delete(runId);
    this.tracker.endRun(runId, status, steps, error);
    const run = this.tracker.getRun(runId);
    if (run) this.emit('run.updated', { run });
  }

  private onEngineMessage(msg: EngineToHost): void {
    switch (msg.type) {
      case 'output': {
        const ex = this.executions.get(msg.execId);
        if (!ex) return;
        ex.outputs = mergeOutput(ex.outputs, msg.output);
        this.emit('cell.output', { notebook: ex.notebook, cellId: ex.cellId, executionId: ex.id, output: msg.output });
        return;
      }
      case 'done': {
        const ex = this.executions.get(msg.execId);
        if (ex) this.finish(ex, msg.status);
        return;
      }
      case 'run.start': {
        this.tracker.insertRun(msg.run);
        this.liveRuns.add(msg.run.id);
        this.emit('run.updated', { run: this.tracker.getRun(msg.run.id) ?? msg.run });
        return;
      }
      case 'run.metrics': {
        if (!this.liveRuns.has(msg.runId)) return;
        this.tracker.addMetrics(msg.runId, msg.points, msg.steps);
        this.emit('run.metrics', { runId: msg.runId, points: msg.points });
        // the run record (steps, final metrics) is re-read from SQL at most twice a
        // second per run: batches come four times a second and the runs list does
        // not need more; run.end always sends the final record
        const now = Date.now();
        if (now - (this.lastRunUpdate.get(msg.runId) ?? 0) >= 500) {
          this.lastRunUpdate.set(msg.runId, now);
          const run = this.tracker.getRun(msg.runId);
          if (run) this.emit('run.updated', { run });
        }
        return;
      }
      case 'run.artifact': {
        const file = join(this.opts.workspace.artifactsDir, msg.artifact.path);
        if (!this.tracker.getRun(msg.artifact.runId) || !existsSync(file)) {
          this.opts.log?.(`ignored artifact ${msg.artifact.path}: no such run or file`);
          return;
        }
        this.tracker.addArtifact(msg.artifact);
        this.emit('run.artifact', { artifact: msg.artifact });
        return;
      }
      case 'run.resume': {
        // the engine loaded the run's checkpoint: what the dead run logged after it goes
        if (!this.tracker.getRun(msg.runId)) return;
        this.tracker.resumeRun(msg.runId, msg.step);
        this.liveRuns.add(msg.runId);
        const run = this.tracker.getRun(msg.runId);
        if (run) this.emit('run.updated', { run });
        return;
      }
      case 'run.checkpoint':
        if (this.tracker.getRun(msg.checkpoint.runId)) this.tracker.addCheckpoint(msg.checkpoint);
        return;
      case 'run.end':
        if (this.tracker.getRun(msg.runId)) this.endRun(msg.runId, msg.status, msg.steps, msg.error);
        return;
      case 'run.eval': {
        // an ended run of this workspace may gain evaluations (its test NLL); unknown runs are ignored
        if (!this.tracker.getRun(msg.runId)) return;
        this.tracker.addMetrics(msg.runId, msg.points);
        if (msg.kinds) this.tracker.mergeMetricKinds(msg.runId, msg.kinds);
        this.emit('run.metrics', { runId: msg.runId, points: msg.points });
        const run = this.tracker.getRun(msg.runId);
        if (run) this.emit('run.updated', { run });
        return;
      }
      case 'log':
        this.opts.log?.(`[engine ${msg.level}] ${msg.message}`);
        return;
      default:
        return;
    }
  }

  /** Runs one cell. Cells run one at a time, in the order they were asked for. */
  execute(
    notebook: string,
    cellId: string,
    code: string,
    resume?: { runId: string; step: number; checkpoint: string; bestValue: number | null },
  ): Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }> {
    const id = `x${Date.now().toString(36)}-${this.nextExec++}`;
    this.emit('cell.status', { notebook, cellId, executionId: id, status: 'queued' });
    const generation = this.generation;
    const result = this.queue.then(async () => {
      if (generation !== this.generation) {
        this.emit('cell.status', { notebook, cellId, executionId: id, status: 'interrupted' });
        return { executionId: id, status: 'interrupted' as ExecStatus, outputs: [] };
      }
      try {
        await this.startEngine();
      } catch (e) {
        const out: CellOutput = { type: 'error', name: 'EngineError', message: (e as Error).message, line: null };
        this.emit('cell.output', { notebook, cellId, executionId: id, output: out });
        this.emit('cell.status', { notebook, cellId, executionId: id, status: 'error' });
        return { executionId: id, status: 'error' as ExecStatus, outputs: [out] };
      }
      let resolve!: Execution['resolve'];
      const finished = new Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }>((r) => (resolve = r));
      this.executions.set(id, { id, notebook, cellId, outputs: [], resolve, finished });
      this.setInfo({ status: 'busy' });
      this.emit('cell.status', { notebook, cellId, executionId: id, status: 'running' });
      this.engine?.send({ type: 'execute', execId: id, notebook, cellId, code, ...(resume ? { resume } : {}) });
      return finished;
    });
    this.queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Stops the running cell. The engine stops training at the next step; a cell
   * that does not stop within the grace period (a busy loop) gets a new engine.
   */
  async interrupt(): Promise<void> {
    this.generation++;
    if (!this.engine || this.executions.size === 0) return;
    this.engine.send({ type: 'interrupt' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      Promise.all([...this.executions.values()].map((ex) => ex.finished)).then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.grace))),
    ]);
    clearTimeout(timer);
    if (!stopped) await this.restart(undefined, 'the cell did not stop in time, so the engine was restarted');
  }

  /** A fresh engine process (optionally with another backend). */
  async restart(backend?: string | null, reason = 'the kernel was restarted'): Promise<EngineInfo> {
    this.generation++;
    if (backend !== undefined) this.info.preferred = backend;
    const old = this.engine;
    this.engine = null;
    this.ready = null;
    if (old) {
      old.kill();
      for (const ex of this.executions.values()) {
        const out: CellOutput = { type: 'error', name: 'Interrupted', message: reason, line: null };
        ex.outputs.push(out);
        this.emit('cell.output', { notebook: ex.notebook, cellId: ex.cellId, executionId: ex.id, output: out });
        this.finish(ex, 'interrupted');
      }
      for (const runId of [...this.liveRuns]) this.endRun(runId, 'stopped', 0, reason);
    }
    await this.startEngine();
    return this.info;
  }

  /**
   * Resumes a crashed, stopped, failed or diverged run from its newest checkpoint: the
   * run's cell code runs again in the engine and its lab.train continues the run.
   */
  resume(runId: string): Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }> {
    const run = this.tracker.getRun(runId);
    if (!run) return Promise.reject(new Error(`no run ${runId}`));
    if (run.status === 'running' || run.status === 'finished') {
      return Promise.reject(new Error(`run ${runId} is ${run.status}: only a crashed, stopped, failed or diverged run resumes`));
    }
    if (!run.code.includes('lab.train')) return Promise.reject(new Error(`run ${runId} has no lab.train in its recorded code`));
    // its cell trains several runs: running it again would start the others anew
    if (run.config.sweep) return Promise.reject(new Error(`run ${runId} belongs to a sweep: resume it in a cell with lab.train(model, data, { ...its options, resume: '${runId}' })`));
    const point = this.tracker.resumePoint(runId);
    if (!point) return Promise.reject(new Error(`run ${runId} wrote no checkpoint before it ended: it cannot resume (start it again)`));
    return this.execute(run.notebook, run.cell || 'resume', run.code, { runId, ...point });
  }

  engineInfo(): EngineInfo {
    return this.info;
  }

  async close(): Promise<void> {
    const engine = this.engine;
    this.engine = null;
    this.ready = null;
    if (this.orphanSweep) clearInterval(this.orphanSweep);
    if (engine) {
      engine.send({ type: 'shutdown' });
      setTimeout(() => engine.kill(), 1000).unref();
    }
    for (const runId of [...this.liveRuns]) this.endRun(runId, 'stopped', 0, 'Latent Lab was closed');
    this.tracker.close();
  }

  /** The LabApi handlers, for any transport. */
  handlers(): LabHandlers {
    return (this.handlerTable ??= this.makeHandlers());
  }

  private makeHandlers(): LabHandlers {
    const ws = this.opts.workspace;
    return {
      'workspace.info': async () => ({ path: ws.dir, name: ws.name, artifactBase: ws.artifactsDir }),
      'notebooks.list': async () => ({ notebooks: ws.list() }),
      'notebook.read': async ({ path }) => ws.open(path),
      'notebook.trust': async ({ path }) => ({ trusted: ws.trustNotebook(path).trusted }),
      'notebook.write': async ({ path, notebook }) => {
        ws.write(path, notebook);
        return { ok: true as const };
      },
      'kernel.execute': async ({ notebook, cellId, code }) => {
        // the host decides, not only the UI: an untrusted notebook's code does not run
        const may = ws.mayRun(notebook);
        if (!may.ok) throw new Error(may.reason);
        return this.execute(notebook, cellId, code);
      },
      'kernel.interrupt': async () => {
        await this.interrupt();
        return { ok: true as const };
      },
      'kernel.restart': async ({ backend }) => this.restart(backend),
      'engine.info': async () => {
        if (!this.engine) void this.startEngine().catch(() => undefined);
        return this.info;
      },
      'runs.list': async ({ notebook, limit }) => ({ runs: this.tracker.listRuns({ notebook, limit }) }),
      'runs.get': async ({ id }) => {
        const run = this.tracker.getRun(id);
        if (!run) throw new Error(`no run ${id}`);
        return { run, checkpoints: this.tracker.checkpoints(id), metricKeys: this.tracker.metricKeys(id) };
      },
      'runs.metrics': async ({ id, keys, maxPoints }) => {
        const all = keys ?? this.tracker.metricKeys(id);
        return { series: all.map((k) => this.tracker.series(id, k, maxPoints ?? 2000)) };
      },
      'runs.artifacts': async ({ id, kind }) => ({ artifacts: this.tracker.artifacts(id, kind) }),
      'data.inspect': async ({ path, options }) => inspectForUi(ws.dir, ws.artifactsDir, path, options),
      'runs.resume': async ({ id }) => this.resume(id),
    };
  }
}
