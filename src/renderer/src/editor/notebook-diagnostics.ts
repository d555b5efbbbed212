// The open notebook's type errors, as squiggles in its cells. The code cells are checked
// as one program in cell order (the rules: src/shared/notebook-program.ts) by Monaco's
// TypeScript worker, on a hidden model per notebook; each diagnostic becomes a marker on
// the cell model it belongs to, at the cell's own line and column. Monaco's per-model
// validation is off (monaco.ts): a cell alone would not see the cells before it.
import { useEffect } from 'react';
import { checkNotebook, type CellDiagnostic, type CellSource, type ProgramChecker, type RawDiagnostic } from '../../../shared/notebook-program';
import { useLab } from '../store';
import { monaco, setupMonaco } from './monaco';

/** Owner of the markers this module sets (Monaco's own owner is 'typescript'). */
export const MARKER_OWNER = 'latentlab-notebook';

const base = (notebookPath: string) => `file:///notebook/${encodeURIComponent(notebookPath || 'untitled')}`;

/** The model of one cell: unique per notebook and cell (two notebooks may share cell ids). */
export function cellModelUri(notebookPath: string, cellId: string, ext = 'ts'): monaco.Uri {
  return monaco.Uri.parse(`${base(notebookPath)}/cell/${encodeURIComponent(cellId)}.${ext}`);
}

const hiddenUri = (notebookPath: string, name: string) => monaco.Uri.parse(`${base(notebookPath)}/${name}.ts`);

function hiddenModel(uri: monaco.Uri): monaco.editor.ITextModel {
  return monaco.editor.getModel(uri) ?? monaco.editor.createModel('', 'typescript', uri);
}

async function worker(uri: monaco.Uri) {
  const get = await monaco.languages.typescript.getTypeScriptWorker();
  return get(uri); // syncs the model's text to the worker first
}

function markerOf(d: CellDiagnostic): monaco.editor.IMarkerData {
  const severity = d.severity === 'error' ? monaco.MarkerSeverity.Error : d.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Info;
  // a zero-width range still gets a visible squiggle: widen it to the next character
  const empty = d.startLine === d.endLine && d.startColumn === d.endColumn;
  return {
    severity,
    message: d.message,
    code: String(d.code),
    source: 'ts',
    startLineNumber: d.startLine,
    startColumn: d.startColumn,
    endLineNumber: d.endLine,
    endColumn: empty ? d.endColumn + 1 : d.endColumn,
  };
}

/** Checks one notebook whenever its code changes, and keeps its cells' markers. */
class NotebookDiagnostics {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running = false;
  private again = false;
  private cells: CellSource[] = [];
  /** the last markers of each cell, by the source they were computed on */
  private last = new Map<string, { source: string; markers: monaco.editor.IMarkerData[] }>();
  private readonly program: monaco.editor.ITextModel;
  private readonly syntaxModel: monaco.editor.ITextModel;
  private readonly subs: monaco.IDisposable[] = [];
  private disposed = false;

  constructor(readonly path: string) {
    setupMonaco();
    this.program = hiddenModel(hiddenUri(path, 'program'));
    this.syntaxModel = hiddenModel(hiddenUri(path, 'cell-syntax'));
    // a cell's editor mounted after the check: give its model the markers already found
    this.subs.push(monaco.editor.onDidCreateModel((m) => this.apply(m)));
  }

  update(cells: CellSource[], delayMs = 300): void {
    this.cells = cells;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        await this.checkOnce();
      } while (this.again && !this.disposed);
    } catch (e) {
      if (!this.disposed) console.warn('notebook diagnostics failed', e);
    } finally {
      this.running = false;
    }
  }

  private async checkOnce(): Promise<void> {
    const cells = this.cells;
    const ask = async (model: monaco.editor.ITextModel, text: string, semantic: boolean): Promise<RawDiagnostic[]> => {
      model.setValue(text);
      const w = await worker(model.uri);
      const file = model.uri.toString();
      const out: RawDiagnostic[] = await w.getSyntacticDiagnostics(file);
      if (semantic) out.push(...(await w.getSemanticDiagnostics(file)));
      return out.map((d) => ({ start: d.start, length: d.length, code: d.code, category: d.category, messageText: d.messageText }));
    };
    const checker: ProgramChecker = {
      syntax: (text) => ask(this.syntaxModel, text, false),
      // the cells' own models are in the worker already (global scripts, see the rules)
      program: (text) => ask(this.program, text, true),
    };
    const result = await checkNotebook(cells, checker);
    if (this.disposed) return;
    const sources = new Map(cells.map((c) => [c.id, c.source]));
    for (const [cellId, diags] of result.cells) {
      this.last.set(cellId, { source: sources.get(cellId) ?? '', markers: diags.map(markerOf) });
    }
    for (const id of [...this.last.keys()]) if (!sources.has(id)) this.last.delete(id);
    for (const cellId of result.cells.keys()) {
      const model = monaco.editor.getModel(cellModelUri(this.path, cellId));
      if (model) this.apply(model);
    }
    // counts finished checks (<html data-diagnostics-seq>): a test waits on it before counting squiggles
    document.documentElement.dataset.diagnosticsSeq = String(Number(document.documentElement.dataset.diagnosticsSeq ?? '0') + 1);
  }

  /** Sets a cell model's markers, if it is one of this notebook's and its text is what was checked. */
  private apply(model: monaco.editor.ITextModel): void {
    const prefix = `${base(this.path)}/cell/`;
    const uri = model.uri.toString();
    const want = monaco.Uri.parse(prefix).toString();
    if (!uri.startsWith(want)) return;
    const cellId = decodeURIComponent(model.uri.path.slice(model.uri.path.lastIndexOf('/') + 1).replace(/\.ts$/, ''));
    const found = this.last.get(cellId);
    // the text changed since: the next check (already scheduled) sets them
    if (!found || found.source !== model.getValue()) return;
    monaco.editor.setModelMarkers(model, MARKER_OWNER, found.markers);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.subs.forEach((s) => s.dispose());
    this.program.dispose();
    this.syntaxModel.dispose();
  }
}

const codeCells = (cells: { id: string; type: string; source: string }[]): CellSource[] =>
  cells.filter((c) => c.type === 'code').map((c) => ({ id: c.id, source: c.source }));

const sameCells = (a: CellSource[], b: CellSource[]) => a.length === b.length && a.every((c, i) => c.id === b[i].id && c.source === b[i].source);

/** Keeps the open notebook's squiggles up to date (mounted once, by the notebook view). */
export function useNotebookDiagnostics(): void {
  const path = useLab((s) => s.notebook?.path ?? null);
  useEffect(() => {
    if (path === null) return;
    const checker = new NotebookDiagnostics(path);
    let cells = codeCells(useLab.getState().notebook?.cells ?? []);
    checker.update(cells, 0);
    const unsub = useLab.subscribe((s) => {
      if (!s.notebook || s.notebook.path !== path) return;
      const next = codeCells(s.notebook.cells);
      if (sameCells(next, cells)) return;
      cells = next;
      checker.update(cells);
    });
    return () => {
      unsub();
      checker.dispose();
    };
  }, [path]);
}
