// lab.views of the classical models:
//  - gmmEllipses: 2-D data with each component's 1σ and 2σ ellipses (from the eigen-
//    decomposition of its covariance) and its mean;
//  - gmmCovariances: the four covariance types fitted to the same data, side by side,
//    each with its log-likelihood and BIC;
//  - gmmBic: BIC against K from lab.models.gmm.select;
//  - naiveBayesClasses: per class, p(x_i = 1 | y) as an image and samples of the class;
//  - pcaComponents: the explained variance, and the mean and principal axes as images.
import { built, isDataset, need, pictureShape, viewName, viewOutputs, type Trace } from '../../views/common';
import type { EngineContext } from '../../context';
import type { Split } from '../../data/types';
import { COVARIANCES, checkCovariance, Gmm } from './gmm';
import { NaiveBayes } from './naive-bayes';
import { Pca } from './pca';
import { symEig } from '../../ops/linalg';
import { mulberry32 } from '../../util/rng';
import { imageGridPng } from '../../util/png';

const COLORS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f'];

/** each component's ellipse in dimensions (i, j): the marginal of a Gaussian there is the 2 x 2 block of its covariance */
export function gmmEllipseParams(model: Gmm, dims: [number, number] = [0, 1]): LatentLab.Ellipse[] {
  const D = model.dim;
  const [a, b] = dims;
  const mu = model.means();
  const w = model.weights();
  return Array.from({ length: model.components }, (_, k) => {
    const S = model.covariance(k);
    const block = [S[a * D + a], S[a * D + b], S[b * D + a], S[b * D + b]];
    const { values, vectors } = symEig(block, 2);
    let angle = Math.atan2(vectors[2], vectors[0]);
    if (angle <= -Math.PI / 2) angle += Math.PI;
    if (angle > Math.PI / 2) angle -= Math.PI;
    return { mean: [mu[k * D + a], mu[k * D + b]], axes: [Math.sqrt(Math.max(0, values[0])), Math.sqrt(Math.max(0, values[1]))], angle, weight: w[k] };
  });
}

/** the points of an ellipse at `s` standard deviations */
function ellipsePath(e: LatentLab.Ellipse, s: number, points = 72): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const c = Math.cos(e.angle);
  const sn = Math.sin(e.angle);
  for (let i = 0; i <= points; i++) {
    const t = (2 * Math.PI * i) / points;
    const u = s * e.axes[0] * Math.cos(t);
    const v = s * e.axes[1] * Math.sin(t);
    x.push(e.mean[0] + c * u - sn * v);
    y.push(e.mean[1] + sn * u + c * v);
  }
  return { x, y };
}

/** up to n rows of a split, in dimensions (a, b), as x and y lists */
function scatterOf(split: Split, D: number, n: number, [a, b]: [number, number]): { x: number[]; y: number[] } {
  const m = Math.min(n, split.n);
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < m; i++) {
    x.push(split.x[i * D + a]);
    y.push(split.x[i * D + b]);
  }
  return { x, y };
}

/** the traces of one panel: the data, each component's 1σ (solid) and 2σ (dashed) ellipses, the means */
function panelTraces(ellipses: LatentLab.Ellipse[], pts: { x: number[]; y: number[] }, axis: string): Trace[] {
  const ax = axis === '' ? {} : { xaxis: `x${axis}`, yaxis: `y${axis}` };
  const traces: Trace[] = [{ type: 'scatter', mode: 'markers', x: pts.x, y: pts.y, name: 'data', marker: { size: 3, color: '#9aa4b1', opacity: 0.5 }, showlegend: false, ...ax }];
  ellipses.forEach((e, k) => {
    const color = COLORS[k % COLORS.length];
    for (const s of [1, 2]) {
      traces.push({ type: 'scatter', mode: 'lines', ...ellipsePath(e, s), name: `component ${k} (${s}σ)`, line: { color, width: 2, dash: s === 1 ? 'solid' : 'dash' }, hoverinfo: 'name', showlegend: false, ...ax });
    }
  });
  traces.push({
    type: 'scatter',
    mode: 'markers',
    x: ellipses.map((e) => e.mean[0]),
    y: ellipses.map((e) => e.mean[1]),
    text: ellipses.map((e, k) => `component ${k}: weight ${e.weight.toFixed(3)}`),
    name: 'means',
    marker: { symbol: 'x', size: 11, color: ellipses.map((_, k) => COLORS[k % COLORS.length]), line: { width: 2 } },
    showlegend: false,
    ...ax,
  });
  return traces;
}

export function classicalViews(ctx: EngineContext): Pick<LatentLab.Views, 'gmmEllipses' | 'gmmCovariances' | 'gmmBic' | 'naiveBayesClasses' | 'pcaComponents'> {
  const { emitPlot, emitImage } = viewOutputs(ctx);
  const dimsOf = (D: number, dims: [number, number] | undefined, view: string): [number, number] => {
    const d = dims ?? [0, 1];
    need(Array.isArray(d) && d.length === 2 && d.every((i) => Number.isInteger(i) && i >= 0 && i < D) && d[0] !== d[1], `lab.views.${view}: dims must be two different dimensions in 0..${D - 1}`);
    return [d[0], d[1]];
  };

  return {
    async gmmEllipses(model, data, opts = {}) {
      built(model, 'gmmEllipses');
      need(model instanceof Gmm, `lab.views.gmmEllipses: draws the components of a gmm, not a ${model.family}`);
      need(model.fitted, 'lab.views.gmmEllipses: the mixture has no parameters yet (train it first)');
      need(isDataset(data), 'lab.views.gmmEllipses: the second argument must be the dataset the mixture was fitted to');
      need(data.dim === model.dim && data.dim >= 2, `lab.views.gmmEllipses: the data must have the model's ${model.dim} dimensions (at least 2)`);
      const which = opts.split ?? 'val';
      need(which === 'train' || which === 'val' || which === 'test', "lab.views.gmmEllipses: split must be 'train', 'val' or 'test'");
      const dims = dimsOf(data.dim, opts.dims, 'gmmEllipses');
      const split = data[which];
      const ellipses = gmmEllipseParams(model, dims);
      const lp = model.logProb(split.x);
      const logLik = lp.reduce((a, b) => a + b, 0) / lp.length;
      const pts = scatterOf(split, data.dim, Math.max(1, Math.floor(opts.n ?? 2000)), dims);
      const proj = data.dim > 2 ? ` (dimensions ${dims[0]} and ${dims[1]}: each component's marginal)` : '';
      emitPlot(
        panelTraces(ellipses, pts, ''),
        {
          title: { text: `gmm (${model.config.covariance}, K = ${model.components}): 1σ and 2σ ellipses${proj}; ${which} log-likelihood ${logLik.toFixed(3)} nats per example` },
          xaxis: { zeroline: false, title: { text: `x${dims[0]}` } },
          yaxis: { zeroline: false, scaleanchor: 'x', title: { text: `x${dims[1]}` } },
          height: 460,
        },
        `${data.name}: the mixture's components (× marks each mean)`,
      );
      return { components: model.components, ellipses, logLik };
    },

    async gmmCovariances(data, opts = {}) {
      need(isDataset(data), 'lab.views.gmmCovariances: the first argument must be a dataset (e.g. lab.data.toy2d(\'moons\'))');
      need(data.kind === 'points' && data.dim === 2, 'lab.views.gmmCovariances: draws 2-D point data (lab.data.toy2d)');
      const k = opts.k ?? 3;
      need(Number.isInteger(k) && k >= 1, 'lab.views.gmmCovariances: k (components) must be a whole number >= 1');
      const seed = Math.floor(opts.seed ?? 1);
      const types = (opts.types ?? [...COVARIANCES]).map((t) => checkCovariance(t, 'lab.views.gmmCovariances'));
      const { x, n } = data.train;
      const logLik: number[] = [];
      const bic: number[] = [];
      const params: number[] = [];
      const traces: Trace[] = [];
      const annotations: Record<string, unknown>[] = [];
      const layout: Record<string, unknown> = { height: 380, showlegend: false, annotations, margin: { t: 70 } };
      const P = types.length;
      const gap = 0.03;
      const width = (1 - gap * (P - 1)) / P;
      const pts = scatterOf(data.train, 2, Math.max(1, Math.floor(opts.n ?? 1500)), [0, 1]);
      types.forEach((covariance, i) => {
        const m = new Gmm({ components: k, covariance, seed });
        m.build({ kind: data.kind, shape: data.shape, binary: data.binary, trainRows: n }, mulberry32(seed));
        const fit = m.fit(x, n, { iters: Math.max(1, Math.floor(opts.iters ?? 200)), restarts: Math.max(1, Math.floor(opts.restarts ?? 3)) });
        const ll = fit.logLik[fit.logLik.length - 1];
        logLik.push(ll);
        params.push(m.parameterCount());
        bic.push(-2 * ll * n + m.parameterCount() * Math.log(n));
        const axis = i === 0 ? '' : String(i + 1);
        traces.push(...panelTraces(gmmEllipseParams(m), pts, axis));
        const lo = i * (width + gap);
        layout[`xaxis${axis}`] = { domain: [lo, lo + width], zeroline: false, anchor: `y${axis}` };
        layout[`yaxis${axis}`] = { zeroline: false, anchor: `x${axis}`, scaleanchor: `x${axis}`, ...(i > 0 ? { showticklabels: false } : {}) };
        annotations.push({
          text: `<b>${covariance}</b><br>log L ${ll.toFixed(3)} / example<br>BIC ${bic[i].toFixed(0)} (${params[i]} params)`,
          x: lo + width / 2,
          y: 1.02,
          xref: 'paper',
          yref: 'paper',
          xanchor: 'center',
          yanchor: 'bottom',
          showarrow: false,
          font: { size: 12 },
        });
        m.dispose();
      });
      let best = 0;
      for (let i = 1; i < P; i++) if (bic[i] < bic[best]) best = i;
      layout.title = { text: `${data.name}: K = ${k} components under each covariance type (lowest BIC: ${types[best]})`, y: 0.98 };
      emitPlot(traces, layout, `${data.name}: full, diagonal, spherical and tied covariances fitted by EM to the same training data`);
      return { covariance: types, logLik, bic, params, best: types[best] };
    },

    async gmmBic(selection) {
      need(
        !!selection && Array.isArray(selection.ks) && Array.isArray(selection.bic) && selection.ks.length === selection.bic.length && selection.ks.length > 0,
        'lab.views.gmmBic: the argument must be the result of lab.models.gmm.select(data, { ks })',
      );
      const { ks, bic, k } = selection;
      emitPlot(
        [
          { type: 'scatter', mode: 'lines+markers', x: ks, y: bic, name: 'BIC' },
          { type: 'scatter', mode: 'markers', x: [k], y: [bic[ks.indexOf(k)]], name: `chosen K = ${k}`, marker: { size: 14, symbol: 'star', color: '#d62728' } },
        ],
        {
          title: { text: `BIC = −2 log L + p log N against K (${selection.covariance} covariances, N = ${selection.n}); lowest at K = ${k}` },
          xaxis: { title: { text: 'components K' }, dtick: 1 },
          yaxis: { title: { text: 'BIC (lower is better)' } },
          height: 340,
        },
        'BIC against the number of components',
      );
      return { k, ks: [...ks], bic: [...bic] };
    },

    async naiveBayesClasses(model, opts = {}) {
      built(model, 'naiveBayesClasses');
      need(model instanceof NaiveBayes, `lab.views.naiveBayesClasses: draws the classes of a naiveBayes model, not a ${model.family}`);
      need(model.rows > 0, 'lab.views.naiveBayesClasses: no training rows counted yet (train it first)');
      const n = Math.max(1, Math.min(20, Math.floor(opts.n ?? 10)));
      const seed = Math.floor(opts.seed ?? 0);
      const C = model.classes;
      const means = model.classMeans();
      const D = means.length / C;
      const all = new Float32Array(C * (n + 1) * D);
      for (let c = 0; c < C; c++) {
        all.set(means.subarray(c * D, (c + 1) * D), c * (n + 1) * D);
        const s = model.sampleClass(c, n, seed + c);
        try {
          all.set((await s.data()) as Float32Array, (c * (n + 1) + 1) * D);
        } finally {
          s.dispose();
        }
      }
      const [h, w] = pictureShape(D);
      const rel = viewName('naive-bayes-classes');
      emitImage(rel, imageGridPng(all, C * (n + 1), h, w, n + 1).png, `naive Bayes: one row per class; first p(x_i = 1 | y), then ${n} samples (each pixel drawn independently given the class)`);
      return { path: rel, classes: C };
    },

    async pcaComponents(model, opts = {}) {
      built(model, 'pcaComponents');
      need(model instanceof Pca, `lab.views.pcaComponents: draws the principal axes of a pca model, not a ${model.family}`);
      await model.ensureFitted();
      const ev = model.explainedVariance();
      const q = ev.values.length;
      const ks = Array.from({ length: q }, (_, i) => i + 1);
      emitPlot(
        [
          { type: 'bar', x: ks, y: ev.ratio, name: 'each component' },
          { type: 'scatter', mode: 'lines+markers', x: ks, y: ev.cumulative, name: 'cumulative' },
        ],
        {
          title: { text: `pca: ${(100 * ev.cumulative[q - 1]).toFixed(1)}% of the variance in ${q} components; σ² = ${ev.sigma2.toPrecision(3)} for each of the other directions` },
          xaxis: { title: { text: 'component' } },
          yaxis: { title: { text: 'share of the total variance' }, range: [0, 1] },
          height: 340,
        },
        'explained variance',
      );
      const { mean } = model.parameters();
      const D = mean.length;
      const [h, w] = pictureShape(D);
      // the axes as pictures only where a row is a square image
      if (h === 1) return { path: null, cumulative: ev.cumulative, sigma2: ev.sigma2 };
      const n = Math.max(1, Math.min(q, Math.floor(opts.n ?? 15)));
      const comps = model.components();
      const out = new Float32Array((n + 1) * D);
      out.set(Float32Array.from(mean), 0);
      // each axis scaled to its own range: mid grey is 0, dark negative, light positive
      for (let k = 0; k < n; k++) {
        const row = comps.subarray(k * D, (k + 1) * D);
        let m = 0;
        for (const v of row) m = Math.max(m, Math.abs(v));
        for (let i = 0; i < D; i++) out[(k + 1) * D + i] = m > 0 ? 0.5 + (0.5 * row[i]) / m : 0.5;
      }
      const rel = viewName('pca-components');
      emitImage(rel, imageGridPng(out, n + 1, h, w, Math.min(n + 1, 8)).png, `pca: the mean image, then the first ${n} principal axes (grey 0, dark negative, light positive)`);
      return { path: rel, cumulative: ev.cumulative, sigma2: ev.sigma2 };
    },
  };
}
