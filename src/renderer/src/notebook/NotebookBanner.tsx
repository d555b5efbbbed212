// The open notebook's access notice: read-only (the file does not parse, and is
// never saved over) or not trusted (its code does not run until the user trusts
// it, as in Jupyter). The host enforces both; this says why and offers Trust.
import { guard } from '../actions';
import { getApi } from '../api/client';
import { useLab } from '../store';

export async function trustOpenNotebook(): Promise<void> {
  const nb = useLab.getState().notebook;
  if (!nb) return;
  const res = await guard(`Trusting ${nb.path}`, () => getApi().call('notebook.trust', { path: nb.path }));
  if (res && useLab.getState().notebook?.path === nb.path) useLab.getState().setTrusted(res.trusted);
}

export function NotebookBanner() {
  const readOnly = useLab((s) => s.notebook?.readOnly ?? null);
  const trusted = useLab((s) => s.notebook?.trusted ?? true);
  const dirty = useLab((s) => s.notebook?.dirty ?? false);
  if (readOnly) {
    return (
      <div className="ll-banner error nb-access" data-testid="readonly-banner" role="alert">
        <span className="banner-text">
          <strong>Read-only:</strong> {readOnly}. It is shown as far as it could be read and is never saved over; fix or
          rename the file outside Latent Lab.
        </span>
      </div>
    );
  }
  if (trusted) return null;
  return (
    <div className="ll-banner warn nb-access" data-testid="untrusted-banner" role="alert">
      <span className="banner-text">
        <strong>This notebook is not trusted.</strong> It was not written by Latent Lab on this computer (or its code was
        changed outside it). Its saved outputs are shown; its code does not run until you trust it.
        {dirty ? ' Trusting applies to the file as saved: unsaved edits do not change it.' : ''}
      </span>
      <span className="spacer" />
      <button className="ll-btn ll-small primary" data-testid="trust-notebook" onClick={() => void trustOpenNotebook()}>
        Trust
      </button>
    </div>
  );
}
