// Map an error thrown by a cell to a CellOutput with the cell's own line number.
import type { CellOutput } from '../../shared/domain';
import { CellSyntaxError } from './transform';

type ErrorOutput = Extract<CellOutput, { type: 'error' }>;

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Works for errors of any realm (the vm context has its own Error class). */
export function errorOutput(e: unknown, filename: string): ErrorOutput {
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
    const re = new RegExp(`${escapeRe(filename)}:(\\d+)`);
    const m = re.exec(rawStack);
    if (m) line = Number(m[1]);
    // drop the engine's own frames below the last cell frame
    const lines = rawStack.split('\n');
    let lastCell = -1;
    lines.forEach((l, i) => {
      if (l.includes(filename)) lastCell = i;
    });
    if (lastCell >= 0) stack = lines.slice(0, lastCell + 1).join('\n');
  }
  return { type: 'error', name, message, line, stack: stack || undefined };
}
