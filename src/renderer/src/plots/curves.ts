// Live metric curves of one run, drawn imperatively with Plotly: one plot per
// key group ("train/*", "val/*", ...). The first load draws the downsampled
// history; later points are appended in place with extendTraces (never a full
// redraw), batched every 50 ms. Train curves can be EMA-smoothed.
import Plotly, { type PlotData } from 'plotly.js-cartesian-dist-min';
import type { MetricPoint, SeriesData } from '../../../shared/domain';
import { colorOrder, metricColor } from './colors';
import { startsVisible, traceMode } from './trace';

export function groupOf(key: string): string {
  const i = key.indexOf('/');
  return i > 0 ? key.slice(0, i) : 'metrics';
}

function groupRank(g: string): string {
  return g === 'train' ? '0' : g === 'val' ? '1' : '2' + g;
}

/** TensorBoard-style debiased exponential moving average, usable incrementally. */
export class Ema {
  private last = 0;
  private n = 0;
  constructor(private readonly weight: number) {}
  next(v: number): number {
    if (this.weight <= 0) return v;
    this.n++;
    this.last = this.last * this.weight + (1 - this.weight) * v;
    return this.last / (1 - Math.pow(this.weight, this.n));
  }
}

/** What the run says about its metrics: the kind of each key and the one it is judged by. */
export interface CurveMeta {
  kinds: Record<string, string>;
  primary: string | null;
}

interface Trace {
  key: string;
  visible: boolean | 'legendonly';
  steps: number[];
  raw: number[];
  shown: number[];
  ema: Ema;
  color: string;
}

class GroupChart {
  readonly el: HTMLDivElement;
  private traces: Trace[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private drawn = false;
  private smoothing = 0;

  constructor(
    readonly group: string,
    private readonly onError: (e: unknown) => void,
    private readonly meta: () => CurveMeta,
  ) {
    this.el = document.createElement('div');
    this.el.className = 'curve-plot';
    this.el.dataset.testid = 'curve-plot';
    this.el.dataset.group = group;
    this.el.dataset.points = '0';
    // Plotly's `responsive` only follows window resizes; cells and panes change size on their own.
    this.resizer = new ResizeObserver(() => {
      if (!this.drawn || this.resizeQueued) return;
      this.resizeQueued = true;
      this.queue(() => {
        this.resizeQueued = false;
        if (this.el.isConnected && this.el.clientWidth > 0) Plotly.Plots.resize(this.el);
      });
    });
    this.resizer.observe(this.el);
  }

  private readonly resizer: ResizeObserver;
  private resizeQueued = false;

  private get smoothable(): boolean {
    return this.group === 'train';
  }

  private weight(): number {
    return this.smoothable ? this.smoothing : 0;
  }

  private queue(op: () => Promise<unknown> | void): void {
    this.chain = this.chain
      .then(op)
      .then(() => {
        this.el.dataset.points = String(this.traces.reduce((n, t) => n + t.steps.length, 0));
      })
      .catch(this.onError);
  }

  private traceData(t: Trace): PlotData {
    const short = t.key.startsWith(this.group + '/') ? t.key.slice(this.group.length + 1) : t.key;
    // evaluations say what kind of number they are (exact, bound, estimate, sample)
    const kind = this.meta().kinds[t.key];
    const name = kind && !['loss', 'info'].includes(kind) ? `${short} (${kind})` : short;
    return {
      visible: t.visible,
      x: t.steps.slice(),
      y: t.shown.slice(),
      type: 'scatter',
      // a series of one point (val at step 0, test/* after training) draws a marker
      mode: traceMode(this.group, t.steps.length),
      marker: { color: t.color, size: 7 },
      name,
      line: { color: t.color, width: 1.6 },
      hovertemplate: `%{y:.4g} at step %{x}<extra>${name}</extra>`,
    };
  }

  /** the step axis of a chart whose series all sit at one step (val at step 0): pinned to the run's steps so far */
  private xRange: [number, number] | null = null;

  /**
   * A chart whose points all sit at one step gets the run's step span as its axis (not
   * Plotly's −1…1 around the lone marker); once it has two steps, its axis fits its data.
   */
  fitSteps(span: number): void {
    const steps = new Set<number>();
    for (const t of this.traces) for (const s of t.steps) steps.add(s);
    let range: [number, number] | null = null;
    if (steps.size === 1) {
      const at = [...steps][0];
      const hi = Math.max(span, at + 1);
      const pad = (hi - Math.min(0, at)) * 0.03;
      range = [Math.min(0, at) - pad, hi + pad];
    }
    const same = range === this.xRange || (range && this.xRange && range[0] === this.xRange[0] && range[1] === this.xRange[1]);
    if (same) return;
    this.xRange = range;
    if (!this.drawn) return;
    const update = range ? { 'xaxis.range': range, 'xaxis.autorange': false } : { 'xaxis.autorange': true };
    this.queue(() => Plotly.relayout(this.el, update as never));
  }

  private layout(): Record<string, unknown> {
    return {
      height: 230,
      margin: { l: 52, r: 14, t: 30, b: 36 },
      title: { text: this.group, font: { size: 12, color: '#444' }, x: 0.01, xanchor: 'left', y: 0.97 },
      font: { family: 'system-ui, -apple-system, "Segoe UI", sans-serif', size: 11, color: '#333' },
      paper_bgcolor: '#ffffff',
      plot_bgcolor: '#ffffff',
      xaxis: { title: { text: 'step', standoff: 4 }, gridcolor: '#eceef1', zeroline: false, automargin: true, ...(this.xRange ? { range: this.xRange, autorange: false } : {}) },
      yaxis: { gridcolor: '#eceef1', zeroline: false, automargin: true, exponentformat: 'power' },
      legend: { orientation: 'h', x: 1, xanchor: 'right', y: 1.02, yanchor: 'bottom', font: { size: 11 } },
      showlegend: true,
      uirevision: 'keep', // keep the user's zoom across smoothing changes
    };
  }

  private newTrace(key: string): Trace {
    // units differ between val (and test) metrics: one starts visible, the legend shows the others
    const { primary, kinds } = this.meta();
    const shown = this.traces.filter((t) => t.visible === true).length;
    const visible = startsVisible(this.group, key, kinds[key], primary, shown) ? true : 'legendonly';
    // the key's own colour (the same in every view), moved on only if a sibling holds it
    const color = metricColor(key, new Set(this.traces.map((t) => t.color)));
    return { key, visible, steps: [], raw: [], shown: [], ema: new Ema(this.weight()), color };
  }

  /** Adds points (sorted by step per key); points at or before a key's last step are ignored. */
  append(byKey: Map<string, MetricPoint[]>): void {
    const extX: number[][] = [];
    const extY: number[][] = [];
    const extIdx: number[] = [];
    const added: Trace[] = [];
    const grown: number[] = [];
    // new keys in a fixed order: the same keys get the same colours in every view
    for (const key of colorOrder([...byKey.keys()])) {
      const points = byKey.get(key)!;
      let idx = this.traces.findIndex((t) => t.key === key);
      let trace = this.traces[idx];
      const isNew = !trace;
      const before = trace ? trace.steps.length : 0;
      if (isNew) {
        trace = this.newTrace(key);
        idx = this.traces.length;
        this.traces.push(trace);
      }
      const xs: number[] = [];
      const ys: number[] = [];
      let last = trace.steps.length > 0 ? trace.steps[trace.steps.length - 1] : -Infinity;
      for (const p of points) {
        if (p.step <= last) continue;
        last = p.step;
        const shown = trace.ema.next(p.value);
        trace.steps.push(p.step);
        trace.raw.push(p.value);
        trace.shown.push(shown);
        xs.push(p.step);
        ys.push(shown);
      }
      if (isNew) added.push(trace);
      else if (xs.length > 0) {
        extX.push(xs);
        extY.push(ys);
        extIdx.push(idx);
        if (traceMode(this.group, before) !== traceMode(this.group, trace.steps.length)) grown.push(idx);
      }
    }
    if (!this.drawn) {
      this.drawn = true;
      const data = this.traces.map((t) => this.traceData(t));
      this.queue(() => Plotly.newPlot(this.el, data, this.layout(), { responsive: true, displaylogo: false, modeBarButtonsToRemove: ['lasso2d', 'select2d'] }));
      return;
    }
    if (extIdx.length > 0) this.queue(() => Plotly.extendTraces(this.el, { x: extX, y: extY }, extIdx));
    // a series past its first point: its marker goes, the line stays
    if (grown.length > 0) this.queue(() => Plotly.restyle(this.el, { mode: grown.map((i) => traceMode(this.group, this.traces[i].steps.length)) } as never, grown));
    if (added.length > 0) {
      const data = added.map((t) => this.traceData(t));
      this.queue(() => Plotly.addTraces(this.el, data));
    }
  }

  setSmoothing(w: number): void {
    this.smoothing = w;
    if (!this.smoothable) return;
    for (const t of this.traces) {
      t.ema = new Ema(w);
      t.shown = t.raw.map((v) => t.ema.next(v));
    }
    if (!this.drawn) return;
    const data = this.traces.map((t) => this.traceData(t));
    this.queue(() => Plotly.react(this.el, data, this.layout(), { responsive: true, displaylogo: false }));
  }

  destroy(): void {
    this.resizer.disconnect();
    this.chain = this.chain.then(() => Plotly.purge(this.el)).catch(() => undefined);
    this.el.remove();
  }
}

/** All curves of one run inside a host element. */
export class RunCurves {
  private groups = new Map<string, GroupChart>();
  private loaded = false;
  private buffer: MetricPoint[] = [];
  private pending: MetricPoint[] = [];
  private frame = 0;
  private smoothing = 0;
  private maxStep = 0;
  private destroyed = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly onProgress: (maxStep: number) => void,
    private readonly onError: (e: unknown) => void,
    private readonly meta: () => CurveMeta = () => ({ kinds: {}, primary: null }),
    /** keys this view does not draw (a cell's live view leaves lab.evaluate's numbers to the cell that asked) */
    private readonly exclude: (key: string) => boolean = () => false,
  ) {}

  /** The downsampled history from runs.metrics; events that came before it are applied after. */
  load(series: SeriesData[]): void {
    if (this.destroyed) return;
    const points: MetricPoint[] = [];
    for (const s of series) for (let i = 0; i < s.steps.length; i++) points.push({ key: s.key, step: s.steps[i], value: s.values[i], wallTime: 0 });
    this.loaded = true;
    this.apply([...points, ...this.buffer]);
    this.buffer = [];
  }

  /** Live points from run.metrics events. */
  push(points: MetricPoint[]): void {
    if (this.destroyed) return;
    if (!this.loaded) {
      this.buffer.push(...points);
      return;
    }
    this.pending.push(...points);
    if (this.frame === 0) {
      const flush = () => {
        this.frame = 0;
        const batch = this.pending;
        this.pending = [];
        this.apply(batch);
      };
      // A short timer batches bursts (rAF would stall plots in a background tab).
      this.frame = window.setTimeout(flush, 50);
    }
  }

  setSmoothing(w: number): void {
    this.smoothing = w;
    for (const g of this.groups.values()) g.setSmoothing(w);
  }

  private apply(all: MetricPoint[]): void {
    const points = all.filter((p) => !this.exclude(p.key));
    if (points.length === 0) return;
    const byGroup = new Map<string, Map<string, MetricPoint[]>>();
    for (const p of points) {
      if (p.step > this.maxStep) this.maxStep = p.step;
      const g = groupOf(p.key);
      let keys = byGroup.get(g);
      if (!keys) byGroup.set(g, (keys = new Map()));
      let list = keys.get(p.key);
      if (!list) keys.set(p.key, (list = []));
      list.push(p);
    }
    for (const [g, keys] of byGroup) {
      for (const list of keys.values()) list.sort((a, b) => a.step - b.step);
      this.chart(g).append(keys);
    }
    for (const c of this.groups.values()) c.fitSteps(this.maxStep);
    this.onProgress(this.maxStep);
  }

  private chart(group: string): GroupChart {
    let c = this.groups.get(group);
    if (c) return c;
    c = new GroupChart(group, this.onError, this.meta);
    c.setSmoothing(this.smoothing);
    this.groups.set(group, c);
    // keep train, val, then the rest in name order
    const after = [...this.groups.values()]
      .filter((x) => groupRank(x.group) > groupRank(group))
      .sort((a, b) => groupRank(a.group).localeCompare(groupRank(b.group)))[0];
    this.host.insertBefore(c.el, after ? after.el : null);
    return c;
  }

  destroy(): void {
    this.destroyed = true;
    window.clearTimeout(this.frame);
    for (const g of this.groups.values()) g.destroy();
    this.groups.clear();
  }
}
