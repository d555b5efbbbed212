// The compare view's curves: one Plotly chart per metric with every run overlaid,
// on a shared x axis (step, epoch or wall time), with optional EMA smoothing of
// training curves. Points arrive already min/max-bucketed by the tracker (SQL),
// at most `points` per curve, so thousands of points per run stay fluid.
import Plotly from 'plotly.js-cartesian-dist-min';
import { useEffect, useMemo, useRef } from 'react';
import type { RunRecord, SeriesData } from '../../../shared/domain';
import { Ema, groupOf } from '../plots/curves';
import { traceMode } from '../plots/trace';

export type XAxis = 'step' | 'epoch' | 'wall';
export const X_TITLES: Record<XAxis, string> = { step: 'step', epoch: 'epoch', wall: 'wall time (s)' };

/** examples per step / training examples, from the run's recorded settings (null if unknown) */
export function epochsPerStep(run: RunRecord): number | null {
  const train = run.config.train as { batchSize?: unknown } | undefined;
  const data = run.config.data as { sizes?: { train?: unknown } } | undefined;
  const b = Number(train?.batchSize), n = Number(data?.sizes?.train);
  return b > 0 && n > 0 ? b / n : null;
}

export function xValues(run: RunRecord, s: SeriesData, axis: XAxis): number[] | null {
  if (axis === 'step') return s.steps;
  if (axis === 'epoch') {
    const e = epochsPerStep(run);
    return e === null ? null : s.steps.map((st) => st * e);
  }
  return s.times ? s.times.map((t) => (t - run.startedAt) / 1000) : null;
}

export function smoothed(values: number[], weight: number): number[] {
  if (weight <= 0) return values;
  const ema = new Ema(weight);
  return values.map((v) => ema.next(v));
}

export interface CurveItem {
  run: RunRecord;
  label: string;
  color: string;
  s: SeriesData;
}

// Charts draw one per animation frame: eight runs × 2,000 points in each of four
// charts drawn in one go held the page for ~770 ms (1M-point workspace, e2e scale
// test); one chart per frame lets the browser paint and take input in between.
const drawQueue: { draw: () => void; cancelled: boolean }[] = [];
let drawing = false;
function drawNext(): void {
  let job = drawQueue.shift();
  while (job && job.cancelled) job = drawQueue.shift();
  job?.draw();
  if (drawQueue.length > 0) requestAnimationFrame(drawNext);
  else drawing = false;
}
/** Queues a chart's draw for a coming frame; the returned function cancels it. */
function drawSoon(draw: () => void): () => void {
  const job = { draw, cancelled: false };
  drawQueue.push(job);
  if (!drawing) {
    drawing = true;
    requestAnimationFrame(drawNext);
  }
  return () => {
    job.cancelled = true;
  };
}

function CompareChart({ metric, items, axis, smoothing }: { metric: string; items: CurveItem[]; axis: XAxis; smoothing: number }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const node = el.current;
    if (!node) return;
    const weight = metric.startsWith('train/') ? smoothing : 0;
    const data = items.flatMap(({ run, label, color, s }) => {
      const x = xValues(run, s, axis);
      if (!x) return [];
      const line = { x, y: smoothed(s.values, weight), name: label, type: 'scatter' as const, mode: traceMode(groupOf(metric), x.length), marker: { color, size: 6 }, line: { color, width: 1.5 }, hovertemplate: `%{y:.4g} at %{x:.4g}<extra>${label}</extra>` };
      // smoothed curves keep the raw points faintly behind them, as TensorBoard does
      return weight > 0 ? [{ x, y: s.values, type: 'scatter' as const, mode: 'lines' as const, line: { color, width: 1 }, opacity: 0.25, showlegend: false, hoverinfo: 'skip' as const }, line] : [line];
    });
    return drawSoon(() => {
      node.dataset.points = String(items.reduce((n, i) => n + i.s.steps.length, 0));
      void Plotly.react(node, data, {
        title: { text: metric, font: { size: 13 } }, height: 240, margin: { l: 50, r: 10, t: 30, b: 40 },
        // the runs' colours are the legend above the charts (eight legends would crowd them)
        xaxis: { title: { text: X_TITLES[axis] } }, showlegend: false,
      }, { displaylogo: false, responsive: true });
    });
  }, [metric, items, axis, smoothing]);
  useEffect(() => {
    const node = el.current;
    return () => {
      if (node) void Plotly.purge(node);
    };
  }, []);
  return <div ref={el} className="compare-chart" data-testid="compare-chart" data-metric={metric} data-axis={axis} />;
}

export function CompareCurves({
  keys, series, axis, smoothing,
}: { keys: string[]; series: CurveItem[][]; axis: XAxis; smoothing: number }) {
  const charts = useMemo(
    () => keys.map((key) => ({ key, items: series.flatMap((runSeries) => runSeries.filter((i) => i.s.key === key)) })),
    [keys, series],
  );
  return (
    <div className="compare-charts">
      {charts.map((c) => (
        <CompareChart key={c.key} metric={c.key} items={c.items} axis={axis} smoothing={smoothing} />
      ))}
    </div>
  );
}
