// The engine as a plain Node child process (serve and CLI mode, tests).
import { fork } from 'node:child_process';
import type { EngineLauncher, EngineProcess } from '../services/engine-process';
import { engineExecArgv, lowerPriority, watchStderr } from '../services/engine-process';
import { engineEntry } from '../services/paths';

export interface NodeEngineOptions {
  /** A UI shares the machine (serve): the engine runs below normal priority so the
   * browser and the host stay responsive while it trains on every core. */
  background?: boolean;
  /** V8 heap limit of the engine in MiB (default: LATENTLAB_ENGINE_HEAP_MB, else Node's own) */
  heapMb?: number;
}

export function nodeEngineLauncher(entry = engineEntry(), env: NodeJS.ProcessEnv = process.env, opts: NodeEngineOptions = {}): EngineLauncher {
  return (): EngineProcess => {
    const heap = engineExecArgv(opts.heapMb, env);
    const child = fork(entry, [], {
      env: { ...env, LATENTLAB_ENGINE: '1' },
      // stderr is piped through us so an out-of-memory death can be told apart
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
      ...(heap.length > 0 ? { execArgv: [...process.execArgv, ...heap] } : {}),
    });
    const stderr = watchStderr(child.stderr);
    if (opts.background) lowerPriority(child.pid);
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (l) => child.on('message', l),
      // 'close', not 'exit': stderr has been read to its end by then
      onExit: (l) => child.on('close', (code, signal) => l(code, { signal: signal ?? null, outOfMemory: stderr.outOfMemory() })),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
