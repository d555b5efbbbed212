// The sidebar's runs list, newest first, kept live by run.updated events.
import { sweepOf } from '../../../shared/compare';
import { deleteRun, openCompare, openRun, refreshRuns, renameRun } from '../actions';
import { useLab } from '../store';
import { configSummary, formatNumber, keyMetric } from './format';
import { StatusChip } from './StatusChip';
import { useRunNames } from './names';
import { PencilIcon, TrashIcon } from '../workspace/icons';

export function RunsPanel() {
  const runs = useLab((s) => s.runs);
  const selected = useLab((s) => (s.view.kind === 'run' ? s.view.runId : null));
  const ticked = useLab((s) => s.compareSel);
  const toggle = useLab((s) => s.toggleCompare);
  const notebook = useLab((s) => s.notebook?.path ?? null);
  const names = useRunNames();
  // the open notebook's runs, newest first: "compare this notebook" takes the latest 8
  const ofNotebook = notebook ? runs.filter((r) => r.notebook === notebook) : [];
  return (
    <div className="side-section runs-section">
      <div className="side-title">
        Runs <span className="ll-count">{runs.length}</span>
        <span className="spacer" />
        {ticked.length === 0 && ofNotebook.length >= 2 && (
          <button
            className="ll-btn ll-small"
            data-testid="compare-notebook"
            title={`Compare the latest ${Math.min(8, ofNotebook.length)} runs of this notebook`}
            onClick={() => openCompare(ofNotebook.slice(0, 8).map((r) => r.id))}
          >
            Compare notebook
          </button>
        )}
        {ticked.length > 0 && (
          <button
            className="ll-btn ll-small"
            data-testid="compare-open"
            disabled={ticked.length < 2 || ticked.length > 8}
            title="Compare the ticked runs (2 to 8)"
            onClick={() => openCompare(ticked.filter((id) => runs.some((r) => r.id === id)))}
          >
            Compare {ticked.length}
          </button>
        )}
        <button className="ll-icon-btn" title="Refresh runs" onClick={() => void refreshRuns()}>
          ⟳
        </button>
      </div>
      <ul className="runs-list" data-testid="runs-panel">
        {runs.length === 0 && <li className="ll-empty">No runs yet. Run a training cell.</li>}
        {runs.map((r) => {
          const m = keyMetric(r);
          return (
            <li
              key={r.id}
              className={`run-row${selected === r.id ? ' selected' : ''}`}
              data-testid="run-row"
              data-run-id={r.id}
              data-status={r.status}
              onClick={() => openRun(r.id)}
              title={`${names.get(r.id) ?? r.name}\n${r.id}`}
            >
              <div className="run-row-top">
                <input
                  type="checkbox"
                  className="compare-tick"
                  data-testid="compare-tick"
                  title="Tick to compare"
                  checked={ticked.includes(r.id)}
                  onClick={(e) => e.stopPropagation()}
                  onChange={() => toggle(r.id)}
                />
                <span className="run-row-name" data-testid="run-name">{names.get(r.id) ?? r.name}</span>
                <StatusChip status={r.status} />
                <span className="run-row-actions" onClick={(e) => e.stopPropagation()}>
                  <button className="ll-icon-btn" data-testid="run-rename" title="Rename this run" aria-label="Rename run" onClick={() => void renameRun(r.id)}>
                    <PencilIcon />
                  </button>
                  <button
                    className="ll-icon-btn danger"
                    data-testid="run-delete"
                    title={r.status === 'running' ? 'A running run cannot be deleted: stop it first' : 'Delete this run and its files'}
                    aria-label="Delete run"
                    onClick={() => void deleteRun(r.id)}
                  >
                    <TrashIcon />
                  </button>
                </span>
              </div>
              <div className="run-row-meta">
                <span>{r.family}</span>
                <span>
                  {r.steps}
                  {r.totalSteps > 0 ? `/${r.totalSteps}` : ''}
                </span>
                <span>{r.backend}</span>
                <span>seed {r.seed}</span>
              </div>
              <div className="run-row-config" data-testid="run-config">
                {configSummary(r)}
              </div>
              {sweepOf(r) && (
                <button
                  className="sweep-chip"
                  data-testid="sweep-chip"
                  title="Compare this sweep's runs (the first 8; the parallel-coordinates plot shows them all)"
                  onClick={(e) => {
                    e.stopPropagation();
                    openCompare(runs.filter((x) => sweepOf(x)?.id === sweepOf(r)!.id).reverse().slice(0, 8).map((x) => x.id));
                  }}
                >
                  sweep {sweepOf(r)!.name} · {sweepOf(r)!.index + 1}/{sweepOf(r)!.count}
                </button>
              )}
              {m && (
                <div className="run-row-metric">
                  {m.key} <b>{formatNumber(m.value)}</b>
                  {m.kind && !['loss', 'info'].includes(m.kind) && <span className="metric-kind"> {m.kind}</span>}
                </div>
              )}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
