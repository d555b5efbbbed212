// The engine: receives host messages, runs cells one at a time in the cell runner, and
// streams outputs and run events back. Transport-agnostic (see main.ts), so tests
// drive it in-process.
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { HostToEngine, type EngineToHost } from '../shared/engine-protocol';
import { selectBackend } from './backend/select';
import type { EngineContext, ExecContext } from './context';
import { CellRunner } from './cells/runner';
import { createLab, formatValue } from './lab/lab';
import { isImageHandle, Run } from './train/trainer';

type ExecuteMsg = Extract<HostToEngine, { type: 'execute' }>;

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
  const lab = createLab(ctx);
  const cells = new CellRunner({ lab, tf }, (text) => log('info', text.trimEnd()));

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
    } else {
      current.emit({ type: 'text', text: formatValue(value) });
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
    try {
      status = await cells.run(msg.cellId, msg.code, { emit: current.emit, display, signal: abort.signal, pending });
    } catch (e) {
      log('error', `cell runner failure: ${String(e)}`);
    } finally {
      current = null;
    }
    send({ type: 'done', execId: msg.execId, status });
  };

  const pump = async () => {
    if (pumping) return;
    pumping = true;
    try {
      if (!initDone) await init(null);
      else await initDone;
      while (queue.length > 0) await runOne(queue.shift()!);
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
