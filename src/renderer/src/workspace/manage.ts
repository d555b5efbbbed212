// Managing notebooks and runs from the app: new, duplicate, rename, delete notebooks;
// rename and delete runs. Each asks in the in-app dialog, shows the host's refusal in
// it (a name that exists, a character a file name cannot hold, a path outside the
// workspace) and loses nothing. Exported through actions.ts.
import { getApi } from '../api/client';
import { guard, openNotebook, refreshNotebooks, refreshRuns, saveNotebook } from '../actions';
import { runNames } from '../../../shared/run-names';
import { useLab } from '../store';
import { create } from 'zustand';
import { openDialog } from './Dialog';

/** runs deleted in this session: a cell's live view of one says so instead of loading it */
export const useDeletedRuns = create<{ ids: ReadonlySet<string> }>(() => ({ ids: new Set() }));

/** the notebook a first launch opens (later launches reopen the last one) */
export const START_NOTEBOOK = 'vae-mnist.ipynb';
const LAST_NOTEBOOK_KEY = 'latentlab.lastNotebook';

const fileName = (path: string) => path.split('/').pop() ?? path;
const errText = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** After a rename elsewhere (this window or another): the open notebook follows its file. */
export function notebookRenamed(from: string, to: string): void {
  const st = useLab.getState();
  if (st.notebook?.path === from) useLab.setState({ notebook: { ...st.notebook, path: to } });
  if (localStorage.getItem(LAST_NOTEBOOK_KEY) === from) localStorage.setItem(LAST_NOTEBOOK_KEY, to);
}

/** After a delete: the open notebook closes (its unsaved changes were asked about first), the start notebook opens. */
export async function notebookDeleted(path: string): Promise<void> {
  await refreshNotebooks();
  const st = useLab.getState();
  if (localStorage.getItem(LAST_NOTEBOOK_KEY) === path) localStorage.removeItem(LAST_NOTEBOOK_KEY);
  if (st.notebook?.path !== path) return;
  st.closeNotebook();
  const next = st.notebooks.find((n) => n.path === START_NOTEBOOK) ?? useLab.getState().notebooks[0];
  if (next) await openNotebook(next.path, { force: true });
}

/** New notebook: asks for a name, creates it (trusted: it is the user's own) and opens it. */
export async function newNotebook(): Promise<void> {
  const taken = new Set(useLab.getState().notebooks.map((n) => n.path.toLowerCase()));
  let i = 1;
  while (taken.has(`untitled${i > 1 ? `-${i}` : ''}.ipynb`)) i++;
  let created: string | null = null;
  await openDialog({
    title: 'New notebook',
    message: 'A notebook of your own in this workspace: a title and an empty code cell.',
    input: { label: 'File name (a folder/ prefix makes a folder)', initial: `untitled${i > 1 ? `-${i}` : ''}.ipynb`, selectStem: true },
    confirm: 'Create',
    onConfirm: async (name) => {
      const stem = fileName(name.trim()).replace(/\.ipynb$/i, '');
      created = (await getApi().call('notebook.create', { name: name.trim() || ' ', title: stem })).path;
    },
  });
  if (!created) return;
  await refreshNotebooks();
  await openNotebook(created);
}

export async function duplicateNotebook(path: string): Promise<void> {
  const res = await guard(`Duplicating ${path}`, () => getApi().call('notebook.duplicate', { path }));
  if (!res) return;
  await refreshNotebooks();
  await openNotebook(res.path);
}

/** Renames a notebook; the open one with unsaved changes asks first (save, or cancel). */
export async function renameNotebook(path: string): Promise<void> {
  const open = useLab.getState().notebook;
  const dirty = open?.path === path && open.dirty;
  const doRename = async (name: string) => {
    const res = await getApi().call('notebook.rename', { path, name: name.trim() || ' ' });
    notebookRenamed(path, res.path);
    await Promise.all([refreshNotebooks(), refreshRuns()]);
  };
  await openDialog({
    title: `Rename ${fileName(path)}`,
    message: dirty
      ? 'This notebook has unsaved changes: they are saved first, then the file is renamed. Its runs follow it.'
      : 'Its runs follow it, and it stays trusted.',
    input: { label: 'New file name', initial: path, selectStem: true },
    confirm: dirty ? 'Save and rename' : 'Rename',
    onConfirm: async (name) => {
      if (dirty && !(await saveNotebook())) return 'the notebook could not be saved (see the message above): nothing was renamed';
      await doRename(name);
    },
  });
}

/** Deletes a notebook after a confirmation: it moves to .latentlab/trash (recoverable); its runs stay. */
export async function deleteNotebook(path: string): Promise<void> {
  const open = useLab.getState().notebook;
  const dirty = open?.path === path && open.dirty;
  const runs = useLab.getState().runs.filter((r) => r.notebook === path).length;
  await openDialog({
    title: `Delete ${fileName(path)}?`,
    message:
      `The file moves to .latentlab/trash in the workspace, where it can be taken back.` +
      `${runs > 0 ? ` Its ${runs} run${runs === 1 ? '' : 's'} stay in the runs list.` : ''}` +
      `${dirty ? '\nIts unsaved changes are lost.' : ''}`,
    confirm: 'Delete',
    danger: true,
    onConfirm: async () => {
      await getApi().call('notebook.delete', { path });
      await notebookDeleted(path);
    },
  });
}

/** Renames a run (the name is kept as given; an empty name gives back the name made from what differs). */
export async function renameRun(runId: string): Promise<void> {
  const runs = useLab.getState().runs;
  const run = runs.find((r) => r.id === runId);
  if (!run) return;
  const shown = runNames(runs).get(runId) ?? run.name;
  await openDialog({
    title: 'Rename run',
    message: `${runId}. An empty name gives it back the name made from what differs from its siblings.`,
    input: { label: 'Name', initial: shown },
    confirm: 'Rename',
    onConfirm: async (name) => {
      const res = await getApi().call('runs.rename', { id: runId, name });
      useLab.getState().upsertRun(res.run);
    },
  });
}

/** The run gone from this window (deleted here or in another window). */
export function runDeleted(runId: string): void {
  useDeletedRuns.setState((s) => ({ ids: new Set([...s.ids, runId]) }));
  useLab.setState((s) => ({
    runs: s.runs.filter((r) => r.id !== runId),
    compareSel: s.compareSel.filter((id) => id !== runId),
    view:
      s.view.kind === 'run' && s.view.runId === runId
        ? { kind: 'notebook' }
        : s.view.kind === 'compare' && s.view.runIds.includes(runId)
          ? s.view.runIds.length > 2
            ? { kind: 'compare', runIds: s.view.runIds.filter((id) => id !== runId) }
            : { kind: 'notebook' }
          : s.view,
  }));
}

/** Deletes a run with its sample grids and checkpoints, after a confirmation; a running run is refused. */
export async function deleteRun(runId: string): Promise<void> {
  const runs = useLab.getState().runs;
  const run = runs.find((r) => r.id === runId);
  if (!run) return;
  const shown = runNames(runs).get(runId) ?? run.name;
  if (run.status === 'running') {
    await openDialog({ title: `${shown} is running`, message: 'Stop it first (the Stop button): a running run cannot be deleted.', confirm: 'OK', onConfirm: () => undefined });
    return;
  }
  await openDialog({
    title: `Delete run ${shown}?`,
    message: `${runId} · ${run.steps} steps. Its metrics, sample grids and checkpoints are deleted from disk; this cannot be undone.`,
    confirm: 'Delete run',
    danger: true,
    onConfirm: async () => {
      await getApi().call('runs.delete', { id: runId });
      runDeleted(runId);
    },
  });
}

/** The notebook search box of the sidebar gets the keyboard focus. */
export function focusNotebookSearch(): void {
  const el = document.querySelector<HTMLInputElement>('[data-testid="notebook-search"]');
  el?.focus();
  el?.select();
}

export { errText as manageErrorText };
