// The engine as an Electron utility process (desktop).
import { utilityProcess } from 'electron';
import type { EngineLauncher, EngineProcess } from '../services/engine-process';
import { engineExecArgv, lowerPriority, watchStderr } from '../services/engine-process';

export function utilityEngineLauncher(entry: string): EngineLauncher {
  return (): EngineProcess => {
    const child = utilityProcess.fork(entry, [], {
      serviceName: 'Latent Lab engine',
      // stderr is piped through us so an out-of-memory death can be told apart
      stdio: ['ignore', 'inherit', 'pipe'],
      env: { ...process.env, LATENTLAB_ENGINE: '1' },
      execArgv: engineExecArgv(undefined, process.env),
    });
    const stderr = watchStderr(child.stderr);
    let alive = true;
    child.on('exit', () => (alive = false));
    // the window shares the machine: training yields to the UI (see ENGINE_NICE)
    child.on('spawn', () => lowerPriority(child.pid));
    return {
      get pid() {
        return child.pid;
      },
      send: (msg) => {
        if (alive) child.postMessage(msg);
      },
      onMessage: (l) => child.on('message', l),
      onExit: (l) => child.on('exit', (code) => l(code, { signal: null, outOfMemory: stderr.outOfMemory() })),
      kill: () => {
        child.kill();
      },
    };
  };
}
