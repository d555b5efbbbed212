// Colours in one place: a metric keeps its colour wherever it is drawn (the live view in
// a cell, the run page), and a run keeps its colour across the compare view (curves,
// grids, parallel coordinates).

/** the metric palette; common names get a fixed entry, the rest a stable hash */
export const METRIC_PALETTE = ['#1f6feb', '#d1495b', '#2a9d8f', '#e9a23b', '#7b5ea7', '#5c677d', '#c06c84', '#3d8361', '#b5651d', '#8f8a1e'];

const FIXED: Record<string, number> = {
  // names that share a chart get distinct entries
  loss: 0, elbo: 0, nll: 0, objective: 0, loglik: 0, fid: 0, mmd: 0,
  kl: 1, d_loss: 1, kid: 1,
  recon: 2, g_loss: 2, precision: 2,
  bits_per_dim: 3, d_real: 3, recall: 3,
  d_fake: 4, kid_std: 4, nll_stderr: 4,
  lr: 5, sample_n: 5, classifier_version: 6,
  gp: 6, w_dist: 7, d_accuracy: 8, active_units: 9, class_coverage: 7, class_entropy: 8,
};

/**
 * Keys in the order a chart takes them in (colours, and which one starts visible): names
 * with an entry of their own first, headline numbers (loss, elbo, nll, mmd) before the
 * rest, then by name.
 */
export function colorOrder(keys: string[]): string[] {
  const rank = (k: string) => FIXED[shortName(k)] ?? METRIC_PALETTE.length;
  return [...keys].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** the key's name without its group: train/loss and val/loss share a colour */
const shortName = (key: string) => key.slice(key.indexOf('/') + 1);

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

/**
 * The colour of a metric key: a function of its name only, so it is the same in every
 * view. `taken`: colours already used by other keys of the same chart; a key whose colour
 * is taken moves on to the next free one (charts give colours to their keys in name
 * order, so the same set of keys gets the same colours everywhere).
 */
export function metricColor(key: string, taken: ReadonlySet<string> = new Set()): string {
  const name = shortName(key);
  const start = FIXED[name] ?? hash(name) % METRIC_PALETTE.length;
  for (let i = 0; i < METRIC_PALETTE.length; i++) {
    const c = METRIC_PALETTE[(start + i) % METRIC_PALETTE.length];
    if (!taken.has(c)) return c;
  }
  return METRIC_PALETTE[start];
}

/** the compared runs' palette, by their place in the compare view */
export const RUN_PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#8c564b', '#e377c2'];

/** The colour of the run at place `index` of the compared runs (curves, grids, legend and parallel coordinates alike). */
export function runColor(index: number): string {
  return RUN_PALETTE[((index % RUN_PALETTE.length) + RUN_PALETTE.length) % RUN_PALETTE.length];
}
