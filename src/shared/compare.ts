// What the compare view and the exported report both need to tell runs apart:
// settings flattened to dotted keys, which of them are bookkeeping, the unit of
// an evaluation, and a line diff of the model cells' code.

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
