// Map an error thrown by a cell to a CellOutput with the cell's own line numbers.
import type { CellOutput } from '../../shared/domain';
import type { Pos } from './positions';
import { CellSyntaxError } from './transform';

type ErrorOutput = Extract<CellOutput, { type: 'error' }>;

/** A script the runner ran: the cell it came from and how its positions map back to that cell's source. */
export interface CellScript {
  cellId: string;
  toSource(line: number, column: number): Pos | null;
}

/** the name a cell's script runs under (V8 writes it in stack frames): `cell:<n>`, n unique per run */
export const scriptFile = (n: number) => `cell:${n}`;
const FRAME = /cell:(\d+):(\d+):(\d+)/g;

/**
 * The stack as the user reads it: each frame in a cell's script becomes `cell:<cellId>:<line>:<column>`
 * of the cell's source (the transform moves columns), the wrapper's own frame (the closing
 * line the transform adds) goes, and so do the engine's frames below the last cell frame.
 */
export function cellStack(rawStack: string, scripts: (file: string) => CellScript | undefined): { stack: string; frames: { file: string; line: number }[] } {
  const frames: { file: string; line: number }[] = [];
  const lines: string[] = [];
  let lastCell = -1;
  for (const l of rawStack.split('\n')) {
    let wrapperOnly = false;
    let inCell = false;
    const mapped = l.replace(FRAME, (all, n: string, line: string, col: string) => {
      const file = `cell:${n}`;
      const s = scripts(file);
      if (!s) return all;
      inCell = true;
      const p = s.toSource(Number(line), Number(col));
      if (!p) {
        wrapperOnly = true;
        return all;
      }
      frames.push({ file, line: p.line });
      return `cell:${s.cellId}:${p.line}:${p.column}`;
    });
    if (wrapperOnly) continue;
    lines.push(mapped);
    if (inCell) lastCell = lines.length - 1;
  }
  return { stack: (lastCell >= 0 ? lines.slice(0, lastCell + 1) : lines).join('\n'), frames };
}

/** Works for errors of any realm (the vm context has its own Error class). `file`: the script of the cell that ran. */
export function errorOutput(e: unknown, file: string, scripts: (file: string) => CellScript | undefined = () => undefined): ErrorOutput {
  if (e instanceof CellSyntaxError) {
    return { type: 'error', name: 'SyntaxError', message: e.message, line: e.line, stack: `SyntaxError: ${e.message}${e.line ? ` (line ${e.line})` : ''}` };
  }
  const obj = (typeof e === 'object' && e !== null ? e : null) as { name?: unknown; message?: unknown; stack?: unknown } | null;
  const name = obj && typeof obj.name === 'string' ? obj.name : 'Error';
  const message = obj ? (typeof obj.message === 'string' ? obj.message : String(obj.message ?? '')) : String(e);
  const rawStack = obj && typeof obj.stack === 'string' ? obj.stack : '';
  let line: number | null = null;
  let stack = rawStack;
  if (rawStack) {
    const r = cellStack(rawStack, scripts);
    stack = r.stack;
    // the line of the cell that ran: its first frame in the stack
    line = r.frames.find((f) => f.file === file)?.line ?? null;
  }
  return { type: 'error', name, message, line, stack: stack || undefined };
}
