// Sample metrics of a model on 2-D points: MMD to reference points and, on mixtures with
// known modes, how the samples sit on the modes (all of kind 'sample').
import { mmd } from './mmd';
import { modeStats } from './modes';
import type { DataInfo, MetricValue } from '../models/types';

/**
 * `val/mmd` between the samples and up to 1000 reference rows (both flat [n·2]), and, where
 * `info` names the modes, `val/mode_dist`, `val/modes_covered` and `val/high_quality`.
 */
export function pointValMetrics(samples: Float32Array, reference: Float32Array, info: DataInfo): Record<string, MetricValue> {
  const ref = reference.subarray(0, Math.min(reference.length, 2000));
  const out: Record<string, MetricValue> = { 'val/mmd': { value: mmd(samples, ref, 2), kind: 'sample' } };
  if (info.modes) {
    const st = modeStats(samples, info.modes, info.modeStd ?? 0.05);
    out['val/mode_dist'] = { value: st.meanDist, kind: 'sample' };
    out['val/modes_covered'] = { value: st.covered, kind: 'sample' };
    out['val/high_quality'] = { value: st.highQuality, kind: 'sample' };
  }
  return out;
}
