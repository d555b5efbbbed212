// The open notebook: its cells in order, with an "add cell" row at the end.
import { useNotebookDiagnostics } from '../editor/notebook-diagnostics';
import { useLab, notebookTitle } from '../store';
import { Cell } from './Cell';
import { NotebookBanner } from './NotebookBanner';
import { UndoToast } from './UndoToast';
import './command-mode.css';

export function NotebookView() {
  const nb = useLab((s) => s.notebook);
  const focus = useLab((s) => s.focus);
  const opening = useLab((s) => s.opening);
  const booting = useLab((s) => s.booting);
  const notebooks = useLab((s) => s.notebooks);
  const notebookEntryTitle = (path: string) => notebooks.find((n) => n.path === path)?.title ?? path;
  useNotebookDiagnostics();
  const selected = useLab((s) => s.selected);
  const mode = useLab((s) => s.mode);
  if (!nb) {
    return (
      <div className="empty-main" data-testid="empty-main">
        {opening || booting ? (
          <>
            <h2>{opening ? `Opening ${notebookEntryTitle(opening)}…` : 'Loading the workspace…'}</h2>
            <p className="muted">{opening ?? ''}</p>
          </>
        ) : (
          <>
            <h2>No notebook open</h2>
            <p>Pick a notebook in the sidebar.</p>
          </>
        )}
      </div>
    );
  }
  const add = (type: 'code' | 'markdown') => {
    const st = useLab.getState();
    const last = st.notebook?.cells[st.notebook.cells.length - 1];
    st.requestFocus(st.addCell(last?.id ?? null, type));
  };
  return (
    <div
      className="notebook"
      data-testid="notebook"
      data-path={nb.path}
      data-dirty={nb.dirty ? 'true' : 'false'}
      data-trusted={nb.trusted ? 'true' : 'false'}
      data-readonly={nb.readOnly ? 'true' : 'false'}
      data-mode={mode}
    >
      <NotebookBanner />
      <div className="notebook-title">
        <h1>{notebookTitle(nb.path)}</h1>
        <span className="muted mono">{nb.path}</span>
        {nb.dirty && (
          <span className="dirty-marker" data-testid="dirty-marker" title="unsaved changes">
            ● unsaved
          </span>
        )}
      </div>
      {nb.cells.map((c, i) => (
        <Cell
          key={`${nb.path}::${c.id}`}
          cell={c}
          first={i === 0}
          last={i === nb.cells.length - 1}
          focusSeq={focus && focus.cellId === c.id ? focus.seq : 0}
          focusAt={focus && focus.cellId === c.id ? focus.at : undefined}
          selection={selected === c.id ? mode : null}
        />
      ))}
      <div className="add-row">
        <button className="ll-btn" onClick={() => add('code')}>
          + Code
        </button>
        <button className="ll-btn" onClick={() => add('markdown')}>
          + Markdown
        </button>
      </div>
      <UndoToast />
    </div>
  );
}
