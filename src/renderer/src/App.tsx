// The window: top bar, sidebar, banners, and the main area (notebook or run page).
import { useEffect } from 'react';
import { exportCurrent, loadAll, saveNotebook } from './actions';
import { getApi } from './api/client';
import { Banners } from './layout/Banners';
import { CommandPalette } from './layout/CommandPalette';
import { RestartDialog } from './layout/RestartDialog';
import { Sidebar } from './layout/Sidebar';
import { TopBar } from './layout/TopBar';
import { NotebookView } from './notebook/NotebookView';
import { useCommandModeKeys } from './notebook/commandMode';
import { ComparePage } from './runs/ComparePage';
import { RunDetail } from './runs/RunDetail';
import { notebookTitle, useLab } from './store';
import { DialogHost } from './workspace/Dialog';

function useGlobalKeys() {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 's') {
        e.preventDefault();
        void saveNotebook();
      }
      // Ctrl+Shift+E: the report of the runs on screen (the desktop menu has the same accelerator)
      if ((e.ctrlKey || e.metaKey) && e.shiftKey && !e.altKey && e.key.toLowerCase() === 'e') {
        e.preventDefault();
        exportCurrent('report');
      }
    };
    window.addEventListener('keydown', onKey);
    // the desktop's File → Export menu
    const off = getApi().on('app.export', ({ choice }) => exportCurrent(choice));
    return () => {
      window.removeEventListener('keydown', onKey);
      off();
    };
  }, []);
}

function useUnsavedGuard() {
  const dirty = useLab((s) => s.notebook?.dirty ?? false);
  const path = useLab((s) => s.notebook?.path ?? null);
  useEffect(() => {
    document.title = path ? `${dirty ? '● ' : ''}${notebookTitle(path)} — Latent Lab` : 'Latent Lab';
    if (!dirty) return;
    const onBeforeUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onBeforeUnload);
    return () => window.removeEventListener('beforeunload', onBeforeUnload);
  }, [dirty, path]);
}

export function App() {
  const view = useLab((s) => s.view);
  useGlobalKeys();
  useCommandModeKeys();
  useUnsavedGuard();
  useEffect(() => {
    void loadAll();
  }, []);
  return (
    <div className="app">
      <TopBar />
      <div className="ll-body">
        <Sidebar />
        <main className="ll-main">
          <Banners />
          <div className="main-scroll">
            {/* The notebook stays mounted under a run page so editors and live plots keep their state. */}
            <div style={{ display: view.kind === 'notebook' ? undefined : 'none' }}>
              <NotebookView />
            </div>
            {view.kind === 'run' && <RunDetail key={view.runId} runId={view.runId} />}
            {view.kind === 'compare' && <ComparePage key={view.runIds.join(',')} runIds={view.runIds} />}
          </div>
        </main>
      </div>
      <CommandPalette />
      <DialogHost />
      <RestartDialog />
    </div>
  );
}
