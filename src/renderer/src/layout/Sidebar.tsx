// Left sidebar: notebooks of the workspace, then runs.
import { openNotebook, refreshNotebooks } from '../actions';
import { RunsPanel } from '../runs/RunsPanel';
import { useLab } from '../store';

function NotebooksPanel() {
  const notebooks = useLab((s) => s.notebooks);
  const open = useLab((s) => (s.view.kind === 'notebook' ? (s.notebook?.path ?? null) : null));
  return (
    <div className="side-section notebooks-section">
      <div className="side-title">
        Notebooks <span className="ll-count">{notebooks.length}</span>
        <span className="spacer" />
        <button className="ll-icon-btn" title="Refresh notebooks" onClick={() => void refreshNotebooks()}>
          ⟳
        </button>
      </div>
      <ul className="notebook-list" data-testid="notebooks-panel">
        {notebooks.length === 0 && <li className="ll-empty">No notebooks in this workspace.</li>}
        {notebooks.map((n) => (
          <li
            key={n.path}
            className={`notebook-row${open === n.path ? ' selected' : ''}`}
            data-testid="notebook-row"
            data-path={n.path}
            title={n.path}
            onClick={() => void openNotebook(n.path)}
          >
            <span className="nb-icon">▤</span>
            <span className="nb-title">{n.title || n.path}</span>
            {n.problem && (
              <span className="nb-problem" data-testid="notebook-problem" title={`${n.problem}: opens read-only`}>
                ⚠ read-only
              </span>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Sidebar() {
  return (
    <aside className="sidebar">
      <NotebooksPanel />
      <RunsPanel />
    </aside>
  );
}
