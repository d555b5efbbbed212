// lab.views of energy-based models:
//  - filters: the learned weights of an RBM / DBN / DBM as images;
//  - inpaint: half an image clamped, the rest sampled (clamped pixels never change);
//  - distribution: a small Boltzmann machine's exact p(v) beside the data's;
//  - recall / capacity: a Hopfield network recalling corrupted patterns, and where
//    its capacity runs out.
import { built, framesOf, isSplit, need, pictureShape, viewName, viewOutputs, type GibbsModel } from '../../views/common';
import type { EngineContext } from '../../context';
import type { Model } from '../types';
import { Hopfield, corrupt as corruptPattern, capacity as capacityCurve, toBits, toSpins } from '../energy/hopfield';
import { uniformValues } from '../../ops/random';
import { imageGridPng } from '../../util/png';

type FilterModel = Model & { filters(layer?: number): Promise<{ data: Float32Array; count: number; dim: number }> };

export function energyViews(ctx: EngineContext): Pick<LatentLab.Views, 'filters' | 'inpaint' | 'distribution' | 'recall' | 'capacity'> {
  const { emitPlot, emitImage } = viewOutputs(ctx);

  return {
    async filters(model, opts = {}) {
      built(model, 'filters');
      const m = model as FilterModel;
      need(typeof m.filters === 'function', `lab.views.filters: shows the weights of an rbm, dbn or dbm, not a ${model.family}`);
      const f = await m.filters(opts.layer);
      const n = Math.max(1, Math.min(f.count, Math.floor(opts.n ?? 64)));
      // each filter scaled to its own range, so the pattern shows whatever its size
      const out = new Float32Array(n * f.dim);
      for (let k = 0; k < n; k++) {
        const row = f.data.subarray(k * f.dim, (k + 1) * f.dim);
        let lo = Infinity;
        let hi = -Infinity;
        for (const v of row) {
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
        for (let i = 0; i < f.dim; i++) out[k * f.dim + i] = hi > lo ? (row[i] - lo) / (hi - lo) : 0.5;
      }
      const [h, w] = pictureShape(f.dim);
      const rel = viewName('filters');
      emitImage(rel, imageGridPng(out, n, h, w, Math.min(n, 16)).png, `${model.family}: the weights of ${n} of ${f.count} hidden units, each scaled to its own range (dark negative, light positive)`);
      return { path: rel, shown: n };
    },

    async inpaint(model, split, opts = {}) {
      built(model, 'inpaint');
      const m = model as GibbsModel;
      need(typeof m.gibbs === 'function', `lab.views.inpaint: clamps pixels in the Gibbs chain of an rbm, dbn, dbm or boltzmann, not a ${model.family}`);
      need(isSplit(split), 'lab.views.inpaint: the second argument must be a split, e.g. data.test');
      const half = opts.half ?? 'top';
      need(['top', 'bottom', 'left', 'right'].includes(half), `lab.views.inpaint: half must be 'top', 'bottom', 'left' or 'right' (got ${JSON.stringify(half)})`);
      const n = Math.max(1, Math.min(split.n, Math.floor(opts.n ?? 8)));
      const D = split.x.length / split.n;
      const [h, w] = pictureShape(D);
      const clamp = new Uint8Array(D);
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          const keep = half === 'top' ? y < h / 2 : half === 'bottom' ? y >= h / 2 : half === 'left' ? x < w / 2 : x >= w / 2;
          clamp[y * w + x] = keep ? 1 : 0;
        }
      }
      const given = split.x.slice(0, n * D);
      // the values of uniform([n * D], seed), without a tensor
      const uv = uniformValues(Math.floor(opts.seed ?? 5), n * D);
      const init = Float32Array.from(given, (v, k) => (clamp[k % D] ? v : uv[k] < 0.5 ? 1 : 0));
      const steps = Math.max(1, Math.floor(opts.steps ?? 200));
      const frames = framesOf(await m.gibbs({ n, steps, every: steps, seed: Math.floor(opts.seed ?? 5) + 1, init, clamp }));
      const out = frames[frames.length - 1];
      let changed = 0;
      for (let k = 0; k < out.length; k++) if (clamp[k % D] && out[k] !== given[k]) changed++;
      const shown = Float32Array.from(given, (v, k) => (clamp[k % D] ? v : 0.5));
      const all = new Float32Array(3 * n * D);
      all.set(given, 0);
      all.set(shown, n * D);
      all.set(out, 2 * n * D);
      const rel = viewName('inpainting');
      emitImage(rel, imageGridPng(all, 3 * n, h, w, n).png, `${model.family}: test images (top), the ${half} half clamped (middle), the rest filled in by ${steps} Gibbs steps (bottom)`);
      return { path: rel, clampedChanged: changed };
    },

    async distribution(model, split, opts = {}) {
      built(model, 'distribution');
      const m = model as Model & { probabilities?(): Promise<Float64Array> };
      need(typeof m.probabilities === 'function', `lab.views.distribution: draws the exact p(v) of a boltzmann machine, not a ${model.family}`);
      need(isSplit(split), 'lab.views.distribution: the second argument must be a split, e.g. data.test');
      const p = await m.probabilities();
      const D = Math.round(Math.log2(p.length));
      need(split.x.length / split.n === D, 'lab.views.distribution: the split has a different size from the model');
      // the data's empirical distribution over the 2^D states (bit i of a state = unit i)
      const q = new Float64Array(p.length);
      for (let r = 0; r < split.n; r++) {
        let k = 0;
        for (let i = 0; i < D; i++) if (split.x[r * D + i] > 0.5) k |= 1 << i;
        q[k] += 1 / split.n;
      }
      let kl = 0;
      let onData = 0;
      for (let k = 0; k < p.length; k++) {
        if (q[k] > 0) {
          kl += q[k] * Math.log(q[k] / p[k]);
          onData += p[k];
        }
      }
      const top = Math.max(1, Math.min(p.length, Math.floor(opts.top ?? 40)));
      const order = Array.from(p.keys()).sort((a, b) => q[b] - q[a] || p[b] - p[a]).slice(0, top);
      const label = (k: number) => Array.from({ length: D }, (_, i) => ((k >> i) & 1 ? '1' : '0')).join('');
      const x = order.map(label);
      emitPlot(
        [
          { type: 'bar', name: 'data (empirical)', x, y: order.map((k) => q[k]) },
          { type: 'bar', name: 'model (exact)', x, y: order.map((k) => p[k]) },
        ],
        {
          title: { text: `${model.family}: p(v) over the ${top} most likely of ${p.length} states; KL(data ‖ model) = ${kl.toFixed(4)} nats, ${(100 * onData).toFixed(1)}% of the model's mass on data states` },
          barmode: 'group',
          xaxis: { title: { text: 'state (units 1…D)' }, type: 'category' },
          yaxis: { title: { text: 'probability' } },
          height: 360,
        },
      );
      return { kl, states: p.length, onData };
    },

    async recall(net, patterns, opts = {}) {
      need(net instanceof Hopfield, 'lab.views.recall: the first argument must be a network from lab.models.hopfield');
      const list: ArrayLike<number>[] = Array.isArray(patterns)
        ? patterns
        : isSplit(patterns)
          ? Array.from({ length: patterns.n }, (_, i) => patterns.x.subarray((i * patterns.x.length) / patterns.n, ((i + 1) * patterns.x.length) / patterns.n))
          : [];
      need(list.length > 0, 'lab.views.recall: the second argument must be the patterns to recall (a list of arrays or a split)');
      const n = Math.max(1, Math.min(list.length, Math.floor(opts.n ?? list.length)));
      const flip = opts.flip ?? 0.2;
      const seed = Math.floor(opts.seed ?? 1);
      const N = list[0].length;
      const [h, w] = opts.shape ?? pictureShape(N);
      need(h * w === N, `lab.views.recall: shape ${h}×${w} does not hold ${N} units`);
      const rows: Float32Array[][] = [];
      let recalled = 0;
      for (let i = 0; i < n; i++) {
        const target = list[i];
        const start = corruptPattern(target, flip, seed + i);
        const r = net.recall(start, { seed: seed + 1000 + i, every: Math.max(1, Math.ceil(N / 6)), steps: Math.max(1, Math.floor(opts.steps ?? 100)) });
        const frames = r.frames;
        const last = frames[frames.length - 1];
        // the network's states are 0/1 for display; a pattern counts as recalled when every unit matches
        const bits = toBits(toSpins(target));
        if (last.every((v, k) => v === bits[k])) recalled++;
        rows.push([bits, ...frames]);
      }
      const F = Math.max(...rows.map((r) => r.length));
      const all = new Float32Array(n * F * N).fill(0.15);
      rows.forEach((r, i) => r.forEach((f, j) => all.set(f, (i * F + j) * N)));
      const rel = viewName('hopfield-recall');
      emitImage(rel, imageGridPng(all, n * F, h, w, F).png, `hopfield: each row a stored pattern, its copy with ${Math.round(flip * 100)}% of units flipped, then a frame every N/6 asynchronous unit updates; ${recalled} of ${n} recalled exactly`);
      return { path: rel, recalled, of: n };
    },

    async capacity(opts = {}) {
      const units = Math.max(8, Math.floor(opts.units ?? 100));
      const counts = opts.counts ?? [1, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 25, 30, 40].map((c) => Math.round((c * units) / 100));
      const r = capacityCurve({ units, counts, flip: opts.flip ?? 0.1, trials: Math.max(1, Math.floor(opts.trials ?? 5)), seed: Math.floor(opts.seed ?? 1) });
      const res = r.recalled;
      const x = r.load;
      emitPlot(
        [
          { type: 'scatter', mode: 'lines+markers', x, y: res, name: 'recalled (overlap ≥ 0.99)' },
          { type: 'scatter', mode: 'lines+markers', x, y: r.exact, name: 'recalled bit for bit', line: { dash: 'dot' } },
          { type: 'scatter', mode: 'lines', x: [0.138, 0.138], y: [0, 1], name: '0.138 N', line: { dash: 'dash', color: 'gray' } },
        ],
        { title: { text: `hopfield: patterns recalled from ${Math.round((opts.flip ?? 0.1) * 100)}% flipped bits, N = ${units}` }, xaxis: { title: { text: 'stored patterns / N' } }, yaxis: { title: { text: 'fraction recalled' }, range: [0, 1.05] }, height: 340 },
      );
      return { counts, recalled: res, exact: r.exact };
    },
  };
}
