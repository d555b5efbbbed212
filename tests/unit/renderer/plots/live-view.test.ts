// The live view's drawing rules: a series of one point shows a marker, a metric keeps
// its colour in every view, a run its colour in the compare view, and what later cells
// make of a run stays out of the training cell's live view.
import { describe, expect, it } from 'vitest';
import { colorOrder, METRIC_PALETTE, metricColor, runColor, RUN_PALETTE } from '../../../../src/renderer/src/plots/colors';
import { isLaterCellArtifact, isLaterCellMetric, startsVisible, traceMode, withPointMarkers } from '../../../../src/renderer/src/plots/trace';

describe('one-point series', () => {
  it('draws a marker while a series has one point, a line after', () => {
    expect(traceMode('val', 0)).toBe('lines+markers');
    expect(traceMode('val', 1)).toBe('lines+markers');
    expect(traceMode('train', 1)).toBe('lines+markers');
    expect(traceMode('val', 2)).toBe('lines');
    expect(traceMode('train', 500)).toBe('lines');
    // test/* is one point per evaluation: always markers
    expect(traceMode('test', 5)).toBe('lines+markers');
  });

  it('gives a figure\'s one-point line traces a marker and leaves the rest alone', () => {
    const one = { x: [0], y: [3.2], mode: 'lines' };
    const many = { x: [0, 1], y: [3, 2], mode: 'lines' };
    const bar = { type: 'bar', x: ['a'], y: [1] };
    const markers = { x: [0], y: [1], mode: 'markers' };
    const untyped = { y: [4] };
    const out = withPointMarkers<Record<string, unknown>>([one, many, bar, markers, untyped]);
    expect(out.map((t) => t.mode)).toEqual(['lines+markers', 'lines', undefined, 'markers', 'lines+markers']);
    expect(one.mode).toBe('lines'); // the input is not changed
  });
});

describe('metric colours', () => {
  // as a chart gives its keys colours
  const assign = (order: string[]) => {
    const taken = new Set<string>();
    const out: Record<string, string> = {};
    for (const k of colorOrder(order)) {
      out[k] = metricColor(k, taken);
      taken.add(out[k]);
    }
    return out;
  };

  it('keep a name\'s colour across groups: a VAE\'s val/kl is train/kl\'s colour', () => {
    const train = assign(['train/loss', 'train/recon', 'train/kl']);
    const val = assign(['val/elbo', 'val/recon', 'val/kl', 'val/bits_per_dim', 'val/active_units']);
    expect(val['val/kl']).toBe(train['train/kl']);
    expect(val['val/recon']).toBe(train['train/recon']);
    expect(val['val/elbo']).toBe(train['train/loss']);
    expect(new Set(Object.values(val)).size).toBe(5);
    // a GAN's keys are told apart too
    expect(new Set(Object.values(assign(['train/d_loss', 'train/g_loss', 'train/d_real', 'train/d_fake', 'train/gp']))).size).toBe(5);
  });

  it('are a function of the key: the same whichever order the keys arrive in', () => {
    const keys = ['train/loss', 'train/kl', 'train/recon', 'train/lr', 'train/beta_weird_name', 'train/zeta_other'];
    const assignOnce = (order: string[]) => {
      const taken = new Set<string>();
      const out: Record<string, string> = {};
      for (const k of colorOrder(order)) {
        out[k] = metricColor(k, taken);
        taken.add(out[k]);
      }
      return out;
    };
    const live = assignOnce(keys);
    const page = assignOnce([...keys].reverse());
    expect(page).toEqual(live);
    // distinct within a chart
    expect(new Set(Object.values(live)).size).toBe(keys.length);
    expect(Object.values(live).every((c) => METRIC_PALETTE.includes(c))).toBe(true);
  });

  it('train/loss and val/loss look alike; unknown names are stable', () => {
    expect(metricColor('train/loss')).toBe(metricColor('val/loss'));
    expect(metricColor('train/kl')).not.toBe(metricColor('train/loss'));
    expect(metricColor('val/some_new_metric')).toBe(metricColor('val/some_new_metric'));
    expect(metricColor('train/loss')).toBe(METRIC_PALETTE[0]);
  });

  it('gives runs their colour by place, the same for curves and parallel coordinates', () => {
    expect(runColor(0)).toBe(RUN_PALETTE[0]);
    expect(runColor(1)).not.toBe(runColor(0));
    expect(runColor(RUN_PALETTE.length)).toBe(runColor(0));
  });
});

describe('which series start visible', () => {
  it('takes headline numbers first: NLL before bits/dim, MMD before its sample count', () => {
    expect(colorOrder(['test/bits_per_dim', 'test/nll_stderr', 'test/nll'])[0]).toBe('test/nll');
    expect(colorOrder(['test/sample_n', 'test/mmd'])).toEqual(['test/mmd', 'test/sample_n']);
    expect(colorOrder(['val/zzz', 'val/aaa', 'val/elbo'])).toEqual(['val/elbo', 'val/aaa', 'val/zzz']);
  });

  it('never puts a sample count on the axis of the metric it qualifies', () => {
    // lab.evaluate's MMD with its sample count: the count waits in the legend
    expect(startsVisible('test', 'test/mmd', 'sample', null, 0)).toBe(true);
    expect(startsVisible('test', 'test/sample_n', 'info', null, 1)).toBe(false);
    expect(startsVisible('test', 'test/sample_n', 'info', null, 0)).toBe(false);
    expect(startsVisible('test', 'test/bits_per_dim', 'bound', null, 1)).toBe(false);
    expect(startsVisible('val', 'val/elbo', 'bound', 'val/elbo', 0)).toBe(true);
    expect(startsVisible('val', 'val/kl', 'info', 'val/elbo', 1)).toBe(false);
    expect(startsVisible('train', 'train/kl', undefined, 'val/elbo', 3)).toBe(true);
  });
});

describe('later cells keep their outputs', () => {
  it('leaves lab.evaluate numbers and run.samples() pictures to the cells that made them', () => {
    expect(isLaterCellMetric('test/mmd')).toBe(true);
    expect(isLaterCellMetric('test/sample_n')).toBe(true);
    expect(isLaterCellMetric('train/loss')).toBe(false);
    expect(isLaterCellMetric('val/elbo')).toBe(false);
    expect(isLaterCellArtifact('image')).toBe(true);
    expect(isLaterCellArtifact('samples')).toBe(false);
    expect(isLaterCellArtifact('interpolation')).toBe(false);
  });
});
