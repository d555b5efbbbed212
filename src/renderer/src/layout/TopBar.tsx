// App name, workspace, engine badge/status, and the notebook commands.
import { interrupt, restartKernel, runAll, saveNotebook } from '../actions';
import { notebookTitle, useLab } from '../store';
import { ImportButton } from '../data/ImportDialog';
import { KernelStatus } from './KernelStatus';

export function TopBar() {
  const workspace = useLab((s) => s.workspace);
  const engine = useLab((s) => s.engine);
  const nbPath = useLab((s) => s.notebook?.path ?? null);
  const dirty = useLab((s) => s.notebook?.dirty ?? false);
  const runAllActive = useLab((s) => s.runAllActive);
  // an untrusted or unreadable notebook does not run; an unreadable one is not saved
  const mayRun = useLab((s) => !!s.notebook && s.notebook.trusted && s.notebook.readOnly === null);
  const readOnly = useLab((s) => !!s.notebook?.readOnly);
  const anyRunning = useLab((s) => s.notebook?.cells.some((c) => c.status === 'queued' || c.status === 'running') ?? false);
  const status = engine?.status ?? 'starting';
  const busy = status === 'busy' || anyRunning;
  const available = engine?.available ?? [];

  return (
    <header className="ll-topbar">
      <span className="app-name">Latent Lab</span>
      {workspace && (
        <span className="workspace" title={workspace.path}>
          {workspace.name}
        </span>
      )}
      {nbPath && (
        <span className="topbar-notebook">
          / {notebookTitle(nbPath)}
          {dirty && <span className="dirty-dot" title="unsaved changes"> ●</span>}
        </span>
      )}
      <span className="spacer" />
      <div className="toolbar">
        <button className="ll-btn primary" data-testid="run-all" disabled={!nbPath || runAllActive || !mayRun} onClick={() => void runAll()} title="Run every code cell in order">
          ▶▶ Run All
        </button>
        <button className="ll-btn" data-testid="stop" disabled={!busy && !runAllActive} onClick={() => void interrupt()} title="Interrupt the running cell">
          ■ Stop
        </button>
        <button className="ll-btn" data-testid="restart" onClick={() => void restartKernel()} title="Restart this notebook's kernel: clears its variables (other notebooks keep theirs; asks first)">
          ↻ Restart
        </button>
        <button className="ll-btn" data-testid="save" disabled={!nbPath || readOnly} onClick={() => void saveNotebook()} title="Save (Ctrl/Cmd+S)">
          Save
        </button>
        <ImportButton />
      </div>
      <div className="engine">
        <span
          className={`backend-badge${engine?.backend ? '' : ' none'}`}
          data-testid="backend-badge"
          title={engine?.detail ?? 'engine backend'}
        >
          {engine?.label ?? engine?.backend ?? '—'}
        </span>
        {available.length > 1 && (
          <select
            className="backend-select"
            value={engine?.preferred ?? ''}
            title="Backend: the engine restarts to switch (every notebook's variables are cleared; asks first)"
            onChange={(e) => void restartKernel(e.target.value === '' ? null : e.target.value)}
          >
            <option value="">best available</option>
            {available.map((b) => (
              <option key={b} value={b}>
                {b}
              </option>
            ))}
          </select>
        )}
        <KernelStatus />
        <span className={`engine-status status-${busy ? 'busy' : status}`} data-testid="engine-status" title="the engine process, shared by the notebooks">
          <span className="ll-dot" />
          {busy && status === 'idle' ? 'busy' : status}
        </span>
      </div>
    </header>
  );
}
