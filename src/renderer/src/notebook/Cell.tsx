// One notebook cell: gutter prompt, toolbar, editor (Monaco for code, a
// textarea for Markdown/raw), rendered Markdown, and outputs.
import { memo, useEffect, useLayoutEffect, useMemo, useRef } from 'react';
import { runCell, saveNotebook } from '../actions';
import { CodeEditor } from '../editor/CodeEditor';
import { renderMarkdown } from '../markdown/render';
import { useLab, type CellState } from '../store';
import { CellOutputs } from './CellOutputs';
import { cellTags, type CellType } from './nbformat';

/** Moves the keyboard to the cell after cellId, adding a code cell at the end as Jupyter does. */
function focusNext(cellId: string): void {
  const st = useLab.getState();
  const cells = st.notebook?.cells ?? [];
  const i = cells.findIndex((c) => c.id === cellId);
  const next = cells[i + 1];
  // the caret goes to the start of the next cell (line 1, column 1)
  if (next) st.requestFocus(next.id, 'start');
  else st.requestFocus(st.addCell(cellId, 'code'), 'start');
}

function prompt(cell: CellState): string {
  if (cell.type !== 'code') return '';
  if (cell.status === 'queued' || cell.status === 'running') return '[*]';
  return `[${cell.executionCount ?? ' '}]`;
}

function Toolbar({ cell, first, last }: { cell: CellState; first: boolean; last: boolean }) {
  const st = useLab.getState;
  // code of an untrusted or unreadable notebook does not run (see NotebookBanner)
  const blocked = useLab((s) => !s.notebook || !s.notebook.trusted || s.notebook.readOnly !== null) && cell.type === 'code';
  const add = (type: CellType) => st().requestFocus(st().addCell(cell.id, type));
  return (
    <div className="cell-toolbar" onMouseDown={(e) => e.preventDefault() /* keep the editor's focus */}>
      {cell.type !== 'raw' && (
        <button className="ll-icon-btn" title={cell.type === 'code' ? 'Run cell (Shift+Enter)' : 'Render (Shift+Enter)'} data-testid="cell-run" disabled={blocked} onClick={() => void runCell(cell.id)}>
          ▶
        </button>
      )}
      <button className="ll-icon-btn" title="Move up" disabled={first} onClick={() => st().moveCell(cell.id, -1)}>
        ↑
      </button>
      <button className="ll-icon-btn" title="Move down" disabled={last} onClick={() => st().moveCell(cell.id, 1)}>
        ↓
      </button>
      <button className="ll-icon-btn text" title="Add code cell below" data-testid="add-code" onClick={() => add('code')}>
        + Code
      </button>
      <button className="ll-icon-btn text" title="Add Markdown cell below" data-testid="add-markdown" onClick={() => add('markdown')}>
        + Markdown
      </button>
      <button className="ll-icon-btn danger" title="Delete cell" data-testid="cell-delete" onClick={() => st().deleteCell(cell.id)}>
        ✕
      </button>
    </div>
  );
}

/** A textarea that grows with its text; used for Markdown and raw cells. */
function TextEditor(props: { cell: CellState; focusSeq: number; atStart?: boolean; onDone(advance: boolean): void }) {
  const ref = useRef<HTMLTextAreaElement>(null);
  const { cell } = props;
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight + 2}px`;
  }, [cell.source]);
  useEffect(() => {
    if (props.focusSeq > 0) ref.current?.focus();
    if (props.focusSeq > 0 && props.atStart) ref.current?.setSelectionRange(0, 0);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [props.focusSeq]);
  useEffect(() => {
    // entering edit mode puts the caret in the text
    if (cell.editing) ref.current?.focus();
  }, [cell.editing]);
  return (
    <textarea
      ref={ref}
      className="text-editor"
      value={cell.source}
      spellCheck={cell.type === 'markdown'}
      placeholder={cell.type === 'markdown' ? 'Markdown, with $math$ and $$display math$$' : 'raw text'}
      onChange={(e) => useLab.getState().updateSource(cell.id, e.target.value)}
      onKeyDown={(e) => {
        const mod = e.ctrlKey || e.metaKey;
        if (e.key === 'Enter' && e.shiftKey) {
          e.preventDefault();
          props.onDone(true);
        } else if (e.key === 'Enter' && mod) {
          e.preventDefault();
          props.onDone(false);
        } else if (e.key === 'Escape') {
          e.preventDefault();
          props.onDone(false);
        }
      }}
    />
  );
}

function MarkdownBody({ cell, focusSeq, atStart }: { cell: CellState; focusSeq: number; atStart: boolean }) {
  const html = useMemo(() => (cell.editing ? '' : renderMarkdown(cell.source)), [cell.source, cell.editing]);
  const view = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusSeq > 0 && !cell.editing) view.current?.focus();
  }, [focusSeq, cell.editing]);
  const st = useLab.getState;
  const done = (advance: boolean) => {
    st().setEditing(cell.id, false);
    if (advance) focusNext(cell.id);
    else st().requestFocus(cell.id);
  };
  if (cell.editing) return <TextEditor cell={cell} focusSeq={focusSeq} atStart={atStart} onDone={done} />;
  return (
    <div
      ref={view}
      className="markdown-body"
      tabIndex={0}
      // the rendered text is command mode: Enter edits, Shift+Enter selects the next cell (notebook/commandMode.ts)
      onDoubleClick={() => st().setEditing(cell.id, true)}
    >
      {cell.source.trim() === '' ? (
        <div className="ll-placeholder">Empty Markdown cell. Double-click to edit.</div>
      ) : (
        <div dangerouslySetInnerHTML={{ __html: html }} />
      )}
    </div>
  );
}

export interface CellProps {
  cell: CellState;
  first: boolean;
  last: boolean;
  /** a focus request for this cell (0: none) and where it goes: the editor (at its start), or the cell itself */
  focusSeq: number;
  focusAt?: 'start' | 'cell';
  /** the selected cell, in command mode (keys act on the cell) or edit mode (typing in it) */
  selection: 'command' | 'edit' | null;
}

export const Cell = memo(function Cell({ cell, first, last, focusSeq: requestSeq, focusAt, selection }: CellProps) {
  const root = useRef<HTMLDivElement>(null);
  // a request for the cell itself (command mode) focuses the cell, not its editor
  const focusSeq = focusAt === 'cell' ? 0 : requestSeq;
  const atStart = focusAt === 'start';
  useEffect(() => {
    if (requestSeq > 0 && focusAt === 'cell' && root.current) {
      root.current.focus({ preventScroll: true });
      root.current.scrollIntoView({ block: 'nearest' });
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [requestSeq]);
  const commandMode = () => root.current?.focus({ preventScroll: true });
  const tags = cellTags(cell.metadata);
  const running = cell.status === 'queued' || cell.status === 'running';
  // a stop is no error: its line is not marked (CellOutputs shows it as a calm note)
  const errorOut = cell.outputs.find((o) => o.type === 'error' && o.name !== 'Interrupted');
  const errorLine = errorOut && errorOut.type === 'error' ? errorOut.line : null;
  return (
    <div
      ref={root}
      tabIndex={-1}
      className={`cell cell-${cell.type}${running ? ' running' : ''}${cell.status === 'error' ? ' failed' : ''}${selection ? ` selected ${selection}-mode` : ''}`}
      // the keyboard in an editor is edit mode; anywhere else in the cell, command mode
      onFocus={(e) => useLab.getState().select(cell.id, (e.target as Element).closest('.monaco-editor, textarea') ? 'edit' : 'command')}
      data-selected={selection ?? ''}
      data-testid="cell"
      data-cell-type={cell.type}
      data-cell-id={cell.id}
      data-status={cell.status ?? ''}
    >
      <div className="cell-gutter">
        <span className="ll-prompt" data-testid="exec-count">
          {prompt(cell)}
        </span>
        {running && <span className="spinner" title={cell.status ?? ''} />}
      </div>
      <div className="cell-main">
        <div className="cell-head">
          {tags.includes('parameters') && (
            <span className="tag-badge" data-testid="parameters-badge" title="papermill parameters cell">
              parameters
            </span>
          )}
          {tags
            .filter((t) => t !== 'parameters')
            .map((t) => (
              <span key={t} className="tag-badge muted-tag">
                {t}
              </span>
            ))}
          <span className="spacer" />
          <Toolbar cell={cell} first={first} last={last} />
        </div>
        {cell.type === 'code' && (
          <CodeEditor
            cellId={cell.id}
            value={cell.source}
            language="typescript"
            errorLine={errorLine}
            focusSeq={focusSeq}
            focusAtStart={atStart}
            onEscape={commandMode}
            onChange={(v) => useLab.getState().updateSource(cell.id, v)}
            onRunAdvance={() => {
              void runCell(cell.id);
              focusNext(cell.id);
            }}
            onRunInPlace={() => void runCell(cell.id)}
            onSave={() => void saveNotebook()}
          />
        )}
        {cell.type === 'markdown' && <MarkdownBody cell={cell} focusSeq={focusSeq} atStart={atStart} />}
        {cell.type === 'raw' && <TextEditor cell={cell} focusSeq={focusSeq} atStart={atStart} onDone={(adv) => (adv ? focusNext(cell.id) : commandMode())} />}
        {cell.type === 'code' && <CellOutputs outputs={cell.outputs} />}
      </div>
    </div>
  );
});
