// The cell runner: runs notebook cells in one persistent vm context per engine.
import * as vm from 'node:vm';
import { format } from 'node:util';
import type { CellOutput } from '../../shared/domain';
import { errorOutput } from './errors';
import { transformCell } from './transform';

export interface CellIo {
  emit(output: CellOutput): void;
  /** how to show the value of the cell's last expression */
  display(value: unknown): void;
  signal: AbortSignal;
  /** promises the cell started and may not have awaited (lab.views.*): the cell ends when they settle */
  pending?: Promise<unknown>[];
}

export type CellStatus = 'ok' | 'error' | 'interrupted';

export class CellRunner {
  readonly context: vm.Context;
  private io: CellIo | null = null;
  /** how long an interrupted cell may take to stop by itself */
  interruptGraceMs = 1000;

  constructor(globals: Record<string, unknown>, onStrayOutput: (text: string) => void = () => {}) {
    const print = (_stream: 'out' | 'err') => (...args: unknown[]) => {
      const text = format(...args) + '\n';
      if (this.io) this.io.emit({ type: 'text', text });
      else onStrayOutput(text);
    };
    const cellConsole = {
      log: print('out'),
      info: print('out'),
      debug: print('out'),
      warn: print('err'),
      error: print('err'),
      table: (x: unknown) => print('out')(x),
      dir: (x: unknown) => print('out')(x),
    };
    this.context = vm.createContext({
      console: cellConsole,
      setTimeout,
      clearTimeout,
      setInterval,
      clearInterval,
      setImmediate,
      clearImmediate,
      queueMicrotask,
      structuredClone,
      performance,
      TextEncoder,
      TextDecoder,
      URL,
      Buffer,
      ...globals,
    });
    // an error raised deep inside a library (tfjs kernels nest far more than 10 calls)
    // must still show the cell's frame in its stack, or its line is lost
    Error.stackTraceLimit = Math.max(Error.stackTraceLimit, 100);
    vm.runInContext(`Error.stackTraceLimit = ${Error.stackTraceLimit};`, this.context);
  }

  /** Run one cell. Never throws: errors become an error output. */
  async run(cellId: string, source: string, io: CellIo): Promise<CellStatus> {
    const filename = `cell:${cellId}`;
    this.io = io;
    let onAbort: (() => void) | null = null;
    let graceTimer: ReturnType<typeof setTimeout> | null = null;
    try {
      const { code } = transformCell(source);
      const script = new vm.Script(code, { filename });
      const result = script.runInContext(this.context) as Promise<unknown>;
      // lab.train notices an interrupt within one step and rejects, which ends the
      // cell on its own. If the cell awaits something that never checks the signal,
      // it is ended after a grace period; that work is left to finish in the background.
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          graceTimer = setTimeout(() => reject(Object.assign(new Error('Interrupted'), { name: 'Interrupted' })), this.interruptGraceMs);
        };
        if (io.signal.aborted) onAbort();
        else io.signal.addEventListener('abort', onAbort, { once: true });
      });
      aborted.catch(() => {});
      const value = await Promise.race([result, aborted]);
      // lab calls the cell did not await (lab.views.samples(model) on a line of its own)
      // finish inside the cell: their outputs are its outputs, their errors its error
      while (io.pending && io.pending.length > 0) await Promise.race([io.pending.shift()!, aborted]);
      if (value !== undefined) io.display(value);
      return 'ok';
    } catch (e) {
      const out = errorOutput(e, filename);
      io.emit(out);
      return out.name === 'Interrupted' || io.signal.aborted ? 'interrupted' : 'error';
    } finally {
      if (onAbort) io.signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      this.io = null;
    }
  }
}
