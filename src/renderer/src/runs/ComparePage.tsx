// Side by side: 2 to 8 runs' curves overlaid per metric, what differs between
// them (settings, seed, backend, data, a diff of the code), their evaluations with
// the kind of each number, their sample grids and interpolation strips at one
// shared step, and for sweeps a parallel-coordinates plot.
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Artifact, RunRecord, SeriesData } from '../../../shared/domain';
import { flattenConfig as flatten, gridAt, gridSteps, isBookkeeping, isSampleMetric, lineDiff, metricKindOf, runFacts, samplePairOf, sampleNotComparable, sweepOf, unitOf } from '../../../shared/compare';
import { guard, openRun } from '../actions';
import { getApi } from '../api/client';
import { useLab } from '../store';
import { CompareCurves, type CurveItem, type XAxis } from './CompareCurves';
import { formatNumber } from './format';
import { EstimateNote } from './EstimateNote';
import { ExportLinks } from './ExportLinks';
import { ParallelCoords } from './ParallelCoords';
import { useRunNames } from './names';
import { interpolationTitle } from './ArtifactViews';
import { runColor } from '../plots/colors';

const POINT_CHOICES = [500, 2000, 10_000] as const;

interface Loaded {
  run: RunRecord;
  grids: Artifact[];
  strips: Artifact[];
}


function CodeDiff({ a, b }: { a: string; b: string }) {
  const lines = useMemo(() => lineDiff(a, b), [a, b]);
  return (
    <pre className="code-diff" data-testid="code-diff">
      {lines.map((l, i) => (
        <div key={i} className={l.op === '+' ? 'diff-add' : l.op === '-' ? 'diff-del' : ''}>
          {l.op} {l.text}
        </div>
      ))}
    </pre>
  );
}

export function ComparePage({ runIds }: { runIds: string[] }) {
  const [loaded, setLoaded] = useState<Loaded[] | null>(null);
  const [series, setSeries] = useState<SeriesData[][] | null>(null);
  const [stepIndex, setStepIndex] = useState<number | null>(null);
  const [axis, setAxis] = useState<XAxis>('step');
  const [smoothing, setSmoothing] = useState(0);
  const [points, setPoints] = useState<number>(2000);
  const [showSame, setShowSame] = useState(false);
  const allRuns = useLab((s) => s.runs);
  // runs are named by what differs from their siblings (shared/run-names.ts)
  const runNames = useRunNames();
  const nameOf = (r: RunRecord) => runNames.get(r.id) ?? r.name;
  useEffect(() => {
    let live = true;
    void guard('Loading the runs to compare', async () => {
      const api = getApi();
      const all = await Promise.all(
        runIds.map(async (id) => {
          const [{ run }, { artifacts }] = await Promise.all([api.call('runs.get', { id }), api.call('runs.artifacts', { id })]);
          return { run, grids: artifacts.filter((a) => a.kind === 'samples'), strips: artifacts.filter((a) => a.kind === 'interpolation') };
        }),
      );
      if (live) setLoaded(all);
    });
    return () => {
      live = false;
    };
  }, [runIds]);
  useEffect(() => {
    let live = true;
    void guard('Loading the curves to compare', async () => {
      const api = getApi();
      const all = await Promise.all(runIds.map(async (id) => (await api.call('runs.metrics', { id, maxPoints: points })).series));
      if (live) setSeries(all);
    });
    return () => {
      live = false;
    };
  }, [runIds, points]);

  const keys = useMemo(() => [...new Set((series ?? []).flatMap((ss) => ss.map((s) => s.key)))].sort(), [series]);
  const curveItems = useMemo(
    (): CurveItem[][] =>
      loaded && series
        ? series.map((ss, i) => ss.map((s) => ({ run: loaded[i].run, label: nameOf(loaded[i].run), color: runColor(i), s })))
        : [],
    // eslint-disable-next-line react-hooks/exhaustive-deps -- nameOf reads runNames
    [loaded, series, runNames],
  );
  if (!loaded) return <div className="compare-page muted">Loading {runIds.length} runs…</div>;

  // every step at which a run logged a grid: the slider moves all grids together, and a
  // run that stopped early (or logs less often) shows its latest grid before the step
  const common = gridSteps(loaded.map((l) => l.grids));
  const index = stepIndex === null || stepIndex >= common.length ? common.length - 1 : stepIndex;
  const step = common[index];
  const hasStrips = loaded.some((l) => l.strips.length > 0);
  const shownGrids = loaded.map((l) => (step === undefined ? null : gridAt(l.grids, step)));

  const settings = loaded.map((l) => flatten(l.run.config));
  const settingKeys = [...new Set(settings.flatMap((s) => Object.keys(s)))].filter((k) => !isBookkeeping(k)).sort();
  // status and steps too: a stopped run's curves and grids end early
  const facts = loaded.map((l) => runFacts(l.run));
  // what differs first, then (on request) what is the same
  const factRows = facts[0].map(([k], j): [string, string[]] => [k, facts.map((f) => f[j][1])]);
  const diffRows = [
    // how far each run got leads: it explains curves and grids that end early
    ...factRows.slice(0, 2),
    ...settingKeys.map((k): [string, string[]] => [k, settings.map((st) => st[k] ?? '—')]),
    ...factRows.slice(2),
  ]
    .map(([k, values]): [string, string[], boolean] => [k, values, new Set(values).size > 1])
    .sort((a, b) => Number(b[2]) - Number(a[2]));
  const finalKeys = [...new Set(loaded.flatMap((l) => Object.keys(l.run.finalMetrics)))].sort();
  const evalKeys = finalKeys.filter((k) => k.startsWith('val/') || k.startsWith('test/'));
  const kindOf = (r: RunRecord, k: string) => metricKindOf(r, k);
  // sample metrics compare only between runs with the same classifier version and sample count
  const sampleRuns = loaded.map((l) => l.run).filter((r) => evalKeys.some((k) => isSampleMetric(k) && k in r.finalMetrics));
  const samplePairs = [...new Set(sampleRuns.map(samplePairOf))];

  // parallel coordinates: every run of the sweep when the compared runs come from one,
  // else the compared runs; axes are the settings that vary among them
  const sweepIds = new Set(loaded.map((l) => sweepOf(l.run)?.id ?? ''));
  const sweepId = sweepIds.size === 1 ? [...sweepIds][0] : '';
  const ofSweep = sweepId ? allRuns.filter((r) => sweepOf(r)?.id === sweepId).reverse() : [];
  // the runs list may not hold them all yet (it loads newest first): then the compared ones
  const pcRunsSafe = ofSweep.length >= loaded.length ? ofSweep : loaded.map((l) => l.run);
  const pcSettings = pcRunsSafe.map((r) => flatten(r.config));
  const pcKeys = sweepId
    ? [...new Set(pcRunsSafe.flatMap((r) => Object.keys(sweepOf(r)?.params ?? {})))].map((k) => `sweep.params.${k}`)
    : [...new Set(pcSettings.flatMap((s) => Object.keys(s)))].filter((k) => !isBookkeeping(k) && new Set(pcSettings.map((s) => s[k])).size > 1).sort();
  // the metric the runs are judged by (their best-checkpoint metric) first
  const judged = (loaded[0].run.config.train as { best?: { key?: string } } | undefined)?.best?.key;
  const pcMetrics = [...evalKeys, ...finalKeys.filter((k) => !evalKeys.includes(k))].sort((a, b) => Number(b === judged) - Number(a === judged));

  return (
    <div className="compare-page" data-testid="compare-page">
      <div className="page-header">
        <h1>Compare {loaded.length} runs{sweepId ? ` · ${sweepOf(loaded[0].run)?.name ?? 'sweep'}` : ''}</h1>
        <span className="spacer" />
        <ExportLinks runIds={runIds} choices={['report', 'pdf', 'metrics']} testPrefix="compare-export" />
      </div>
      <div className="compare-runs">
        {loaded.map((l, i) => (
          <button key={l.run.id} className="ll-btn" style={{ borderColor: runColor(i) }} onClick={() => openRun(l.run.id)} title="open this run">
            <span style={{ color: runColor(i) }}>●</span> {nameOf(l.run)}
          </button>
        ))}
      </div>

      <div className="section-title">Samples {common.length > 0 ? `· step ${step}` : ''}</div>
      {common.length === 0 ? (
        <div className="muted">None of these runs logged a sample grid.</div>
      ) : (
        <>
          <div className="compare-grids">
            {loaded.map((l, i) => {
              const g = shownGrids[i];
              if (!g)
                return (
                  <figure key={l.run.id} className="compare-grid-missing" data-testid="compare-grid-missing">
                    <div className="compare-grid-empty muted">
                      {l.grids.length === 0 ? `no sample grid (${l.run.status} at step ${l.run.steps})` : `first grid at step ${l.grids[0].step}`}
                    </div>
                    <figcaption style={{ color: runColor(i) }}>
                      {nameOf(l.run)}
                    </figcaption>
                  </figure>
                );
              return (
                <figure key={l.run.id}>
                  <img data-testid="compare-grid" data-step={g.step} data-run-id={l.run.id} src={getApi().artifactUrl(g.path)} alt={`${nameOf(l.run)} at step ${g.step}`} />
                  <figcaption style={{ color: runColor(i) }}>
                    {nameOf(l.run)} · seed {g.seed ?? '—'}
                    {g.step !== step && (
                      <span className="muted" data-testid="compare-grid-earlier">
                        {' '}· its last grid, step {g.step}{l.run.status !== 'finished' && l.run.status !== 'running' ? ` (${l.run.status} at step ${l.run.steps})` : ''}
                      </span>
                    )}
                  </figcaption>
                </figure>
              );
            })}
          </div>
          <div className="step-slider">
            <input
              type="range" min={0} max={common.length - 1} value={index} disabled={common.length < 2}
              aria-label="compare step" data-testid="compare-slider"
              onChange={(e) => setStepIndex(Number(e.target.value))}
            />
            <span className="step-label">step {step} ({index + 1}/{common.length})</span>
          </div>
          {loaded.length === 2 && shownGrids[0] && shownGrids[1] && (
            <GridDiff
              a={getApi().artifactUrl(shownGrids[0].path)}
              b={getApi().artifactUrl(shownGrids[1].path)}
              names={[nameOf(loaded[0].run), nameOf(loaded[1].run)]}
            />
          )}
          {hasStrips && (
            <>
              <div className="section-title" title="each run decodes codes on a path between two fixed endpoints in its latent space">
                {interpolationTitle(loaded.find((l) => l.strips.length > 0)?.strips[0])} · step {step}
              </div>
              <div className="compare-strips" data-testid="compare-strips">
                {loaded.map((l, i) => {
                  // the strip at the slider's step, else the latest before it
                  const strip = [...l.strips].reverse().find((x) => x.step <= step);
                  return (
                    <div key={l.run.id} className="strip-row">
                      <span className="strip-label" style={{ color: runColor(i) }} title={`${nameOf(l.run)} (${l.run.id})`}>
                        {nameOf(l.run)}
                        {strip && strip.step !== step && <span className="muted"> · step {strip.step}</span>}
                      </span>
                      {strip ? (
                        <img data-testid="compare-strip" data-step={strip.step} src={getApi().artifactUrl(strip.path)} alt={`interpolation of ${nameOf(l.run)} at step ${strip.step}`} title={strip.meta.endpoints === 'data' ? 'between the codes of the first two validation images (shown at the ends)' : 'between two prior draws of the sample seed (great-circle path)'} />
                      ) : (
                        <span className="muted">no latent space</span>
                      )}
                    </div>
                  );
                })}
              </div>
            </>
          )}
        </>
      )}

      <div className="section-title">Evaluation</div>
      {new Set(loaded.map((l) => l.run.dataFingerprint)).size > 1 && (
        <div className="compare-warning" data-testid="compare-data-warning">
          These runs were trained on different data or preprocessing ({[...new Set(loaded.map((l) => `${l.run.dataName} ${l.run.dataFingerprint.slice(0, 8)}`))].join(', ')}): their likelihoods are not comparable.
        </div>
      )}
      {samplePairs.length > 1 && (
        <div className="compare-warning" data-testid="compare-sample-warning">
          These runs' sample metrics were computed with different classifier versions or sample counts ({sampleRuns.map((r) => `${nameOf(r)}: ${samplePairOf(r)}`).join(', ')}): they are not comparable.
        </div>
      )}
      <table className="ll-table" data-testid="compare-eval">
        <thead>
          <tr>
            <th>metric</th>
            {loaded.map((l, i) => (
              <th key={l.run.id} style={{ color: runColor(i) }} title={l.run.id}>{nameOf(l.run)}</th>
            ))}
            <th>unit</th>
            <th>kind</th>
          </tr>
        </thead>
        <tbody>
          {evalKeys.map((k) => {
            const kinds = [...new Set(loaded.map((l) => kindOf(l.run, k)).filter(Boolean))];
            const apart = sampleNotComparable(loaded.map((l) => l.run), k);
            return (
              <tr key={k} data-key={k}>
                <td>{k}</td>
                {loaded.map((l) => (
                  <td key={l.run.id} className="num">
                    {k in l.run.finalMetrics ? formatNumber(l.run.finalMetrics[k]) : '—'}
                    {k === 'test/nll' && k in l.run.finalMetrics && <EstimateNote metrics={l.run.finalMetrics} />}
                  </td>
                ))}
                <td>{unitOf(k, kinds)}</td>
                <td className={kinds.length > 1 || apart ? 'differs' : ''} data-testid="compare-eval-kind">
                  {kinds.length > 1 ? `kinds differ (${kinds.join(', ')}): not comparable` : apart ? `${kinds[0] ?? 'sample'}, ${apart}` : kinds[0] ?? ''}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <div className="section-title">What differs</div>
      <table className="ll-table compare-diff" data-testid="compare-diff">
        <tbody>
          {diffRows.filter(([, , differs]) => differs || showSame).map(([k, values, differs]) => (
            <tr key={k} className={differs ? 'differs' : ''} data-differs={differs} data-key={k}>
              <td>{k}</td>
              {values.map((v, i) =>
                k === 'code' ? (
                  <td key={i}>
                    {!differs ? (i === 0 ? 'same' : '') : i === 0 ? (
                      <details><summary>code</summary><pre className="json">{v}</pre></details>
                    ) : v === values[0] ? 'same as the first' : (
                      <details open={loaded.length === 2}><summary>diff against the first</summary><CodeDiff a={values[0]} b={v} /></details>
                    )}
                  </td>
                ) : (
                  <td key={i} className="mono">{v}</td>
                ),
              )}
            </tr>
          ))}
          <tr className="same-toggle" onClick={() => setShowSame((v) => !v)} data-testid="compare-same-toggle">
            <td colSpan={loaded.length + 1}>{showSame ? '▾ hide' : '▸ show'} the {diffRows.filter(([, , d]) => !d).length} that are the same</td>
          </tr>
        </tbody>
      </table>

      {pcKeys.length > 0 && pcMetrics.length > 0 && (
        <>
          <div className="section-title">{sweepId ? `Sweep · ${pcRunsSafe.length} runs` : 'Settings against a metric'}</div>
          <ParallelCoords runs={pcRunsSafe} settings={pcSettings} keys={pcKeys} metrics={pcMetrics} runColors={Object.fromEntries(loaded.map((l, i) => [l.run.id, runColor(i)]))} />
        </>
      )}

      <div className="section-title">Curves</div>
      <div className="curve-controls compare-curve-controls">
        <label>
          x axis{' '}
          <select value={axis} onChange={(e) => setAxis(e.target.value as XAxis)} data-testid="compare-axis">
            <option value="step">step</option>
            <option value="epoch">epoch</option>
            <option value="wall">wall time</option>
          </select>
        </label>
        <label>
          smoothing (train curves){' '}
          <input type="range" min={0} max={0.99} step={0.01} value={smoothing} onChange={(e) => setSmoothing(Number(e.target.value))} data-testid="compare-smoothing" />
          <span className="mono"> {smoothing.toFixed(2)}</span>
        </label>
        <label title="points per curve: longer curves are cut into buckets and each keeps its min and max, so spikes survive">
          points per curve{' '}
          <select value={points} onChange={(e) => setPoints(Number(e.target.value))} data-testid="compare-points">
            {POINT_CHOICES.map((p) => (
              <option key={p} value={p}>{p.toLocaleString('en')}</option>
            ))}
          </select>
        </label>
      </div>
      <div className="compare-legend">
        {loaded.map((l, i) => (
          <span key={l.run.id} style={{ color: runColor(i) }}>━ {nameOf(l.run)}</span>
        ))}
      </div>
      {series ? <CompareCurves keys={keys} series={curveItems} axis={axis} smoothing={smoothing} /> : <div className="muted">Loading curves…</div>}
    </div>
  );
}

type DiffMode = 'difference' | 'wipe' | 'flicker';

/**
 * Two grids on top of each other: the absolute difference per pixel (white where
 * they differ most), a wipe (drag to reveal the second), or a flicker between
 * them. Grids drawn from the same sample seed put the same latent in the same
 * cell, so what differs is the model, not the noise.
 */
function GridDiff({ a, b, names }: { a: string; b: string; names: [string, string] }) {
  const [mode, setMode] = useState<DiffMode>('difference');
  const [wipe, setWipe] = useState(50);
  const [showB, setShowB] = useState(false);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [meanDiff, setMeanDiff] = useState<number | null>(null);
  useEffect(() => {
    if (mode !== 'difference') return;
    let live = true;
    const load = (src: string) =>
      new Promise<HTMLImageElement>((resolve, reject) => {
        const img = new Image();
        img.crossOrigin = 'anonymous';
        img.onload = () => resolve(img);
        img.onerror = () => reject(new Error(`cannot load ${src}`));
        img.src = src;
      });
    void Promise.all([load(a), load(b)])
      .then(([ia, ib]) => {
        const c = canvas.current;
        if (!live || !c) return;
        const w = Math.min(ia.width, ib.width), h = Math.min(ia.height, ib.height);
        [c.width, c.height] = [w, h];
        const g = c.getContext('2d')!;
        const pixels = (img: HTMLImageElement) => {
          g.clearRect(0, 0, w, h);
          g.drawImage(img, 0, 0);
          return g.getImageData(0, 0, w, h);
        };
        const pa = pixels(ia), pb = pixels(ib);
        let sum = 0;
        for (let i = 0; i < pa.data.length; i += 4) {
          const d = Math.abs(pa.data[i] - pb.data[i]);
          sum += d;
          pa.data[i] = pa.data[i + 1] = pa.data[i + 2] = d;
          pa.data[i + 3] = 255;
        }
        g.putImageData(pa, 0, 0);
        setMeanDiff(sum / (w * h) / 255);
      })
      .catch(() => setMeanDiff(null));
    return () => {
      live = false;
    };
  }, [a, b, mode]);
  useEffect(() => {
    if (mode !== 'flicker') return;
    const t = setInterval(() => setShowB((v) => !v), 500);
    return () => clearInterval(t);
  }, [mode]);
  return (
    <div className="grid-diff" data-testid="grid-diff" data-mode={mode}>
      <div className="grid-diff-modes">
        {(['difference', 'wipe', 'flicker'] as const).map((m) => (
          <label key={m}>
            <input type="radio" name="grid-diff" checked={mode === m} onChange={() => setMode(m)} data-testid={`diff-${m}`} /> {m}
          </label>
        ))}
        {mode === 'difference' && meanDiff !== null && <span className="muted" data-testid="diff-mean">mean |difference| {(100 * meanDiff).toFixed(1)} %</span>}
        {mode === 'wipe' && <input type="range" min={0} max={100} value={wipe} onChange={(e) => setWipe(Number(e.target.value))} aria-label="wipe" />}
      </div>
      {mode === 'difference' && <canvas ref={canvas} data-testid="diff-canvas" />}
      {mode === 'wipe' && (
        <div className="grid-wipe-wrap">
          <div className="grid-wipe-sides" data-testid="wipe-sides">
            <span style={{ color: runColor(0) }}>◀ {names[0]}</span>
            <span style={{ color: runColor(1) }}>{names[1]} ▶</span>
          </div>
          <div className="grid-wipe">
            <img src={a} alt={names[0]} />
            <img src={b} alt={names[1]} style={{ clipPath: `inset(0 0 0 ${wipe}%)` }} />
            {/* where one run ends and the other begins */}
            <div className="grid-wipe-divider" data-testid="wipe-divider" style={{ left: `${wipe}%` }} />
          </div>
        </div>
      )}
      {mode === 'flicker' && (
        <div className="grid-flicker">
          <img src={showB ? b : a} alt={showB ? names[1] : names[0]} data-showing={showB ? 'b' : 'a'} />
          <div className="grid-flicker-label" data-testid="flicker-label" style={{ color: runColor(showB ? 1 : 0) }}>
            showing {showB ? names[1] : names[0]}
          </div>
        </div>
      )}
    </div>
  );
}
