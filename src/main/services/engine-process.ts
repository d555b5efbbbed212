// How a host starts the engine. Desktop: Electron utilityProcess; headless:
// child_process.fork. The lab service only sees this interface.
import { setPriority } from 'node:os';
import type { HostToEngine } from '../../shared/engine-protocol';

export interface EngineProcess {
  send(msg: HostToEngine): void;
  onMessage(listener: (msg: unknown) => void): void;
  /** `detail`: the signal that ended it, and whether it died out of memory (V8's "heap out of memory" on its stderr) */
  onExit(listener: (code: number | null, detail?: EngineExit) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

export type EngineLauncher = () => EngineProcess;

export interface EngineExit {
  signal: string | null;
  outOfMemory: boolean;
}

/** V8's last words when a heap limit is hit (it then aborts the process). */
const OOM = /JavaScript heap out of memory|Reached heap limit|Allocation failed - process out of memory|FatalProcessOutOfMemory/;

/**
 * Passes an engine's stderr through to the host's stderr while watching it for an
 * out-of-memory death; `outOfMemory()` says whether it saw one.
 */
export function watchStderr(stream: NodeJS.ReadableStream | null | undefined): { outOfMemory: () => boolean } {
  let tail = '';
  let oom = false;
  stream?.on('data', (chunk: Buffer | string) => {
    process.stderr.write(chunk);
    if (oom) return;
    tail = (tail + chunk.toString()).slice(-4096);
    if (OOM.test(tail)) oom = true;
  });
  return { outOfMemory: () => oom };
}

/** V8 flags of an engine: a heap limit from the launcher option or LATENTLAB_ENGINE_HEAP_MB. */
export function engineExecArgv(heapMb: number | undefined, env: NodeJS.ProcessEnv): string[] {
  const mb = heapMb ?? (env.LATENTLAB_ENGINE_HEAP_MB ? Number(env.LATENTLAB_ENGINE_HEAP_MB) : undefined);
  if (mb === undefined || !Number.isFinite(mb) || mb <= 0) return [];
  return [`--max-old-space-size=${Math.round(mb)}`];
}

/** What a host says when its engine went away. */
export function describeExit(code: number | null, detail?: EngineExit): string {
  if (detail?.outOfMemory) {
    return 'the engine ran out of memory (JavaScript heap out of memory) and was restarted; its variables are gone. Use smaller batches, fewer rows or a smaller model, or raise the limit with LATENTLAB_ENGINE_HEAP_MB';
  }
  if (detail?.signal) return `the engine process was killed (${detail.signal})`;
  return `the engine process exited (code ${code ?? 'unknown'})`;
}

/** Nice value of an engine that shares the machine with a UI. Training keeps every
 * core when the UI is idle, but the renderer and the host win whenever they need one
 * (on a 2-core machine an engine at normal priority took the renderer to ~10 fps). */
export const ENGINE_NICE = 10;

export function lowerPriority(pid: number | undefined): void {
  if (!pid) return;
  try {
    setPriority(pid, ENGINE_NICE);
  } catch {
    // not permitted here (some sandboxes): the engine runs at normal priority
  }
}
