// Side by side: 2 to 8 runs' curves overlaid per metric, what differs between
// them (settings, seed, backend, data, code), their evaluations with the kind of
// each number, and their sample grids at one shared step.
import Plotly from 'plotly.js-basic-dist-min';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { Artifact, RunRecord, SeriesData } from '../../../shared/domain';
import { guard, openRun } from '../actions';
import { getApi } from '../api/client';
import { formatNumber } from './format';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

interface Loaded {
  run: RunRecord;
  series: SeriesData[];
  grids: Artifact[];
}

/** Settings flattened to dotted keys, values as JSON. */
function flatten(o: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(o);
  return out;
}

function CompareChart({ metric, items }: { metric: string; items: { label: string; color: string; s: SeriesData }[] }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const data = items.map(({ label, color, s }) => ({ x: s.steps, y: s.values, name: label, type: 'scatter' as const, mode: 'lines' as const, line: { color, width: 1.5 } }));
    void Plotly.react(node, data, {
      title: { text: metric, font: { size: 13 } }, height: 260, margin: { l: 50, r: 10, t: 30, b: 35 },
      xaxis: { title: { text: 'step' } }, showlegend: true, legend: { orientation: 'h', y: -0.25 },
    }, { displaylogo: false, responsive: true });
    return () => {
      void Plotly.purge(node);
    };
  }, [metric, items]);
  return <div ref={el} className="compare-chart" data-testid="compare-chart" data-metric={metric} />;
}

export function ComparePage({ runIds }: { runIds: string[] }) {
  const [loaded, setLoaded] = useState<Loaded[] | null>(null);
  const [stepIndex, setStepIndex] = useState<number | null>(null);
  useEffect(() => {
    let live = true;
    void guard('Loading the runs to compare', async () => {
      const api = getApi();
      const all = await Promise.all(
        runIds.map(async (id) => {
          const [{ run }, { series }, { artifacts }] = await Promise.all([
            api.call('runs.get', { id }),
            api.call('runs.metrics', { id, maxPoints: 2000 }),
            api.call('runs.artifacts', { id, kind: 'samples' }),
          ]);
          return { run, series, grids: artifacts };
        }),
      );
      if (live) setLoaded(all);
    });
    return () => {
      live = false;
    };
  }, [runIds]);

  const keys = useMemo(() => [...new Set((loaded ?? []).flatMap((l) => l.series.map((s) => s.key)))].sort(), [loaded]);
  const charts = useMemo(
    () =>
      keys.map((key) => ({
        key,
        items: (loaded ?? []).flatMap((l, i) => {
          const s = l.series.find((x) => x.key === key);
          return s ? [{ label: `${l.run.name} ${l.run.id.slice(-4)}`, color: COLORS[i % COLORS.length], s }] : [];
        }),
      })),
    [keys, loaded],
  );
  if (!loaded) return <div className="compare-page muted">Loading {runIds.length} runs…</div>;

  // steps at which every run logged a grid: the slider moves all grids together
  const common = [...loaded.reduce<Set<number> | null>((acc, l) => {
    const steps = new Set(l.grids.map((g) => g.step));
    return acc ? new Set([...acc].filter((s) => steps.has(s))) : steps;
  }, null) ?? []].sort((a, b) => a - b);
  const index = stepIndex === null || stepIndex >= common.length ? common.length - 1 : stepIndex;
  const step = common[index];

  const settings = loaded.map((l) => flatten(l.run.config));
  const settingKeys = [...new Set(settings.flatMap((s) => Object.keys(s)))].filter((k) => !k.startsWith('metricKinds')).sort();
  const facts: [string, (r: RunRecord) => string][] = [
    ['seed', (r) => String(r.seed)],
    ['backend', (r) => r.backend],
    ['data', (r) => `${r.dataName} ${r.dataFingerprint.slice(0, 12)}`],
    ['code', (r) => r.code],
  ];
  const evalKeys = keys.filter((k) => k.startsWith('val/') || k.startsWith('test/'));
  const kindOf = (r: RunRecord, k: string) => (r.config.metricKinds as Record<string, string> | undefined)?.[k] ?? '';

  return (
    <div className="compare-page" data-testid="compare-page">
      <div className="page-header">
        <h1>Compare {loaded.length} runs</h1>
      </div>
      <div className="compare-runs">
        {loaded.map((l, i) => (
          <button key={l.run.id} className="ll-btn" style={{ borderColor: COLORS[i % COLORS.length] }} onClick={() => openRun(l.run.id)} title="open this run">
            <span style={{ color: COLORS[i % COLORS.length] }}>●</span> {l.run.name} <span className="muted mono">{l.run.id.slice(-4)}</span>
          </button>
        ))}
      </div>

      <div className="section-title">Samples {common.length > 0 ? `· step ${step}` : ''}</div>
      {common.length === 0 ? (
        <div className="muted">These runs logged no sample grid at a common step.</div>
      ) : (
        <>
          <div className="compare-grids">
            {loaded.map((l, i) => {
              const g = l.grids.find((x) => x.step === step)!;
              return (
                <figure key={l.run.id}>
                  <img data-testid="compare-grid" data-step={g.step} src={getApi().artifactUrl(g.path)} alt={`${l.run.name} at step ${g.step}`} />
                  <figcaption style={{ color: COLORS[i % COLORS.length] }}>
                    {l.run.name} {l.run.id.slice(-4)} · seed {g.seed ?? '—'}
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
        </>
      )}

      <div className="section-title">Evaluation</div>
      <table className="ll-table" data-testid="compare-eval">
        <thead>
          <tr>
            <th>metric</th>
            {loaded.map((l, i) => (
              <th key={l.run.id} style={{ color: COLORS[i % COLORS.length] }}>{l.run.id.slice(-4)}</th>
            ))}
            <th>kind</th>
          </tr>
        </thead>
        <tbody>
          {evalKeys.map((k) => {
            const kinds = [...new Set(loaded.map((l) => kindOf(l.run, k)).filter(Boolean))];
            return (
              <tr key={k}>
                <td>{k}</td>
                {loaded.map((l) => (
                  <td key={l.run.id} className="num">{k in l.run.finalMetrics ? formatNumber(l.run.finalMetrics[k]) : '—'}</td>
                ))}
                <td className={kinds.length > 1 ? 'differs' : ''}>{kinds.length > 1 ? `kinds differ (${kinds.join(', ')}): not comparable` : kinds[0] ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>

      <div className="section-title">What differs</div>
      <table className="ll-table compare-diff" data-testid="compare-diff">
        <tbody>
          {[...settingKeys.map((k): [string, string[]] => [k, settings.map((s) => s[k] ?? '—')]), ...facts.map(([k, f]): [string, string[]] => [k, loaded.map((l) => f(l.run))])].map(([k, values]) => {
            const differs = new Set(values).size > 1;
            return (
              <tr key={k} className={differs ? "differs" : ""} data-differs={differs} data-key={k}>
                <td>{k}</td>
                {values.map((v, i) =>
                  k === 'code' ? (
                    <td key={i}>{differs ? <details><summary>{i === 0 ? 'code' : 'differs'}</summary><pre className="json">{v}</pre></details> : i === 0 ? 'same' : ''}</td>
                  ) : (
                    <td key={i} className="mono">{v}</td>
                  ),
                )}
              </tr>
            );
          })}
        </tbody>
      </table>

      <div className="section-title">Curves</div>
      <div className="compare-charts">
        {charts.map((c) => (
          <CompareChart key={c.key} metric={c.key} items={c.items} />
        ))}
      </div>
    </div>
  );
}
