// lab.views of flow matching:
//  - odeTrajectories: paths of the ODE dx/dt = v_θ from base draws (t = 0) to samples (t = 1), over the data;
//  - velocityField: v_θ(x, t) as arrows on a grid at a few times.
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import { mmd } from '../../eval/mmd';
import { normal } from '../../ops/random';
import { built, isDataset, need, range2d, viewOutputs, type Trace } from '../../views/common';
import { FlowMatching } from './flow-matching';

const round4 = (v: number) => Math.round(v * 1e4) / 1e4;

/** a 2-D flow-matching model, or an error naming the view */
function twoD(model: LatentLab.Model, view: string): FlowMatching {
  built(model, view);
  need(model instanceof FlowMatching, `lab.views.${view}: shows a flowMatching model's ODE, not a ${model.family}`);
  const info = model.dataInfo!;
  need(info.kind === 'points' && info.shape.length === 1 && info.shape[0] === 2, `lab.views.${view}: draws 2-D models (this one was trained on ${info.kind} of shape [${info.shape}])`);
  return model;
}

export function flowMatchingViews(ctx: EngineContext): Pick<LatentLab.Views, 'odeTrajectories' | 'velocityField'> {
  const { emitPlot } = viewOutputs(ctx);

  return {
    async odeTrajectories(model, opts = {}) {
      const fm = twoD(model, 'odeTrajectories');
      need(!opts.data || (isDataset(opts.data) && opts.data.dim === 2), 'lab.views.odeTrajectories: data must be the 2-D dataset the model was trained on');
      const n = Math.max(1, Math.min(2000, Math.floor(opts.n ?? 300)));
      const steps = Math.max(1, Math.min(1000, Math.floor(opts.steps ?? fm.config.odeSteps)));
      const x0 = normal([n, 2], Math.floor(opts.seed ?? 2024)) as tf.Tensor2D;
      let r: { t: number[]; frames: Float32Array[] };
      try {
        r = await fm.trajectories(x0, steps);
      } finally {
        x0.dispose();
      }
      const F = r.frames.length;
      const first = r.frames[0];
      const last = r.frames[F - 1];
      // straightness: |x(1) − x(0)| over the length of the polyline, per path
      let straight = 0;
      let length = 0;
      const lx: (number | null)[] = [];
      const ly: (number | null)[] = [];
      for (let i = 0; i < n; i++) {
        let len = 0;
        for (let f = 0; f < F; f++) {
          const x = r.frames[f][2 * i];
          const y = r.frames[f][2 * i + 1];
          if (f > 0) len += Math.hypot(x - r.frames[f - 1][2 * i], y - r.frames[f - 1][2 * i + 1]);
          lx.push(round4(x));
          ly.push(round4(y));
        }
        lx.push(null);
        ly.push(null);
        const chord = Math.hypot(last[2 * i] - first[2 * i], last[2 * i + 1] - first[2 * i + 1]);
        straight += len > 0 ? chord / len : 1;
        length += len;
      }
      const pts = (v: Float32Array, name: string, color: string): Trace => ({
        type: 'scatter',
        mode: 'markers',
        name,
        x: Array.from({ length: n }, (_, i) => round4(v[2 * i])),
        y: Array.from({ length: n }, (_, i) => round4(v[2 * i + 1])),
        marker: { size: 4, color },
      });
      const traces: Trace[] = [];
      const data = opts.data;
      if (data) {
        const m = Math.min(data.val.n, 2000);
        traces.push({ type: 'scatter', mode: 'markers', name: 'data', x: Array.from(data.val.x.subarray(0, 2 * m).filter((_, k) => k % 2 === 0)), y: Array.from(data.val.x.subarray(0, 2 * m).filter((_, k) => k % 2 === 1)), marker: { size: 3, color: '#888888', opacity: 0.25 }, hoverinfo: 'skip' });
      }
      traces.push({ type: 'scatter', mode: 'lines', name: 'paths', x: lx, y: ly, line: { color: '#1f6feb', width: 0.7 }, opacity: 0.5, hoverinfo: 'skip' });
      traces.push(pts(first, 'x(0) ~ N(0, I)', '#222222'), pts(last, 'x(1): samples', '#d1242f'));
      const out: LatentLab.TrajectoriesResult = { t: r.t, straightness: straight / n, pathLength: length / n };
      if (data) out.mmd = mmd(last, data.val.x.subarray(0, Math.min(data.val.n, 1000) * 2), 2);
      emitPlot(
        traces,
        { title: { text: `flow matching: ${n} paths of dx/dt = v_θ(x, t) from t = 0 to 1 (${fm.config.solver}, ${steps} steps)` }, yaxis: { scaleanchor: 'x' }, height: 520, legend: { orientation: 'h' } },
        `black: base draws x(0); red: where the ODE carries them at t = 1; straightness |x(1) − x(0)| / path length = ${out.straightness.toFixed(3)} (1 = straight)` + (data ? '; grey: the data' : ''),
      );
      return out;
    },

    async velocityField(model, opts = {}) {
      const fm = twoD(model, 'velocityField');
      const ts = opts.t ?? [0, 0.5, 0.9];
      need(Array.isArray(ts) && ts.length > 0 && ts.length <= 6 && ts.every((t) => typeof t === 'number' && t >= 0 && t <= 1), 'lab.views.velocityField: t must be a list of 1 to 6 times in [0, 1]');
      const G = Math.max(5, Math.min(40, Math.floor(opts.grid ?? 17)));
      need(!opts.data || (isDataset(opts.data) && opts.data.dim === 2), 'lab.views.velocityField: data must be the 2-D dataset the model was trained on');
      const data = opts.data;
      // the grid spans the data and the bulk of N(0, I)
      const [[x0, x1], [y0, y1]] = data ? range2d(data.val, 0.1).map(([lo, hi]) => [Math.min(lo, -3), Math.max(hi, 3)]) : [[-3, 3], [-3, 3]];
      const grid: number[] = [];
      for (let a = 0; a < G; a++) for (let b = 0; b < G; b++) grid.push(x0 + ((x1 - x0) * b) / (G - 1), y0 + ((y1 - y0) * a) / (G - 1));
      const g = tf.tensor2d(grid, [G * G, 2]);
      let fields: Float32Array[];
      try {
        const vs = ts.map((t) => fm.velocity(g, t));
        try {
          fields = (await Promise.all(vs.map((v) => v.data()))) as Float32Array[];
        } finally {
          tf.dispose(vs);
        }
      } finally {
        g.dispose();
      }
      // arrows as segments: the longest one spans one grid cell
      let max = 1e-9;
      for (const f of fields) for (let i = 0; i < G * G; i++) max = Math.max(max, Math.hypot(f[2 * i], f[2 * i + 1]));
      const scale = (0.9 * Math.min(x1 - x0, y1 - y0)) / (G - 1) / max;
      const traces: Trace[] = [];
      const layout: Record<string, unknown> = { title: { text: 'flow matching: the velocity field v_θ(x, t)' }, height: 380, showlegend: false, annotations: [] };
      const meanSpeed: number[] = [];
      const w = 1 / ts.length;
      ts.forEach((t, k) => {
        const ax = k === 0 ? '' : String(k + 1);
        const f = fields[k];
        const sx: (number | null)[] = [];
        const sy: (number | null)[] = [];
        const hx: number[] = [];
        const hy: number[] = [];
        let speed = 0;
        for (let i = 0; i < G * G; i++) {
          const px = grid[2 * i];
          const py = grid[2 * i + 1];
          const vx = f[2 * i];
          const vy = f[2 * i + 1];
          speed += Math.hypot(vx, vy);
          sx.push(round4(px), round4(px + scale * vx), null);
          sy.push(round4(py), round4(py + scale * vy), null);
          hx.push(round4(px + scale * vx));
          hy.push(round4(py + scale * vy));
        }
        meanSpeed.push(speed / (G * G));
        if (data) {
          const m = Math.min(data.val.n, 1000);
          traces.push({ type: 'scatter', mode: 'markers', x: Array.from(data.val.x.subarray(0, 2 * m).filter((_, q) => q % 2 === 0)), y: Array.from(data.val.x.subarray(0, 2 * m).filter((_, q) => q % 2 === 1)), xaxis: `x${ax}`, yaxis: `y${ax}`, marker: { size: 2, color: '#888888', opacity: 0.2 }, hoverinfo: 'skip' });
        }
        traces.push({ type: 'scatter', mode: 'lines', x: sx, y: sy, xaxis: `x${ax}`, yaxis: `y${ax}`, line: { color: '#1f6feb', width: 1.2 }, hoverinfo: 'skip' });
        traces.push({ type: 'scatter', mode: 'markers', x: hx, y: hy, xaxis: `x${ax}`, yaxis: `y${ax}`, marker: { size: 3, color: '#1f6feb' }, hoverinfo: 'skip' });
        layout[`xaxis${ax}`] = { domain: [k * w + 0.02, (k + 1) * w - 0.02], range: [x0, x1], zeroline: false };
        layout[`yaxis${ax}`] = { anchor: `x${ax}`, range: [y0, y1], zeroline: false, ...(k > 0 ? { scaleanchor: `x${ax}` } : { scaleanchor: 'x' }) };
        (layout.annotations as unknown[]).push({ text: `t = ${t}`, x: (k + 0.5) * w, y: 1.06, xref: 'paper', yref: 'paper', showarrow: false });
      });
      emitPlot(traces, layout, `arrows: v_θ(x, t) on a ${G}×${G} grid, all panels on one scale (the longest arrow spans a grid cell); dots mark the heads` + (data ? '; grey: the data' : ''));
      return { t: ts, meanSpeed };
    },
  };
}
