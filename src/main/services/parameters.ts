// Notebook parameters, papermill style: `latentlab run NB -p name value` injects the values
// as a cell right after the cell tagged `parameters`; such a cell holds only
// `name = <JSON>;` lines, so a resumed run can tell it is data, not code.
import type { NbCell, Notebook } from '../../shared/domain';

/** Reads a -p value as JSON when it is JSON (numbers, booleans, arrays), else as a string. */
export function parseParameterValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const INJECTED_HEADER = '// Parameters injected by latentlab run';

/**
 * The values of a cell that injectParameters wrote (`name = <JSON>;` lines under its
 * header), or null when the code is anything else. Such a cell is data, not code: a
 * JSON literal calls nothing when it runs.
 */
export function parseInjectedParameters(code: string): Record<string, unknown> | null {
  const lines = code.split('\n');
  if (lines[0] !== INJECTED_HEADER || lines.length < 2) return null;
  const out: Record<string, unknown> = {};
  for (const line of lines.slice(1)) {
    const m = /^([A-Za-z_$][A-Za-z0-9_$]*) = (.*);$/.exec(line);
    if (!m) return null;
    try {
      out[m[1]] = JSON.parse(m[2]);
    } catch {
      return null;
    }
  }
  return out;
}

/** The notebook with an `injected-parameters` cell after the `parameters` cell (or first). */
export function injectParameters(nb: Notebook, params: Record<string, unknown>): Notebook {
  const names = Object.keys(params);
  if (names.length === 0) return nb;
  for (const n of names) if (!IDENT.test(n)) throw new Error(`parameter name is not an identifier: ${n}`);
  const source = [INJECTED_HEADER, ...names.map((n) => `${n} = ${JSON.stringify(params[n])};`)].join('\n');
  const cell: NbCell = { id: 'injected-parameters', cell_type: 'code', source, metadata: { tags: ['injected-parameters'] }, outputs: [], execution_count: null };
  const at = nb.cells.findIndex((c) => Array.isArray((c.metadata as { tags?: unknown }).tags) && ((c.metadata as { tags: string[] }).tags).includes('parameters'));
  const cells = [...nb.cells];
  cells.splice(at + 1, 0, cell); // at = -1 → inserted first
  return { ...nb, cells };
}
