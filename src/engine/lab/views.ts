// lab.views: the pictures that explain an exact-likelihood model, as notebook outputs.
//  - density: a 2-D model's density as a heatmap beside its data, with its integral
//    over the grid (a check that it normalizes);
//  - layers: a grid of lines pushed through each layer of a 2-D flow;
//  - temperature: samples at several temperatures behind a slider (flows);
//  - detector: histograms of per-example bits/dim on several splits and the AUROC
//    of telling two apart by likelihood alone;
//  - receptiveField: the inputs one output depends on (non-zero gradients);
//  - complete: the bottom half of test images drawn given the top half;
//  - sampleLive: sampling drawn as it happens, one image refreshed in place.
// Figures are Plotly specs (a 'plot' output); pictures are PNG files under
// artifacts/views.
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import { InterruptedError } from '../context';
import type { Dataset, Split } from '../data/types';
import { auroc } from '../eval/auroc';
import { evaluateModel, type LikelihoodModel } from '../eval/evaluate';
import { BinaryAutoregressive } from '../models/autoregressive';
import { FlowModel } from '../models/flows/flow';
import { CategoricalSequence } from '../models/sequence';
import type { Model } from '../models/types';
import { uniform } from '../ops/random';
import { writeFile } from '../train/trainer';
import { imageGridPng } from '../util/png';
import { textSamplesPng, waveformSamplesPng } from '../util/sequence-png';
import { encodeWav, muLawDecode } from '../data/waveforms';

type Trace = Record<string, unknown>;

export interface Views {
  density(model: Model, data: Dataset, opts?: { size?: number }): { integral: number; kind: string };
  layers(model: Model, data: Dataset, opts?: { lines?: number; panels?: number }): { stages: number };
  temperature(model: Model, opts?: { temperatures?: number[]; n?: number; seed?: number; data?: Dataset }): { temperatures: number[] };
  detector(model: Model, splits: Record<string, Split>, opts?: { negative?: string; positive?: string; limit?: number }): { auroc: number; meanBitsPerDim: Record<string, number> };
  receptiveField(model: Model, opts?: { row?: number; col?: number; position?: number }): { seen: number; of: number };
  complete(model: Model, split: Split, opts?: { n?: number; seed?: number }): { path: string };
  sampleLive(model: Model, opts?: { n?: number; every?: number; seed?: number }): Promise<{ path: string; steps: number }>;
  listen(model: Model, opts?: { n?: number; seed?: number; temperature?: number }): { path: string; seconds: number };
}

let viewCounter = 0;
export const viewName = (what: string, ext = 'png') => `views/${Date.now().toString(36)}-${++viewCounter}-${what}.${ext}`;

export function need(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

export function built(model: Model, view: string): void {
  need(model && typeof model.trainStep === 'function', `lab.views.${view}: the first argument must be a model from lab.models`);
  need(model.built, `lab.views.${view}: train the ${model.family} first (lab.train builds it on its data)`);
}

/** data range of a 2-D split with a margin: [lo, hi] per axis */
function range2d(split: Split, margin = 0.15): [number, number][] {
  const r: [number, number][] = [[Infinity, -Infinity], [Infinity, -Infinity]];
  for (let i = 0; i < split.n; i++) {
    for (let a = 0; a < 2; a++) {
      const v = split.x[2 * i + a];
      r[a][0] = Math.min(r[a][0], v);
      r[a][1] = Math.max(r[a][1], v);
    }
  }
  return r.map(([lo, hi]) => {
    const m = (hi - lo) * margin || 1;
    return [lo - m, hi + m] as [number, number];
  });
}


export function createViews(ctx: EngineContext): Views {
  const emitPlot = (data: Trace[], layout: Record<string, unknown>, caption?: string, key?: string) =>
    ctx.exec()?.emit({ type: 'plot', data, layout, ...(caption ? { caption } : {}), ...(key ? { key } : {}) });
  const emitImage = (rel: string, png: Buffer, caption: string, key?: string) => {
    writeFile(ctx.artifactsDir(), rel, png);
    ctx.exec()?.emit({ type: 'image', path: rel, caption, ...(key ? { key } : {}) });
  };

  return {
    density(model, data, opts = {}) {
      built(model, 'density');
      need(data?.kind === 'points' && data.dim === 2, 'lab.views.density: needs 2-D point data (lab.data.toy2d)');
      need(model.testNll, `lab.views.density: ${model.family} gives no density`);
      const size = Math.max(10, Math.min(200, Math.floor(opts.size ?? 100)));
      const [[x0, x1], [y0, y1]] = range2d(data.val);
      const dx = (x1 - x0) / size;
      const dy = (y1 - y0) / size;
      const grid = new Float32Array(size * size * 2);
      for (let j = 0; j < size; j++) for (let i = 0; i < size; i++) {
        grid[2 * (j * size + i)] = x0 + (i + 0.5) * dx;
        grid[2 * (j * size + i) + 1] = y0 + (j + 0.5) * dy;
      }
      const t = tf.tensor2d(grid, [size * size, 2]);
      let res: { nll: Float32Array; kind: string };
      try {
        res = model.testNll(t, 1);
      } finally {
        t.dispose();
      }
      const z: number[][] = [];
      let integral = 0;
      for (let j = 0; j < size; j++) {
        const row: number[] = [];
        for (let i = 0; i < size; i++) {
          const p = Math.exp(-res.nll[j * size + i]);
          row.push(p);
          integral += p * dx * dy;
        }
        z.push(row);
      }
      const xs = Array.from({ length: size }, (_, i) => x0 + (i + 0.5) * dx);
      const ys = Array.from({ length: size }, (_, j) => y0 + (j + 0.5) * dy);
      const nData = Math.min(2000, data.val.n);
      const pts = Array.from(data.val.x.subarray(0, 2 * nData));
      emitPlot(
        [
          { type: 'scatter', mode: 'markers', x: pts.filter((_, k) => k % 2 === 0), y: pts.filter((_, k) => k % 2 === 1), name: 'data (validation)', marker: { size: 3, color: '#1f6feb', opacity: 0.5 } },
          { type: 'heatmap', x: xs, y: ys, z, xaxis: 'x2', yaxis: 'y2', colorscale: 'Viridis', showscale: false, name: 'density' },
        ],
        {
          title: { text: `${model.family}: learned density (${res.kind}); ∫p over the grid = ${integral.toFixed(4)}` },
          xaxis: { domain: [0, 0.48], range: [x0, x1], zeroline: false },
          yaxis: { range: [y0, y1], zeroline: false },
          xaxis2: { domain: [0.52, 1], range: [x0, x1], zeroline: false },
          yaxis2: { anchor: 'x2', range: [y0, y1], zeroline: false },
          showlegend: false,
          height: 360,
        },
        `${data.name}: data beside the model's density`,
      );
      return { integral, kind: res.kind };
    },

    layers(model, data, opts = {}) {
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
        stages = model.stages(t);
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

    temperature(model, opts = {}) {
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
          const x = model.sample(n, noise);
          const v = x.dataSync() as Float32Array;
          x.dispose();
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

    detector(model, splits, opts = {}) {
      built(model, 'detector');
      need(model.testNll, `lab.views.detector: ${model.family} gives no likelihood`);
      need(splits && typeof splits === 'object', 'lab.views.detector: give splits by name, e.g. { train: data.train, test: data.test, fashion: other.test }');
      const names = Object.keys(splits);
      need(names.length >= 2, 'lab.views.detector: give at least two splits');
      const dims = new Set(names.map((k) => splits[k].x.length / splits[k].n));
      need(dims.size === 1, 'lab.views.detector: the splits have different dimensions (the other data must be prepared like the training data)');
      const negative = opts.negative ?? (names.includes('test') ? 'test' : names[0]);
      const positive = opts.positive ?? names.find((k) => k !== negative && k !== 'train') ?? names.find((k) => k !== negative)!;
      need(splits[negative] && splits[positive], `lab.views.detector: no split named ${splits[negative] ? positive : negative}`);
      const limit = Math.max(10, Math.floor(opts.limit ?? 1000));
      const bpd: Record<string, Float32Array> = {};
      let kind = 'exact';
      for (const k of names) {
        // the first `limit` examples, through lab.evaluate's own path (not recorded on the run)
        const D = splits[k].x.length / splits[k].n;
        const n = Math.min(limit, splits[k].n);
        const r = evaluateModel(ctx, model as LikelihoodModel, { x: splits[k].x.subarray(0, n * D), n }, { seed: 99, record: false });
        bpd[k] = r.perExample.map((v) => v / (D * Math.LN2));
        kind = r.kind;
      }
      const score = auroc(bpd[negative], bpd[positive]);
      const mean = Object.fromEntries(names.map((k) => [k, bpd[k].reduce((a, b) => a + b, 0) / bpd[k].length]));
      const colors = ['#9aa0a6', '#1f6feb', '#d1495b', '#2a9d8f', '#e9a23b'];
      emitPlot(
        names.map((k, i) => ({ type: 'histogram', x: Array.from(bpd[k], (v) => Math.round(v * 1e4) / 1e4), name: `${k} (mean ${mean[k].toFixed(3)})`, opacity: 0.55, histnorm: 'probability density', nbinsx: 60, marker: { color: colors[i % colors.length] } })),
        {
          barmode: 'overlay',
          title: { text: `${model.family}: bits/dim per example (${kind}); AUROC ${negative} vs ${positive} = ${score.toFixed(3)}` },
          xaxis: { title: { text: 'bits/dim' } },
          yaxis: { title: { text: 'density' } },
          legend: { orientation: 'h', y: -0.2 },
        },
        `AUROC of flagging '${positive}' by high bits/dim against '${negative}' (0.5: no better than chance; below 0.5: the model prefers '${positive}')`,
      );
      return { auroc: score, meanBitsPerDim: mean };
    },

    receptiveField(model, opts = {}) {
      built(model, 'receptiveField');
      if (model instanceof BinaryAutoregressive) {
        const [h, w] = model.imageShape();
        const row = Math.floor(opts.row ?? h / 2);
        const col = Math.floor(opts.col ?? w / 2);
        need(row >= 0 && row < h && col >= 0 && col < w, `lab.views.receptiveField: row/col outside the ${h}×${w} image`);
        const i = opts.position ?? row * w + col;
        const x = tf.fill([1, h * w], 0.5) as tf.Tensor2D;
        const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.slice(model.logits(inp as tf.Tensor2D), [0, i], [1, 1])))(x);
        const gv = g.dataSync() as Float32Array;
        tf.dispose([x, g]);
        const z: number[][] = [];
        let seen = 0;
        for (let r = 0; r < h; r++) {
          const line: number[] = [];
          for (let c = 0; c < w; c++) {
            const d = r * w + c;
            const v = d === i ? 2 : gv[d] !== 0 ? 1 : 0;
            if (v === 1) seen++;
            line.push(v);
          }
          z.push(line);
        }
        emitPlot(
          [{ type: 'heatmap', z, zmin: 0, zmax: 2, colorscale: [[0, '#f4f5f7'], [0.5, '#1f6feb'], [1, '#d1495b']], showscale: false, hoverinfo: 'skip' }],
          { title: { text: `${model.family}: output (${Math.floor(i / w)}, ${i % w}) sees ${seen} pixels` }, xaxis: { constrain: 'domain' }, yaxis: { autorange: 'reversed', scaleanchor: 'x', constrain: 'domain' }, height: 400 },
          'blue: the pixels with a non-zero gradient of the output logit (at a mid-grey input); red: the output pixel',
        );
        return { seen, of: h * w };
      }
      if (model instanceof CategoricalSequence) {
        const T = model.length;
        const K = model.levels;
        const t = Math.floor(opts.position ?? T - 1);
        need(t >= 0 && t < T, `lab.views.receptiveField: position must be in [0, ${T})`);
        const inp = tf.fill([1, T, K], 1 / K) as tf.Tensor3D;
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.slice(model.logitsFromOneHot(x as tf.Tensor3D), [0, t, 0], [1, 1, -1])))(inp);
        const gv = g.dataSync() as Float32Array;
        tf.dispose([inp, g]);
        const mag = Array.from({ length: T }, (_, j) => {
          let s = 0;
          for (let k = 0; k < K; k++) s += Math.abs(gv[j * K + k]);
          return s;
        });
        const seen = mag.filter((v) => v !== 0).length;
        emitPlot(
          [{ type: 'bar', x: mag.map((_, j) => j), y: mag, marker: { color: mag.map((v, j) => (j === t ? '#d1495b' : v !== 0 ? '#1f6feb' : '#c9ccd1')) } }],
          { title: { text: `${model.family}: output ${t} depends on ${seen} earlier positions` }, xaxis: { title: { text: 'input position' } }, yaxis: { title: { text: '|gradient|' } } },
          'summed |gradient| of the output logits with respect to each input position',
        );
        return { seen, of: T };
      }
      throw new Error(`lab.views.receptiveField: shows autoregressive models (fvsbn, nade, made, pixelcnn, wavenet, charlm), not a ${model.family}`);
    },

    complete(model, split, opts = {}) {
      built(model, 'complete');
      need(model instanceof BinaryAutoregressive, `lab.views.complete: completes images with a binary autoregressive model (for charlm use model.complete(prompt)), not a ${model.family}`);
      need(split && split.x instanceof Float32Array && split.n > 0, 'lab.views.complete: the second argument must be a split, e.g. data.test');
      const [h, w] = model.imageShape();
      const D = h * w;
      need(split.x.length / split.n === D, 'lab.views.complete: the split has a different size from the model');
      const n = Math.max(1, Math.min(split.n, Math.floor(opts.n ?? 8)));
      const given = split.x.slice(0, n * D);
      const half = Math.floor(h / 2) * w;
      const u = uniform([n, D], opts.seed ?? 7);
      const uv = u.dataSync() as Float32Array;
      u.dispose();
      const steps = model.sampling(n, uv, given, (d) => d < half);
      let r = steps.next();
      while (!r.done) r = steps.next();
      const out = r.value;
      const masked = Float32Array.from(given, (v, k) => (k % D < half ? v : 0.5));
      const all = new Float32Array(3 * n * D);
      all.set(given, 0);
      all.set(masked, n * D);
      all.set(out, 2 * n * D);
      const rel = viewName('completion');
      emitImage(rel, imageGridPng(all, 3 * n, h, w, n).png, `${model.family}: test images (top), their top halves (middle), the bottom halves drawn given the top (bottom)`);
      return { path: rel };
    },

    listen(model, opts = {}) {
      built(model, 'listen');
      need(model instanceof CategoricalSequence && !model.isText, `lab.views.listen: plays samples of an audio model (wavenet on waveforms or WAV data), not a ${model.family}${model instanceof CategoricalSequence ? ' on text' : ''}`);
      const n = Math.max(1, Math.min(32, Math.floor(opts.n ?? 4)));
      const T = model.length;
      const rate = model.sampleRate;
      const saved = model.temperature;
      model.temperature = opts.temperature ?? 1;
      let codes: Float32Array;
      try {
        const x = model.sample(n, undefined, opts.seed ?? 1);
        codes = x.dataSync() as Float32Array;
        x.dispose();
      } finally {
        model.temperature = saved;
      }
      // the windows one after another, a tenth of a second of silence between them
      const gap = Math.round(rate / 10);
      const audio = new Float32Array(n * T + (n - 1) * gap);
      for (let r = 0; r < n; r++) for (let t = 0; t < T; t++) audio[r * (T + gap) + t] = muLawDecode(codes[r * T + t]);
      const rel = viewName('samples', 'wav');
      writeFile(ctx.artifactsDir(), rel, encodeWav(audio, rate));
      const seconds = audio.length / rate;
      ctx.exec()?.emit({ type: 'audio', path: rel, caption: `${model.family}: ${n} generated windows of ${T} samples at ${rate} Hz (${seconds.toFixed(2)} s)` });
      return { path: rel, seconds };
    },

    async sampleLive(model, opts = {}) {
      built(model, 'sampleLive');
      const exec = ctx.exec();
      const key = `live-${Date.now().toString(36)}-${++viewCounter}`;
      const seed = opts.seed ?? 1;
      let frames = 0;
      let lastRel = '';
      const frame = (png: Buffer, caption: string) => {
        lastRel = viewName(`${key}-${++frames}`);
        emitImage(lastRel, png, caption, key);
      };
      const pause = async () => {
        await new Promise<void>((r) => setImmediate(r));
        if (exec?.signal.aborted) throw new InterruptedError();
      };
      if (model instanceof BinaryAutoregressive) {
        const [h, w] = model.imageShape();
        const D = h * w;
        const n = Math.max(1, Math.floor(opts.n ?? 16));
        const every = Math.max(1, Math.floor(opts.every ?? w));
        const u = uniform([n, D], seed);
        const uv = u.dataSync() as Float32Array;
        u.dispose();
        const drawn = new Uint8Array(D);
        const show = (x: Float32Array, k: number) => {
          const v = Float32Array.from(x, (val, j) => (drawn[j % D] ? val : 0.35));
          frame(imageGridPng(v, n, h, w).png, `${model.family}: ${k} of ${D} pixels drawn`);
        };
        const steps = model.sampling(n, uv);
        let k = 0;
        for (let r = steps.next(); ; r = steps.next()) {
          if (r.done) {
            show(r.value, D);
            break;
          }
          drawn[r.value.i] = 1;
          if (++k % every === 0) {
            show(r.value.x, k);
            await pause();
          }
        }
        return { path: lastRel, steps: D };
      }
      if (model instanceof CategoricalSequence) {
        const T = model.length;
        const n = Math.max(1, Math.floor(opts.n ?? 4));
        const every = Math.max(1, Math.floor(opts.every ?? 16));
        const u = uniform([n, T], seed);
        const uv = u.dataSync() as Float32Array;
        u.dispose();
        const text = model.isText;
        const show = (x: Float32Array, t: number) => {
          // the part drawn so far: text is cut at t, audio is shown with silence after t
          const v = new Float32Array(n * T).fill(text ? 0 : 128);
          for (let r = 0; r < n; r++) v.set(x.subarray(r * T, r * T + t), r * T);
          const png = text ? textSamplesPng(v, n, T) : waveformSamplesPng(v, n, T);
          frame(png, `${model.family}: ${t} of ${T} ${text ? 'characters' : 'samples'} drawn`);
        };
        const steps = model.generating(new Float32Array(0), 0, n, T, (r, t) => uv[r * T + t]);
        for (let r = steps.next(); ; r = steps.next()) {
          if (r.done) {
            show(r.value, T);
            break;
          }
          if ((r.value.t + 1) % every === 0) {
            show(r.value.x, r.value.t + 1);
            await pause();
          }
        }
        return { path: lastRel, steps: T };
      }
      throw new Error(`lab.views.sampleLive: draws autoregressive models step by step (fvsbn, nade, made, pixelcnn, wavenet, charlm), not a ${model.family}`);
    },
  };
}
