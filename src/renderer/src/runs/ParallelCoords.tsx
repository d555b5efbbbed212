// Parallel coordinates: one vertical axis per setting that varies (a sweep's
// parameters, or whatever differs between the compared runs) and a last axis for
// a chosen metric; one line per run, in the run's colour of the compare view (the
// sweep's other runs grey), or coloured by the metric on request. Drawn as plain SVG
// (Plotly's basic bundle has no parcoords trace).
import { useMemo, useState } from 'react';
import type { RunRecord } from '../../../shared/domain';
import { openRun } from '../actions';
import { formatNumber } from './format';
import { useRunNames } from './names';

interface Axis {
  key: string;
  /** position 0..1 (bottom..top) of each run's value, null where it has none */
  pos: (number | null)[];
  ticks: { at: number; label: string }[];
}

/** config keys (dotted) → JSON value, as in the what-differs table */
export type FlatConfig = Record<string, string>;

function scaleAxis(key: string, raw: (string | undefined)[]): Axis {
  const parsed = raw.map((r) => (r === undefined ? undefined : (JSON.parse(r) as unknown)));
  const nums = parsed.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (nums.length === parsed.filter((v) => v !== undefined).length && nums.length > 0) {
    let lo = Math.min(...nums), hi = Math.max(...nums);
    const log = lo > 0 && hi / lo >= 20;
    const f = (v: number) => (log ? Math.log10(v) : v);
    if (lo === hi) [lo, hi] = [lo - 1, hi + 1];
    const pos = parsed.map((v) => (typeof v === 'number' ? (f(v) - f(lo)) / (f(hi) - f(lo)) : null));
    const ticks = [...new Set(nums)].sort((a, b) => a - b);
    const shown = ticks.length <= 6 ? ticks : [ticks[0], ticks[Math.floor(ticks.length / 2)], ticks[ticks.length - 1]];
    return { key: log ? `${key} (log)` : key, pos, ticks: shown.map((v) => ({ at: (f(v) - f(lo)) / (f(hi) - f(lo)), label: formatNumber(v) })) };
  }
  // categories, evenly spaced in order of appearance
  const cats = [...new Set(raw.filter((r): r is string => r !== undefined))];
  const at = (c: string) => (cats.length === 1 ? 0.5 : cats.indexOf(c) / (cats.length - 1));
  return {
    key,
    pos: raw.map((r) => (r === undefined ? null : at(r))),
    ticks: cats.map((c) => ({ at: at(c), label: c.length > 14 ? c.slice(0, 13) + '…' : c })),
  };
}

/** blue (low) → red (high) */
function colorAt(t: number): string {
  const c0 = [49, 54, 149], c1 = [215, 48, 39];
  const mix = c0.map((v, i) => Math.round(v + (c1[i] - v) * t));
  return `rgb(${mix.join(',')})`;
}

/** what a line's colour says: the run (as in the curves above) or the chosen metric */
type ColourBy = 'run' | 'metric';

export function ParallelCoords({ runs, settings, keys, metrics, runColors = {} }: { runs: RunRecord[]; settings: FlatConfig[]; keys: string[]; metrics: string[]; runColors?: Record<string, string> }) {
  const [metric, setMetric] = useState(metrics[0] ?? '');
  const names = useRunNames();
  const [colourBy, setColourBy] = useState<ColourBy>('run');
  const axes = useMemo(() => {
    const ax = keys.map((k) => scaleAxis(k, settings.map((s) => s[k])));
    const vals = runs.map((r) => (metric in r.finalMetrics ? JSON.stringify(r.finalMetrics[metric]) : undefined));
    if (metric) ax.push(scaleAxis(metric, vals));
    return ax;
  }, [runs, settings, keys, metric]);
  if (keys.length === 0) return null;
  const metricAxis = metric ? axes[axes.length - 1] : null;
  const W = 860, H = 300, top = 34, bottom = 30, left = 70, right = 70;
  const x = (i: number) => left + (axes.length === 1 ? 0 : (i * (W - left - right)) / (axes.length - 1));
  const y = (p: number) => top + (1 - p) * (H - top - bottom);
  return (
    <div className="parcoords" data-testid="parcoords">
      <div className="parcoords-controls">
        <label>
          metric (last axis):{' '}
          <select value={metric} onChange={(e) => setMetric(e.target.value)} data-testid="parcoords-metric">
            {metrics.map((m) => (
              <option key={m} value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          {' '}lines coloured by{' '}
          <select value={colourBy} onChange={(e) => setColourBy(e.target.value as ColourBy)} data-testid="parcoords-colour">
            <option value="run">run (as in the curves)</option>
            <option value="metric">the metric (blue low, red high)</option>
          </select>
        </label>
        <span className="muted"> {runs.length} runs</span>
      </div>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label="parallel coordinates of settings against a metric">
        {/* the compared runs drawn last, over the sweep's other runs */}
        {runs.map((_, i) => i).sort((a, b) => Number(!!runColors[runs[a].id]) - Number(!!runColors[runs[b].id])).map((ri) => {
          const r = runs[ri];
          const pts = axes.map((a, i) => (a.pos[ri] === null ? null : `${x(i).toFixed(1)},${y(a.pos[ri]!).toFixed(1)}`));
          if (pts.some((p) => p === null)) return null;
          const t = metricAxis?.pos[ri];
          const own = runColors[r.id];
          const stroke = colourBy === 'run' ? (own ?? '#b8bec6') : t == null ? '#999' : colorAt(t);
          return (
            <polyline
              key={r.id}
              points={pts.join(' ')}
              fill="none"
              stroke={stroke}
              strokeWidth={colourBy === 'run' && own ? 2.5 : 2}
              strokeOpacity={0.8}
              data-testid="parcoords-line"
              data-run-id={r.id}
              style={{ cursor: 'pointer' }}
              onClick={() => openRun(r.id)}
            >
              <title>{`${names.get(r.id) ?? r.name}${metric && metric in r.finalMetrics ? `: ${metric} ${formatNumber(r.finalMetrics[metric])}` : ''}`}</title>
            </polyline>
          );
        })}
        {axes.map((a, i) => (
          <g key={a.key} data-testid="parcoords-axis" data-axis={a.key}>
            <line x1={x(i)} x2={x(i)} y1={y(0)} y2={y(1)} stroke="#333" />
            <text x={i === 0 && axes.length > 1 ? 4 : x(i)} y={16} textAnchor={i === 0 && axes.length > 1 ? 'start' : 'middle'} fontSize={11} fontWeight={i === axes.length - 1 && metric ? 700 : 400}>{a.key.replace(/^sweep\.params\./, '')}</text>
            {a.ticks.map((t) => (
              <g key={t.label}>
                <line x1={x(i) - 4} x2={x(i)} y1={y(t.at)} y2={y(t.at)} stroke="#333" />
                <text x={x(i) - 6} y={y(t.at) + 3} textAnchor="end" fontSize={10} fill="#555">{t.label}</text>
              </g>
            ))}
          </g>
        ))}
      </svg>
    </div>
  );
}
