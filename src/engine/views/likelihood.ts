// lab.views for every model with a likelihood, as notebook outputs:
//  - density: a 2-D model's density as a heatmap beside its data, with its integral
//    over the grid (a check that it normalizes);
//  - detector: histograms of per-example bits/dim on several splits and the AUROC
//    of telling two apart by likelihood alone.
import { built, range2d, need, viewOutputs } from './common';
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import { auroc } from '../eval/auroc';
import { evaluateModel, type LikelihoodModel } from '../eval/evaluate';

export function likelihoodViews(ctx: EngineContext): Pick<LatentLab.Views, 'density' | 'detector'> {
  const { emitPlot } = viewOutputs(ctx);

  return {
    async density(model, data, opts = {}) {
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
        res = await model.testNll(t, 1);
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

    async detector(model, splits, opts = {}) {
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
        const r = await evaluateModel(ctx, model as LikelihoodModel, { x: splits[k].x.subarray(0, n * D), n }, { seed: 99, record: false });
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
  };
}
