// Runs a whole notebook headlessly (`latentlab run`), papermill style:
// parameters given with -p are injected as a new cell right after the cell
// tagged `parameters`.
import type { CellOutput, ExecStatus, NbCell, Notebook } from '../../shared/domain';
import type { LabService } from './lab-service';

const sourceOf = (c: NbCell) => (Array.isArray(c.source) ? c.source.join('') : c.source);

export interface CellResult {
  cellId: string;
  status: ExecStatus;
  outputs: CellOutput[];
}

/** Executes every code cell in order; stops at the first cell that does not end 'ok'. */
export async function runNotebook(
  service: LabService,
  notebookPath: string,
  nb: Notebook,
  onCell?: (cell: NbCell, index: number) => void,
): Promise<{ status: ExecStatus; cells: CellResult[] }> {
  const cells: CellResult[] = [];
  for (const [i, cell] of nb.cells.entries()) {
    if (cell.cell_type !== 'code') continue;
    onCell?.(cell, i);
    const r = await service.execute(notebookPath, cell.id ?? `cell-${i + 1}`, sourceOf(cell));
    cells.push({ cellId: cell.id ?? `cell-${i + 1}`, status: r.status, outputs: r.outputs });
    if (r.status !== 'ok') return { status: r.status, cells };
  }
  return { status: 'ok', cells };
}
