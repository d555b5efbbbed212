// What lab functions need from the engine: where to send messages and files, and
// which cell is running (for run records, outputs and interrupts).
import type { CellOutput } from '../shared/domain';
import type { EngineToHost } from '../shared/engine-protocol';

export interface ExecContext {
  execId: string;
  notebook: string;
  cellId: string;
  code: string;
  signal: AbortSignal;
  emit(output: CellOutput): void;
  /**
   * lab calls that return a Promise (views, evaluate, run.samples) put it here: a cell
   * that forgot to await one still ends only when it settles, and fails if it rejects
   */
  pending?: Promise<unknown>[];
  /** runs.resume: the cell's first lab.train continues this run from this checkpoint (and clears it) */
  resume?: { runId: string; step: number; checkpoint: string; bestValue: number | null; totalSteps?: number };
}

export interface EngineContext {
  send(msg: EngineToHost): void;
  /** absolute <workspace>/.latentlab/artifacts */
  artifactsDir(): string;
  /** the cell now running, null outside an execution */
  exec(): ExecContext | null;
}

/** Thrown into a cell when the user interrupts it, so the rest of the cell does not run. */
export class InterruptedError extends Error {
  constructor(message = 'Interrupted') {
    super(message);
    this.name = 'Interrupted';
  }
}
