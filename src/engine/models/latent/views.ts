// lab.views of latent-variable models (VAEs, autoencoders, the DAE):
//  - reconstructions: test images beside what the model makes of them;
//  - latentMap: a 2-D latent space decoded on a grid (and the test codes over it);
//  - traversals: one latent dimension varied at a time around a code;
//  - interpolate: between the codes of two test images, linear and spherical;
//  - klPerDim: KL per latent dimension (posterior collapse), and its history;
//  - classes: a conditional model's samples, one row per class.
import { built, head, isSplit, need, pictureShape, viewName, viewOutputs } from '../../views/common';
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import type { Model } from '../types';
import { normal, uniformValues } from '../../ops/random';
import { imageGridPng } from '../../util/png';
import { slerp } from '../../eval/interpolation';

type Maybe<T> = T | Promise<T>;
// PCA answers asynchronously (it computes in float64 on the host), the others with tensors
type Decoder = Model & { decode(z: tf.Tensor2D, c?: number): Maybe<tf.Tensor2D>; encodeMean(x: tf.Tensor2D): Maybe<tf.Tensor2D>; latentDim?: number; config: Record<string, unknown> };

/**
 * `f`'s tensor: a synchronous answer is computed in a tidy (its intermediates freed), an
 * asynchronous one frees its own. Inputs are made outside `f` and freed by the caller.
 */
async function settle(f: () => Maybe<tf.Tensor>): Promise<tf.Tensor> {
  let pending: Promise<tf.Tensor> | null = null;
  const t = tf.tidy(() => {
    const r = f();
    if (r instanceof Promise) {
      pending = r;
      return [] as tf.Tensor[];
    }
    return r;
  });
  return pending ?? (t as tf.Tensor);
}

function decoder(model: LatentLab.Model, view: string): Decoder {
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

export function latentViews(ctx: EngineContext): Pick<LatentLab.Views, 'reconstructions' | 'latentMap' | 'traversals' | 'interpolate' | 'klPerDim' | 'classes'> {
  const { emitPlot, emitImage } = viewOutputs(ctx);
  /** the values of a tensor made by `f` (in a tidy), read back and disposed */
  const read = async (f: () => Maybe<tf.Tensor>, inputs: tf.Tensor[] = []): Promise<Float32Array> => {
    let t: tf.Tensor;
    try {
      t = await settle(f);
    } finally {
      tf.dispose(inputs);
    }
    try {
      return ((await t.data()) as Float32Array).slice();
    } finally {
      t.dispose();
    }
  };
  const decodeRows = (m: Decoder, z: Float32Array, L: number): Promise<Float32Array> => {
    const zt = tf.tensor2d(z, [z.length / L, L]);
    return read(() => m.decode(zt), [zt]);
  };

  return {
    async reconstructions(model, split, opts = {}) {
      const m = decoder(model, 'reconstructions');
      need(isSplit(split), 'lab.views.reconstructions: the second argument must be a split, e.g. data.test');
      const { x, D, n } = head(split, Math.floor(opts.n ?? 16));
      const r = (m as unknown as { reconstruct?: (x: tf.Tensor2D, seed?: number) => Maybe<tf.Tensor2D> }).reconstruct;
      let rec: tf.Tensor;
      if (r) rec = await settle(() => r.call(m, x, opts.seed ?? 0));
      else {
        const z = (await settle(() => m.encodeMean(x))) as tf.Tensor2D;
        rec = await settle(() => m.decode(z));
        z.dispose();
      }
      // the inputs are the split's own rows (what x holds): only the reconstructions are read back
      const xv = split.x.subarray(0, n * D);
      let rv: Float32Array;
      try {
        rv = (await rec.data()) as Float32Array;
      } finally {
        tf.dispose([x, rec]);
      }
      let err = 0;
      for (let i = 0; i < rv.length; i++) err += (rv[i] - xv[i]) ** 2;
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

    async latentMap(model, opts = {}) {
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
      const imgs = await decodeRows(m, z, 2);
      const D = imgs.length / (size * size);
      const [h, w] = pictureShape(D);
      const rel = viewName('latent-map');
      emitImage(rel, imageGridPng(imgs, size * size, h, w, size).png, `${model.family}: decoded grid z1, z2 in [${-range}, ${range}] (z1 across, z2 up)`);
      if (opts.split && isSplit(opts.split)) {
        const { x, n } = head(opts.split, 2000);
        let codes: Float32Array;
        try {
          codes = await read(() => m.encodeMean(x));
        } finally {
          x.dispose();
        }
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

    async traversals(model, opts = {}) {
      const m = decoder(model, 'traversals');
      const L = latentDimOf(m);
      const dims = (opts.dims ?? Array.from({ length: Math.min(L, 10) }, (_, i) => i)).filter((d) => Number.isInteger(d) && d >= 0 && d < L);
      need(dims.length > 0, `lab.views.traversals: dims must be latent dimensions 0..${L - 1}`);
      const steps = Math.max(2, Math.min(15, Math.floor(opts.steps ?? 9)));
      const range = opts.range ?? 3;
      let base: Float32Array = new Float32Array(L);
      if (opts.split && isSplit(opts.split)) {
        const D = opts.split.x.length / opts.split.n;
        const i = Math.max(0, Math.min(opts.split.n - 1, Math.floor(opts.index ?? 0)));
        const row = opts.split.x.subarray(i * D, (i + 1) * D);
        const xt = tf.tensor2d(row, [1, D]);
        base = await read(() => m.encodeMean(xt), [xt]);
      }
      const z = new Float32Array(dims.length * steps * L);
      dims.forEach((d, r) => {
        for (let c = 0; c < steps; c++) {
          const row = z.subarray((r * steps + c) * L, (r * steps + c + 1) * L);
          row.set(base);
          row[d] = -range + (2 * range * c) / (steps - 1);
        }
      });
      const imgs = await decodeRows(m, z, L);
      const D = imgs.length / (dims.length * steps);
      const [h, w] = pictureShape(D);
      const rel = viewName('traversals');
      emitImage(rel, imageGridPng(imgs, dims.length * steps, h, w, steps).png, `${model.family}: one row per latent dimension (${dims.join(', ')}), from ${-range} to ${range}, the others held at ${opts.split ? `test image ${opts.index ?? 0}'s code` : '0'}`);
      return { path: rel };
    },

    async interpolate(model, split, opts = {}) {
      const m = decoder(model, 'interpolate');
      need(isSplit(split), 'lab.views.interpolate: the second argument must be a split, e.g. data.test');
      const L = latentDimOf(m);
      const pairs = Math.max(1, Math.min(8, Math.floor(opts.pairs ?? 3)));
      const steps = Math.max(3, Math.min(15, Math.floor(opts.steps ?? 9)));
      const D = split.x.length / split.n;
      need(split.n >= 2, 'lab.views.interpolate: needs at least 2 examples');
      // endpoints: seeded picks of test images
      const idx = Array.from(uniformValues(opts.seed ?? 3, 2 * pairs), (v) => Math.min(split.n - 1, Math.floor(v * split.n)));
      const xt = tf.tensor2d(Float32Array.from(idx.flatMap((i) => Array.from(split.x.subarray(i * D, (i + 1) * D)))), [2 * pairs, D]);
      const ends = await read(() => m.encodeMean(xt), [xt]);
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
      const imgs = await decodeRows(m, z, L);
      const [h, w] = pictureShape(D);
      const rel = viewName('interpolation');
      emitImage(rel, imageGridPng(imgs, 2 * pairs * steps, h, w, steps).png, `${model.family}: between the codes of two test images: linear (odd rows) and spherical (even rows)`);
      return { path: rel };
    },

    async klPerDim(model, split) {
      built(model, 'klPerDim');
      const m = model as Model & { klPerDim?(x: tf.Tensor2D): Promise<Float32Array>; klHistory?: { steps: number[]; values: Float32Array[] } };
      need(typeof m.klPerDim === 'function', `lab.views.klPerDim: needs a VAE (a model with q(z|x)), not a ${model.family}`);
      need(isSplit(split), 'lab.views.klPerDim: the second argument must be a split, e.g. data.test');
      const { x } = head(split, 1000);
      let kl: number[];
      try {
        kl = Array.from(await m.klPerDim(x));
      } finally {
        x.dispose();
      }
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

    async classes(model, opts = {}) {
      built(model, 'classes');
      const m = model as Model & { conditional?: boolean; classes?: number; latentDim?: number; decode(z: tf.Tensor2D, labels?: number): tf.Tensor2D };
      need(m.conditional === true && typeof m.decode === 'function', `lab.views.classes: draws each class of a conditional model (cvae), not a ${model.family}`);
      const C = m.classes!;
      const L = m.latentDim!;
      const n = Math.max(1, Math.min(16, Math.floor(opts.n ?? 10)));
      // the same n codes in every row: a column keeps the style, a row changes only the class
      const z = normal([n, L], Math.floor(opts.seed ?? 21)) as tf.Tensor2D;
      const rows: Float32Array[] = [];
      try {
        for (let c = 0; c < C; c++) rows.push(await read(() => m.decode(z, c)));
      } finally {
        z.dispose();
      }
      const D = rows[0].length / n;
      const all = new Float32Array(C * n * D);
      rows.forEach((r, c) => all.set(r, c * n * D));
      const [h, w] = pictureShape(D);
      const rel = viewName('classes');
      emitImage(rel, imageGridPng(all, C * n, h, w, n).png, `${model.family}: one row per class, the same ${n} latent codes in every row (a column keeps the style)`);
      return { path: rel, classes: C };
    },
  };
}
