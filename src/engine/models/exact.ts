// What every family with an exact likelihood reports (autoregressive models, flows,
// small Boltzmann machines): −log p(x) in nats and bits per dimension, kind 'exact'.
import type { MetricKindName, MetricValue } from './types';

/** what a family with an exact likelihood reports (autoregressive models, flows) */
export function exactLikelihoodKinds(): Record<string, MetricKindName> {
  return { 'train/loss': 'loss', 'val/nll': 'exact', 'val/bits_per_dim': 'exact', 'test/nll': 'exact', 'test/bits_per_dim': 'exact' };
}

/** the validation metrics of an exact per-example NLL over D dimensions */
export function exactEvaluation(nll: Float32Array, D: number): Record<string, MetricValue> {
  const mean = nll.reduce((a, b) => a + b, 0) / nll.length;
  return {
    'val/nll': { value: mean, kind: 'exact' },
    'val/bits_per_dim': { value: mean / (D * Math.LN2), kind: 'exact' },
  };
}
