// Sample-quality views. The numbers themselves (FID, KID, precision/recall, class
// coverage, MMD) come from lab.evaluate; this file holds what is better seen:
//  - nearestNeighbours: each sample beside its closest training image (pixel L2), with
//    the test images' own closest-training distances as the baseline. A model that
//    memorised its data draws samples much closer to training images than fresh test
//    images are (ratio well below 1);
//  - modeCoverage: on 8 / 25 Gaussians, generated samples per mode and how many modes
//    the model covers, for any model that samples (GANs, GMMN, flows, DDPM...);
//  - chain: a sampling chain (Gibbs for Boltzmann machines, corrupt-denoise for the
//    DAE) as frames, one row per chain.
import type { EngineContext } from '../context';
import { drawSamples } from '../eval/evaluate';
import { nearestNeighbours as nearest } from '../eval/sample-metrics';
import type { Model } from '../models/types';
import type { CellOutput } from '../../shared/domain';
import { imageGridPng } from '../util/png';
import { modeStats } from '../eval/modes';
import { writeFile } from '../util/files';
import { built, framesOf, isDataset, need, pictureShape, viewName, viewOutputs, type GibbsModel } from './common';

type ChainModel = Model & { chain(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array }): Promise<Float32Array[]> };
const round = (v: number, digits = 4) => Number(v.toFixed(digits));

export function sampleViews(ctx: EngineContext): Pick<LatentLab.Views, 'nearestNeighbours' | 'modeCoverage' | 'chain'> {
  const { emitImage } = viewOutputs(ctx);
  const emit = (out: CellOutput) => ctx.exec()?.emit(out);
  return {
    async nearestNeighbours(model, data, opts = {}) {
      built(model, 'nearestNeighbours');
      need(data && data.train && data.test && typeof data.dim === 'number', 'lab.views.nearestNeighbours: the second argument must be the dataset the model was trained on (from lab.data)');
      need(data.kind === 'image', `lab.views.nearestNeighbours: shows images side by side; ${data.name} is ${data.kind} data`);
      const n = Math.floor(opts.n ?? 16);
      need(Number.isInteger(n) && n >= 1 && n <= 256, `lab.views.nearestNeighbours: n must be a whole number in 1..256 (got ${opts.n})`);
      const D = data.dim;
      const samples = await drawSamples(model, n, D, opts.seed ?? 1234);
      for (let i = 0; i < samples.length; i++) samples[i] = samples[i] < 0 ? 0 : samples[i] > 1 ? 1 : samples[i];
      const nn = nearest(samples, n, data.train.x, data.train.n, D);
      const nTest = Math.min(data.test.n, Math.max(n, 200));
      const base = nearest(data.test.x, nTest, data.train.x, data.train.n, D);
      const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
      const meanDistance = mean(nn.distance);
      const testBaseline = mean(base.distance);
      need(testBaseline > 0, 'lab.views.nearestNeighbours: the test images are copies of training images (baseline distance 0)');
      const ratio = meanDistance / testBaseline;
      // pairs side by side, four pairs a row, a blank tile between pairs
      const pairs = Math.min(n, 4);
      const cols = 3 * pairs - 1;
      const rows = Math.ceil(n / pairs);
      const tiles = new Float32Array(rows * cols * D);
      for (let i = 0; i < n; i++) {
        const r = Math.floor(i / pairs);
        const c = 3 * (i % pairs);
        tiles.set(samples.subarray(i * D, (i + 1) * D), (r * cols + c) * D);
        tiles.set(data.train.x.subarray(nn.index[i] * D, (nn.index[i] + 1) * D), (r * cols + c + 1) * D);
      }
      const [h, w] = data.shape.length >= 2 ? [data.shape[0], data.shape[1]] : [1, D];
      const rel = viewName('nearest-neighbours');
      writeFile(ctx.artifactsDir(), rel, imageGridPng(tiles, rows * cols, h, w, cols).png);
      ctx.exec()?.emit({
        type: 'image',
        path: rel,
        caption: `${model.family}: each sample (left) beside its closest training image (right), pixel L2; mean distance ${meanDistance.toFixed(2)} against ${testBaseline.toFixed(2)} for test images (ratio ${ratio.toFixed(2)}; far below 1 = memorisation)`,
      });
      return { meanDistance, testBaseline, ratio, path: rel, distances: Array.from(nn.distance), indices: Array.from(nn.index) };
    },

    async modeCoverage(model, data, opts = {}) {
      built(model, 'modeCoverage');
      need(isDataset(data) && data.kind === 'points' && data.dim === 2, 'lab.views.modeCoverage: needs 2-D point data with known modes (lab.data.toy2d(\'8gaussians\') or \'25gaussians\')');
      need(Array.isArray(data.modes) && data.modes.length > 0, `lab.views.modeCoverage: ${data.name} has no known modes; use lab.data.toy2d('8gaussians') or lab.data.toy2d('25gaussians')`);
      const modes = data.modes;
      const std = data.modeStd ?? 0.05;
      const n = Math.max(10, Math.min(20000, Math.floor(opts.n ?? 1000)));
      const seed = Math.floor(opts.seed ?? 1);
      const s = await model.sample(n, undefined, seed);
      const pts = ((await s.data()) as Float32Array).slice();
      s.dispose();
      need(pts.length === 2 * n, `lab.views.modeCoverage: the ${model.family} generates ${pts.length / n}-D examples; this view counts 2-D points`);
      // each sample's nearest mode, counted when it lies within 3 std of it (eval/modes.ts's rule)
      const radius = 3 * Math.max(std, 1e-3);
      const counts = new Array<number>(modes.length).fill(0);
      const nearest = new Int32Array(n).fill(-1);
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        let arg = -1;
        for (let k = 0; k < modes.length; k++) {
          const d = Math.hypot(pts[2 * i] - modes[k][0], pts[2 * i + 1] - modes[k][1]);
          if (d < best) {
            best = d;
            arg = k;
          }
        }
        if (best <= radius) {
          counts[arg]++;
          nearest[i] = arg;
        }
      }
      const st = modeStats(pts, modes, std);
      const minCount = Math.max(1, Math.ceil(0.01 * n));
      const K = modes.length;
      const inMode = (good: boolean) => {
        const x: number[] = [];
        const y: number[] = [];
        for (let i = 0; i < n; i++) if ((nearest[i] >= 0) === good) {
          x.push(round(pts[2 * i]));
          y.push(round(pts[2 * i + 1]));
        }
        return { x, y };
      };
      const good = inMode(true);
      const bad = inMode(false);
      emit({
        type: 'plot',
        data: [
          { type: 'scatter', mode: 'markers', ...good, name: 'within 3σ of a mode', marker: { size: 3, color: '#1f6feb', opacity: 0.6 } },
          { type: 'scatter', mode: 'markers', ...bad, name: 'off every mode', marker: { size: 3, color: '#d1495b', opacity: 0.6 } },
          { type: 'scatter', mode: 'markers', x: modes.map((c) => c[0]), y: modes.map((c) => c[1]), name: 'mode centres (circles: 3σ)', marker: { symbol: 'cross-thin-open', size: 7, color: '#222', line: { width: 1, color: '#222' } } },
          {
            type: 'bar', x: modes.map((_, k) => `${k + 1}`), y: counts, xaxis: 'x2', yaxis: 'y2', name: 'samples per mode',
            marker: { color: counts.map((c) => (c >= minCount ? '#2a9d8f' : '#d1495b')) },
          },
        ],
        layout: {
          title: { text: `${model.family}: ${st.covered} of ${K} modes covered · ${(100 * st.highQuality).toFixed(1)}% of ${n} samples high quality (within 3σ)` },
          xaxis: { domain: [0, 0.45], zeroline: false },
          yaxis: { scaleanchor: 'x', zeroline: false },
          xaxis2: { domain: [0.55, 1], anchor: 'y2', title: { text: 'mode' }, type: 'category' },
          yaxis2: { anchor: 'x2', title: { text: 'samples within 3σ' } },
          shapes: [
            ...modes.map((c) => ({ type: 'circle', xref: 'x', yref: 'y', x0: c[0] - radius, x1: c[0] + radius, y0: c[1] - radius, y1: c[1] + radius, line: { color: '#555', width: 1 } })),
            { type: 'line', xref: 'x2 domain', yref: 'y2', x0: 0, x1: 1, y0: minCount, y1: minCount, line: { dash: 'dash', color: '#555', width: 1 } },
          ],
          legend: { orientation: 'h', x: 0, y: 1.02, yanchor: 'bottom' },
          margin: { l: 48, r: 16, t: 80, b: 48 },
          height: 420,
        },
        caption: `a mode counts as covered with at least ${minCount} samples (1%) within 3σ = ${radius.toFixed(2)} of its centre (dashed line); red bars = missed modes`,
      });
      return { covered: st.covered, of: K, highQuality: st.highQuality, counts, meanDist: st.meanDist };
    },

    async chain(model, opts = {}) {
      built(model, 'chain');
      const n = Math.max(1, Math.min(16, Math.floor(opts.n ?? 6)));
      const steps = Math.max(1, Math.floor(opts.steps ?? 200));
      const every = Math.max(1, Math.floor(opts.every ?? Math.ceil(steps / 10)));
      const seed = Math.floor(opts.seed ?? 11);
      let frames: Float32Array[];
      if (typeof (model as GibbsModel).gibbs === 'function') frames = framesOf(await (model as GibbsModel).gibbs({ n, steps, every, seed }));
      else if (typeof (model as ChainModel).chain === 'function') frames = await (model as ChainModel).chain({ n, steps, every, seed });
      else throw new Error(`lab.views.chain: runs the sampling chain of an rbm, dbn, dbm, boltzmann or dae, not a ${model.family}`);
      const D = frames[0].length / n;
      const F = frames.length;
      // one row per chain, one column per frame
      const all = new Float32Array(n * F * D);
      for (let c = 0; c < n; c++) for (let f = 0; f < F; f++) all.set(frames[f].subarray(c * D, (c + 1) * D), (c * F + f) * D);
      const [h, w] = pictureShape(D);
      const rel = viewName('chain');
      emitImage(rel, imageGridPng(all, n * F, h, w, F).png, `${model.family}: ${n} chains, a frame every ${every} of ${steps} steps (left: the random start)`);
      return { path: rel, frames: F };
    },
  };
}
