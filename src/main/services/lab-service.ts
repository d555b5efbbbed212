// The host side of Latent Lab: implements every LabApi request over the
// workspace, the tracker and the engine process, and turns engine messages
// into tracker writes and UI events. Host-agnostic: no electron import.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { EventName, EventPayload, LabHandlers } from '../../shared/api';
import { mergeOutput, type CellOutput, type EngineInfo, type ExecStatus, type KernelState } from '../../shared/domain';
import { EngineToHost } from '../../shared/engine-protocol';
import { describeExit, type EngineExit, type EngineLauncher, type EngineProcess } from './engine-process';
import { inspectForUi } from './data-inspect';
import { parseInjectedParameters } from './parameters';
import { Tracker, type ReplayCell } from './tracker';
import type { Workspace } from './workspace';

/** a cell that starts training (its replay would train again) */
const TRAINS = /\blab\s*\.\s*(train|sweep)\s*\(/;

/** a message on one line */
const oneLine = (m: string) => m.replace(/\s+/g, ' ').trim();

/** the run an engine message is about, if any */
function runOf(msg: EngineToHost): string | null {
  switch (msg.type) {
    case 'run.start':
      return msg.run.id;
    case 'run.artifact':
      return msg.artifact.runId;
    case 'run.checkpoint':
      return msg.checkpoint.runId;
    case 'run.metrics':
    case 'run.resume':
    case 'run.end':
    case 'run.eval':
      return msg.runId;
    default:
      return null;
  }
}

export type Emit = <E extends EventName>(event: E, payload: EventPayload<E>) => void;

interface Execution {
  id: string;
  notebook: string;
  cellId: string;
  code: string;
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
  /** the cells that ran ok in the engine now running, each at its latest run, in the order they last ran (a resume replays a run's share of them) */
  private ran: { notebook: string; cellId: string; code: string }[] = [];
  /** runs whose record could not be written (a full disk): the engine's later words about them are ignored */
  private storageFailed = new Set<string>();
  /** ends of such runs not written yet: retried every 5 s until the file takes them */
  private unwrittenEnds = new Map<string, { steps: number; error: string }>();
  /** executions whose run failed to be recorded: they end as errors, not as interrupted */
  private failedExecs = new Set<string>();
  private listeners = new Set<Emit>();
  /** each notebook's kernel in the engine now running (one engine process, a vm context per notebook) */
  private kernels = new Map<string, { executionCount: number; variables: string[]; started: boolean; queued: number }>();
  /** bumped by a notebook's Stop and Restart: its cells queued before never start */
  private notebookGen = new Map<string, number>();
  /** the engine's answers to 'kernel.reset', awaited by restartNotebook */
  private resets = new Map<string, (r: { disposedTensors: number; numTensors: number }) => void>();
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
    for (const [runId, end] of [...this.unwrittenEnds]) {
      try {
        this.tracker.endRun(runId, 'failed', end.steps, end.error);
        this.unwrittenEnds.delete(runId);
        const run = this.tracker.getRun(runId);
        if (run) this.emit('run.updated', { run });
      } catch {
        // the file still takes nothing: try again at the next sweep
      }
    }
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
    this.ran = []; // a fresh engine holds no variables
    this.dropKernels();
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
          this.setInfo({ status: 'idle', backend: msg.backend, available: msg.available, detail: msg.detail, label: msg.label });
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
        this.dropKernels();
        this.setInfo({ status: code === 0 ? 'stopped' : 'crashed', backend: null, label: undefined, detail: code === 0 ? undefined : reason });
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
    this.kernelChanged(ex.notebook);
    ex.resolve({ executionId: ex.id, status, outputs: ex.outputs });
  }

  // ---- kernels: one per notebook, in the one engine process ----

  /** A notebook's kernel as the UI shows it. */
  kernelState(notebook: string): KernelState {
    const k = this.kernels.get(notebook);
    const running = [...this.executions.values()].some((e) => e.notebook === notebook);
    const status = running ? 'busy' : k && k.queued > 0 ? 'queued' : k?.started ? 'idle' : 'not started';
    return { notebook, status, executionCount: k?.executionCount ?? 0, variables: k?.variables ?? [] };
  }

  /** the kernels that hold variables or have cells running or waiting */
  kernelStates(): KernelState[] {
    return [...this.kernels.keys()].map((n) => this.kernelState(n)).filter((k) => k.status !== 'not started' || k.variables.length > 0);
  }

  private kernelChanged(notebook: string): void {
    this.emit('kernel.state', this.kernelState(notebook));
  }

  private kernelOf(notebook: string) {
    let k = this.kernels.get(notebook);
    if (!k) this.kernels.set(notebook, (k = { executionCount: 0, variables: [], started: false, queued: 0 }));
    return k;
  }

  /** every kernel is gone with its engine process */
  private dropKernels(): void {
    const gone = [...this.kernels.keys()];
    for (const [nb, k] of this.kernels) if (k.queued === 0) this.kernels.delete(nb);
    for (const k of this.kernels.values()) Object.assign(k, { executionCount: 0, variables: [], started: false });
    gone.forEach((nb) => this.kernelChanged(nb));
  }

  /**
   * Restarts one notebook's kernel: its running cell stops (a cell that does not stop in
   * time restarts the whole engine, as Stop does), its queued cells never start, and the
   * engine drops its variables and disposes the tensors its cells made. Other notebooks keep theirs.
   */
  async restartNotebook(notebook: string): Promise<{ disposedTensors: number; numTensors: number } | null> {
    this.notebookGen.set(notebook, (this.notebookGen.get(notebook) ?? 0) + 1);
    const engine = this.engine;
    const wholeEngine = async (why: string) => {
      await this.restart(undefined, `${why}, so the engine was restarted: every notebook's variables were cleared`);
      return null;
    };
    if (engine && !(await this.stopNotebookCell(notebook))) return wholeEngine('the cell did not stop in time');
    let result: { disposedTensors: number; numTensors: number } | null = null;
    if (engine && this.engine === engine && this.kernels.get(notebook)?.started) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      result = await Promise.race([
        new Promise<{ disposedTensors: number; numTensors: number }>((r) => {
          this.resets.set(notebook, r);
          engine.send({ type: 'kernel.reset', notebook });
        }),
        new Promise<null>((r) => (timer = setTimeout(() => r(null), 10_000))),
      ]);
      clearTimeout(timer);
      this.resets.delete(notebook);
      if (!result) return wholeEngine('the engine did not answer');
    }
    const k = this.kernels.get(notebook);
    if (k) Object.assign(k, { executionCount: 0, variables: [], started: false });
    this.ran = this.ran.filter((r) => r.notebook !== notebook);
    this.kernelChanged(notebook);
    return result;
  }

  /** Stops the notebook's running cell, if one runs; false when it did not stop within the grace period. */
  private async stopNotebookCell(notebook: string): Promise<boolean> {
    const running = [...this.executions.values()].filter((e) => e.notebook === notebook);
    if (running.length === 0 || !this.engine) return true;
    this.engine.send({ type: 'interrupt' });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stopped = await Promise.race([
      Promise.all(running.map((ex) => ex.finished)).then(() => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), this.grace))),
    ]);
    clearTimeout(timer);
    return stopped;
  }

  private endRun(runId: string, status: 'finished' | 'stopped' | 'failed' | 'crashed' | 'diverged', steps: number, error: string | null): void {
    this.liveRuns.delete(runId);
    this.lastRunUpdate.delete(runId);
    this.tracker.endRun(runId, status, steps, error);
    const run = this.tracker.getRun(runId);
    if (run) this.emit('run.updated', { run });
  }

  /**
   * An engine message, turned into tracker writes and events. A write that throws
   * (a full disk, a read-only or damaged file) fails that run with a one-line reason
   * naming the file; the host stays up and the database stays as SQLite left it.
   */
  private onEngineMessage(msg: EngineToHost): void {
    const runId = runOf(msg);
    if (runId !== null && this.storageFailed.has(runId)) return;
    try {
      this.handleEngineMessage(msg);
    } catch (e) {
      this.recordingFailed(runId, e);
    }
  }

  private recordingFailed(runId: string | null, e: unknown): void {
    const err = e as Error & { code?: string };
    const why = `${oneLine(err.message ?? String(e))}${err.code && !String(err.message).includes(err.code) ? ` (${err.code})` : ''}`;
    const reason = `the run could not be recorded: writing ${this.tracker.file} failed: ${why}`;
    this.opts.log?.(reason);
    if (runId === null) return;
    this.storageFailed.add(runId);
    const wasLive = this.liveRuns.delete(runId);
    this.lastRunUpdate.delete(runId);
    let steps = 0;
    try {
      steps = this.tracker.getRun(runId)?.steps ?? 0;
    } catch {
      /* unreadable too: the end below says 0 and MAX keeps what the file has */
    }
    try {
      this.tracker.endRun(runId, 'failed', steps, reason);
    } catch {
      this.unwrittenEnds.set(runId, { steps, error: reason }); // retried every 5 s
    }
    try {
      const run = this.tracker.getRun(runId);
      if (run) this.emit('run.updated', { run: { ...run, status: 'failed', error: reason } });
    } catch {
      /* the UI hears of it from the cell's error */
    }
    // the cell that trains it stops, and ends with the reason
    if (wasLive || this.executions.size > 0) {
      for (const ex of this.executions.values()) {
        const out: CellOutput = { type: 'error', name: 'RecordingFailed', message: reason, line: null };
        ex.outputs.push(out);
        this.emit('cell.output', { notebook: ex.notebook, cellId: ex.cellId, executionId: ex.id, output: out });
        this.failedExecs.add(ex.id);
      }
      this.engine?.send({ type: 'interrupt' });
    }
  }

  private handleEngineMessage(msg: EngineToHost): void {
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
        if (!ex) return;
        const failed = this.failedExecs.delete(ex.id);
        const k = this.kernelOf(ex.notebook);
        k.started = true;
        if (msg.variables) k.variables = msg.variables;
        if (msg.status === 'ok' && !failed) {
          // one entry per cell, at its latest run: the list stays as long as the notebooks are
          this.ran = this.ran.filter((r) => r.notebook !== ex.notebook || r.cellId !== ex.cellId);
          this.ran.push({ notebook: ex.notebook, cellId: ex.cellId, code: ex.code });
        }
        this.finish(ex, failed ? 'error' : msg.status);
        return;
      }
      case 'run.start': {
        // what a resume needs to rebuild the cell's variables, and the -p values it ran with
        const replay = this.replayFor(msg.run.notebook, msg.run.cell);
        const params = Object.assign({}, ...replay.map((c) => parseInjectedParameters(c.code) ?? {})) as Record<string, unknown>;
        const run = Object.keys(params).length > 0 ? { ...msg.run, config: { ...msg.run.config, params } } : msg.run;
        this.tracker.insertRun(run, replay);
        // this code ran from a trusted notebook (or one named on the command line): it may run again on resume
        this.opts.workspace.trust.trustCode([...replay.map((c) => c.code), run.code]);
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
      case 'kernel.reset':
        this.resets.get(msg.notebook)?.({ disposedTensors: msg.disposedTensors, numTensors: msg.numTensors });
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
    resume?: { runId: string; step: number; checkpoint: string; bestValue: number | null; totalSteps?: number },
  ): Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }> {
    const id = `x${Date.now().toString(36)}-${this.nextExec++}`;
    this.emit('cell.status', { notebook, cellId, executionId: id, status: 'queued' });
    const generation = this.generation;
    const nbGeneration = this.notebookGen.get(notebook) ?? 0;
    const kernel = this.kernelOf(notebook);
    kernel.executionCount++;
    kernel.queued++;
    this.kernelChanged(notebook);
    const result = this.queue.then(async () => {
      this.kernelOf(notebook).queued--;
      if (generation !== this.generation || nbGeneration !== (this.notebookGen.get(notebook) ?? 0)) {
        this.emit('cell.status', { notebook, cellId, executionId: id, status: 'interrupted' });
        this.kernelChanged(notebook);
        return { executionId: id, status: 'interrupted' as ExecStatus, outputs: [] };
      }
      try {
        await this.startEngine();
      } catch (e) {
        const out: CellOutput = { type: 'error', name: 'EngineError', message: (e as Error).message, line: null };
        this.emit('cell.output', { notebook, cellId, executionId: id, output: out });
        this.emit('cell.status', { notebook, cellId, executionId: id, status: 'error' });
        this.kernelChanged(notebook);
        return { executionId: id, status: 'error' as ExecStatus, outputs: [out] };
      }
      let resolve!: Execution['resolve'];
      const finished = new Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }>((r) => (resolve = r));
      this.executions.set(id, { id, notebook, cellId, code, outputs: [], resolve, finished });
      this.setInfo({ status: 'busy' });
      this.emit('cell.status', { notebook, cellId, executionId: id, status: 'running' });
      this.kernelChanged(notebook);
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
  async interrupt(notebook?: string): Promise<void> {
    if (notebook !== undefined) {
      // Stop in one notebook: its cells, not another notebook's training
      this.notebookGen.set(notebook, (this.notebookGen.get(notebook) ?? 0) + 1);
      if (!(await this.stopNotebookCell(notebook))) await this.restart(undefined, 'the cell did not stop in time, so the engine was restarted');
      return;
    }
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
   * The cells a run of `cellId` needs replayed before it: the notebook's cells that
   * ran ok in this engine before it, each at its latest text, in the order they last
   * ran, without cells that train (running those again would train again).
   */
  private replayFor(notebook: string, cellId: string): ReplayCell[] {
    return this.ran.filter((r) => r.notebook === notebook && r.cellId !== cellId && !TRAINS.test(r.code)).map((r) => ({ cellId: r.cellId, code: r.code }));
  }

  /**
   * Whether a run's recorded code may run again. Trust rests on what runs: the code
   * (its replayed cells and its own cell) must have run here before from a trusted
   * source, or be the code of its notebook as that trusted file holds it now (the -p
   * values of `latentlab run` are data, not code). A database copied in from
   * elsewhere brings no trust with it.
   */
  private mayResume(run: { id: string; notebook: string; code: string }, replay: ReplayCell[]): { ok: true } | { ok: false; reason: string } {
    const parts = [...replay.map((c) => c.code), run.code];
    if (this.opts.workspace.trust.isCodeTrusted(parts)) return { ok: true };
    const file = run.notebook ? this.opts.workspace.trustedCode(run.notebook) : null;
    if (file?.ok && parts.every((p) => file.code.includes(p) || parseInjectedParameters(p) !== null)) return { ok: true };
    return {
      ok: false,
      reason: `run ${run.id} does not resume: its recorded code did not run in Latent Lab on this computer and is not the code of a trusted notebook (was the workspace copied from elsewhere?). Open ${run.notebook || 'its notebook'}, trust it if you know where it comes from, and resume in a cell with lab.train(model, data, { ...its options, resume: '${run.id}' })`,
    };
  }

  /**
   * Resumes a crashed, stopped, failed or diverged run from its newest checkpoint. A
   * fresh engine knows none of the notebook's variables, so the cells the run's cell
   * needed (its parameters cell, the -p values it was started with, data cells) run
   * again first, then the run's own cell, whose lab.train continues the run to the
   * length it was started with.
   */
  async resume(runId: string): Promise<{ executionId: string; status: ExecStatus; outputs: CellOutput[] }> {
    const run = this.tracker.getRun(runId);
    if (!run) throw new Error(`no run ${runId}`);
    if (run.status === 'running' || run.status === 'finished') {
      throw new Error(`run ${runId} is ${run.status}: only a crashed, stopped, failed or diverged run resumes`);
    }
    if (!run.code.includes('lab.train')) throw new Error(`run ${runId} has no lab.train in its recorded code`);
    // its cell trains several runs: running it again would start the others anew
    if (run.config.sweep) throw new Error(`run ${runId} belongs to a sweep: resume it in a cell with lab.train(model, data, { ...its options, resume: '${runId}' })`);
    const point = this.tracker.resumePoint(runId);
    if (!point) throw new Error(`run ${runId} wrote no checkpoint before it ended: it cannot resume (start it again)`);
    const replay = this.tracker.replayOf(runId) ?? this.legacyReplay(run.notebook, run.cell);
    const may = this.mayResume(run, replay);
    if (!may.ok) throw new Error(may.reason);
    for (const c of replay) {
      const r = await this.execute(run.notebook, c.cellId, c.code);
      if (r.status !== 'ok') {
        const err = r.outputs.find((o) => o.type === 'error');
        const what = err && err.type === 'error' ? `${err.name}: ${oneLine(err.message)}` : r.status;
        throw new Error(`run ${runId} did not resume: cell ${c.cellId}, which ran before it, failed when run again (${what})`);
      }
    }
    return this.execute(run.notebook, run.cell || 'resume', run.code, { runId, ...point, totalSteps: run.totalSteps });
  }

  /** a run recorded before replays were kept: its notebook's parameters cell, as the file holds it */
  private legacyReplay(notebook: string, cellId: string): ReplayCell[] {
    if (!notebook) return [];
    try {
      const nb = this.opts.workspace.read(notebook);
      const params = nb.cells.find((c) => c.cell_type === 'code' && c.id !== cellId && Array.isArray(c.metadata?.tags) && (c.metadata.tags as unknown[]).includes('parameters'));
      return params ? [{ cellId: params.id ?? 'parameters', code: Array.isArray(params.source) ? params.source.join('') : params.source }] : [];
    } catch {
      return [];
    }
  }

  /** a notebook whose cell is running or queued is not renamed or deleted under it */
  private refuseWhileRunning(path: string, what: string): void {
    if ([...this.executions.values()].some((ex) => ex.notebook === path)) {
      throw new Error(`${path} is running a cell: stop it (or let it finish) before it is ${what}`);
    }
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
    for (const runId of [...this.liveRuns]) {
      try {
        this.endRun(runId, 'stopped', 0, 'Latent Lab was closed');
      } catch (e) {
        this.opts.log?.(`run ${runId} could not be marked stopped: ${(e as Error).message}`);
      }
    }
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
      'notebook.create': async ({ name, title }) => {
        const path = ws.create(name, title);
        this.emit('notebooks.changed', {});
        return { path };
      },
      'notebook.duplicate': async ({ path, name }) => {
        const to = ws.duplicate(path, name);
        this.emit('notebooks.changed', {});
        return { path: to };
      },
      'notebook.rename': async ({ path, name }) => {
        this.refuseWhileRunning(path, 'renamed');
        const to = ws.rename(path, name);
        // its runs follow it, and a resume finds the cells it replays under the new path
        const runsMoved = this.tracker.renameNotebook(path, to);
        this.ran = this.ran.map((r) => (r.notebook === path ? { ...r, notebook: to } : r));
        // and its kernel: the variables it holds go on under the new path
        const kernel = this.kernels.get(path);
        if (kernel && path !== to) {
          this.kernels.delete(path);
          this.kernels.set(to, kernel);
          this.engine?.send({ type: 'kernel.rename', from: path, to });
        }
        this.emit('notebooks.changed', { renamed: { from: path, to } });
        if (kernel && path !== to) {
          this.kernelChanged(path);
          this.kernelChanged(to);
        }
        for (const run of this.tracker.listRuns({ notebook: to })) this.emit('run.updated', { run });
        return { path: to, runsMoved };
      },
      'notebook.delete': async ({ path }) => {
        this.refuseWhileRunning(path, 'deleted');
        const trash = ws.remove(path);
        this.ran = this.ran.filter((r) => r.notebook !== path);
        // its kernel goes with it: variables dropped, tensors disposed
        if (this.kernels.has(path)) await this.restartNotebook(path);
        this.emit('notebooks.changed', { deleted: path });
        return { trash };
      },
      'kernel.execute': async ({ notebook, cellId, code }) => {
        // the host decides, not only the UI: an untrusted notebook's code does not run
        const may = ws.mayRun(notebook, code);
        if (!may.ok) throw new Error(may.reason);
        return this.execute(notebook, cellId, code);
      },
      'kernel.interrupt': async ({ notebook }) => {
        await this.interrupt(notebook);
        return { ok: true as const };
      },
      // with a notebook (and no backend): that notebook's kernel only
      'kernel.restart': async ({ backend, notebook }) => {
        if (notebook !== undefined && backend === undefined) {
          await this.restartNotebook(notebook);
          return this.info;
        }
        return this.restart(backend);
      },
      'kernel.state': async ({ notebook }) => ({ kernels: notebook !== undefined ? [this.kernelState(notebook)] : this.kernelStates() }),
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
      'runs.rename': async ({ id, name }) => {
        const run = this.tracker.renameRun(id, name);
        this.emit('run.updated', { run });
        return { run };
      },
      'runs.delete': async ({ id }) => {
        if (this.liveRuns.has(id)) throw new Error(`run ${id} is running: stop it before deleting it`);
        const res = this.tracker.deleteRun(id, this.opts.workspace.artifactsDir);
        this.emit('run.deleted', { runId: id });
        return res;
      },
      'data.inspect': async ({ path, options }) => inspectForUi(ws.dir, ws.artifactsDir, path, options),
      'runs.resume': async ({ id }) => this.resume(id),
    };
  }
}
