// A small in-app dialog for confirmations and names (delete a notebook or a run, name a
// new notebook). Keyboard-usable: focus starts in the field (or on the safe button),
// Enter confirms, Esc cancels, Tab stays inside. A failed action keeps the dialog open
// with the reason, so nothing typed is lost.
import { useEffect, useRef, useState } from 'react';
import { create } from 'zustand';
import './workspace.css';

export interface DialogSpec {
  title: string;
  /** the question or the facts (what goes, what stays) */
  message?: string;
  /** a text field with this label, prefilled with `initial` */
  input?: { label: string; initial?: string; placeholder?: string; selectStem?: boolean };
  confirm: string;
  /** a destructive action: the button is red and Enter on the dialog does not press it until it has focus */
  danger?: boolean;
  /** does the work; a string or a thrown error is shown in the dialog and keeps it open */
  onConfirm: (value: string) => Promise<string | void> | string | void;
  /** a third button (e.g. "Discard and rename"); same contract as onConfirm */
  alt?: { label: string; onConfirm: (value: string) => Promise<string | void> | string | void };
}

const useDialog = create<{ spec: DialogSpec | null; done: ((ok: boolean) => void) | null }>(() => ({ spec: null, done: null }));

/** Shows a dialog; resolves true when its action succeeded, false when it was cancelled. */
export function openDialog(spec: DialogSpec): Promise<boolean> {
  useDialog.getState().done?.(false);
  return new Promise((resolve) => useDialog.setState({ spec, done: resolve }));
}

/** whether a dialog is open (for key handlers elsewhere) */
export const dialogOpen = (): boolean => useDialog.getState().spec !== null;

export function DialogHost() {
  const { spec, done } = useDialog();
  if (!spec || !done) return null;
  return <DialogView key={spec.title + (spec.input?.initial ?? '')} spec={spec} done={done} />;
}

function DialogView({ spec, done }: { spec: DialogSpec; done: (ok: boolean) => void }) {
  const [value, setValue] = useState(spec.input?.initial ?? '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const box = useRef<HTMLDivElement>(null);
  const field = useRef<HTMLInputElement>(null);
  const safe = useRef<HTMLButtonElement>(null);
  const primary = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    const prev = document.activeElement as HTMLElement | null;
    if (field.current) {
      field.current.focus();
      const v = field.current.value;
      const end = spec.input?.selectStem && /\.ipynb$/i.test(v) ? v.length - 6 : v.length;
      field.current.setSelectionRange(0, end);
    } else (spec.danger ? safe : primary).current?.focus();
    return () => prev?.focus?.();
  }, [spec]);

  const close = (ok: boolean) => {
    useDialog.setState({ spec: null, done: null });
    done(ok);
  };
  const act = async (fn: DialogSpec['onConfirm']) => {
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      const r = await fn(value);
      if (typeof r === 'string') setError(r);
      else close(true);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  const onKey = (e: React.KeyboardEvent) => {
    e.stopPropagation(); // the notebook's command keys stay out of the dialog
    if (e.key === 'Escape') {
      e.preventDefault();
      close(false);
    } else if (e.key === 'Enter' && (e.target === field.current || !spec.danger) && !(e.target instanceof HTMLButtonElement)) {
      e.preventDefault();
      void act(spec.onConfirm);
    } else if (e.key === 'Tab') {
      // keep focus inside the dialog
      const items = [...(box.current?.querySelectorAll<HTMLElement>('input, button:not(:disabled)') ?? [])];
      if (items.length === 0) return;
      const i = items.indexOf(document.activeElement as HTMLElement);
      const next = e.shiftKey ? (i <= 0 ? items.length - 1 : i - 1) : i === items.length - 1 ? 0 : i + 1;
      e.preventDefault();
      items[next].focus();
    }
  };
  return (
    <div className="ws-backdrop" onMouseDown={(e) => e.target === e.currentTarget && close(false)}>
      <div className="ws-dialog" role="dialog" aria-modal="true" aria-labelledby="ws-dialog-title" data-testid="ws-dialog" ref={box} onKeyDown={onKey}>
        <h2 id="ws-dialog-title">{spec.title}</h2>
        {spec.message && <p className="ws-dialog-message">{spec.message}</p>}
        {spec.input && (
          <label className="ws-dialog-field">
            <span>{spec.input.label}</span>
            <input
              ref={field}
              data-testid="ws-dialog-input"
              value={value}
              placeholder={spec.input.placeholder}
              spellCheck={false}
              onChange={(e) => {
                setValue(e.target.value);
                setError(null);
              }}
            />
          </label>
        )}
        {error && (
          <div className="ws-dialog-error" role="alert" data-testid="ws-dialog-error">
            {error}
          </div>
        )}
        <div className="ws-dialog-buttons">
          <button ref={safe} className="ll-btn" data-testid="ws-dialog-cancel" onClick={() => close(false)}>
            Cancel
          </button>
          {spec.alt && (
            <button className="ll-btn" data-testid="ws-dialog-alt" disabled={busy} onClick={() => void act(spec.alt!.onConfirm)}>
              {spec.alt.label}
            </button>
          )}
          <button ref={primary} className={`ll-btn ws-primary${spec.danger ? ' ws-danger' : ''}`} data-testid="ws-dialog-confirm" disabled={busy} onClick={() => void act(spec.onConfirm)}>
            {spec.confirm}
          </button>
        </div>
      </div>
    </div>
  );
}
