// How a run is called on screen and in exports: by what differs from its siblings.
// Siblings are the runs of the same notebook with the same base name (model family and
// data, e.g. `vae-mnist`). A run's name is its base plus the settings whose values are
// not the same across its siblings (`vae-mnist latentDim=4`), and a short ordinal (`#3`:
// its place among the siblings by start time) when that does not tell it apart. A run the
// user named (renamed in the app, or `name` in lab.train's options) keeps that name.
import { flattenConfig } from './compare';

export interface NamedRun {
  id: string;
  notebook: string;
  name: string;
  family: string;
  dataName: string;
  config: Record<string, unknown>;
  startedAt: number;
  renamed?: boolean;
}

/** at most this many differing settings are named; more are counted (`+2`) */
const MAX_PARTS = 3;

/** settings that differ between runs without being a choice of the user's */
const ignored = (k: string): boolean =>
  k.startsWith('metricKinds') || k.startsWith('sweep') || k === 'train.name' || k === 'train.resume' || k.startsWith('data.sizes');

/** the order settings are named in: the notebook's parameters, then model, training, data */
const rank = (k: string): number => (k.startsWith('params.') ? 0 : k.startsWith('model.') ? 1 : k.startsWith('train.') ? 2 : k.startsWith('data.') ? 3 : 4);

/** the name the user gave the run, if any */
export function userName(run: NamedRun): string | null {
  if (run.renamed) return run.name;
  const given = (run.config.train as { name?: unknown } | undefined)?.name;
  return typeof given === 'string' && given.trim() !== '' ? run.name : null;
}

/** `vae-mnist`: the model family and the data */
export const baseName = (run: NamedRun): string => (run.dataName ? `${run.family}-${run.dataName}` : run.family);

const show = (json: string | undefined): string => {
  if (json === undefined) return '—';
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    v = json;
  }
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return s.length > 24 ? `${s.slice(0, 23)}…` : s;
};

/**
 * Each run's display name, by id. Deterministic: the same runs give the same names
 * whatever order they come in.
 */
export function runNames(runs: readonly NamedRun[]): Map<string, string> {
  const out = new Map<string, string>();
  const groups = new Map<string, NamedRun[]>();
  // a run the user named keeps its name, and still counts as a sibling (what differs from it is named in the others)
  for (const r of runs) {
    const key = `${r.notebook}\u0000${baseName(r)}`;
    const g = groups.get(key);
    if (g) g.push(r);
    else groups.set(key, [r]);
  }
  for (const group of groups.values()) {
    group.sort((a, b) => a.startedAt - b.startedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const base = baseName(group[0]);
    if (group.length === 1) {
      out.set(group[0].id, userName(group[0]) ?? base);
      continue;
    }
    const flat = group.map((r) => flattenConfig(r.config));
    const keys = [...new Set(flat.flatMap((f) => Object.keys(f)))].filter((k) => !ignored(k));
    const differing = keys
      .filter((k) => flat.some((f) => f[k] !== flat[0][k]))
      .sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
    // a setting is named by its last part (latentDim), or its whole path when two differing settings share that part
    const leaf = (k: string) => k.slice(k.lastIndexOf('.') + 1);
    const leafCount = new Map<string, Set<string>>();
    for (const k of differing) {
      const l = leaf(k);
      // params.latentDim and model.latentDim usually carry one value: they are one setting
      const set = leafCount.get(l) ?? new Set<string>();
      set.add(JSON.stringify(flat.map((f) => f[k])));
      leafCount.set(l, set);
    }
    const labels = flat.map((f) => {
      const parts: string[] = [];
      const seen = new Set<string>();
      for (const k of differing) {
        const label = (leafCount.get(leaf(k))?.size ?? 0) > 1 ? k : leaf(k);
        const part = `${label}=${show(f[k])}`;
        if (seen.has(part)) continue;
        seen.add(part);
        parts.push(part);
      }
      return parts.length > MAX_PARTS ? `${parts.slice(0, MAX_PARTS).join(' ')} +${parts.length - MAX_PARTS}` : parts.join(' ');
    });
    const count = new Map<string, number>();
    for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
    group.forEach((r, i) => {
      const user = userName(r);
      if (user !== null) return out.set(r.id, user);
      const l = labels[i];
      const ordinal = l === '' || (count.get(l) ?? 0) > 1 ? `#${i + 1}` : '';
      out.set(r.id, [base, l, ordinal].filter((x) => x !== '').join(' '));
    });
  }
  return out;
}

/** One run's display name among `runs` (which should hold its siblings). */
export function runName(run: NamedRun, runs: readonly NamedRun[]): string {
  return runNames(runs.some((r) => r.id === run.id) ? runs : [...runs, run]).get(run.id) ?? run.name;
}
