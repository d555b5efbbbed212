// lab.views of diffusion models:
//  - reverseProcess: the reverse chain x_T -> x_0 as frames;
//  - forwardProcess: q(x_t | x_0) at several t, the data dissolving into noise.
import { built, need, pictureShape, viewName, viewOutputs, type Trace } from '../../views/common';
import type { EngineContext } from '../../context';
import type { Dataset, Split } from '../../data/types';
import { mmd } from '../../eval/mmd';
import { alphaBarAt, Ddpm } from './ddpm';
import { normal } from '../../ops/random';
import { imageGridPng } from '../../util/png';
import { animationControls } from '../../views/plotly-animation';

function splitOf(d: Dataset | Split | undefined): Split | null {
  if (!d) return null;
  if ((d as Split).x instanceof Float32Array && (d as Split).n > 0) return d as Split;
  const ds = d as Dataset;
  if (ds.val && ds.val.x instanceof Float32Array) return ds.val;
  return null;
}

/** `count` evenly spaced integers from `from` to `to` (both included), without repeats */
function spaced(from: number, to: number, count: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < count; k++) out.push(Math.round(from + ((to - from) * k) / Math.max(1, count - 1)));
  return [...new Set(out)];
}

/** the pooled standard deviation of the values */
function stdOf(v: Float32Array): number {
  let m = 0;
  for (const x of v) m += x;
  m /= v.length;
  let s = 0;
  for (const x of v) s += (x - m) ** 2;
  return Math.sqrt(s / Math.max(1, v.length - 1));
}

const columns = (v: Float32Array, n: number): { x: number[]; y: number[] } => {
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    x.push(Math.round(v[2 * i] * 1e4) / 1e4);
    y.push(Math.round(v[2 * i + 1] * 1e4) / 1e4);
  }
  return { x, y };
};

/** axis ranges that hold the data and most of N(0, I) */
function range2d(pts: Float32Array[]): [number, number][] {
  const r: [number, number][] = [[-3, 3], [-3, 3]];
  for (const p of pts) {
    for (let i = 0; i + 1 < p.length; i += 2) {
      for (let a = 0; a < 2; a++) {
        const v = p[i + a];
        if (Math.abs(v) > 6) continue; // keep the far tail of the noise off the axes' range
        r[a][0] = Math.min(r[a][0], v);
        r[a][1] = Math.max(r[a][1], v);
      }
    }
  }
  return r.map(([lo, hi]) => [lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo)] as [number, number]);
}

export function diffusionViews(ctx: EngineContext): Pick<LatentLab.Views, 'reverseProcess' | 'forwardProcess'> {
  const { emitImage } = viewOutputs(ctx);

  /**
   * A Plotly animation: one scatter per frame (Plotly `frames`, stepped by a slider and a
   * play button), the reference points faint and always shown.
   */
  const animatedScatter = (frames: Float32Array[], n: number, labels: string[], reference: Split | null, title: string, caption: string) => {
    const ref = reference ? reference.x.subarray(0, Math.min(reference.n, 2000) * 2) : null;
    const points = (f: Float32Array): Trace => ({ type: 'scatter', mode: 'markers', name: 'x_t', ...columns(f, n), marker: { size: 3, color: '#1f6feb', opacity: 0.6 } });
    const traces: Trace[] = [
      ref
        ? { type: 'scatter', mode: 'markers', name: 'data', ...columns(ref, ref.length / 2), marker: { size: 3, color: '#888888', opacity: 0.18 }, hoverinfo: 'skip' }
        : { type: 'scatter', mode: 'markers', name: 'data', x: [], y: [] },
      points(frames[0]),
    ];
    const animation = frames.map((f, i) => ({ name: labels[i], data: [points(f)], traces: [1] }));
    const [xr, yr] = range2d(ref ? [ref, ...frames] : frames);
    ctx.exec()?.emit({
      type: 'plot',
      data: traces,
      frames: animation,
      layout: {
        title: { text: title },
        xaxis: { range: xr, zeroline: false },
        yaxis: { range: yr, zeroline: false, scaleanchor: 'x' },
        height: 500,
        showlegend: false,
        margin: { l: 48, r: 16, t: 48, b: 100 },
        ...animationControls({ steps: labels.map((label) => ({ label, frame: label })), playMs: 400, redraw: false }),
      },
      caption,
    });
  };

  return {
    async reverseProcess(model, opts = {}) {
      built(model, 'reverseProcess');
      need(model instanceof Ddpm, `lab.views.reverseProcess: shows the reverse chain of a ddpm, not a ${model.family}`);
      const info = model.dataInfo!;
      const image = info.kind === 'image';
      const points2d = info.kind === 'points' && info.shape.length === 1 && info.shape[0] === 2;
      need(image || points2d, `lab.views.reverseProcess: draws images or 2-D points (this ddpm was trained on ${info.kind} of shape [${info.shape}])`);
      const n = Math.max(1, Math.min(image ? 32 : 5000, Math.floor(opts.n ?? (image ? 8 : 1000))));
      const F = Math.max(2, Math.min(60, Math.floor(opts.frames ?? (image ? 10 : 11))));
      const seed = Math.floor(opts.seed ?? 1234);
      const s = model.schedule();
      const r = await model.reverse({ n, seed, steps: opts.steps, keep: spaced(s.T, 0, F), variance: opts.variance });
      const D = r.frames[0].length / n;
      const alphaBar = r.t.map((t) => alphaBarAt(s, t));
      // std in diffusion space: images back to [−1, 1] (clipped frames, so an estimate there)
      const std = r.frames.map((f) => stdOf(image ? f.map((v) => 2 * v - 1) : f));
      if (image) {
        const all = new Float32Array(n * r.frames.length * D);
        const Fs = r.frames.length;
        for (let i = 0; i < n; i++) for (let f = 0; f < Fs; f++) all.set(r.frames[f].subarray(i * D, (i + 1) * D), (i * Fs + f) * D);
        const [h, w] = info.shape.length >= 2 ? [info.shape[0], info.shape[1]] : pictureShape(D);
        const rel = viewName('reverse-process');
        emitImage(rel, imageGridPng(all, n * Fs, h, w, Fs).png, `ddpm: the reverse chain, one row per sample, columns at t = ${r.t.join(', ')} (x_T, pure noise, on the left; ${opts.steps ?? model.config.sampleSteps} of ${s.T} steps)`);
        return { frames: Fs, t: r.t, alphaBar, std, path: rel };
      }
      const reference = splitOf(opts.data);
      need(!opts.data || (reference && reference.x.length / reference.n === 2), 'lab.views.reverseProcess: data must be the 2-D dataset (or a split of it) the model was trained on');
      const variance = opts.variance ?? model.config.variance;
      animatedScatter(
        r.frames,
        n,
        r.t.map((t) => `t = ${t}`),
        reference,
        `ddpm: the reverse process x_T → x_0 (${n} chains, ${opts.steps ?? model.config.sampleSteps} of ${s.T} steps, σ² = ${variance === 'beta' ? 'β' : 'β̃'})`,
        'press play, or drag the slider from t = T (noise) to t = 0 (samples)' + (reference ? '; grey: the data' : ''),
      );
      const out: LatentLab.ProcessFrames = { frames: r.frames.length, t: r.t, alphaBar, std };
      if (reference) out.mmd = mmd(r.samples, reference.x.subarray(0, Math.min(reference.n, 1000) * 2), 2);
      return out;
    },

    async forwardProcess(data, model, opts = {}) {
      need(model instanceof Ddpm, `lab.views.forwardProcess: shows the forward process of a ddpm, not a ${model?.family ?? typeof model}`);
      const ds = data as Dataset;
      const split = splitOf(data);
      need(split, 'lab.views.forwardProcess: the first argument must be a dataset from lab.data (its validation split is used) or a split');
      const D = split.x.length / split.n;
      // a bare split says nothing of its kind: 2 values a row are points, anything else an image
      const known = model.dataInfo?.kind ?? ds.kind ?? (D === 2 ? 'points' : 'image');
      const kind: 'image' | 'points' = known === 'image' ? 'image' : 'points';
      const image = kind === 'image';
      need(image || D === 2, `lab.views.forwardProcess: draws images or 2-D points (got rows of ${D} values)`);
      const s = model.schedule(kind);
      let ts: number[];
      if (opts.t !== undefined) {
        need(Array.isArray(opts.t) && opts.t.length > 0 && opts.t.every((t) => Number.isInteger(t) && t >= 0 && t <= s.T), `lab.views.forwardProcess: t must be a list of integers in 0..${s.T}`);
        ts = opts.t.slice(0, 60);
      } else {
        ts = spaced(0, s.T, Math.max(2, Math.min(60, Math.floor(opts.frames ?? (image ? 10 : 11)))));
      }
      const n = Math.max(1, Math.min(split.n, Math.floor(opts.n ?? (image ? 8 : 1000))));
      const seed = Math.floor(opts.seed ?? 4321);
      // x_t = √ᾱ_t x_0 + √(1−ᾱ_t) ε in diffusion space, the same ε in every frame
      const x0 = split.x.subarray(0, n * D).map((v) => (image ? 2 * v - 1 : v));
      const e = normal([n * D], seed);
      let eps: Float32Array;
      try {
        eps = (await e.data()) as Float32Array;
      } finally {
        e.dispose();
      }
      const alphaBar = ts.map((t) => alphaBarAt(s, t));
      const frames = alphaBar.map((ab) => {
        const a = Math.sqrt(ab);
        const b = Math.sqrt(1 - ab);
        return x0.map((v, i) => a * v + b * eps[i]);
      });
      const std = frames.map(stdOf);
      if (image) {
        const Fs = frames.length;
        const all = new Float32Array(n * Fs * D);
        for (let i = 0; i < n; i++) for (let f = 0; f < Fs; f++) all.set(frames[f].subarray(i * D, (i + 1) * D).map((v) => Math.min(1, Math.max(0, (v + 1) / 2))), (i * Fs + f) * D);
        const shape = ds.shape ?? model.dataInfo?.shape;
        const [h, w] = shape && shape.length >= 2 ? [shape[0], shape[1]] : pictureShape(D);
        const rel = viewName('forward-process');
        emitImage(rel, imageGridPng(all, n * Fs, h, w, Fs).png, `ddpm: the forward process q(x_t | x_0), one row per image, columns at t = ${ts.join(', ')} of T = ${s.T} (${model.config.schedule} schedule)`);
        return { frames: Fs, t: ts, alphaBar, std, path: rel };
      }
      animatedScatter(
        frames,
        n,
        ts.map((t, i) => `t = ${t} (ᾱ = ${alphaBar[i].toPrecision(2)})`),
        split,
        `ddpm: the forward process q(x_t | x_0) = N(√ᾱ_t x_0, (1 − ᾱ_t) I), T = ${s.T}, ${model.config.schedule} schedule`,
        'press play, or drag the slider from t = 0 (the data) to t = T (noise); grey: the data',
      );
      return { frames: frames.length, t: ts, alphaBar, std };
    },
  };
}
