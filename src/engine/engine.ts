// The engine: receives host messages, runs cells one at a time, each in its notebook's
// kernel (a cell runner: its own vm context and lab; the tensors its cells made), and
// streams outputs and run events back. Transport-agnostic (see main.ts), so tests
// drive it in-process.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { HostToEngine, type EngineToHost } from '../shared/engine-protocol';
import { selectBackend } from './backend/select';
import type { EngineContext, ExecContext } from './context';
import { CellRunner } from './cells/runner';
import { TensorOwner } from './cells/tensors';
import { createLab, displayText, wasShown } from './lab/lab';
import { isImageHandle, Run } from './train/trainer';

type ExecuteMsg = Extract<HostToEngine, { type: 'execute' }>;

/** one notebook's kernel: its variables live in its runner's context */
interface Kernel {
  cells: CellRunner;
  tensors: TensorOwner;
}

export interface Engine {
  /** handle one raw message from the host; resolves once it is accepted (an execute is queued, not finished) */
  handle(msg: unknown): Promise<void>;
  /** resolves when no cell is running or queued */
  whenIdle(): Promise<void>;
}

export interface EngineOptions {
  /** called on 'shutdown' after the running cell was interrupted */
  onShutdown?: () => void;
}

export function startEngine(rawSend: (m: EngineToHost) => void, options: EngineOptions = {}): Engine {
  const send = (m: EngineToHost) => {
    try {
      rawSend(m);
    } catch (e) {
      // a broken channel must not take the engine down mid-run
      process.stderr.write(`engine: send failed: ${String(e)}\n`);
    }
  };
  const log = (level: 'info' | 'warn' | 'error', message: string) => send({ type: 'log', level, message });

  let artifactsDir = path.join(process.cwd(), '.latentlab', 'artifacts');
  let initDone: Promise<void> | null = null;
  let current: (ExecContext & { abort: AbortController; runsShown: Set<string> }) | null = null;
  const queue: ExecuteMsg[] = [];
  let pumping = false;
  let idleWaiters: (() => void)[] = [];

  const ctx: EngineContext = {
    send,
    artifactsDir: () => artifactsDir,
    exec: () => current,
  };
  const kernels = new Map<string, Kernel>();
  const kernelOf = (notebook: string): Kernel => {
    let k = kernels.get(notebook);
    if (!k) {
      // each notebook its own lab too: a sweep running in one is not another's
      k = { cells: new CellRunner({ lab: createLab(ctx), tf }, (text) => log('info', text.trimEnd())), tensors: new TensorOwner() };
      kernels.set(notebook, k);
    }
    return k;
  };
  let running: Promise<void> | null = null;

  const init = (backend: string | null): Promise<void> =>
    (initDone = (async () => {
      try {
        const sel = await selectBackend(backend ?? process.env.LATENTLAB_BACKEND ?? null);
        send({ type: 'ready', backend: sel.backend, available: sel.available, detail: sel.detail, label: sel.label });
      } catch (e) {
        log('error', `backend selection failed: ${String((e as Error)?.message ?? e)}`);
        send({ type: 'ready', backend: tf.getBackend() ?? 'cpu', available: [], detail: String((e as Error)?.message ?? e) });
      }
    })());

  const display = (value: unknown) => {
    if (!current) return;
    if (value instanceof Run) {
      if (!current.runsShown.has(value.id)) current.emit({ type: 'run', runId: value.id });
    } else if (isImageHandle(value)) {
      current.emit({ type: 'image', path: value.path, caption: value.caption });
    } else if (!wasShown(value)) {
      // a lab.views result is already drawn above; a large value is shown in short
      current.emit({ type: 'text', text: displayText(value) });
    }
  };

  const runOne = async (msg: ExecuteMsg) => {
    const abort = new AbortController();
    const runsShown = new Set<string>();
    const pending: Promise<unknown>[] = [];
    current = {
      pending,
      execId: msg.execId,
      notebook: msg.notebook,
      cellId: msg.cellId,
      code: msg.code,
      resume: msg.resume,
      signal: abort.signal,
      abort,
      runsShown,
      emit: (output) => {
        if (output.type === 'run') runsShown.add(output.runId);
        send({ type: 'output', execId: msg.execId, output });
      },
    };
    let status: 'ok' | 'error' | 'interrupted' = 'error';
    const kernel = kernelOf(msg.notebook);
    kernel.tensors.begin();
    try {
      status = await kernel.cells.run(msg.cellId, msg.code, { emit: current.emit, display, signal: abort.signal, pending });
    } catch (e) {
      log('error', `cell runner failure: ${String(e)}`);
    } finally {
      kernel.tensors.end();
      current = null;
    }
    send({ type: 'done', execId: msg.execId, status, variables: kernel.cells.variables() });
  };

  /** Drops a notebook's kernel: its variables, timers and tensors go; the other notebooks' stay. */
  const resetKernel = async (notebook: string) => {
    for (let i = queue.length - 1; i >= 0; i--) {
      if (queue[i].notebook !== notebook) continue;
      send({ type: 'done', execId: queue[i].execId, status: 'interrupted' });
      queue.splice(i, 1);
    }
    if (current?.notebook === notebook) {
      current.abort.abort();
      while (current?.notebook === notebook && running) await running;
    }
    const k = kernels.get(notebook);
    kernels.delete(notebook);
    let disposed = 0;
    if (k) {
      k.cells.dispose();
      disposed = k.tensors.disposeAll();
    }
    send({ type: 'kernel.reset', notebook, disposedTensors: disposed, numTensors: tf.memory().numTensors });
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      if (!initDone) await init(null);
      else await initDone;
      while (queue.length > 0) {
        running = runOne(queue.shift()!);
        await running;
        running = null;
      }
    } finally {
      pumping = false;
      if (queue.length === 0) {
        const w = idleWaiters;
        idleWaiters = [];
        w.forEach((f) => f());
      } else void pump();
    }
  };

  return {
    async handle(raw: unknown) {
      const parsed = HostToEngine.safeParse(raw);
      if (!parsed.success) {
        const type = typeof raw === 'object' && raw !== null ? String((raw as { type?: unknown }).type) : typeof raw;
        log('warn', `ignored malformed message (type ${type}): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
        return;
      }
      const msg = parsed.data;
      switch (msg.type) {
        case 'init':
          artifactsDir = msg.artifactsDir;
          await init(msg.backend);
          return;
        case 'execute':
          queue.push(msg);
          void pump();
          return;
        case 'kernel.reset':
          await resetKernel(msg.notebook);
          return;
        case 'kernel.rename': {
          // the host renames only a notebook with no cell running or queued
          const k = kernels.get(msg.from);
          if (k && msg.from !== msg.to) {
            const stale = kernels.get(msg.to);
            if (stale) {
              stale.cells.dispose();
              stale.tensors.disposeAll();
            }
            kernels.delete(msg.from);
            kernels.set(msg.to, k);
          }
          return;
        }
        case 'interrupt': {
          // stop the running cell and drop the queued ones
          const dropped = queue.splice(0, queue.length);
          for (const q of dropped) send({ type: 'done', execId: q.execId, status: 'interrupted' });
          current?.abort.abort();
          return;
        }
        case 'shutdown':
          queue.splice(0, queue.length);
          current?.abort.abort();
          options.onShutdown?.();
          return;
      }
    },
    whenIdle() {
      if (!pumping && queue.length === 0) return Promise.resolve();
      return new Promise<void>((r) => idleWaiters.push(r));
    },
  };
}
