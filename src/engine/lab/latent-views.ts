// lab.views for latent-variable and energy-based models, as notebook outputs:
//  - reconstructions: test images beside what the model makes of them;
//  - latentMap: a 2-D latent space decoded on a grid (and the test codes over it);
//  - traversals: one latent dimension varied at a time around a code;
//  - interpolate: between the codes of two test images, linear and spherical;
//  - klPerDim: KL per latent dimension (posterior collapse), and its history;
//  - filters: the learned weights of an RBM / DBN / DBM as images;
//  - chain: a Gibbs (or denoising) chain as frames;
//  - inpaint: half an image clamped, the rest sampled (clamped pixels never change);
//  - recall / capacity: a Hopfield network recalling corrupted patterns, and where
//    its capacity runs out.
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import type { Split } from '../data/types';
import type { Model } from '../models/types';
import { Hopfield, corrupt as corruptPattern, capacity as capacityCurve, toBits, toSpins } from '../models/hopfield';
import { normal, uniform } from '../ops/random';
import { writeFile } from '../train/trainer';
import { imageGridPng } from '../util/png';
import { built, need, viewName } from './views';

type Trace = Record<string, unknown>;

export interface LatentViews {
  reconstructions(model: Model, split: Split, opts?: { n?: number; seed?: number }): { path: string; error: number };
  latentMap(model: Model, opts?: { size?: number; range?: number; split?: Split & { y?: Uint8Array } }): { path: string };
  traversals(model: Model, opts?: { dims?: number[]; steps?: number; range?: number; split?: Split; index?: number }): { path: string };
  interpolate(model: Model, split: Split, opts?: { pairs?: number; steps?: number; seed?: number }): { path: string };
  klPerDim(model: Model, split: Split): { kl: number[]; active: number };
  filters(model: Model, opts?: { n?: number; layer?: number }): { path: string; shown: number };
  chain(model: Model, opts?: { n?: number; steps?: number; every?: number; seed?: number }): { path: string; frames: number };
  inpaint(model: Model, split: Split, opts?: { n?: number; half?: 'top' | 'bottom' | 'left' | 'right'; steps?: number; seed?: number }): { path: string; clampedChanged: number };
  recall(net: Hopfield, patterns: Split | Float32Array[], opts?: { flip?: number; seed?: number; shape?: [number, number]; n?: number; steps?: number }): { path: string; recalled: number; of: number };
  capacity(opts?: { units?: number; counts?: number[]; flip?: number; trials?: number; seed?: number }): { counts: number[]; recalled: number[]; exact: number[] };
  distribution(model: Model, split: Split, opts?: { top?: number }): { kl: number; states: number; onData: number };
  classes(model: Model, opts?: { n?: number; seed?: number }): { path: string; classes: number };
}

function isSplit(s: unknown): s is Split {
  return !!s && (s as Split).x instanceof Float32Array && (s as Split).n > 0;
}

/** the picture shape of D values: square when D is a square, else one row */
export function pictureShape(D: number): [number, number] {
  const s = Math.round(Math.sqrt(D));
  return s * s === D ? [s, s] : [1, D];
}

type Decoder = Model & { decode(z: tf.Tensor2D): tf.Tensor2D; encodeMean(x: tf.Tensor2D): tf.Tensor2D; latentDim?: number; config: Record<string, unknown> };
type GibbsModel = Model & { gibbs(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array; clamp?: Uint8Array }): Float32Array[] | { frames: Float32Array[] } };
/** the frames of a chain, whichever way the family returns them */
const framesOf = (r: Float32Array[] | { frames: Float32Array[] }): Float32Array[] => (Array.isArray(r) ? r : r.frames);
type ChainModel = Model & { chain(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array }): Float32Array[] };
type FilterModel = Model & { filters(layer?: number): { data: Float32Array; count: number; dim: number } };

function decoder(model: Model, view: string): Decoder {
  built(model, view);
  const m = model as Decoder;
  need(typeof m.decode === 'function' && typeof m.encodeMean === 'function', `lab.views.${view}: needs a model with an encoder and a decoder (vae, cvae, autoencoder, dae), not a ${model.family}`);
  return m;
}

function latentDimOf(m: Decoder): number {
  const L = m.latentDim ?? (m.config.latentDim as number);
  need(Number.isInteger(L) && L > 0, `lab.views: ${m.family} has no latent dimension`);
  return L;
}

/** rows of a split as a tensor */
function head(split: Split, n: number): { x: tf.Tensor2D; D: number; n: number } {
  const D = split.x.length / split.n;
  const k = Math.max(1, Math.min(split.n, n));
  return { x: tf.tensor2d(split.x.subarray(0, k * D), [k, D]), D, n: k };
}

/** spherical interpolation between a and b at t (falls back to linear when they are parallel) */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  const cos = dot / Math.sqrt(na * nb || 1);
  const omega = Math.acos(Math.min(1, Math.max(-1, cos)));
  const out = new Float32Array(a.length);
  if (Math.abs(Math.sin(omega)) < 1e-6) {
    for (let i = 0; i < a.length; i++) out[i] = (1 - t) * a[i] + t * b[i];
    return out;
  }
  const wa = Math.sin((1 - t) * omega) / Math.sin(omega);
  const wb = Math.sin(t * omega) / Math.sin(omega);
  for (let i = 0; i < a.length; i++) out[i] = wa * a[i] + wb * b[i];
  return out;
}

export function createLatentViews(ctx: EngineContext): LatentViews {
  const emitPlot = (data: Trace[], layout: Record<string, unknown>, caption?: string) => ctx.exec()?.emit({ type: 'plot', data, layout, ...(caption ? { caption } : {}) });
  const emitImage = (rel: string, png: Buffer, caption: string) => {
    writeFile(ctx.artifactsDir(), rel, png);
    ctx.exec()?.emit({ type: 'image', path: rel, caption });
  };
  const decodeRows = (m: Decoder, z: Float32Array, L: number): Float32Array =>
    tf.tidy(() => m.decode(tf.tensor2d(z, [z.length / L, L])).dataSync() as Float32Array).slice();

  return {
    reconstructions(model, split, opts = {}) {
      const m = decoder(model, 'reconstructions');
      need(isSplit(split), 'lab.views.reconstructions: the second argument must be a split, e.g. data.test');
      const { x, D, n } = head(split, Math.floor(opts.n ?? 16));
      const rec = tf.tidy(() => {
        const r = (m as unknown as { reconstruct?: (x: tf.Tensor2D, seed?: number) => tf.Tensor2D }).reconstruct;
        return r ? r.call(m, x, opts.seed ?? 0) : m.decode(m.encodeMean(x));
      });
      const rv = rec.dataSync() as Float32Array;
      const xv = x.dataSync() as Float32Array;
      let err = 0;
      for (let i = 0; i < rv.length; i++) err += (rv[i] - xv[i]) ** 2;
      tf.dispose([x, rec]);
      // pairs of rows: inputs above, reconstructions below
      const cols = Math.min(n, 8);
      const all: number[] = [];
      for (let r = 0; r < n; r += cols) {
        const k = Math.min(cols, n - r);
        for (let i = 0; i < cols; i++) all.push(...(i < k ? xv.subarray((r + i) * D, (r + i + 1) * D) : new Float32Array(D)));
        for (let i = 0; i < cols; i++) all.push(...(i < k ? rv.subarray((r + i) * D, (r + i + 1) * D) : new Float32Array(D)));
      }
      const [h, w] = pictureShape(D);
      const rel = viewName('reconstructions');
      const rows = all.length / D;
      const error = err / n;
      emitImage(rel, imageGridPng(all, rows, h, w, cols).png, `${model.family}: test images (odd rows) and their reconstructions (even rows); squared error ${error.toFixed(2)} per image`);
      return { path: rel, error };
    },

    latentMap(model, opts = {}) {
      const m = decoder(model, 'latentMap');
      const L = latentDimOf(m);
      need(L === 2, `lab.views.latentMap: draws a 2-D latent space; this ${model.family} has ${L} latent dimensions (train one with latentDim: 2)`);
      const size = Math.max(2, Math.min(30, Math.floor(opts.size ?? 15)));
      const range = opts.range ?? 2.5;
      const z = new Float32Array(size * size * 2);
      // rows go down in z2, columns right in z1
      for (let r = 0; r < size; r++) {
        for (let c = 0; c < size; c++) {
          z[2 * (r * size + c)] = -range + (2 * range * c) / (size - 1);
          z[2 * (r * size + c) + 1] = range - (2 * range * r) / (size - 1);
        }
      }
      const imgs = decodeRows(m, z, 2);
      const D = imgs.length / (size * size);
      const [h, w] = pictureShape(D);
      const rel = viewName('latent-map');
      emitImage(rel, imageGridPng(imgs, size * size, h, w, size).png, `${model.family}: decoded grid z1, z2 in [${-range}, ${range}] (z1 across, z2 up)`);
      if (opts.split && isSplit(opts.split)) {
        const { x, n } = head(opts.split, 2000);
        const codes = tf.tidy(() => m.encodeMean(x).dataSync() as Float32Array);
        x.dispose();
        const y = opts.split.y;
        const groups = new Map<string, { x: number[]; y: number[] }>();
        for (let i = 0; i < n; i++) {
          const g = y ? String(y[i]) : 'test';
          if (!groups.has(g)) groups.set(g, { x: [], y: [] });
          groups.get(g)!.x.push(codes[2 * i]);
          groups.get(g)!.y.push(codes[2 * i + 1]);
        }
        const traces = [...groups.entries()].sort(([a], [b]) => Number(a) - Number(b)).map(([g, p]) => ({ type: 'scattergl', mode: 'markers', name: g, x: p.x, y: p.y, marker: { size: 3 } }));
        emitPlot(traces, { title: { text: `${model.family}: test codes (posterior means)${y ? ' by class' : ''}` }, xaxis: { title: { text: 'z1' }, range: [-range, range] }, yaxis: { title: { text: 'z2' }, range: [-range, range], scaleanchor: 'x' }, height: 420 });
      }
      return { path: rel };
    },

    traversals(model, opts = {}) {
      const m = decoder(model, 'traversals');
      const L = latentDimOf(m);
      const dims = (opts.dims ?? Array.from({ length: Math.min(L, 10) }, (_, i) => i)).filter((d) => Number.isInteger(d) && d >= 0 && d < L);
      need(dims.length > 0, `lab.views.traversals: dims must be latent dimensions 0..${L - 1}`);
      const steps = Math.max(2, Math.min(15, Math.floor(opts.steps ?? 9)));
      const range = opts.range ?? 3;
      let base = new Float32Array(L);
      if (opts.split && isSplit(opts.split)) {
        const D = opts.split.x.length / opts.split.n;
        const i = Math.max(0, Math.min(opts.split.n - 1, Math.floor(opts.index ?? 0)));
        base = tf.tidy(() => m.encodeMean(tf.tensor2d(opts.split!.x.subarray(i * D, (i + 1) * D), [1, D])).dataSync() as Float32Array).slice();
      }
      const z = new Float32Array(dims.length * steps * L);
      dims.forEach((d, r) => {
        for (let c = 0; c < steps; c++) {
          const row = z.subarray((r * steps + c) * L, (r * steps + c + 1) * L);
          row.set(base);
          row[d] = -range + (2 * range * c) / (steps - 1);
        }
      });
      const imgs = decodeRows(m, z, L);
      const D = imgs.length / (dims.length * steps);
      const [h, w] = pictureShape(D);
      const rel = viewName('traversals');
      emitImage(rel, imageGridPng(imgs, dims.length * steps, h, w, steps).png, `${model.family}: one row per latent dimension (${dims.join(', ')}), from ${-range} to ${range}, the others held at ${opts.split ? `test image ${opts.index ?? 0}'s code` : '0'}`);
      return { path: rel };
    },

    interpolate(model, split, opts = {}) {
      const m = decoder(model, 'interpolate');
      need(isSplit(split), 'lab.views.interpolate: the second argument must be a split, e.g. data.test');
      const L = latentDimOf(m);
      const pairs = Math.max(1, Math.min(8, Math.floor(opts.pairs ?? 3)));
      const steps = Math.max(3, Math.min(15, Math.floor(opts.steps ?? 9)));
      const D = split.x.length / split.n;
      need(split.n >= 2, 'lab.views.interpolate: needs at least 2 examples');
      // endpoints: seeded picks of test images
      const u = uniform([2 * pairs], opts.seed ?? 3);
      const idx = Array.from(u.dataSync(), (v) => Math.min(split.n - 1, Math.floor(v * split.n)));
      u.dispose();
      const ends = tf.tidy(() => m.encodeMean(tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(split.x.subarray(i * D, (i + 1) * D)))), [2 * pairs, D])).dataSync() as Float32Array).slice();
      const z = new Float32Array(2 * pairs * steps * L);
      for (let p = 0; p < pairs; p++) {
        const a = ends.subarray(2 * p * L, (2 * p + 1) * L);
        const b = ends.subarray((2 * p + 1) * L, (2 * p + 2) * L);
        for (let c = 0; c < steps; c++) {
          const t = c / (steps - 1);
          const lin = z.subarray(((2 * p) * steps + c) * L, ((2 * p) * steps + c + 1) * L);
          for (let j = 0; j < L; j++) lin[j] = (1 - t) * a[j] + t * b[j];
          z.set(slerp(a, b, t), ((2 * p + 1) * steps + c) * L);
        }
      }
      const imgs = decodeRows(m, z, L);
      const [h, w] = pictureShape(D);
      const rel = viewName('interpolation');
      emitImage(rel, imageGridPng(imgs, 2 * pairs * steps, h, w, steps).png, `${model.family}: between the codes of two test images: linear (odd rows) and spherical (even rows)`);
      return { path: rel };
    },

    klPerDim(model, split) {
      built(model, 'klPerDim');
      const m = model as Model & { klPerDim?(x: tf.Tensor2D): Float32Array; klHistory?: { steps: number[]; values: Float32Array[] } };
      need(typeof m.klPerDim === 'function', `lab.views.klPerDim: needs a VAE (a model with q(z|x)), not a ${model.family}`);
      need(isSplit(split), 'lab.views.klPerDim: the second argument must be a split, e.g. data.test');
      const { x } = head(split, 1000);
      const kl = Array.from(m.klPerDim(x));
      x.dispose();
      const active = kl.filter((v) => v > 0.01).length;
      const dims = kl.map((_, i) => i);
      emitPlot([{ type: 'bar', x: dims, y: kl, name: 'KL' }], {
        title: { text: `${model.family}: KL(q(z_j|x) ‖ N(0,1)) per latent dimension — ${active} of ${kl.length} active (> 0.01 nats)` },
        xaxis: { title: { text: 'latent dimension' } },
        yaxis: { title: { text: 'nats' } },
        height: 320,
      });
      const hist = m.klHistory;
      if (hist && hist.values.length > 1) {
        emitPlot([{ type: 'heatmap', x: hist.steps, y: dims, z: dims.map((d) => hist.values.map((v) => v[d])), colorscale: 'Viridis', colorbar: { title: { text: 'nats' } } }], {
          title: { text: 'KL per dimension during training (a row fading to 0 is a collapsing dimension)' },
          xaxis: { title: { text: 'step' } },
          yaxis: { title: { text: 'latent dimension' } },
          height: 320,
        });
      }
      return { kl, active };
    },

    filters(model, opts = {}) {
      built(model, 'filters');
      const m = model as FilterModel;
      need(typeof m.filters === 'function', `lab.views.filters: shows the weights of an rbm, dbn or dbm, not a ${model.family}`);
      const f = m.filters(opts.layer);
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

    chain(model, opts = {}) {
      built(model, 'chain');
      const n = Math.max(1, Math.min(16, Math.floor(opts.n ?? 6)));
      const steps = Math.max(1, Math.floor(opts.steps ?? 200));
      const every = Math.max(1, Math.floor(opts.every ?? Math.ceil(steps / 10)));
      const seed = Math.floor(opts.seed ?? 11);
      let frames: Float32Array[];
      if (typeof (model as GibbsModel).gibbs === 'function') frames = framesOf((model as GibbsModel).gibbs({ n, steps, every, seed }));
      else if (typeof (model as ChainModel).chain === 'function') frames = (model as ChainModel).chain({ n, steps, every, seed });
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

    inpaint(model, split, opts = {}) {
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
      const u = uniform([n * D], Math.floor(opts.seed ?? 5));
      const uv = u.dataSync() as Float32Array;
      u.dispose();
      const init = Float32Array.from(given, (v, k) => (clamp[k % D] ? v : uv[k] < 0.5 ? 1 : 0));
      const steps = Math.max(1, Math.floor(opts.steps ?? 200));
      const frames = framesOf(m.gibbs({ n, steps, every: steps, seed: Math.floor(opts.seed ?? 5) + 1, init, clamp }));
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

    recall(net, patterns, opts = {}) {
      need(net instanceof Hopfield, 'lab.views.recall: the first argument must be a network from lab.models.hopfield');
      const list: Float32Array[] = Array.isArray(patterns)
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

    distribution(model, split, opts = {}) {
      built(model, 'distribution');
      const m = model as Model & { probabilities?(): Float64Array };
      need(typeof m.probabilities === 'function', `lab.views.distribution: draws the exact p(v) of a boltzmann machine, not a ${model.family}`);
      need(isSplit(split), 'lab.views.distribution: the second argument must be a split, e.g. data.test');
      const p = m.probabilities();
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

    classes(model, opts = {}) {
      built(model, 'classes');
      const m = model as Model & { conditional?: boolean; classes?: number; latentDim?: number; decode(z: tf.Tensor2D, labels?: number): tf.Tensor2D };
      need(m.conditional === true && typeof m.decode === 'function', `lab.views.classes: draws each class of a conditional model (cvae), not a ${model.family}`);
      const C = m.classes!;
      const L = m.latentDim!;
      const n = Math.max(1, Math.min(16, Math.floor(opts.n ?? 10)));
      // the same n codes in every row: a column keeps the style, a row changes only the class
      const z = normal([n, L], Math.floor(opts.seed ?? 21)) as tf.Tensor2D;
      const rows: Float32Array[] = [];
      for (let c = 0; c < C; c++) {
        const x = m.decode(z, c);
        rows.push(x.dataSync().slice() as Float32Array);
        x.dispose();
      }
      z.dispose();
      const D = rows[0].length / n;
      const all = new Float32Array(C * n * D);
      rows.forEach((r, c) => all.set(r, c * n * D));
      const [h, w] = pictureShape(D);
      const rel = viewName('classes');
      emitImage(rel, imageGridPng(all, C * n, h, w, n).png, `${model.family}: one row per class, the same ${n} latent codes in every row (a column keeps the style)`);
      return { path: rel, classes: C };
    },

    capacity(opts = {}) {
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
