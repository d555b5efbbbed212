// lab.sweep: run one function over several configurations, in order, and group
// the runs it trains under one sweep id so the compare view can show them
// together (with a parallel-coordinates plot of the settings against a metric).
import { mulberry32 } from '../util/rng';

export type SweepParams = Record<string, unknown>;

/** a list of configs, a grid (every combination) or a random search */
export type SweepSpec =
  | SweepParams[]
  | { grid: Record<string, unknown[]> }
  | { random: Record<string, unknown[] | { min: number; max: number; log?: boolean; int?: boolean }>; n: number; seed?: number };

const isPlain = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function fail(msg: string): never {
  throw new TypeError(`lab.sweep: ${msg}`);
}

/** The configurations a spec stands for, in the order they will run. */
export function expandSweep(spec: SweepSpec): SweepParams[] {
  if (Array.isArray(spec)) {
    if (spec.length === 0) fail('the list of configs is empty');
    spec.forEach((c, i) => isPlain(c) || fail(`config ${i} is not an object`));
    return spec.map((c) => ({ ...c }));
  }
  if (!isPlain(spec)) fail('the first argument must be a list of configs, { grid: {...} } or { random: {...}, n }');
  if ('grid' in spec) {
    const grid = spec.grid;
    if (!isPlain(grid)) fail('grid must be an object of key → list of values');
    let out: SweepParams[] = [{}];
    for (const [k, values] of Object.entries(grid)) {
      if (!Array.isArray(values) || values.length === 0) fail(`grid.${k} must be a non-empty list of values`);
      out = out.flatMap((c) => values.map((v) => ({ ...c, [k]: v })));
    }
    return out;
  }
  if ('random' in spec) {
    const { random, n } = spec;
    if (!isPlain(random)) fail('random must be an object of key → list or { min, max, log?, int? }');
    if (!Number.isInteger(n) || n < 1) fail('random search needs n, a positive whole number of configs');
    const rng = mulberry32(Math.floor(spec.seed ?? 1));
    const out: SweepParams[] = [];
    for (let i = 0; i < n; i++) {
      const c: SweepParams = {};
      for (const [k, d] of Object.entries(random)) {
        if (Array.isArray(d)) {
          if (d.length === 0) fail(`random.${k} is an empty list`);
          c[k] = d[Math.min(d.length - 1, Math.floor(rng.next() * d.length))];
        } else if (isPlain(d) && typeof d.min === 'number' && typeof d.max === 'number' && d.max >= d.min) {
          if (d.log && d.min <= 0) fail(`random.${k}: a log range needs min > 0`);
          const u = rng.next();
          const v = d.log ? Math.exp(Math.log(d.min) + u * (Math.log(d.max) - Math.log(d.min))) : d.min + u * (d.max - d.min);
          c[k] = d.int ? Math.min(d.max, Math.max(d.min, Math.round(v))) : Number(v.toPrecision(4));
        } else fail(`random.${k} must be a list of values or { min, max, log?, int? } with max >= min`);
      }
      out.push(c);
    }
    return out;
  }
  return fail('the first argument must be a list of configs, { grid: {...} } or { random: {...}, n }');
}

export function newSweepId(): string {
  return `s-${Date.now().toString(36)}-${Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0')}`;
}
