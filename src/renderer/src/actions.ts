// Everything the UI asks of the host. Each action reports its failure in the
// error banner (never swallowed) and leaves the store consistent.
import { getApi } from './api/client';
import { notebookFromNb, notebookToNb } from './notebook/nbformat';
import { EXPORT_CHOICES, type ExportChoice } from '../../shared/exports';
import { downloadExport, exportHref } from './runs/ExportLinks';
import { askRestart } from './layout/RestartDialog';
import { useLab } from './store';
import { notebookDeleted, notebookRenamed, runDeleted, START_NOTEBOOK } from './workspace/manage';

const LAST_NOTEBOOK_KEY = 'latentlab.lastNotebook';

// managing notebooks and runs (new, duplicate, rename, delete; the sidebar's search)
export { newNotebook, duplicateNotebook, renameNotebook, deleteNotebook, renameRun, deleteRun, focusNotebookSearch } from './workspace/manage';

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export function reportError(what: string, e: unknown): void {
  useLab.getState().pushError(`${what}: ${errorText(e)}`);
}

/** Runs fn; on failure shows "what: message" in the banner and resolves to undefined. */
export async function guard<T>(what: string, fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn();
  } catch (e) {
    reportError(what, e);
    return undefined;
  }
}

let subscribed = false;

/** Subscribes to host events once per window. */
export function subscribeEvents(): void {
  if (subscribed) return;
  subscribed = true;
  const api = getApi();
  const s = () => useLab.getState();
  api.on('engine.status', (info) => {
    // a new engine process has none of the variables the cells defined
    if (info.status === 'starting' || info.status === 'crashed') ranThisSession.clear();
    if (info.detail === 'disconnected from host') {
      s().setDisconnected(true);
      s().setEngine(info);
      s().setRunAll(false);
      return;
    }
    s().setEngine(info);
  });
  api.on('run.updated', ({ run }) => s().upsertRun(run));
  api.on('cell.output', (e) => s().appendOutput(e.notebook, e.cellId, e.executionId, e.output));
  api.on('cell.status', (e) => s().setCellStatus(e.notebook, e.cellId, e.executionId, e.status));
  // notebooks and runs managed here or in another window (workspace/manage.ts)
  api.on('notebooks.changed', (e) => {
    if (e.renamed) notebookRenamed(e.renamed.from, e.renamed.to);
    if (e.deleted) void notebookDeleted(e.deleted);
    else void refreshNotebooks();
  });
  api.on('run.deleted', ({ runId }) => runDeleted(runId));
  api.on('kernel.state', (k) => {
    // a notebook whose kernel holds nothing: its parameters cell runs again before the next cell
    if (k.status === 'not started' && k.executionCount === 0) forgetRan(k.notebook);
    if (s().notebook?.path === k.notebook) s().setKernel(k);
  });
}

/** The open notebook's kernel, and its execution counter (each notebook's kernel counts its own). */
async function loadKernel(path: string): Promise<void> {
  const res = await guard('Kernel state', () => getApi().call('kernel.state', { notebook: path }));
  const k = res?.kernels[0];
  if (k && useLab.getState().notebook?.path === path) useLab.setState({ kernel: k, execCounter: k.executionCount });
}

export async function refreshRuns(): Promise<void> {
  const res = await guard('Loading runs', () => getApi().call('runs.list', { limit: 500 }));
  if (res) useLab.getState().setRuns(res.runs);
}

export async function refreshNotebooks(): Promise<void> {
  const res = await guard('Listing notebooks', () => getApi().call('notebooks.list', {}));
  useLab.setState(res ? { notebooks: res.notebooks, notebooksLoaded: true } : { notebooksLoaded: true });
}

/** First load, and again after a reconnect. */
export async function loadAll(): Promise<void> {
  subscribeEvents();
  const api = getApi();
  const info = await guard('Connecting to the host', () => api.call('workspace.info', {}));
  if (!info) {
    useLab.setState({ booting: false });
    return;
  }
  useLab.setState({ workspace: { name: info.name, path: info.path }, disconnected: false });
  const engine = await guard('Engine info', () => api.call('engine.info', {}));
  if (engine) useLab.getState().setEngine(engine);
  try {
    await Promise.all([refreshNotebooks(), refreshRuns()]);
    const st = useLab.getState();
    if (!st.notebook) {
      const wanted = new URLSearchParams(window.location.search).get('notebook') ?? localStorage.getItem(LAST_NOTEBOOK_KEY);
      // a first launch opens the start notebook (VAE on MNIST), not whichever file sorts first
      const entry = st.notebooks.find((n) => n.path === wanted) ?? st.notebooks.find((n) => n.path === START_NOTEBOOK) ?? st.notebooks[0];
      if (entry) await openNotebook(entry.path, { force: true });
    }
  } finally {
    useLab.setState({ booting: false });
  }
}

/** Asks before throwing away unsaved changes. */
export function confirmDiscard(): boolean {
  const nb = useLab.getState().notebook;
  if (!nb || !nb.dirty) return true;
  return window.confirm(`"${nb.path}" has unsaved changes. Discard them?`);
}

export async function openNotebook(path: string, opts: { force?: boolean } = {}): Promise<void> {
  const st = useLab.getState();
  if (st.notebook?.path === path) {
    st.setView({ kind: 'notebook' });
    return;
  }
  if (!opts.force && !confirmDiscard()) return;
  useLab.setState({ opening: path });
  const res = await guard(`Opening ${path}`, () => getApi().call('notebook.read', { path })).finally(() => {
    if (useLab.getState().opening === path) useLab.setState({ opening: null });
  });
  if (!res) return;
  let model;
  try {
    model = notebookFromNb(res.notebook);
  } catch (e) {
    reportError(`Reading ${path}`, e);
    return;
  }
  useLab.getState().setNotebook(path, model, { readOnly: res.readOnly, trusted: res.trusted });
  useLab.getState().setKernel(null);
  void loadKernel(path);
  localStorage.setItem(LAST_NOTEBOOK_KEY, path);
  const first = useLab.getState().notebook?.cells[0];
  if (first) useLab.getState().requestFocus(first.id);
}

export async function saveNotebook(): Promise<boolean> {
  const nb = useLab.getState().notebook;
  if (!nb) return false;
  // a file that does not parse is never saved over (the host refuses too)
  if (nb.readOnly) {
    reportError(`Saving ${nb.path}`, new Error(`${nb.readOnly}; it is read-only`));
    return false;
  }
  const notebook = notebookToNb({ nbformatMinor: nb.nbformatMinor, metadata: nb.metadata, cells: nb.cells });
  const ok = await guard(`Saving ${nb.path}`, () => getApi().call('notebook.write', { path: nb.path, notebook }));
  if (!ok) return false;
  // Only clear the marker if nothing changed while the write was in flight.
  const now = useLab.getState().notebook;
  if (now && now.path === nb.path && now.cells === nb.cells) useLab.getState().markSaved();
  void refreshNotebooks();
  return true;
}

/** Code cells that ran ok in this kernel session (reset when the kernel restarts). */
const ranThisSession = new Set<string>();
const forgetRan = (notebook: string) => {
  for (const k of [...ranThisSession]) if (k.startsWith(`${notebook}::`)) ranThisSession.delete(k);
};

const isParametersCell = (c: { metadata: Record<string, unknown> }) => {
  const tags = c.metadata.tags;
  return Array.isArray(tags) && tags.includes('parameters');
};

/**
 * Runs one code cell; resolves to its final status (undefined if the call failed).
 * The notebook's `parameters` cell runs first when it has not run in this kernel
 * session, so a training cell works on its own straight after opening a notebook.
 */
export async function runCell(cellId: string): Promise<string | undefined> {
  const nb = useLab.getState().notebook;
  const params = nb?.cells.find((c) => c.type === 'code' && isParametersCell(c));
  if (nb && params && params.id !== cellId && !ranThisSession.has(`${nb.path}::${params.id}`)) {
    const status = await runCell(params.id);
    if (status !== 'ok') return status;
  }
  const status = await runCellOnly(cellId);
  if (status === 'ok' && nb) ranThisSession.add(`${nb.path}::${cellId}`);
  return status;
}

async function runCellOnly(cellId: string): Promise<string | undefined> {
  const st = useLab.getState();
  const nb = st.notebook;
  const cell = nb?.cells.find((c) => c.id === cellId);
  if (!nb || !cell) return undefined;
  if (cell.type === 'markdown') {
    st.setEditing(cellId, false);
    return 'ok';
  }
  if (cell.type !== 'code') return 'ok';
  // an untrusted notebook's code does not run until the user trusts it (the banner's button)
  if (!nb.trusted || nb.readOnly) return undefined;
  // the host runs only code that the trusted file holds: an edited notebook is saved first
  if (nb.dirty && !(await saveNotebook())) return undefined;
  st.beginExecution(cellId);
  try {
    const res = await getApi().call('kernel.execute', { notebook: nb.path, cellId, code: cell.source });
    if (useLab.getState().notebook?.path === nb.path) useLab.getState().finishExecution(cellId, res.executionId, res.status, res.outputs);
    return res.status;
  } catch (e) {
    reportError('Running cell', e);
    if (useLab.getState().notebook?.path === nb.path) {
      useLab.getState().finishExecution(cellId, '', 'error', [{ type: 'error', name: 'HostError', message: errorText(e), line: null }]);
    }
    return undefined;
  }
}

let runAllToken = 0;

export async function runAll(): Promise<void> {
  const token = ++runAllToken;
  const st = useLab.getState();
  if (!st.notebook) return;
  st.setRunAll(true);
  try {
    for (const c of st.notebook.cells) {
      if (token !== runAllToken) return;
      if (c.type === 'markdown') {
        useLab.getState().setEditing(c.id, false);
        continue;
      }
      if (c.type !== 'code' || c.source.trim() === '') continue;
      // Read the live list: cells may have been edited or removed meanwhile.
      if (!useLab.getState().notebook?.cells.some((x) => x.id === c.id)) continue;
      const status = await runCell(c.id);
      if (status !== 'ok') return; // stop at the first error or interrupt, as Jupyter does
    }
  } finally {
    if (token === runAllToken) useLab.getState().setRunAll(false);
  }
}

export async function interrupt(): Promise<void> {
  runAllToken++;
  useLab.getState().setRunAll(false);
  const nb = useLab.getState().notebook?.path;
  // Stop stops this notebook's cells: another notebook's training goes on
  await guard('Stopping', () => getApi().call('kernel.interrupt', nb ? { notebook: nb } : {}));
}

/**
 * Restarts the open notebook's kernel (its variables go; other notebooks keep theirs), or
 * with a backend the engine process (every notebook's variables go). Asks first, in a
 * dialog that says what is lost, unless nothing is.
 */
export async function restartKernel(backend?: string | null): Promise<void> {
  const nb = useLab.getState().notebook?.path;
  const whole = backend !== undefined || !nb;
  const res = await guard('Kernel state', () => getApi().call('kernel.state', whole ? {} : { notebook: nb }));
  if (!res) return;
  const losing = res.kernels.filter((k) => k.variables.length > 0 || k.status === 'busy' || k.status === 'queued');
  if (losing.length > 0 && !(await askRestart({ whole, backend, kernels: losing }))) return;
  runAllToken++;
  useLab.getState().setRunAll(false);
  if (whole) useLab.getState().setEngine({ ...(useLab.getState().engine ?? { backend: null, available: [], preferred: null }), status: 'starting' });
  const info = await guard('Restarting the kernel', () =>
    getApi().call('kernel.restart', whole ? (backend === undefined ? {} : { backend }) : { notebook: nb }),
  );
  useLab.getState().resetKernelSession();
  if (whole) ranThisSession.clear();
  else forgetRan(nb);
  if (info) useLab.getState().setEngine(info);
}

export function openRun(runId: string): void {
  useLab.getState().setView({ kind: 'run', runId });
}

/** The compare view of 2 to 8 runs. */
export function openCompare(runIds: string[]): void {
  if (runIds.length < 2 || runIds.length > 8) {
    reportError('Compare', new Error(`it takes 2 to 8 runs (${runIds.length} ticked)`));
    return;
  }
  useLab.getState().setView({ kind: 'compare', runIds });
}

/**
 * Exports what is on screen: the open run, or the runs of the compare view (grid
 * and GIF take one run: the first). From the desktop's File → Export menu and Ctrl/Cmd+Shift+E.
 */
export function exportCurrent(choice: ExportChoice): void {
  const view = useLab.getState().view;
  const runIds = view.kind === 'run' ? [view.runId] : view.kind === 'compare' ? view.runIds : [];
  if (runIds.length === 0) {
    useLab.getState().pushError('Export: open a run or the compare view first (exports are of the runs on screen)');
    return;
  }
  void downloadExport(exportHref(choice, runIds), `Export ${EXPORT_CHOICES[choice].label}`);
}
