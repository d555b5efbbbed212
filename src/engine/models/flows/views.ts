// lab.views of normalizing flows:
//  - layers: a grid of lines pushed through each layer of a 2-D flow;
//  - temperature: samples at several temperatures behind a slider.
import { built, range2d, need, viewOutputs, type Trace } from '../../views/common';
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import { FlowModel } from './flow';

export function flowViews(ctx: EngineContext): Pick<LatentLab.Views, 'layers' | 'temperature'> {
  const { emitPlot } = viewOutputs(ctx);

  return {
    async layers(model, data, opts = {}) {
      built(model, 'layers');
      need(model instanceof FlowModel, `lab.views.layers: shows the layers of a flow (nice, realnvp, maf, iaf, glow), not a ${model.family}`);
      need(data?.kind === 'points' && data.dim === 2, 'lab.views.layers: needs 2-D point data (lab.data.toy2d)');
      const L = Math.max(3, Math.min(41, Math.floor(opts.lines ?? 15)));
      const P = 80;
      const [[x0, x1], [y0, y1]] = range2d(data.val, 0.05);
      const pts: number[] = [];
      for (let k = 0; k < L; k++) {
        const fy = y0 + ((y1 - y0) * k) / (L - 1);
        for (let p = 0; p < P; p++) pts.push(x0 + ((x1 - x0) * p) / (P - 1), fy);
      }
      for (let k = 0; k < L; k++) {
        const fx = x0 + ((x1 - x0) * k) / (L - 1);
        for (let p = 0; p < P; p++) pts.push(fx, y0 + ((y1 - y0) * p) / (P - 1));
      }
      const t = tf.tensor2d(pts, [pts.length / 2, 2]);
      let stages: { label: string; values: Float32Array }[];
      try {
        stages = await model.stages(t);
      } finally {
        t.dispose();
      }
      const panels = Math.max(2, Math.min(12, Math.floor(opts.panels ?? 8)));
      const pick = stages.length <= panels ? stages.map((_, i) => i) : Array.from({ length: panels }, (_, i) => Math.round((i * (stages.length - 1)) / (panels - 1)));
      const cols = Math.min(4, pick.length);
      const rows = Math.ceil(pick.length / cols);
      const traces: Trace[] = [];
      const layout: Record<string, unknown> = { showlegend: false, height: 240 * rows + 40, title: { text: `${model.family}: a grid of lines through each layer (data → latent)` }, annotations: [] };
      const gap = 0.04;
      pick.forEach((s, k) => {
        const r = Math.floor(k / cols);
        const c = k % cols;
        const ax = k === 0 ? '' : String(k + 1);
        const lines = (from: number, color: string) => {
          const x: (number | null)[] = [];
          const y: (number | null)[] = [];
          for (let l = 0; l < L; l++) {
            for (let p = 0; p < P; p++) {
              const i = from + l * P + p;
              x.push(stages[s].values[2 * i]);
              y.push(stages[s].values[2 * i + 1]);
            }
            x.push(null);
            y.push(null);
          }
          traces.push({ type: 'scatter', mode: 'lines', x, y, xaxis: `x${ax}`, yaxis: `y${ax}`, line: { color, width: 1 }, hoverinfo: 'skip' });
        };
        lines(0, '#1f6feb');
        lines(L * P, '#d1495b');
        const xd = [c / cols + gap / 2, (c + 1) / cols - gap / 2];
        const yd = [1 - (r + 1) / rows + gap, 1 - r / rows - gap];
        layout[`xaxis${ax}`] = { domain: xd, anchor: `y${ax}`, showticklabels: false, zeroline: false };
        layout[`yaxis${ax}`] = { domain: yd, anchor: `x${ax}`, showticklabels: false, zeroline: false };
        (layout.annotations as unknown[]).push({ text: stages[s].label, xref: 'paper', yref: 'paper', x: (xd[0] + xd[1]) / 2, y: yd[1] + 0.01, showarrow: false, yanchor: 'bottom', font: { size: 11 } });
      });
      emitPlot(traces, layout, `${stages.length - 1} layers; ${pick.length} panels`);
      return { stages: stages.length };
    },

    async temperature(model, opts = {}) {
      built(model, 'temperature');
      need(model instanceof FlowModel, `lab.views.temperature: samples a flow at several temperatures, not a ${model.family}`);
      const temps = (opts.temperatures ?? [0.5, 0.7, 0.85, 1, 1.2]).filter((v) => v > 0);
      need(temps.length > 0, 'lab.views.temperature: give temperatures > 0');
      const saved = model.temperature;
      const image = model.dataInfo?.kind === 'image';
      const n = Math.max(1, Math.floor(opts.n ?? (image ? 36 : 1000)));
      const noise = model.noise(n, opts.seed ?? 1234);
      const traces: Trace[] = [];
      try {
        for (const T of temps) {
          model.temperature = T;
          const x = await model.sample(n, noise);
          let v: Float32Array;
          try {
            v = (await x.data()) as Float32Array;
          } finally {
            x.dispose();
          }
          const visible = T === (temps.includes(1) ? 1 : temps[0]);
          if (image) {
            const [h, w] = model.dataInfo!.shape;
            const cols = Math.ceil(Math.sqrt(n));
            const rows = Math.ceil(n / cols);
            const z: number[][] = Array.from({ length: rows * (h + 1) }, () => new Array(cols * (w + 1)).fill(0));
            for (let k = 0; k < n; k++) {
              const oy = Math.floor(k / cols) * (h + 1);
              const ox = (k % cols) * (w + 1);
              for (let yy = 0; yy < h; yy++) for (let xx = 0; xx < w; xx++) z[oy + yy][ox + xx] = Math.round(v[k * h * w + yy * w + xx] * 1000) / 1000;
            }
            traces.push({ type: 'heatmap', z, colorscale: 'Greys', reversescale: true, showscale: false, zmin: 0, zmax: 1, visible, name: `T = ${T}`, hoverinfo: 'skip' });
          } else {
            const pts = Array.from(v);
            traces.push({ type: 'scatter', mode: 'markers', x: pts.filter((_, k) => k % 2 === 0), y: pts.filter((_, k) => k % 2 === 1), marker: { size: 3, color: '#1f6feb', opacity: 0.6 }, visible, name: `T = ${T}` });
          }
        }
      } finally {
        model.temperature = saved;
        noise.dispose();
      }
      const active = temps.indexOf(temps.includes(1) ? 1 : temps[0]);
      emitPlot(
        traces,
        {
          title: { text: `${model.family}: samples x = f⁻¹(T·z), the same z at each temperature T` },
          xaxis: { showticklabels: !image, zeroline: false },
          yaxis: image ? { autorange: 'reversed', scaleanchor: 'x', showticklabels: false } : { scaleanchor: 'x', zeroline: false },
          height: 420,
          sliders: [{
            active,
            currentvalue: { prefix: 'temperature ' },
            pad: { t: 30 },
            steps: temps.map((T, i) => ({ label: String(T), method: 'restyle', args: ['visible', temps.map((_, j) => j === i)] })),
          }],
        },
        `drag the slider: T < 1 gives cleaner, less varied samples`,
      );
      return { temperatures: temps };
    },
  };
}
