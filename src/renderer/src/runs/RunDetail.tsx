// The main-area page of one run: live view, config, final metrics, checkpoints, code.
import { useEffect, useState } from 'react';
import type { Checkpoint } from '../../../shared/domain';
import { deleteRun, guard, renameRun } from '../actions';
import { getApi } from '../api/client';
import { useLab } from '../store';
import { formatDuration, formatNumber, formatTime } from './format';
import { ExportLinks } from './ExportLinks';
import { RunView } from './RunView';
import { useRunName } from './names';

export function RunDetail({ runId }: { runId: string }) {
  const run = useLab((s) => s.runs.find((r) => r.id === runId));
  const notebookOpen = useLab((s) => s.notebook !== null);
  const [checkpoints, setCheckpoints] = useState<Checkpoint[] | null>(null);
  const status = run?.status;
  const name = useRunName(runId, run?.name);

  useEffect(() => {
    let live = true;
    void guard(`Loading run ${runId}`, () => getApi().call('runs.get', { id: runId })).then((res) => {
      if (!live || !res) return;
      setCheckpoints(res.checkpoints);
      if (!useLab.getState().runs.some((r) => r.id === runId)) useLab.getState().upsertRun(res.run);
    });
    return () => {
      live = false;
    };
    // refetch when the run changes status (e.g. a final checkpoint appears)
  }, [runId, status]);

  const back = () => useLab.getState().setView({ kind: 'notebook' });

  return (
    <div className="run-detail">
      <div className="page-header">
        {notebookOpen && (
          <button className="ll-btn" onClick={back}>
            ← Notebook
          </button>
        )}
        <h1 data-testid="run-title">{name}</h1>
        <span className="muted mono">{runId}</span>
        {run && (
          <>
            <button className="ll-btn ll-small" data-testid="run-page-rename" onClick={() => void renameRun(runId)}>
              Rename…
            </button>
            <button className="ll-btn ll-small" data-testid="run-page-delete" title={run.status === 'running' ? 'A running run cannot be deleted: stop it first' : 'Delete this run and its files'} onClick={() => void deleteRun(runId)}>
              Delete…
            </button>
          </>
        )}
        <ExportLinks runIds={[runId]} choices={['report', 'pdf', 'grid', 'gif', 'metrics']} testPrefix="export" />
      </div>
      {run && (
        <div className="run-facts">
          <span>
            <b>family</b> {run.family}
          </span>
          <span>
            <b>data</b> {run.dataName || '—'}
          </span>
          <span>
            <b>notebook</b> {run.notebook || '—'}
          </span>
          <span>
            <b>started</b> {formatTime(run.startedAt)}
          </span>
          <span>
            <b>duration</b> {formatDuration((run.endedAt ?? run.heartbeat ?? Date.now()) - run.startedAt)}
          </span>
          <span className="mono" title="data fingerprint">
            <b>data fp</b> {run.dataFingerprint.slice(0, 12) || '—'}
          </span>
        </div>
      )}
      <RunView runId={runId} />
      <div className="detail-grid">
        <section>
          <div className="section-title">Config</div>
          <pre className="json">{run ? JSON.stringify(run.config, null, 2) : '…'}</pre>
        </section>
        <section>
          <div className="section-title">Final metrics</div>
          {run && Object.keys(run.finalMetrics).length > 0 ? (
            <table className="ll-table">
              <tbody>
                {Object.entries(run.finalMetrics)
                  .sort(([a], [b]) => a.localeCompare(b))
                  .map(([k, v]) => (
                    <tr key={k}>
                      <td>{k}</td>
                      <td className="num">{formatNumber(v)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          ) : (
            <div className="muted">none yet</div>
          )}
          <div className="section-title">Checkpoints</div>
          {checkpoints === null ? (
            <div className="muted">…</div>
          ) : checkpoints.length === 0 ? (
            <div className="muted">none</div>
          ) : (
            <table className="ll-table" data-testid="checkpoints">
              <thead>
                <tr>
                  <th>step</th>
                  <th>reason</th>
                  <th>metric</th>
                  <th>path</th>
                </tr>
              </thead>
              <tbody>
                {checkpoints.map((c) => (
                  <tr key={c.path + c.step}>
                    <td className="num">{c.step}</td>
                    <td>{c.reason}</td>
                    <td>{c.metricKey ? `${c.metricKey} ${c.metricValue != null ? formatNumber(c.metricValue) : ''}` : ''}</td>
                    <td className="mono ll-small">{c.path}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </section>
      </div>
      {run?.code && (
        <section>
          <div className="section-title">Code snapshot</div>
          <pre className="code-snapshot">{run.code}</pre>
        </section>
      )}
    </div>
  );
}
