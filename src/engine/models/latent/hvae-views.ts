// lab.views of the hierarchical VAE (and the one-layer VAE beside it):
//  - activeUnits: the mean KL of every latent unit, layer by layer, the active ones counted
//    (KL above 0.01 nats, as val/active_units), and each layer's total KL during training.
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../../context';
import type { Model } from '../types';
import { built, head, isSplit, need, viewOutputs } from '../../views/common';
import { ACTIVE_KL } from './hvae';

/** a model whose units' KLs the view can read: a hvae (klPerLayer) or a vae (klPerDim) */
type Layered = Model & {
  klPerLayer?(x: tf.Tensor2D, seed?: number): Promise<Float32Array[]>;
  klPerDim?(x: tf.Tensor2D): Promise<Float32Array>;
  klHistory?: { steps: number[]; values: (Float32Array | Float32Array[])[] };
};

const sum = (v: Float32Array) => v.reduce((a, b) => a + b, 0);

export function hvaeViews(ctx: EngineContext): Pick<LatentLab.Views, 'activeUnits'> {
  const { emitPlot } = viewOutputs(ctx);
  return {
    async activeUnits(model, split) {
      built(model, 'activeUnits');
      const m = model as Layered;
      need(typeof m.klPerLayer === 'function' || typeof m.klPerDim === 'function', `lab.views.activeUnits: needs a vae or an hvae (a model with q(z|x)), not a ${model.family}`);
      need(isSplit(split), 'lab.views.activeUnits: the second argument must be a split, e.g. data.test');
      const { x } = head(split, 1000);
      let kls: Float32Array[];
      try {
        kls = m.klPerLayer ? await m.klPerLayer(x, 0) : [await m.klPerDim!(x)];
      } finally {
        x.dispose();
      }
      const layers = kls.map((k) => ({ kl: Array.from(k), active: k.filter((v) => v > ACTIVE_KL).length }));
      const counts = layers.map((l, i) => `z${i + 1}: ${l.active} of ${l.kl.length}`).join(', ');
      emitPlot(
        layers.map((l, i) => ({ type: 'bar', x: l.kl.map((_, j) => j), y: l.kl, name: `z${i + 1}`, xaxis: i === 0 ? 'x' : `x${i + 1}` })),
        {
          title: { text: `${model.family}: mean KL per latent unit, by layer — active (> ${ACTIVE_KL} nats): ${counts}` },
          grid: { rows: 1, columns: layers.length, pattern: 'independent' },
          ...Object.fromEntries(layers.map((l, i) => [i === 0 ? 'xaxis' : `xaxis${i + 1}`, { title: { text: `unit of z${i + 1}` } }])),
          yaxis: { title: { text: 'nats' } },
          height: 320,
        },
      );
      const hist = m.klHistory;
      if (hist && hist.values.length > 1) {
        const perLayer = (v: Float32Array | Float32Array[]) => (Array.isArray(v) ? v : [v]).map(sum);
        emitPlot(
          layers.map((_, i) => ({ type: 'scatter', mode: 'lines+markers', x: hist.steps, y: hist.values.map((v) => perLayer(v)[i]), name: `KL of z${i + 1}` })),
          {
            title: { text: 'KL of each layer on validation during training (a layer near 0 carries nothing about x)' },
            xaxis: { title: { text: 'step' } },
            yaxis: { title: { text: 'nats' } },
            height: 320,
          },
        );
      }
      return { layers };
    },
  };
}
