// The cell runner: runs notebook cells in one persistent vm context: a notebook's kernel
// (the engine holds one per notebook).
import * as vm from 'node:vm';
import { format } from 'node:util';
import type { CellOutput } from '../../shared/domain';
import { errorOutput, scriptFile, type CellScript } from './errors';
import { transformCell } from './transform';

/** scripts whose positions are kept for stack traces (functions of older cells can still throw) */
const KEPT_SCRIPTS = 500;
let scriptSeq = 0;

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
  private readonly scripts = new Map<string, CellScript>();
  /** the context's own names (console, lab, tf, ...): not the cells' variables */
  private readonly builtins: Set<string>;
  /** timers the cells started and that may still fire: cleared when the kernel is disposed */
  private readonly timers: Map<object, () => void>;
  private disposed = false;

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
    // the cells' timers, tracked so that a restarted kernel leaves nothing running behind
    const live = new Map<object, () => void>(); // handle → its clear
    this.timers = live;
    const start = <H extends object>(make: (fire: () => void) => H, clear: (h: H) => void, fn: unknown, once: boolean, args: unknown[]): H => {
      if (typeof fn !== 'function') throw new TypeError('the callback must be a function');
      if (this.disposed) throw new Error('this kernel was restarted');
      const h: H = make(() => {
        if (once) live.delete(h);
        (fn as (...a: unknown[]) => void)(...args);
      });
      live.set(h, () => clear(h));
      return h;
    };
    const stop = (clear: (h: never) => void) => (h: unknown) => {
      if (h && typeof h === 'object') live.delete(h);
      clear(h as never);
    };
    this.context = vm.createContext({
      console: cellConsole,
      setTimeout: (fn: unknown, ms?: number, ...args: unknown[]) => start((f) => setTimeout(f, ms), (h) => clearTimeout(h), fn, true, args),
      clearTimeout: stop(clearTimeout),
      setInterval: (fn: unknown, ms?: number, ...args: unknown[]) => start((f) => setInterval(f, ms), (h) => clearInterval(h), fn, false, args),
      clearInterval: stop(clearInterval),
      setImmediate: (fn: unknown, ...args: unknown[]) => start((f) => setImmediate(f), (h) => clearImmediate(h), fn, true, args),
      clearImmediate: stop(clearImmediate),
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
    this.builtins = new Set(Object.keys(this.context));
  }

  /** The names the cells defined (top-level declarations, assignments to globals), in the order they appeared. */
  variables(): string[] {
    return Object.keys(this.context).filter((k) => !this.builtins.has(k));
  }

  /** Ends the kernel: its timers stop; the context goes once nothing holds it. */
  dispose(): void {
    this.disposed = true;
    for (const clear of this.timers.values()) clear();
    this.timers.clear();
    this.scripts.clear();
  }

  /** Run one cell. Never throws: errors become an error output. */
  async run(cellId: string, source: string, io: CellIo): Promise<CellStatus> {
    const filename = scriptFile(++scriptSeq);
    this.io = io;
    let onAbort: (() => void) | null = null;
    let graceTimer: ReturnType<typeof setTimeout> | null = null;
    try {
      const { code, toSource } = transformCell(source);
      this.scripts.set(filename, { cellId, toSource });
      if (this.scripts.size > KEPT_SCRIPTS) this.scripts.delete(this.scripts.keys().next().value!);
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
      const out = errorOutput(e, filename, (f) => this.scripts.get(f));
      io.emit(out);
      return out.name === 'Interrupted' || io.signal.aborted ? 'interrupted' : 'error';
    } finally {
      if (onAbort) io.signal.removeEventListener('abort', onAbort);
      if (graceTimer) clearTimeout(graceTimer);
      this.io = null;
    }
  }
}
