// lab.views of the sigmoid belief net:
//  - sbnGradientVariance: how much the score-function (REINFORCE) estimate of the
//    recognition gradient varies from one posterior draw to the next on the same batch,
//    with the raw learning signal, a centred one, and the input-dependent baseline.
import { built, head, isSplit, need, viewOutputs } from '../../views/common';
import type { EngineContext } from '../../context';
import { Sbn } from './sbn';

export function sbnViews(ctx: EngineContext): Pick<LatentLab.Views, 'sbnGradientVariance'> {
  const { emitPlot } = viewOutputs(ctx);
  return {
    async sbnGradientVariance(model, split, opts = {}) {
      built(model, 'sbnGradientVariance');
      need(model instanceof Sbn, `lab.views.sbnGradientVariance: needs a sigmoid belief net (lab.models.sbn), not a ${model.family}`);
      need(isSplit(split), 'lab.views.sbnGradientVariance: the second argument must be a split, e.g. data.test');
      const batch = Math.floor(opts.batch ?? 100);
      const draws = Math.floor(opts.draws ?? 100);
      need(batch >= 1, 'lab.views.sbnGradientVariance: batch must be at least 1');
      need(draws >= 2, 'lab.views.sbnGradientVariance: draws must be at least 2');
      const { x, n } = head(split, batch);
      let g: Awaited<ReturnType<Sbn['scoreGradients']>>;
      try {
        g = await model.scoreGradients(x, { draws, seed: opts.seed ?? 0 });
      } finally {
        x.dispose();
      }
      const labels = ['no baseline: l', 'centred: l − c̄', 'input-dependent baseline: l − C(v) − c̄'];
      const values = [g.none.variance, g.centred.variance, g.baseline.variance];
      emitPlot(
        [{ type: 'bar', x: labels, y: values, text: values.map((v) => v.toPrecision(3)), textposition: 'outside', marker: { color: ['#c0504d', '#f2a33a', '#4f81bd'] } }],
        {
          title: { text: `${model.family}: variance of the recognition-gradient estimate on one batch of ${n} (${draws} draws); |E g|² = ${g.baseline.meanNormSq.toPrecision(3)}` },
          yaxis: { title: { text: 'Σ variance over the recognition weights' }, type: 'log' },
          height: 360,
        },
        'each bar: the same unbiased gradient, estimated with a different learning signal',
      );
      return { none: g.none.variance, centred: g.centred.variance, baseline: g.baseline.variance, meanNormSq: g.baseline.meanNormSq, draws, batch: n };
    },
  };
}
