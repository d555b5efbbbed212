// How a host starts the engine. Desktop: Electron utilityProcess; headless:
// child_process.fork. The lab service only sees this interface.
import { setPriority } from 'node:os';
import type { HostToEngine } from '../../shared/engine-protocol';

export interface EngineProcess {
  send(msg: HostToEngine): void;
  onMessage(listener: (msg: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

export type EngineLauncher = () => EngineProcess;

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
