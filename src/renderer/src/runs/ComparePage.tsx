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
          {loaded.length === 2 && (
            <GridDiff
              a={getApi().artifactUrl(loaded[0].grids.find((x) => x.step === step)!.path)}
              b={getApi().artifactUrl(loaded[1].grids.find((x) => x.step === step)!.path)}
            />
          )}
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

type DiffMode = 'difference' | 'wipe' | 'flicker';

/**
 * Two grids on top of each other: the absolute difference per pixel (white where
 * they differ most), a wipe (drag to reveal the second), or a flicker between
 * them. Grids drawn from the same sample seed put the same latent in the same
 * cell, so what differs is the model, not the noise.
 */
function GridDiff({ a, b }: { a: string; b: string }) {
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
        <div className="grid-wipe">
          <img src={a} alt="first run" />
          <img src={b} alt="second run" style={{ clipPath: `inset(0 0 0 ${wipe}%)` }} />
        </div>
      )}
      {mode === 'flicker' && <img src={showB ? b : a} alt={showB ? 'second run' : 'first run'} data-showing={showB ? 'b' : 'a'} />}
    </div>
  );
}
