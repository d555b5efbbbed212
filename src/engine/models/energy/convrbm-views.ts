// lab.views of the convolutional RBM:
//  - poolingMaps: a test digit, each filter's hidden map p(h^k_ij = 1 | v) and its pooling map
//    p(pool unit on | v), drawn where they sit on the image (a hidden unit at the centre of its
//    receptive field, a pooling unit over its C × C block).
// (Its filters show in lab.views.filters and its Gibbs chain in lab.views.chain: the model has
// `filters()` and `gibbs()` like the RBM.)
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import { built, isSplit, need, viewName, viewOutputs } from '../../views/common';
import { imageGridPng } from '../../util/png';
import { ConvRbm, geometry } from './convrbm';

export function convrbmViews(ctx: EngineContext): Pick<LatentLab.Views, 'poolingMaps'> {
  const { emitImage } = viewOutputs(ctx);
  return {
    async poolingMaps(model, split, opts = {}) {
      built(model, 'poolingMaps');
      need(model instanceof ConvRbm, `lab.views.poolingMaps: shows the hidden and pooling maps of a convrbm, not a ${model.family}`);
      need(isSplit(split), 'lab.views.poolingMaps: the second argument must be a split, e.g. data.test');
      const p = model.params();
      const { F, K, Hh, Wh, Hb, Wb } = geometry(p);
      const C = p.pool;
      const D = p.Hv * p.Wv;
      need(split.x.length / split.n === D, 'lab.views.poolingMaps: the split has a different size from the model');
      const index = Math.max(0, Math.min(split.n - 1, Math.floor(opts.index ?? 0)));
      const maps = Math.max(1, Math.min(K, Math.floor(opts.maps ?? 12)));
      const digit = split.x.slice(index * D, (index + 1) * D);
      const v = tf.tensor2d(digit, [1, D]);
      const { h, pool } = model.hiddenProbs(v);
      let hv: Float32Array;
      let pv: Float32Array;
      try {
        [hv, pv] = (await Promise.all([h.data(), pool.data()])) as [Float32Array, Float32Array];
      } finally {
        tf.dispose([v, h, pool]);
      }
      let hSum = 0;
      for (const q of hv) hSum += q;
      let pSum = 0;
      for (const q of pv) pSum += q;
      // every picture on the image's grid: hidden unit (i, j) at the centre of its F×F field
      const off = Math.floor((F - 1) / 2);
      const cols = maps + 1;
      const out = new Float32Array(2 * cols * D);
      out.set(digit, 0);
      out.set(digit, cols * D);
      for (let k = 0; k < maps; k++) {
        let hMax = 0;
        let pMax = 0;
        for (let i = 0; i < Hh * Wh; i++) hMax = Math.max(hMax, hv[i * K + k]);
        for (let i = 0; i < Hb * Wb; i++) pMax = Math.max(pMax, pv[i * K + k]);
        const hPic = out.subarray((k + 1) * D, (k + 2) * D);
        const pPic = out.subarray((cols + k + 1) * D, (cols + k + 2) * D);
        for (let y = 0; y < Hh; y++) {
          for (let x = 0; x < Wh; x++) {
            const at = (y + off) * p.Wv + x + off;
            hPic[at] = hMax > 0 ? hv[(y * Wh + x) * K + k] / hMax : 0;
            pPic[at] = pMax > 0 ? pv[(Math.floor(y / C) * Wb + Math.floor(x / C)) * K + k] / pMax : 0;
          }
        }
      }
      const rel = viewName('convrbm-pooling-maps');
      const sparsity = hSum / hv.length;
      const poolOn = pSum / pv.length;
      emitImage(
        rel,
        imageGridPng(out, 2 * cols, p.Hv, p.Wv, cols).png,
        `convrbm: test digit ${index}, then for ${maps} of ${K} filters p(h = 1 | v) of its ${Hh}×${Wh} hidden map (top) and p(pool on | v) of its ${Hb}×${Wb} pooling map (bottom, ${C}×${C} blocks), each scaled to its own maximum and placed over the image; mean p(h = 1) = ${sparsity.toFixed(4)}, mean p(pool on) = ${poolOn.toFixed(3)}`,
      );
      return { path: rel, sparsity, poolOn };
    },
  };
}
