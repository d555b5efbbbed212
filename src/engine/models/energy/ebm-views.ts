// lab.views of the image EBM:
//  - energyHistogram: the energies E(x) of held-out data, of uniform noise and of the
//    model's samples (Langevin from noise), as three histograms on one axis. A trained
//    model puts data far below noise, and its samples where the data is.
// (The Langevin chain from noise as frames is lab.views.chain: the ebm has a `chain`.)
import * as tf from '@tensorflow/tfjs';
import { built, head, isSplit, need, viewOutputs } from '../../views/common';
import type { EngineContext } from '../../context';
import type { Model } from '../types';
import { Ebm } from './ebm';

export function ebmViews(ctx: EngineContext): Pick<LatentLab.Views, 'energyHistogram'> {
  const { emitPlot } = viewOutputs(ctx);
  return {
    async energyHistogram(model, split, opts = {}) {
      built(model, 'energyHistogram');
      need(model instanceof Ebm, `lab.views.energyHistogram: draws the energies of an ebm, not a ${(model as Model).family}`);
      need(isSplit(split), 'lab.views.energyHistogram: the second argument must be a split, e.g. data.test');
      const n = Math.max(2, Math.min(split.n, Math.floor(opts.n ?? 200)));
      const seed = Math.floor(opts.seed ?? 13);
      const { x } = head(split, n);
      const noise = model.noise(n, seed);
      const samples = model.sample(n, undefined, seed + 1);
      const all = tf.tidy(() => tf.concat([model.energy(x), model.energy(noise), model.energy(samples)]));
      tf.dispose([x, noise, samples]);
      const e = (await all.data()) as Float32Array;
      all.dispose();
      const parts = [e.slice(0, n), e.slice(n, 2 * n), e.slice(2 * n)];
      const mean = (v: Float32Array) => v.reduce((a, b) => a + b, 0) / v.length;
      const [data, noiseE, sampleE] = parts.map(mean);
      const names = ['data (test)', 'uniform noise', `samples (${model.config.sampleSteps} Langevin steps from noise)`];
      emitPlot(
        parts.map((v, k) => ({ type: 'histogram', name: names[k], x: Array.from(v), opacity: 0.6, nbinsx: 40 })),
        {
          title: { text: `ebm: E(x) of ${n} test images, noise images and samples; means ${data.toFixed(2)}, ${noiseE.toFixed(2)}, ${sampleE.toFixed(2)}` },
          barmode: 'overlay',
          xaxis: { title: { text: 'energy E(x) (lower = more probable)' } },
          yaxis: { title: { text: 'count' } },
          height: 360,
        },
      );
      return { data, noise: noiseE, samples: sampleE };
    },
  };
}
