// The Import dialog: type or paste a path (relative to the workspace, or absolute),
// Enter inspects it on the host (the same importer lab.data.load runs), the preview,
// shapes, splits, classes, value range and fingerprint show, and Ctrl/Cmd+Enter (or
// the button) inserts `const data = lab.data.load('<path>')` into the open notebook.
import { useEffect, useRef, useState } from 'react';
import type { ImportSummary } from '../../../shared/data-import';
import { errorText } from '../actions';
import { getApi } from '../api/client';
import { useLab } from '../store';
import './import-dialog.css';

/** the cell the dialog inserts for a path and options (JSON object text, may be empty) */
export function importCellCode(path: string, options: Record<string, unknown> | null): string {
  const opts = options && Object.keys(options).length > 0 ? `, ${JSON.stringify(options)}` : '';
  return `const data = lab.data.load(${JSON.stringify(path)}${opts});\ndata.name + ': ' + data.kind + ' [' + data.shape.join('×') + '], ' + data.train.n + '/' + data.val.n + '/' + data.test.n + ' rows, fingerprint ' + data.fingerprint.slice(0, 12)`;
}

function parseOptions(text: string): Record<string, unknown> | null {
  if (text.trim() === '') return null;
  const v = JSON.parse(text) as unknown;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('options must be a JSON object, e.g. {"label": "kind"}');
  return v as Record<string, unknown>;
}

const fmtNum = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
const fmtBytes = (b: number) => (b < 1024 ? `${b} B` : b < 1024 ** 2 ? `${(b / 1024).toFixed(1)} KiB` : `${(b / 1024 ** 2).toFixed(1)} MiB`);

function Summary({ s }: { s: ImportSummary }) {
  const url = s.preview ? getApi().artifactUrl(s.preview) : null;
  return (
    <div className="import-summary" data-testid="import-summary">
      {url && <img className="import-preview" data-testid="import-preview" src={url} alt={`preview of ${s.name}`} />}
      {s.sample !== null && <pre className="import-sample" data-testid="import-sample">{s.sample}</pre>}
      <table className="import-facts">
        <tbody>
          <tr><th>format</th><td data-testid="import-format">{s.format} · {s.files} file{s.files === 1 ? '' : 's'} · {fmtBytes(s.bytes)}</td></tr>
          <tr><th>kind</th><td>{s.kind}{s.binary ? ' (binary 0/1)' : ''}{s.levels !== null ? ` · ${s.levels} symbols` : ''}{s.sampleRate !== null ? ` · ${s.sampleRate} Hz` : ''}</td></tr>
          <tr><th>shape</th><td className="mono" data-testid="import-shape">[{s.shape.join(', ')}] ({s.dim} values per row)</td></tr>
          <tr><th>rows</th><td data-testid="import-rows">train {s.rows.train} · val {s.rows.val} · test {s.rows.test}</td></tr>
          <tr><th>classes</th><td data-testid="import-classes">{s.classes === null ? 'none (unlabelled)' : `${s.classes}: ${s.classNames.slice(0, 20).join(', ')}${s.classNames.length > 20 ? ', …' : ''}`}</td></tr>
          <tr><th>range</th><td className="mono">{fmtNum(s.range.min)} … {fmtNum(s.range.max)}</td></tr>
          <tr><th>fingerprint</th><td className="mono" data-testid="import-fingerprint">{s.fingerprint}</td></tr>
        </tbody>
      </table>
      {s.notes.length > 0 && (
        <ul className="import-notes" data-testid="import-notes">
          {s.notes.map((n) => <li key={n}>{n}</li>)}
        </ul>
      )}
      <p className="muted import-fp-note">
        Every run records this fingerprint (a hash of the file bytes and the load options). The compare view marks runs
        trained on different fingerprints as not comparable: change one byte or one option and it changes.
      </p>
    </div>
  );
}

export function ImportDialog({ onClose }: { onClose: () => void }) {
  const [path, setPath] = useState('');
  const [options, setOptions] = useState('');
  const [busy, setBusy] = useState(false);
  const [summary, setSummary] = useState<ImportSummary | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [inspected, setInspected] = useState<string | null>(null);
  const hasNotebook = useLab((s) => s.notebook !== null);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => input.current?.focus(), []);

  const inspect = async () => {
    const p = path.trim();
    if (!p) return;
    let opts: Record<string, unknown> | null;
    try {
      opts = parseOptions(options);
    } catch (e) {
      setError(`options: ${errorText(e)}`);
      setSummary(null);
      return;
    }
    setBusy(true);
    setError(null);
    setSummary(null);
    try {
      const res = await getApi().call('data.inspect', { path: p, ...(opts ? { options: opts } : {}) });
      setSummary(res.summary);
      setError(res.error);
      setInspected(`${p}\n${options}`);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  const insert = () => {
    const p = path.trim();
    if (!p || !hasNotebook) return;
    let opts: Record<string, unknown> | null;
    try {
      opts = parseOptions(options);
    } catch (e) {
      setError(`options: ${errorText(e)}`);
      return;
    }
    const st = useLab.getState();
    // at the end of the notebook: a predictable place, whatever had focus
    const id = st.addCell(null, 'code');
    useLab.getState().updateSource(id, importCellCode(p, opts));
    useLab.getState().requestFocus(id);
    onClose();
  };

  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      onClose();
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      insert();
    } else if (e.key === 'Enter' && (e.target as HTMLElement).tagName === 'INPUT') {
      e.preventDefault();
      void inspect();
    }
  };

  const stale = summary !== null && inspected !== `${path.trim()}\n${options}`;
  return (
    <div className="import-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div className="import-dialog" role="dialog" aria-label="Import data" data-testid="import-dialog" onKeyDown={onKey}>
        <div className="import-head">
          <b>Import data</b>
          <span className="spacer" />
          <button className="ll-icon-btn" title="Close (Escape)" onClick={onClose}>✕</button>
        </div>
        <p className="muted import-help">
          A path relative to the workspace folder (or absolute): IDX (MNIST files, .gz too), NPY, NPZ, CSV, JSON arrays of numbers, text, WAV, or a
          folder of PNG/JPEG images with one subfolder per class. Enter inspects; Ctrl/Cmd+Enter inserts the cell.
        </p>
        <label className="import-row">
          <span>path</span>
          <input ref={input} className="mono" data-testid="import-path" value={path} placeholder="data/train-images-idx3-ubyte.gz" onChange={(e) => setPath(e.target.value)} spellCheck={false} />
        </label>
        <label className="import-row">
          <span>options</span>
          <input className="mono" data-testid="import-options" value={options} placeholder='optional JSON, e.g. {"label": "kind"} or {"binarize": "threshold"}' onChange={(e) => setOptions(e.target.value)} spellCheck={false} />
        </label>
        <div className="import-actions">
          <button className="ll-btn" data-testid="import-inspect" disabled={busy || !path.trim()} onClick={() => void inspect()}>
            {busy ? 'Inspecting…' : 'Inspect (Enter)'}
          </button>
          <button className="ll-btn primary" data-testid="import-insert" disabled={!path.trim() || !hasNotebook} onClick={insert} title={hasNotebook ? 'Insert a cell that loads it' : 'Open a notebook first'}>
            Insert cell (Ctrl/Cmd+Enter)
          </button>
          {stale && <span className="muted">changed since the inspection: press Enter again</span>}
        </div>
        {error && (
          <pre className="import-error" data-testid="import-error">
            {error}
          </pre>
        )}
        {summary && <Summary s={summary} />}
      </div>
    </div>
  );
}

/** The top bar's Import button and its dialog. */
export function ImportButton() {
  const [open, setOpen] = useState(false);
  return (
    <>
      <button className="ll-btn" data-testid="import-button" onClick={() => setOpen(true)} title="Import a dataset of your own (IDX, NPY, NPZ, images, CSV, text, WAV)">
        ⤓ Import
      </button>
      {open && <ImportDialog onClose={() => setOpen(false)} />}
    </>
  );
}
