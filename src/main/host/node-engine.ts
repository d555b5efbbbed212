// The engine as a plain Node child process (serve and CLI mode, tests).
import { fork } from 'node:child_process';
import type { EngineLauncher, EngineProcess } from '../services/engine-process';
import { lowerPriority } from '../services/engine-process';
import { engineEntry } from '../services/paths';

export interface NodeEngineOptions {
  /** A UI shares the machine (serve): the engine runs below normal priority so the
   * browser and the host stay responsive while it trains on every core. */
  background?: boolean;
}

export function nodeEngineLauncher(entry = engineEntry(), env: NodeJS.ProcessEnv = process.env, opts: NodeEngineOptions = {}): EngineLauncher {
  return (): EngineProcess => {
    const child = fork(entry, [], {
      env: { ...env, LATENTLAB_ENGINE: '1' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    if (opts.background) lowerPriority(child.pid);
    return {
      pid: child.pid,
      send: (msg) => {
        if (child.connected) child.send(msg);
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code) => l(code)),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
