// The `lab` object notebook cells see. What it is, is declared once, in lab.d.ts (the
// LatentLab namespace): this implementation is compiled against that declaration, the
// editor loads it for completion, and the option checks are generated from it.
import * as path from 'node:path';
import { inspect } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { backendName } from '../backend/select';
import { imageDataset } from '../data/mnist';
import { textDataset } from '../data/text';
import { glyphs } from '../data/glyphs';
import { toy2d, TOY2D_NAMES } from '../data/toy2d';
import { waveforms, wav } from '../data/waveforms';
import { barsAndStripes } from '../data/bars';
import { loadData } from '../data/import/index';
import { evaluateModel } from '../eval/evaluate';
import { createViews, models } from '../models';
import { engineModel } from '../models/types';
import { InterruptedError, type EngineContext } from '../context';
import { isImageHandle, Run, train } from '../train/trainer';
import { withOptionChecks } from './options';
import { formatParams, type SweepRecord } from '../../shared/compare';
import { expandSweep, newSweepId } from './sweep';

export function formatValue(x: unknown): string {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean' || typeof x === 'bigint' || x === null || x === undefined) return String(x);
  if (x instanceof tf.Tensor) return x.toString();
  if (x instanceof Error) return x.stack ?? `${x.name}: ${x.message}`;
  if (typeof x === 'function') return `[Function ${x.name || 'anonymous'}]`;
  try {
    const json = JSON.stringify(x, (_k, v) =>
      v instanceof Float32Array ? `Float32Array(${v.length})` : v instanceof tf.Tensor ? `Tensor[${v.shape.join(',')}]` : v, 2);
    if (json !== undefined) return json;
  } catch {
    /* cyclic etc. */
  }
  return inspect(x, { depth: 3 });
}

/** what lab.views returned: the view drew it already, so a cell that ends with it shows nothing more */
const drawn = new WeakSet<object>();
export const wasShown = (x: unknown): boolean => typeof x === 'object' && x !== null && drawn.has(x);

/** how long a cell's value may be before it is shown in short */
const DISPLAY_MAX_LINES = 30;
const DISPLAY_MAX_CHARS = 3000;

/**
 * The text shown for the value a cell ends with: as formatValue writes it when that is
 * short; a large object or array (a view's frames, a dataset) as a summary of its
 * first levels, cut to DISPLAY_MAX_LINES lines, with a word on how to see all of it.
 */
export function displayText(x: unknown): string {
  const full = formatValue(x);
  if (typeof x !== 'object' || x === null || x instanceof tf.Tensor) return full;
  if (full.length <= DISPLAY_MAX_CHARS && full.split('\n').length <= DISPLAY_MAX_LINES) return full;
  let short = '';
  for (const depth of [2, 1, 0]) {
    short = inspect(x, { depth, maxArrayLength: 8, maxStringLength: 120, breakLength: 100, compact: 3, sorted: false });
    if (short.split('\n').length <= DISPLAY_MAX_LINES) break;
  }
  const lines = short.split('\n');
  if (lines.length > DISPLAY_MAX_LINES) short = [...lines.slice(0, DISPLAY_MAX_LINES), '  …'].join('\n');
  return `${short}\n(shown in short: ${full.length.toLocaleString('en-US')} characters in full; console.log or lab.show prints all)`;
}

/** The lab as the engine holds it: the declared API, its builders typed with the engine's own model classes. */
export type EngineLab = Omit<LatentLab.Lab, 'models'> & { readonly models: typeof models };

/** The lab object; its builders check their options first (./options). */
export function createLab(ctx: EngineContext): EngineLab {
  return withOptionChecks(buildLab(ctx)) satisfies LatentLab.Lab;
}

function buildLab(ctx: EngineContext): EngineLab {
  // the sweep now running (runs trained meanwhile are tagged with it)
  let current: { tag: SweepRecord; runs: Run[] } | null = null;
  const lab: EngineLab = {
    data: {
      mnist: (opts) => imageDataset('mnist', opts),
      fashionMnist: (opts) => imageDataset('fashion-mnist', opts),
      toy2d: (name, opts) => toy2d(name, opts),
      toy2dNames: TOY2D_NAMES,
      waveforms: (opts) => waveforms(opts),
      wav: (source, opts) => wav(source, opts),
      text: (opts) => textDataset(opts),
      glyphs: (chars, opts) => glyphs(chars, opts),
      barsAndStripes: (opts) => barsAndStripes(opts),
      // relative paths are relative to the workspace folder (<workspace>/.latentlab/artifacts is known here)
      load: (target, opts) => loadData(target, opts, path.resolve(ctx.artifactsDir(), '..', '..')),
    },
    models: { ...models },
    // the declared overloads narrow the result by the model's type; evaluateModel decides the
    // same way at run time (a model with testNll, unless likelihood is false: its NLL; else its samples)
    evaluate: ((model: LatentLab.Model, split: LatentLab.Split, opts?: LatentLab.EvaluateOptions) =>
      tracked(ctx, evaluateModel(ctx, engineModel(model, 'lab.evaluate'), split, opts))) as LatentLab.Lab['evaluate'],
    async train(model, data, opts) {
      const sweep = current;
      const tag = sweep ? { ...sweep.tag, run: sweep.runs.length } : null;
      const run = await train(ctx, engineModel(model, 'lab.train'), data, opts, tag);
      sweep?.runs.push(run);
      return run;
    },
    async sweep(spec, fn, opts = {}) {
      if (typeof fn !== 'function') throw new TypeError('lab.sweep: the second argument must be a function (params, index) => { ... lab.train(...) }');
      if (current) throw new Error('lab.sweep: sweeps do not nest');
      const configs = expandSweep(spec);
      const id = newSweepId();
      const name = typeof opts.name === 'string' && opts.name ? opts.name : `sweep-${id.slice(-4)}`;
      const runs: Run[] = [];
      const results: unknown[] = [];
      const exec = ctx.exec();
      exec?.emit({ type: 'text', text: `${name}: ${configs.length} configs\n` });
      try {
        for (let i = 0; i < configs.length; i++) {
          if (exec?.signal.aborted) throw new InterruptedError();
          current = { tag: { id, name, index: i, count: configs.length, params: configs[i] }, runs };
          exec?.emit({ type: 'text', text: `[${i + 1}/${configs.length}] ${formatParams(configs[i])}\n` });
          results.push(await fn({ ...configs[i] }, i));
        }
      } finally {
        current = null;
        if (runs.length > 0) exec?.emit({ type: 'sweep', sweepId: id, name, runIds: runs.map((r) => r.id) });
      }
      return { id, name, configs, runs, results };
    },
    show(x, caption) {
      const exec = ctx.exec();
      if (!exec) return;
      // lab.show(run.samples(64)) without an await: shown once it is there
      if (isThenable(x)) return void tracked(ctx, Promise.resolve(x).then((v) => lab.show(v, caption)));
      if (isImageHandle(x)) exec.emit({ type: 'image', path: x.path, caption: caption ?? x.caption });
      else if (x instanceof Run) exec.emit({ type: 'run', runId: x.id });
      else exec.emit({ type: 'text', text: (caption ? `${caption}\n` : '') + formatValue(x) + '\n' });
    },
    plot(data, layout = {}, caption) {
      if (!Array.isArray(data) || data.some((t) => typeof t !== 'object' || t === null)) throw new TypeError('lab.plot: data must be a list of Plotly traces, e.g. [{ x: [1, 2], y: [3, 4] }]');
      if (data.length > 200) throw new RangeError('lab.plot: at most 200 traces');
      // a round trip through JSON: typed arrays become lists, functions and cycles fail here, not in the renderer
      const spec = JSON.parse(JSON.stringify({ data, layout }, (_k, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v))) as { data: Record<string, unknown>[]; layout: Record<string, unknown> };
      ctx.exec()?.emit({ type: 'plot', data: spec.data, layout: spec.layout ?? {}, ...(caption ? { caption } : {}) });
    },
    views: trackedViews(ctx, createViews(ctx)),
    backend: () => backendName(),
  };
  return lab;
}

const isThenable = (x: unknown): x is PromiseLike<unknown> => typeof (x as { then?: unknown })?.then === 'function';

/**
 * `p`, also handed to the running cell (ExecContext.pending): a cell that calls a view
 * without awaiting it still ends only when the view is done, with the view's error as
 * its own. Tensors are read asynchronously (the webgpu backend has no synchronous read),
 * so every lab call that reads one returns a Promise.
 */
function tracked<T>(ctx: EngineContext, p: Promise<T>): Promise<T> {
  const pending = ctx.exec()?.pending;
  if (pending) pending.push(p.then(() => undefined));
  // the cell's own await (or the runner's) reports the rejection; this one only keeps it from being "unhandled"
  p.catch(() => {});
  return p;
}

function trackedViews(ctx: EngineContext, views: LatentLab.Views): LatentLab.Views {
  const out = {} as Record<string, unknown>;
  for (const [name, fn] of Object.entries(views) as [string, (...a: unknown[]) => Promise<unknown>][]) {
    // a view that throws before its first await rejects like the others
    out[name] = (...args: unknown[]) =>
      tracked(
        ctx,
        (async () => {
          const r = await fn(...args);
          if (typeof r === 'object' && r !== null) drawn.add(r);
          return r;
        })(),
      );
  }
  return out as unknown as LatentLab.Views;
}
