// What the compare view and the exported report both need to tell runs apart:
// settings flattened to dotted keys, which of them are bookkeeping, the unit and
// kind of an evaluation, whether sample metrics compare (same classifier version
// and sample count), and a line diff of the model cells' code.

/** Settings flattened to dotted keys, values as JSON. */
export function flattenConfig(o: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flattenConfig(v, prefix ? `${prefix}.${k}` : k, out);
  } else out[prefix] = JSON.stringify(o);
  return out;
}

/** what lab.sweep records in a run's config (null for a run outside a sweep) */
export interface SweepRecord {
  id: string;
  name: string;
  index: number;
  count: number;
  params: Record<string, unknown>;
}

/** `lr=0.001 latentDim=4`: a sweep point in a run name or a log line */
export function formatParams(p: Record<string, unknown>): string {
  return Object.entries(p).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

export function sweepOf(run: { config: Record<string, unknown> }): SweepRecord | null {
  const s = run.config.sweep as SweepRecord | undefined;
  return s && typeof s.id === 'string' ? s : null;
}

/** keys that differ between runs without saying anything about the model (metric kinds, sweep bookkeeping) */
export const isBookkeeping = (k: string): boolean => k.startsWith('metricKinds') || k.startsWith('sweep.');

/** the unit of an evaluation: bits per dimension, nats for log-likelihoods and their bounds, none for counts */
export function unitOf(key: string, kinds: string[]): string {
  if (/bits?_per_dim|bpd/.test(key)) return 'bits/dim';
  if (kinds.some((k) => k === 'exact' || k === 'bound' || k === 'estimate')) return 'nats';
  return '';
}

/**
 * Sample-quality metrics lab.evaluate records (kind 'sample'): FID, KID, precision and
 * recall on the pinned classifier's features, class coverage; MMD on points.
 */
export const SAMPLE_METRIC_KEYS: readonly string[] = ['test/fid', 'test/kid', 'test/kid_std', 'test/precision', 'test/recall', 'test/class_coverage', 'test/class_entropy', 'test/mmd'];
/** what a sample metric was computed with (kind 'info'): only values with the same pair compare */
export const SAMPLE_QUALIFIER_KEYS: readonly string[] = ['test/sample_n', 'test/classifier_version'];

export const isSampleMetric = (key: string): boolean => SAMPLE_METRIC_KEYS.includes(key);

/**
 * The kind of a run's metric: what its config's metricKinds recorded, else 'sample' /
 * 'info' for the keys lab.evaluate's sample metrics record (runs whose host did not add
 * their kinds to the config), else ''.
 */
export function metricKindOf(run: { config: Record<string, unknown> }, key: string): string {
  const recorded = (run.config.metricKinds as Record<string, string> | undefined)?.[key];
  if (recorded) return recorded;
  if (isSampleMetric(key)) return 'sample';
  if (SAMPLE_QUALIFIER_KEYS.includes(key)) return 'info';
  return '';
}

/** the (classifier version, sample count) a run's sample metrics were computed with, as text ('v1 · 1000 samples') */
export function samplePairOf(run: { finalMetrics: Record<string, number> }): string {
  const v = run.finalMetrics['test/classifier_version'];
  const n = run.finalMetrics['test/sample_n'];
  return `${v === undefined ? 'no classifier' : `classifier v${v}`} · ${n === undefined ? '? samples' : `${n} samples`}`;
}

/**
 * Why the sample metric `key` of these runs cannot be compared (they were computed with
 * different classifier versions or sample counts), or null when it can (or fewer than two
 * runs hold it). FID and precision/recall shift with the sample count, and features of
 * another classifier are another space.
 */
export function sampleNotComparable(runs: { finalMetrics: Record<string, number> }[], key: string): string | null {
  if (!isSampleMetric(key)) return null;
  const holding = runs.filter((r) => key in r.finalMetrics);
  if (holding.length < 2) return null;
  const pairs = [...new Set(holding.map(samplePairOf))];
  return pairs.length > 1 ? `not comparable: computed with different classifier versions or sample counts (${pairs.join('; ')})` : null;
}

export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
}

/** Lines of `a` and `b` as kept (' '), removed from a ('-') and added in b ('+'). */
export function lineDiff(a: string, b: string): DiffLine[] {
  const x = a.split('\n');
  const y = b.split('\n');
  // trim the common head and tail so the table below covers only the changed middle
  let head = 0;
  while (head < x.length && head < y.length && x[head] === y[head]) head++;
  let tail = 0;
  while (tail < x.length - head && tail < y.length - head && x[x.length - 1 - tail] === y[y.length - 1 - tail]) tail++;
  const xs = x.slice(head, x.length - tail);
  const ys = y.slice(head, y.length - tail);
  const out: DiffLine[] = x.slice(0, head).map((text) => ({ op: ' ', text }));
  const n = xs.length, m = ys.length;
  if (n * m > 4_000_000) {
    // too big to align line by line: the whole middle as replaced
    out.push(...xs.map((text): DiffLine => ({ op: '-', text })), ...ys.map((text): DiffLine => ({ op: '+', text })));
  } else {
    // lcs[i][j] = length of the LCS of xs[i..] and ys[j..]
    const lcs = new Uint32Array((n + 1) * (m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i * (m + 1) + j] = xs[i] === ys[j] ? lcs[(i + 1) * (m + 1) + j + 1] + 1 : Math.max(lcs[(i + 1) * (m + 1) + j], lcs[i * (m + 1) + j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && xs[i] === ys[j]) {
        out.push({ op: ' ', text: xs[i] });
        i++;
        j++;
      } else if (i < n && (j === m || lcs[(i + 1) * (m + 1) + j] >= lcs[i * (m + 1) + j + 1])) {
        out.push({ op: '-', text: xs[i++] });
      } else {
        out.push({ op: '+', text: ys[j++] });
      }
    }
  }
  out.push(...x.slice(x.length - tail).map((text): DiffLine => ({ op: ' ', text })));
  return out;
}

/** what a run is, beside its settings, in "what differs": how far it got (a stopped run's grids and curves end early), seed, backend, data, code */
export function runFacts(r: { status: string; steps: number; totalSteps: number; seed: number; backend: string; dataName: string; dataFingerprint: string; code: string }): [string, string][] {
  return [
    ['status', r.status],
    ['steps', r.totalSteps > 0 ? `${r.steps} / ${r.totalSteps}` : String(r.steps)],
    ['seed', String(r.seed)],
    ['backend', r.backend],
    ['data', `${r.dataName} ${r.dataFingerprint.slice(0, 12)}`],
    ['code', r.code],
  ];
}

/** every step at which at least one of the runs logged a grid, in order (the compare slider's stops) */
export function gridSteps(grids: { step: number }[][]): number[] {
  return [...new Set(grids.flatMap((g) => g.map((a) => a.step)))].sort((a, b) => a - b);
}

/** a run's grid at `step`, else its latest before it (a run that stopped early shows its last), else null */
export function gridAt<T extends { step: number }>(grids: T[], step: number): T | null {
  let best: T | null = null;
  for (const g of grids) if (g.step <= step && (!best || g.step > best.step)) best = g;
  return best;
}
