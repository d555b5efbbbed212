// "Cell deleted — Undo": shown for a while after each cell deletion (D D, the ✕ button,
// Cut); Undo brings the cell back where it stood, as Z does in command mode.
import { useEffect, useRef, useState } from 'react';
import { useLab, type DeletedCell } from '../store';
import { undoDelete } from './commandMode';

const SHOW_MS = 10_000;

function preview(d: DeletedCell): string {
  const line = d.cell.source.split('\n').find((l) => l.trim() !== '')?.trim() ?? '';
  const kind = d.cell.type === 'code' ? 'Code cell' : d.cell.type === 'markdown' ? 'Markdown cell' : 'Raw cell';
  if (!line) return `Empty ${kind.toLowerCase()} deleted`;
  return `${kind} deleted: ${line.length > 48 ? `${line.slice(0, 47)}…` : line}`;
}

export function UndoToast() {
  const deleted = useLab((s) => s.deleted);
  const [shown, setShown] = useState<DeletedCell | null>(null);
  const before = useRef(deleted);
  useEffect(() => {
    // a new deletion shows the toast; an undo (or another notebook) hides it
    const top = deleted[deleted.length - 1];
    setShown(top && !before.current.includes(top) ? top : null);
    before.current = deleted;
  }, [deleted]);
  useEffect(() => {
    if (!shown) return;
    const t = setTimeout(() => setShown(null), SHOW_MS);
    return () => clearTimeout(t);
  }, [shown]);
  if (!shown) return null;
  return (
    <div className="undo-toast" role="status" data-testid="undo-toast">
      <span className="undo-toast-text">{preview(shown)}</span>
      {deleted.length > 1 && <span className="muted">{deleted.length} to undo</span>}
      <button className="ll-btn ll-small" data-testid="undo-delete" onMouseDown={(e) => e.preventDefault()} onClick={undoDelete} title="Bring the cell back where it stood (Z in command mode)">
        Undo
      </button>
      <button className="ll-icon-btn" title="Dismiss" onClick={() => setShown(null)}>
        ✕
      </button>
    </div>
  );
}
