// lab.views of score models:
//  - scoreField: the learned score s_θ(x, σ) as arrows over the plane at a few noise
//    levels, beside the analytic score of the data's blurred Gaussian mixture;
//  - langevinPaths: annealed Langevin chains, as paths over the data (2-D) or as one row
//    of frames per chain (images).
import * as tf from '@tensorflow/tfjs';
import { built, isDataset, need, pictureShape, range2d, viewName, viewOutputs, type Trace } from '../../views/common';
import type { EngineContext } from '../../context';
import { pointValMetrics } from '../../eval/point-samples';
import { imageGridPng } from '../../util/png';
import { mixtureScore, Score } from './score';

const round = (v: number) => Math.round(v * 1e4) / 1e4;

/** one Plotly trace of arrows (line segments with an arrow head at the tip) from points p along vectors v, scaled */
function arrows(p: Float32Array, v: Float32Array, scale: number, maxLen: number, color: string, name: string, axes: { xaxis: string; yaxis: string }): Trace {
  const x: (number | null)[] = [];
  const y: (number | null)[] = [];
  const sizes: number[] = [];
  for (let k = 0; k < p.length / 2; k++) {
    let dx = v[2 * k] * scale;
    let dy = v[2 * k + 1] * scale;
    const len = Math.hypot(dx, dy);
    if (len > maxLen) {
      dx *= maxLen / len;
      dy *= maxLen / len;
    }
    x.push(round(p[2 * k]), round(p[2 * k] + dx), null);
    y.push(round(p[2 * k + 1]), round(p[2 * k + 1] + dy), null);
    sizes.push(0, 7, 0);
  }
  return { type: 'scatter', mode: 'lines+markers', x, y, name, ...axes, showlegend: false, line: { color, width: 1.1 }, marker: { symbol: 'arrow', angleref: 'previous', size: sizes, color }, hoverinfo: 'skip', connectgaps: false };
}

export function scoreViews(ctx: EngineContext): Pick<LatentLab.Views, 'scoreField' | 'langevinPaths'> {
  const { emitImage, emitPlot } = viewOutputs(ctx);

  return {
    async scoreField(model, opts = {}) {
      built(model, 'scoreField');
      need(model instanceof Score, `lab.views.scoreField: draws the score of a score model, not of a ${model.family}`);
      const info = model.dataInfo!;
      need(info.kind === 'points' && info.shape.length === 1 && info.shape[0] === 2, `lab.views.scoreField: draws a score field over the plane (this model was trained on ${info.kind} of shape [${info.shape}])`);
      need(!opts.data || isDataset(opts.data), 'lab.views.scoreField: data must be a dataset from lab.data (the one the model was trained on)');
      const ladder = model.sigmas();
      const L = ladder.length;
      const levels = opts.levels ?? [...new Set(Array.from({ length: Math.min(4, L) }, (_, k) => 1 + Math.round(((L - 1) * k) / Math.max(1, Math.min(4, L) - 1))))];
      need(Array.isArray(levels) && levels.length > 0 && levels.length <= 8 && levels.every((i) => Number.isInteger(i) && i >= 1 && i <= L), `lab.views.scoreField: levels must be 1 to 8 indices in 1..${L} (1 = σ_1, the largest)`);
      const G = Math.max(3, Math.min(40, Math.floor(opts.grid ?? 17)));
      const val = opts.data?.val ?? null;
      const modes = info.modes ?? opts.data?.modes;
      const modeStd = info.modeStd ?? opts.data?.modeStd ?? 0.05;
      const [[x0, x1], [y0, y1]] = val ? range2d(val, 0.2) : [[-3, 3], [-3, 3]];
      const pts = new Float32Array(G * G * 2);
      for (let j = 0; j < G; j++) {
        for (let i = 0; i < G; i++) {
          pts[2 * (j * G + i)] = x0 + ((x1 - x0) * i) / (G - 1);
          pts[2 * (j * G + i) + 1] = y0 + ((y1 - y0) * j) / (G - 1);
        }
      }
      const sigmas = levels.map((i) => ladder[i - 1]);
      const exact = modes ? mixtureScore(modes, modeStd) : null;
      const grid = tf.tensor2d(pts, [G * G, 2]);
      const learnedT: tf.Tensor2D[] = [];
      const exactT: tf.Tensor2D[] = [];
      let learned: Float32Array[];
      let analytic: Float32Array[];
      try {
        for (const s of sigmas) {
          learnedT.push(model.score(grid, s));
          if (exact) exactT.push(tf.tidy(() => exact(grid, tf.fill([G * G, 1], s) as tf.Tensor2D)));
        }
        const all = (await Promise.all([...learnedT, ...exactT].map((t) => t.data()))) as Float32Array[];
        learned = all.slice(0, sigmas.length);
        analytic = all.slice(sigmas.length);
      } finally {
        tf.dispose([grid, ...learnedT, ...exactT]);
      }
      const rows = exact ? 2 : 1;
      const cols = sigmas.length;
      const spacing = Math.min(x1 - x0, y1 - y0) / (G - 1);
      const traces: Trace[] = [];
      const relError: number[] = [];
      const annotations: Record<string, unknown>[] = [];
      sigmas.forEach((s, c) => {
        // one arrow scale per level: the 90th-percentile length (of the analytic field if known) is 0.9 of the grid spacing
        const ref = exact ? analytic[c] : learned[c];
        const norms = Array.from({ length: G * G }, (_, k) => Math.hypot(ref[2 * k], ref[2 * k + 1])).sort((a, b) => a - b);
        const p90 = norms[Math.floor(0.9 * (norms.length - 1))];
        const scale = p90 > 0 ? (0.9 * spacing) / p90 : 0;
        const panels: [Float32Array, string, string][] = [[learned[c], '#1f6feb', `learned s_θ(x, σ)`]];
        if (exact) panels.push([analytic[c], '#d1495b', 'analytic ∇ log p_σ']);
        panels.forEach(([field, color, name], r) => {
          const k = r * cols + c + 1;
          const axes = { xaxis: k === 1 ? 'x' : `x${k}`, yaxis: k === 1 ? 'y' : `y${k}` };
          if (val) {
            const m = Math.min(val.n, 500);
            traces.push({ type: 'scatter', mode: 'markers', ...axes, x: Array.from({ length: m }, (_, i) => round(val.x[2 * i])), y: Array.from({ length: m }, (_, i) => round(val.x[2 * i + 1])), marker: { size: 3, color: '#888888', opacity: 0.3 }, showlegend: false, hoverinfo: 'skip' });
          }
          traces.push(arrows(pts, field, scale, 1.4 * spacing, color, name, axes));
          annotations.push({ text: `${r === 0 ? 'learned' : 'analytic'} · σ_${levels[c]} = ${s.toPrecision(2)}`, xref: `${axes.xaxis} domain`, yref: `${axes.yaxis} domain`, x: 0.5, y: 1.08, showarrow: false, font: { size: 11 } });
        });
        if (exact) {
          let num = 0;
          let den = 0;
          for (let i = 0; i < learned[c].length; i++) {
            num += (learned[c][i] - analytic[c][i]) ** 2;
            den += analytic[c][i] ** 2;
          }
          relError.push(Math.sqrt(num / Math.max(den, 1e-30)));
        }
      });
      const layout: Record<string, unknown> = {
        title: { text: `score model: the score field at ${cols} of ${L} noise levels${exact ? ' — learned (top) and analytic (bottom)' : ''}` },
        grid: { rows, columns: cols, pattern: 'independent', ygap: 0.18 },
        height: 300 * rows + 60,
        margin: { l: 36, r: 12, t: 70, b: 30 },
        showlegend: false,
        annotations,
      };
      for (let k = 1; k <= rows * cols; k++) {
        layout[k === 1 ? 'xaxis' : `xaxis${k}`] = { range: [x0, x1], zeroline: false, showticklabels: k > (rows - 1) * cols };
        layout[k === 1 ? 'yaxis' : `yaxis${k}`] = { range: [y0, y1], zeroline: false, scaleanchor: k === 1 ? 'x' : `x${k}`, showticklabels: (k - 1) % cols === 0 };
      }
      emitPlot(
        traces,
        layout,
        `arrows point where log p_σ rises (one length scale per column; the longest clipped). Large σ: one smooth pull towards the data's centre; small σ: a pull to the nearest mode${exact ? `. Relative error ‖s_θ − s*‖/‖s*‖ on the grid: ${relError.map((e) => e.toFixed(2)).join(', ')}` : ''}`,
      );
      return exact ? { sigmas, relError } : { sigmas };
    },

    async langevinPaths(model, opts = {}) {
      built(model, 'langevinPaths');
      need(model instanceof Score, `lab.views.langevinPaths: runs the annealed Langevin sampler of a score model, not of a ${model.family}`);
      const info = model.dataInfo!;
      const image = info.kind === 'image';
      const points2d = info.kind === 'points' && info.shape.length === 1 && info.shape[0] === 2;
      need(image || points2d, `lab.views.langevinPaths: draws images or 2-D points (this model was trained on ${info.kind} of shape [${info.shape}])`);
      need(!opts.data || isDataset(opts.data), 'lab.views.langevinPaths: data must be a dataset from lab.data');
      const sigmas = model.sigmas();
      const T = model.config.langevin.stepsPerLevel!;
      const chains = Math.max(1, Math.min(image ? 32 : 200, Math.floor(opts.chains ?? (image ? 8 : 24))));
      const n = Math.max(chains, Math.min(image ? 32 : 5000, Math.floor(opts.n ?? (image ? chains : 1000))));
      const every = Math.max(1, Math.floor(opts.every ?? (image ? Math.max(1, T) : Math.max(1, Math.round(T / 10)))));
      const seed = Math.floor(opts.seed ?? 1234);
      const r = await model.langevin({ n, seed, chains, every });
      const D = r.frames[0].length / chains;
      if (image) {
        // one column per level's end (and the denoised end): the start, then σ_1 … σ_L
        const keep = r.frames.map((_, i) => i).filter((i) => r.at[i].level < 0 || r.at[i].step === T || r.at[i].level === sigmas.length);
        const F = keep.length;
        const all = new Float32Array(chains * F * D);
        for (let c = 0; c < chains; c++) keep.forEach((f, j) => all.set(r.frames[f].subarray(c * D, (c + 1) * D), (c * F + j) * D));
        const [h, w] = info.shape.length >= 2 ? [info.shape[0], info.shape[1]] : pictureShape(D);
        const rel = viewName('langevin-paths');
        emitImage(rel, imageGridPng(all, chains * F, h, w, F).png, `score: annealed Langevin, one row per chain: the start x_0 ~ N(0, σ_1²) (clipped), then the state after each of the ${sigmas.length} levels (σ ${sigmas[0].toPrecision(2)} → ${sigmas[sigmas.length - 1].toPrecision(2)}, ${T} steps each)${model.config.denoise ? ', the last column after the denoising step' : ''}`);
        return { sigmas, frames: F, path: rel };
      }
      const val = opts.data?.val ?? null;
      const traces: Trace[] = [];
      if (val) {
        const m = Math.min(val.n, 2000);
        traces.push({ type: 'scatter', mode: 'markers', name: 'data', x: Array.from({ length: m }, (_, i) => round(val.x[2 * i])), y: Array.from({ length: m }, (_, i) => round(val.x[2 * i + 1])), marker: { size: 3, color: '#888888', opacity: 0.25 }, hoverinfo: 'skip' });
      }
      traces.push({ type: 'scatter', mode: 'markers', name: `samples (${n})`, x: Array.from({ length: n }, (_, i) => round(r.samples[2 * i])), y: Array.from({ length: n }, (_, i) => round(r.samples[2 * i + 1])), marker: { size: 3, color: '#1f6feb', opacity: 0.5 } });
      // each chain's path as segments coloured by level (σ_1 light → σ_L dark)
      const palette = (i: number) => {
        const u = sigmas.length > 1 ? Math.max(0, Math.min(1, i / (sigmas.length - 1))) : 1;
        return `rgb(${Math.round(255 - 200 * u)}, ${Math.round(190 - 150 * u)}, ${Math.round(60 + 20 * u)})`;
      };
      for (let level = 0; level < sigmas.length; level++) {
        const x: (number | null)[] = [];
        const y: (number | null)[] = [];
        for (let c = 0; c < chains; c++) {
          // the path from the last frame before this level to the level's last frame
          let started = false;
          for (let f = 0; f < r.frames.length; f++) {
            const a = r.at[f];
            const inLevel = a.level === level;
            const before = !inLevel && f + 1 < r.frames.length && r.at[f + 1].level === level;
            if (inLevel || before) {
              x.push(round(r.frames[f][2 * c]));
              y.push(round(r.frames[f][2 * c + 1]));
              started = true;
            }
          }
          if (started) {
            x.push(null);
            y.push(null);
          }
        }
        traces.push({ type: 'scatter', mode: 'lines', name: `σ_${level + 1} = ${sigmas[level].toPrecision(2)}`, x, y, line: { color: palette(level), width: 1 }, hoverinfo: 'name', connectgaps: false });
      }
      const ends = r.frames[r.frames.length - 1];
      traces.push({ type: 'scatter', mode: 'markers', name: 'path ends', x: Array.from({ length: chains }, (_, c) => round(ends[2 * c])), y: Array.from({ length: chains }, (_, c) => round(ends[2 * c + 1])), marker: { size: 7, color: '#111', symbol: 'x' } });
      const [[x0, x1], [y0, y1]] = val ? range2d(val, 0.6) : [[-4, 4], [-4, 4]];
      emitPlot(
        traces,
        {
          title: { text: `score: annealed Langevin, ${chains} of ${n} chains from N(0, σ_1² I), σ ${sigmas[0].toPrecision(2)} → ${sigmas[sigmas.length - 1].toPrecision(2)} over ${sigmas.length} levels × ${T} steps` },
          xaxis: { range: [x0, x1], zeroline: false },
          yaxis: { range: [y0, y1], zeroline: false, scaleanchor: 'x' },
          height: 560,
          margin: { l: 48, r: 16, t: 48, b: 40 },
        },
        `paths coloured by level (light: large σ, wide random moves; dark: small σ, settling on a mode); × marks each path's end${model.config.denoise ? ' after the denoising step' : ''}`,
      );
      const out: LatentLab.LangevinPathsResult = { sigmas, frames: r.frames.length };
      if (val) out.mmd = pointValMetrics(r.samples, val.x, info)['val/mmd'].value;
      return out;
    },
  };
}
