// The confirmation before a restart throws variables away: which notebook's kernel (or,
// for the engine process, every notebook's), and what it holds. Keyboard: the Restart
// button has the focus, Enter confirms, Esc cancels, Tab moves between the two buttons.
import { useEffect, useRef } from 'react';
import { create } from 'zustand';
import type { KernelState } from '../../../shared/domain';
import { notebookTitle } from '../store';

export interface RestartQuestion {
  /** the engine process restarts (all notebooks), not one notebook's kernel */
  whole: boolean;
  /** the backend switched to, when that is why */
  backend?: string | null;
  /** the kernels that lose something */
  kernels: KernelState[];
}

const useAsk = create<{ question: RestartQuestion | null; answer: ((ok: boolean) => void) | null; returnFocus: HTMLElement | null }>(() => ({ question: null, answer: null, returnFocus: null }));

/** Shows the dialog; resolves true when the user confirms. */
export function askRestart(question: RestartQuestion): Promise<boolean> {
  useAsk.getState().answer?.(false);
  const returnFocus = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  return new Promise((resolve) => useAsk.setState({ question, answer: resolve, returnFocus }));
}

function close(ok: boolean): void {
  const { answer, returnFocus } = useAsk.getState();
  useAsk.setState({ question: null, answer: null, returnFocus: null });
  returnFocus?.focus();
  answer?.(ok);
}

const MAX_NAMES = 8;
function names(vars: string[]): string {
  const shown = vars.slice(0, MAX_NAMES).join(', ');
  return vars.length > MAX_NAMES ? `${shown} and ${vars.length - MAX_NAMES} more` : shown;
}
const count = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

export function RestartDialog() {
  const q = useAsk((s) => s.question);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (q) confirmRef.current?.focus();
  }, [q]);
  if (!q) return null;

  const onKey = (e: React.KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      e.stopPropagation();
      close(false);
    } else if (e.key === 'Tab') {
      // the focus stays in the dialog
      e.preventDefault();
      (document.activeElement === confirmRef.current ? cancelRef : confirmRef).current?.focus();
    }
    // keys typed here are the dialog's, not the notebook's command keys
    e.stopPropagation();
  };
  const single = !q.whole && q.kernels.length === 1 ? q.kernels[0] : null;
  const title = single
    ? `Restart the kernel of “${notebookTitle(single.notebook)}”?`
    : q.backend !== undefined
      ? `Switch to ${q.backend ?? 'the best available backend'} and restart the engine?`
      : 'Restart the engine?';
  return (
    <div className="restart-overlay" onMouseDown={(e) => e.target === e.currentTarget && close(false)}>
      <div className="restart-dialog" role="alertdialog" aria-modal="true" aria-labelledby="restart-title" aria-describedby="restart-body" data-testid="restart-dialog" onKeyDown={onKey}>
        <h2 id="restart-title">{title}</h2>
        <div id="restart-body">
          {single ? (
            <>
              <p>
                Its {count(single.variables.length, 'variable')} {single.variables.length === 1 ? 'is' : 'are'} cleared
                {single.variables.length > 0 && <>: <code>{names(single.variables)}</code></>}
                {single.status === 'busy' ? '. Its running cell is stopped first.' : single.status === 'queued' ? '. Its waiting cells do not run.' : '.'}
              </p>
              <p className="restart-note">Other notebooks keep their variables. Outputs on the page and finished runs stay.</p>
            </>
          ) : (
            <>
              <p>Every notebook&apos;s variables are cleared:</p>
              <ul data-testid="restart-notebooks">
                {q.kernels.map((k) => (
                  <li key={k.notebook}>
                    <b>{notebookTitle(k.notebook)}</b> — {count(k.variables.length, 'variable')}
                    {k.variables.length > 0 && <>: <code>{names(k.variables)}</code></>}
                    {k.status === 'busy' && ' (its running cell is stopped; a training run ends as stopped)'}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
        <div className="restart-buttons">
          <button ref={cancelRef} className="ll-btn" data-testid="restart-cancel" onClick={() => close(false)}>
            Cancel
          </button>
          <button ref={confirmRef} className="ll-btn primary danger" data-testid="restart-confirm" onClick={() => close(true)}>
            Restart
          </button>
        </div>
      </div>
    </div>
  );
}
