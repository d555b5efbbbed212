// The renderer's state: the open notebook, the runs list, the engine, the view.
// Only synchronous state changes live here; talking to the host is in actions.ts.
import { create } from 'zustand';
import { mergeOutput, type CellOutput, type EngineInfo, type ExecStatus, type KernelState, type NotebookEntry, type RunRecord } from '../../shared/domain';
import { newCell, newCellId, type CellModel, type CellType, type NotebookModel } from './notebook/nbformat';

export interface CellState extends CellModel {
  /** Status of this cell's latest execution in this session (null: not run). */
  status: ExecStatus | null;
  executionId: string | null;
  /** Markdown cells: showing the source editor instead of the rendered text. */
  editing: boolean;
}

export interface OpenNotebook {
  path: string;
  nbformatMinor: number;
  metadata: Record<string, unknown>;
  cells: CellState[];
  dirty: boolean;
  /** why the file is read-only (it does not parse; it is never saved over); null when it is editable */
  readOnly: string | null;
  /** false: its code does not run until the user trusts it (the host refuses too) */
  trusted: boolean;
}

export type View = { kind: 'notebook' } | { kind: 'run'; runId: string } | { kind: 'compare'; runIds: string[] };

export interface BannerMessage {
  id: number;
  text: string;
  count: number;
}

/** A deleted cell kept for undo (Z, the toast's Undo): the cell as it was and where it stood. */
export interface DeletedCell {
  cell: CellState;
  index: number;
  /** the notebook it was deleted from */
  path: string;
}
/** how many deleted cells Undo can bring back */
export const UNDO_DEPTH = 20;

export interface LabState {
  workspace: { name: string; path: string } | null;
  notebooks: NotebookEntry[];
  /** false until the first notebooks.list answered (the sidebar shows that it is loading) */
  notebooksLoaded: boolean;
  /** the notebook being read to open (the main area says so instead of 'No notebook open') */
  opening: string | null;
  /** true until the first load (lists, then the start notebook) is done */
  booting: boolean;
  notebook: OpenNotebook | null;
  runs: RunRecord[];
  engine: EngineInfo | null;
  /** the open notebook's kernel (each notebook has its own) */
  kernel: KernelState | null;
  setKernel(kernel: KernelState | null): void;
  disconnected: boolean;
  view: View;
  /** runs ticked in the runs panel for the compare view */
  compareSel: string[];
  toggleCompare(runId: string): void;
  errors: BannerMessage[];
  /**
   * A request to move keyboard focus to a cell; seq makes repeated requests distinct.
   * at: 'start' puts the caret at line 1, column 1; 'cell' selects the cell in command mode.
   */
  focus: { cellId: string; seq: number; at?: 'start' | 'cell' } | null;
  /** Jupyter-style execution counter of this kernel session. */
  execCounter: number;
  runAllActive: boolean;

  setNotebook(path: string, model: NotebookModel, access?: { readOnly?: string | null; trusted?: boolean }): void;
  setTrusted(trusted: boolean): void;
  closeNotebook(): void;
  updateSource(cellId: string, source: string): void;
  addCell(afterId: string | null, type: CellType): string;
  deleteCell(cellId: string): void;
  moveCell(cellId: string, delta: -1 | 1): void;
  setEditing(cellId: string, editing: boolean): void;
  beginExecution(cellId: string): number;
  appendOutput(notebook: string, cellId: string, executionId: string, output: CellOutput): void;
  setCellStatus(notebook: string, cellId: string, executionId: string, status: ExecStatus): void;
  finishExecution(cellId: string, executionId: string, status: ExecStatus, outputs: CellOutput[]): void;
  markSaved(): void;
  setRuns(runs: RunRecord[]): void;
  upsertRun(run: RunRecord): void;
  setEngine(info: EngineInfo): void;
  setDisconnected(d: boolean): void;
  setView(view: View): void;
  pushError(text: string): void;
  dismissError(id: number): void;
  requestFocus(cellId: string, at?: 'start' | 'cell'): void;
  // Jupyter's command mode: the selected cell, the mode, and the deleted cells Undo brings back (newest last)
  selected: string | null;
  mode: 'command' | 'edit';
  deleted: DeletedCell[];
  select(cellId: string | null, mode: 'command' | 'edit'): void;
  setCellType(cellId: string, type: CellType): void;
  /** Restores the last deleted cell where it stood; its id, or null when there is nothing to undo. */
  undoDelete(): string | null;
  resetKernelSession(): void;
  setRunAll(active: boolean): void;
}

const toState = (c: CellModel): CellState => ({ ...c, status: null, executionId: null, editing: false });
const byStartDesc = (a: RunRecord, b: RunRecord) => b.startedAt - a.startedAt || a.id.localeCompare(b.id);
/** `fn` applied only while the cell waits for this execution: no other execution may write into the cell */
const ofExecution = (executionId: string, fn: (c: CellState) => CellState) => (c: CellState): CellState =>
  (c.status !== 'queued' && c.status !== 'running') || (c.executionId !== null && c.executionId !== executionId) ? c : fn(c);
let errorSeq = 1;
let focusSeq = 1;

export const useLab = create<LabState>()((set, get) => {
  /** Applies fn to the cells of the open notebook; marks it dirty when asked. */
  const editCells = (fn: (cells: CellState[]) => CellState[], dirty: boolean) =>
    set((s) => (s.notebook ? { notebook: { ...s.notebook, cells: fn(s.notebook.cells), dirty: s.notebook.dirty || dirty } } : {}));
  const editCell = (cellId: string, fn: (c: CellState) => CellState, dirty: boolean) =>
    editCells((cells) => cells.map((c) => (c.id === cellId ? fn(c) : c)), dirty);
  const isOpen = (notebook: string) => get().notebook?.path === notebook;

  return {
    workspace: null,
    notebooks: [],
    notebooksLoaded: false,
    opening: null,
    booting: true,
    notebook: null,
    runs: [],
    engine: null,
    kernel: null,
    setKernel: (kernel) => set({ kernel }),
    disconnected: false,
    view: { kind: 'notebook' },
    compareSel: [],
    toggleCompare: (runId) => set((s) => ({ compareSel: s.compareSel.includes(runId) ? s.compareSel.filter((r) => r !== runId) : [...s.compareSel, runId] })),
    errors: [],
    focus: null,
    execCounter: 0,
    runAllActive: false,
    selected: null,
    mode: 'edit',
    deleted: [],

    setNotebook(path, model, access = {}) {
      const cells = model.cells.map(toState);
      // A fresh notebook gets one empty code cell to type into.
      if (cells.length === 0) cells.push(toState(newCell('code')));
      set({
        notebook: { path, nbformatMinor: model.nbformatMinor, metadata: model.metadata, cells, dirty: false, readOnly: access.readOnly ?? null, trusted: access.trusted ?? true },
        view: { kind: 'notebook' },
        selected: cells[0].id,
        deleted: [],
      });
    },
    closeNotebook: () => set({ notebook: null, selected: null, deleted: [] }),
    setTrusted: (trusted) => set((s) => (s.notebook ? { notebook: { ...s.notebook, trusted } } : {})),
    updateSource(cellId, source) {
      editCell(cellId, (c) => (c.source === source ? c : { ...c, source }), get().notebook?.cells.find((c) => c.id === cellId)?.source !== source);
    },
    addCell(afterId, type) {
      const cell = toState(newCell(type));
      if (type === 'markdown') cell.editing = true;
      editCells((cells) => {
        const i = afterId === null ? -1 : cells.findIndex((c) => c.id === afterId);
        const next = cells.slice();
        next.splice(i < 0 ? cells.length : i + 1, 0, cell);
        return next;
      }, true);
      return cell.id;
    },
    deleteCell(cellId) {
      const s = get();
      const cells0 = s.notebook?.cells ?? [];
      const index = cells0.findIndex((c) => c.id === cellId);
      if (!s.notebook || index < 0) return;
      // the selection moves to the cell below (above for the last), as in Jupyter
      const neighbour = cells0[index + 1] ?? cells0[index - 1];
      set({
        deleted: [...s.deleted, { cell: cells0[index], index, path: s.notebook.path }].slice(-UNDO_DEPTH),
        selected: s.selected === cellId ? (neighbour?.id ?? null) : s.selected,
      });
      editCells((cells) => {
        const next = cells.filter((c) => c.id !== cellId);
        return next.length > 0 ? next : [toState(newCell('code'))];
      }, true);
    },
    moveCell(cellId, delta) {
      editCells((cells) => {
        const i = cells.findIndex((c) => c.id === cellId);
        const j = i + delta;
        if (i < 0 || j < 0 || j >= cells.length) return cells;
        const next = cells.slice();
        [next[i], next[j]] = [next[j], next[i]];
        return next;
      }, true);
    },
    setEditing: (cellId, editing) => editCell(cellId, (c) => ({ ...c, editing }), false),

    beginExecution(cellId) {
      const n = get().execCounter + 1;
      set({ execCounter: n });
      editCell(cellId, (c) => ({ ...c, outputs: [], status: 'queued', executionId: null, executionCount: n }), true);
      return n;
    },
    appendOutput(notebook, cellId, executionId, output) {
      if (!isOpen(notebook)) return;
      editCell(cellId, ofExecution(executionId, (c) => ({ ...c, executionId, outputs: mergeOutput(c.outputs, output) })), false);
    },
    setCellStatus(notebook, cellId, executionId, status) {
      if (!isOpen(notebook)) return;
      editCell(cellId, ofExecution(executionId, (c) => ({ ...c, executionId, status })), false);
    },
    finishExecution(cellId, executionId, status, outputs) {
      editCell(cellId, (c) => ({ ...c, executionId, status, outputs }), true);
    },
    markSaved: () => set((s) => (s.notebook ? { notebook: { ...s.notebook, dirty: false } } : {})),

    setRuns: (runs) => set({ runs: runs.slice().sort(byStartDesc) }),
    upsertRun(run) {
      set((s) => {
        const i = s.runs.findIndex((r) => r.id === run.id);
        if (i < 0) return { runs: [run, ...s.runs].sort(byStartDesc) };
        const runs = s.runs.slice();
        runs[i] = run;
        return { runs };
      });
    },
    setEngine: (engine) => set({ engine }),
    setDisconnected: (disconnected) => set({ disconnected }),
    setView: (view) => set({ view }),
    pushError(text) {
      set((s) => {
        const same = s.errors.find((e) => e.text === text);
        if (same) return { errors: s.errors.map((e) => (e === same ? { ...e, count: e.count + 1 } : e)) };
        return { errors: [...s.errors, { id: errorSeq++, text, count: 1 }].slice(-5) };
      });
    },
    dismissError: (id) => set((s) => ({ errors: s.errors.filter((e) => e.id !== id) })),
    requestFocus: (cellId, at) => set({ focus: { cellId, seq: focusSeq++, ...(at ? { at } : {}) } }),
    select: (selected, mode) => set((s) => (s.selected === selected && s.mode === mode ? {} : { selected, mode })),
    setCellType(cellId, type) {
      const cell = get().notebook?.cells.find((c) => c.id === cellId);
      if (!cell || cell.type === type) return;
      // outputs and the prompt belong to code; a Markdown cell shows rendered
      editCell(cellId, (c) => ({ ...c, type, outputs: [], executionCount: null, status: null, executionId: null, editing: false }), true);
    },
    undoDelete() {
      const s = get();
      const nb = s.notebook;
      const last = s.deleted[s.deleted.length - 1];
      if (!nb || !last || last.path !== nb.path) return null;
      // a cell restored twice (or pasted meanwhile) must not share an id with a live one
      const cell = nb.cells.some((c) => c.id === last.cell.id) ? { ...last.cell, id: newCellId() } : last.cell;
      set({ deleted: s.deleted.slice(0, -1), selected: cell.id, mode: 'command' });
      editCells((cells) => {
        const next = cells.slice();
        next.splice(Math.min(last.index, cells.length), 0, cell);
        return next;
      }, true);
      return cell.id;
    },
    resetKernelSession() {
      set({ execCounter: 0 });
      editCells(
        (cells) => cells.map((c) => (c.status === 'queued' || c.status === 'running' ? { ...c, status: 'interrupted' } : c)),
        false,
      );
    },
    setRunAll: (runAllActive) => set({ runAllActive }),
  };
});

/** The open notebook's display name: its file name without .ipynb. */
export function notebookTitle(path: string): string {
  const base = path.split('/').pop() ?? path;
  return base.replace(/\.ipynb$/i, '');
}
