// A live view of one run: header, curves, sample gallery / 2D scatter.
// Used as a cell output and inside the run detail page.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Artifact } from '../../../shared/domain';
import { guard, openRun, reportError } from '../actions';
import { getApi } from '../api/client';
import { RunCurves } from '../plots/curves';
import { isLaterCellArtifact, isLaterCellMetric } from '../plots/trace';
import { useLab } from '../store';
import { Gallery, interpolationNote, interpolationTitle, Scatter2d } from './ArtifactViews';
import { formatNumber, keyMetric, runMeta } from './format';
import { EstimateNote } from './EstimateNote';
import { ResumeButton } from './ResumeButton';
import { StatusChip } from './StatusChip';
import { useRunName } from './names';
import { useDeletedRuns } from '../workspace/manage';

const sameArtifact = (a: Artifact, b: Artifact) => a.path === b.path;

function useRunRecord(runId: string) {
  const run = useLab((s) => s.runs.find((r) => r.id === runId));
  useEffect(() => {
    if (run) return;
    // Not in the runs list yet (e.g. a brand-new run): fetch it once.
    void guard(`Loading run ${runId}`, () => getApi().call('runs.get', { id: runId })).then((res) => {
      if (res && !useLab.getState().runs.some((r) => r.id === runId)) useLab.getState().upsertRun(res.run);
    });
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId]);
  return run;
}

function useArtifacts(runId: string, epoch: number): Artifact[] {
  const [items, setItems] = useState<Artifact[]>([]);
  useEffect(() => {
    const api = getApi();
    let live: Artifact[] = [];
    let loaded = false;
    const merge = (list: Artifact[]) =>
      setItems((prev) => {
        const next = prev.slice();
        for (const a of list) if (!next.some((b) => sameArtifact(a, b))) next.push(a);
        return next.sort((x, y) => x.step - y.step);
      });
    const off = api.on('run.artifact', ({ artifact }) => {
      if (artifact.runId !== runId) return;
      if (loaded) merge([artifact]);
      else live.push(artifact);
    });
    setItems([]);
    void guard(`Loading artifacts of ${runId}`, () => api.call('runs.artifacts', { id: runId })).then((res) => {
      loaded = true;
      merge([...(res?.artifacts ?? []), ...live]);
      live = [];
    });
    return off;
  }, [runId, epoch]);
  return items;
}

/**
 * Bumped when the run goes back to 'running' (resumed): what the dead run logged after
 * its checkpoint was dropped, so curves and artifacts are loaded afresh.
 */
function useResumeEpoch(status: string | undefined): number {
  const [epoch, setEpoch] = useState(0);
  const prev = useRef(status);
  useEffect(() => {
    if (prev.current !== undefined && prev.current !== 'running' && status === 'running') setEpoch((e) => e + 1);
    prev.current = status;
  }, [status]);
  return epoch;
}

/** runs that may go on from their last checkpoint */
const RESUMABLE = new Set(['crashed', 'stopped', 'diverged', 'failed']);

/** A run's live view; a run deleted meanwhile (workspace/manage.ts) shows a note instead. */
export function RunView(props: { runId: string; compact?: boolean; hideResume?: boolean }) {
  const deleted = useDeletedRuns((s) => s.ids.has(props.runId));
  if (deleted) return <div className="run-deleted" data-testid="run-deleted">Run {props.runId} was deleted.</div>;
  return <LiveRunView {...props} />;
}

/**
 * `compact`: the live view in the cell that trained the run. It shows what training logs;
 * what later cells make of the run (lab.evaluate's test/* numbers, run.samples() pictures)
 * stays in those cells. `hideResume`: the cell shows its own Resume beside the stop note.
 */
function LiveRunView({ runId, compact = false, hideResume = false }: { runId: string; compact?: boolean; hideResume?: boolean }) {
  const run = useRunRecord(runId);
  const shownName = useRunName(runId, run?.name);
  const curvesHost = useRef<HTMLDivElement>(null);
  const curves = useRef<RunCurves | null>(null);
  const [smoothing, setSmoothing] = useState(0.6);
  const [maxStep, setMaxStep] = useState(0);
  const [hasCurves, setHasCurves] = useState(false);
  const epoch = useResumeEpoch(run?.status);
  const artifacts = useArtifacts(runId, epoch);

  useEffect(() => {
    const host = curvesHost.current;
    if (!host) return;
    setMaxStep(0); // a resumed run's curves start again from what the tracker kept
    const api = getApi();
    const c = new RunCurves(
      host,
      (step) => {
        setMaxStep(step);
        setHasCurves(true);
      },
      (e) => reportError('Plotting curves', e),
      () => runMeta(useLab.getState().runs.find((r) => r.id === runId)),
      compact ? isLaterCellMetric : undefined,
    );
    c.setSmoothing(smoothing);
    curves.current = c;
    const off = api.on('run.metrics', ({ runId: id, points }) => {
      if (id === runId) c.push(points);
    });
    void guard(`Loading curves of ${runId}`, () => api.call('runs.metrics', { id: runId, maxPoints: 2000 })).then((res) => c.load(res?.series ?? []));
    return () => {
      off();
      c.destroy();
      curves.current = null;
    };
    // smoothing is applied by the effect below, not by re-creating the plots
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [runId, epoch]);

  useEffect(() => {
    curves.current?.setSmoothing(smoothing);
  }, [smoothing]);

  const byKind = useMemo(() => {
    const m: Record<string, Artifact[]> = {};
    // pictures a later cell drew with run.samples() are that cell's output
    for (const a of artifacts) if (!(compact && isLaterCellArtifact(a.kind))) (m[a.kind] ??= []).push(a);
    return m;
  }, [artifacts, compact]);
  const hasArtifacts = !!(byKind.samples || byKind.scatter2d || byKind.reconstructions || byKind.image);
  // a training run logs its first grid at step 0: the space is kept for it from the start, so the layout does not jump
  const awaitingSamples = !hasArtifacts && run?.status === 'running' && 'train' in (run.config ?? {});

  const steps = Math.max(run?.steps ?? 0, maxStep);
  const total = run?.totalSteps ?? 0;
  const pct = total > 0 ? Math.min(100, (100 * steps) / total) : 0;
  const metric = run ? keyMetric(run) : null;

  return (
    <div className={`run-view${compact ? ' compact' : ''}`} data-testid="run-view" data-run-id={runId} data-status={run?.status ?? ''}>
      <div className="run-header">
        {compact ? (
          <button className="ll-link run-name" onClick={() => openRun(runId)} title="Open run details">
            {shownName}
          </button>
        ) : (
          <span className="run-name">{shownName}</span>
        )}
        {run && <StatusChip status={run.status} />}
        {run && RESUMABLE.has(run.status) && !(hideResume && run.status === 'stopped') && <ResumeButton runId={runId} />}
        <span className="run-steps" data-testid="run-steps">
          {steps}
          {total > 0 ? ` / ${total}` : ''} steps
        </span>
        {run && <span className="muted">{run.family}</span>}
        {run && <span className="badge">{run.backend}</span>}
        {run && <span className="muted">seed {run.seed}</span>}
        {metric && (
          <span className="muted">
            {metric.key} {formatNumber(metric.value)}
            {metric.kind && !['loss', 'info'].includes(metric.kind) && <span className="metric-kind"> {metric.kind}</span>}
            {run && metric.key.startsWith('test/') && <EstimateNote metrics={run.finalMetrics ?? {}} />}
          </span>
        )}
        <span className="spacer" />
        <label className="smoothing" title="EMA smoothing of train curves">
          smoothing
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} />
          <span className="smoothing-value">{smoothing.toFixed(2)}</span>
        </label>
      </div>
      {total > 0 && run?.status === 'running' && (
        <div className="progress">
          <div className="progress-bar" style={{ width: `${pct}%` }} />
        </div>
      )}
      {run?.error && <div className="run-error">{run.error}</div>}
      <div className={`run-body${hasArtifacts || awaitingSamples ? ' has-artifacts' : ''}`}>
        <div className="curves-wrap">
          {!hasCurves && <div className="ll-placeholder">waiting for metrics…</div>}
          {/* filled by RunCurves, outside React */}
          <div className="curves" ref={curvesHost} />
        </div>
        {awaitingSamples && (
          <div className="artifacts">
            <div className="gallery" data-testid="samples-pending">
              <div className="section-title">Samples</div>
              <div className="gallery-frame gallery-pending ll-placeholder">drawing the first samples…</div>
            </div>
          </div>
        )}
        {hasArtifacts && (
          <div className="artifacts">
            {byKind.samples && <Gallery title="Samples" items={byKind.samples} testId="sample-image" />}
            {byKind.interpolation && <Gallery title={interpolationTitle(byKind.interpolation[0])} items={byKind.interpolation} testId="interpolation-image" note={interpolationNote(byKind.interpolation[0])} />}
            {byKind.scatter2d && <Scatter2d items={byKind.scatter2d} />}
            {byKind.reconstructions && <Gallery title="Reconstructions" items={byKind.reconstructions} testId="reconstruction-image" />}
            {byKind.image && <Gallery title="Images" items={byKind.image} testId="artifact-image" />}
          </div>
        )}
      </div>
    </div>
  );
}
