// How a host starts the engine. Desktop: Electron utilityProcess; headless:
// child_process.fork. The lab service only sees this interface.
import type { HostToEngine } from '../../shared/engine-protocol';

export interface EngineProcess {
  send(msg: HostToEngine): void;
  onMessage(listener: (msg: unknown) => void): void;
  onExit(listener: (code: number | null) => void): void;
  kill(): void;
  readonly pid: number | undefined;
}

export type EngineLauncher = () => EngineProcess;
