// Checks the options a cell passes to lab.models.*, lab.data.* and lab.train before
// the builder sees them: an unknown key, a value of the wrong kind or an enum value
// that is not allowed gets an error that names the field and what it takes, e.g.
//   lab.models.vae: unknown option 'latentDm' (did you mean 'latentDim'? options: latentDim, hidden, …)
//   lab.train: optimizer must be one of 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adam' (got 'adamw')
// What each builder takes comes from the declaration, api.d.ts (options-spec.ts is
// generated from it; the models' configs are the declared types, so the two cannot
// differ). Range checks stay with the models (see models/latent/vae.ts).
import type { FieldSpec, OptionsSpec, ValueKind } from './option-types';
import { LAB_OPTIONS } from './options-spec';


export class LabOptionError extends TypeError {
  constructor(message: string) {
    super(message);
    this.name = 'OptionError';
  }
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return d[b.length];
}

/** the known name closest to `key`, if one is close enough to be a typo */
export function closest(key: string, known: readonly string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 3)) ? best : null;
}

function kindOf(v: unknown): ValueKind | 'null' | 'undefined' | 'other' {
  if (v === null) return 'null';
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return 'array';
  const t = typeof v;
  if (t === 'number' || t === 'string' || t === 'boolean' || t === 'function' || t === 'undefined') return t;
  if (t === 'object') return 'object';
  return 'other';
}

const KIND_WORD: Record<ValueKind, string> = {
  number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'an object', function: 'a function',
};

function show(v: unknown): string {
  const k = kindOf(v);
  if (k === 'string') return `'${String(v).slice(0, 40)}'`;
  if (k === 'number' || k === 'boolean' || k === 'null' || k === 'undefined') return String(v);
  if (k === 'array') return 'a list';
  if (k === 'function') return 'a function';
  return k === 'object' ? 'an object' : typeof v;
}

const quoted = (vs: readonly unknown[]) => vs.map((v) => (typeof v === 'string' ? `'${v}'` : String(v))).join(', ');

/** What is wrong with one value, or null. */
function fieldProblem(key: string, v: unknown, f: FieldSpec): string | null {
  const k = kindOf(v);
  if (k === 'undefined' || k === 'null') return null; // the default (null is meaningful for some, e.g. clipNorm)
  const enumStrings = f.values?.filter((x) => typeof x === 'string') ?? [];
  if (k === 'string' && enumStrings.length > 0) {
    if (enumStrings.includes(v as string)) return null;
    const others = f.kinds.filter((x) => x !== 'string').map((x) => KIND_WORD[x]);
    const near = closest(v as string, enumStrings);
    return `${key} must be ${others.length ? `${others.join(' or ')} or ` : ''}one of ${quoted(enumStrings)} (got ${show(v)}${near ? `; did you mean '${near}'?` : ''})`;
  }
  if (k !== 'other' && (f.kinds as string[]).includes(k)) {
    if (k === 'number' && Number.isNaN(v)) return `${key} must be a number (got NaN)`;
    if (key === 'schedule' && k === 'object') {
      const type = (v as { type?: unknown }).type;
      if (enumStrings.length > 0 && !enumStrings.includes(type as string)) return `schedule.type must be one of ${quoted(enumStrings)} (got ${show(type)})`;
    }
    return null;
  }
  const wanted = [...f.kinds.filter((x) => !(x === 'string' && enumStrings.length > 0)).map((x) => KIND_WORD[x]), ...(enumStrings.length ? [`one of ${quoted(enumStrings)}`] : [])];
  return `${key} must be ${wanted.join(' or ')} (got ${show(v)})`;
}

/** Throws a LabOptionError when `opts` has an unknown key or a bad value. */
export function checkOptions(where: string, opts: unknown, spec: OptionsSpec): void {
  if (opts === undefined || opts === null) return;
  if (kindOf(opts) !== 'object') throw new LabOptionError(`${where}: options must be an object like { ${Object.keys(spec.fields)[0] ?? 'key'}: … } (got ${show(opts)})`);
  const known = Object.keys(spec.fields);
  for (const key of Object.keys(opts as object)) {
    if (!known.includes(key)) {
      const near = closest(key, known);
      const list = known.length === 0 ? 'it takes no options' : `options: ${known.join(', ')}`;
      throw new LabOptionError(`${where}: unknown option '${key}' (${near ? `did you mean '${near}'? ` : ''}${list})`);
    }
    const f = spec.fields[key];
    if (!f) continue;
    const problem = fieldProblem(key, (opts as Record<string, unknown>)[key], f);
    if (problem) throw new LabOptionError(`${where}: ${problem}`);
  }
}

type AnyFn = (...args: unknown[]) => unknown;

/** `fn` with its options checked first; properties hung on it (e.g. gmm.select) are kept. */
function checked<F extends AnyFn>(where: string, fn: F, spec: OptionsSpec): F {
  const wrapper = function (this: unknown, ...args: unknown[]) {
    checkOptions(where, args[spec.arg], spec);
    return fn.apply(this, args);
  };
  Object.defineProperty(wrapper, 'name', { value: fn.name || where.split('.').pop() });
  return Object.assign(wrapper, fn) as unknown as F;
}

interface CheckableLab {
  data: object;
  models: object;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  train: (...args: any[]) => unknown;
}

/** The lab object with every builder that has options checked (in place, and returned). */
export function withOptionChecks<L extends CheckableLab>(lab: L): L {
  const models = lab.models as Record<string, unknown>;
  for (const [name, spec] of Object.entries(LAB_OPTIONS.models)) {
    const fn = models[name];
    if (typeof fn === 'function') models[name] = checked(`lab.models.${name}`, fn as AnyFn, spec);
  }
  const data = lab.data as Record<string, unknown>;
  for (const [name, spec] of Object.entries(LAB_OPTIONS.data)) {
    const fn = data[name];
    if (typeof fn === 'function') data[name] = checked(`lab.data.${name}`, fn as AnyFn, spec);
  }
  lab.train = checked('lab.train', lab.train as AnyFn, LAB_OPTIONS.train) as L['train'];
  return lab;
}
