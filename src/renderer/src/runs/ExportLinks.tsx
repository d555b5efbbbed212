// Export buttons (report, PDF, grid, GIF, CSV) for the runs on screen. Each export
// is fetched first, so a failure (no Chromium for the PDF, a run without grids)
// shows its reason in the error banner instead of a broken download, and the
// button says it is working while a report is printed. The bytes then download
// under the host's file name (on the desktop, Electron asks where to save them).
import { useState } from 'react';
import { EXPORT_CHOICES, type ExportChoice } from '../../../shared/exports';
import { getApi } from '../api/client';
import { useLab } from '../store';

export type { ExportChoice };

export function exportHref(choice: ExportChoice, runIds: string[]): string {
  return getApi().exportUrl(EXPORT_CHOICES[choice].request(runIds));
}

/** Fetches an export and saves it as a download; resolves false (and shows why) if the host refused. */
export async function downloadExport(href: string, what: string): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch(href);
  } catch (e) {
    useLab.getState().pushError(`${what}: ${(e as Error).message}`);
    return false;
  }
  if (!res.ok) {
    useLab.getState().pushError(`${what} failed: ${(await res.text()) || res.statusText}`);
    return false;
  }
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'export';
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return true;
}

export function ExportLinks({ runIds, choices, testPrefix }: { runIds: string[]; choices: ExportChoice[]; testPrefix: string }) {
  const [busy, setBusy] = useState<ExportChoice | null>(null);
  const many = runIds.length > 1;
  return (
    <span className="export-links" data-testid={`${testPrefix}s`}>
      <span className="muted">Export</span>
      {choices.map((c) => (
        <button
          key={c}
          className="ll-btn"
          data-testid={`${testPrefix}-${c}`}
          disabled={busy !== null}
          title={`download the ${EXPORT_CHOICES[c].label.toLowerCase()} of ${c === 'grid' || c === 'gif' ? 'the first run' : many ? 'these runs' : 'this run'}`}
          onClick={() => {
            setBusy(c);
            void downloadExport(exportHref(c, runIds), `Export ${EXPORT_CHOICES[c].label}`).finally(() => setBusy(null));
          }}
        >
          {busy === c ? `${EXPORT_CHOICES[c].label}…` : EXPORT_CHOICES[c].label}
        </button>
      ))}
    </span>
  );
}
