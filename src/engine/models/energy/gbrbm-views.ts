// lab.views of the Gaussian–Bernoulli RBM: its learned σ per visible unit as a picture.
import { built, need, pictureShape, viewName, viewOutputs } from '../../views/common';
import type { EngineContext } from '../../context';
import { imageGridPng } from '../../util/png';
import { Gbrbm } from './gbrbm';

export function gbrbmViews(ctx: EngineContext): Pick<LatentLab.Views, 'sigmaMap'> {
  const { emitImage } = viewOutputs(ctx);
  return {
    async sigmaMap(model) {
      built(model, 'sigmaMap');
      need(model instanceof Gbrbm, `lab.views.sigmaMap: draws the learned σ of a gbrbm, not a ${model.family}`);
      const s = await model.sigmas();
      const sorted = Float32Array.from(s).sort();
      const min = sorted[0];
      const max = sorted[sorted.length - 1];
      const median = sorted[Math.floor(sorted.length / 2)];
      // log scale: σ spans orders of magnitude (one grey level at the border, ~0.4 on the strokes)
      const lo = Math.log(min);
      const hi = Math.log(max);
      const img = Float32Array.from(s, (v) => (hi > lo ? (Math.log(v) - lo) / (hi - lo) : 0.5));
      const [h, w] = pictureShape(s.length);
      const rel = viewName('sigma-map');
      const f = (v: number) => v.toPrecision(3);
      emitImage(rel, imageGridPng(img, 1, h, w, 1).png, `gbrbm: the learned σ of each visible unit on a log scale, dark ${f(min)} to light ${f(max)} (median ${f(median)})`);
      return { path: rel, min, median, max };
    },
  };
}
