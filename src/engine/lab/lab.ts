// The `lab` object notebook cells see. Typings for the editor live in lab.d.ts:
// keep the two in step.
import * as path from 'node:path';
import { inspect } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { backendName } from '../backend/select';
import { imageDataset, type ImageDataOptions } from '../data/mnist';
import { textDataset, type TextOptions } from '../data/text';
import { glyphs, type Glyphs } from '../data/glyphs';
import { toy2d, TOY2D_NAMES, type Toy2dOptions } from '../data/toy2d';
import { waveforms, wav, type WaveformOptions, type WavOptions } from '../data/waveforms';
import type { Dataset } from '../data/types';
import { evaluateModel, type EvaluateOptions, type Evaluation } from '../eval/evaluate';
import type { Split } from '../data/types';
import { CharLm, type CharLmConfig } from '../models/charlm';
import { Fvsbn, type FvsbnConfig } from '../models/fvsbn';
import { Glow, type GlowConfig } from '../models/flows/glow';
import { Iaf, Maf, type MafConfig } from '../models/flows/maf';
import { Nice, type NiceConfig } from '../models/flows/nice';
import { RealNvp, type RealNvpConfig } from '../models/flows/realnvp';
import { Made, type MadeConfig } from '../models/made';
import { Nade, type NadeConfig } from '../models/nade';
import { PixelCnn, type PixelCnnConfig } from '../models/pixelcnn';
import type { Model } from '../models/types';
import { Vae, type VaeConfig } from '../models/vae';
import { Autoencoder, type AutoencoderConfig } from '../models/autoencoder';
import { Dae, type DaeConfig } from '../models/dae';
import { capacity, corrupt, Hopfield, overlap, randomPatterns, type HopfieldConfig } from '../models/hopfield';
import { Boltzmann, type BoltzmannConfig } from '../models/boltzmann';
import { Rbm, type RbmConfig } from '../models/rbm';
import { Dbn, type DbnConfig } from '../models/dbn';
import { Dbm, type DbmConfig } from '../models/dbm';
import { barsAndStripes, type BarsOptions } from '../data/bars';
import { loadData, type LoadOptions } from '../data/import/index';
import { Wavenet, type WavenetConfig } from '../models/wavenet';
import { InterruptedError, type EngineContext } from '../context';
import { isImageHandle, Run, train, type TrainOptions } from '../train/trainer';
import { createViews, type Views } from './views';
import { createLatentViews, type LatentViews } from './latent-views';
import { adversarialModels } from './part3-adversarial';
import { createGanViews, gmmnModels } from './part3-gan-views';
import { classicalModels, createClassicalViews } from './part3-classical';
import { createDiffusionViews, diffusionModels } from './part3-diffusion';
import { createSampleViews } from './part3-samples';
import { withOptionChecks } from './options';
import { expandSweep, formatParams, newSweepId, type SweepParams, type SweepSpec, type SweepTag } from './sweep';


export interface Lab {
  data: {
    mnist(opts?: ImageDataOptions): Dataset;
    fashionMnist(opts?: ImageDataOptions): Dataset;
    toy2d(name: string, opts?: Toy2dOptions): Dataset;
    readonly toy2dNames: readonly string[];
    waveforms(opts?: WaveformOptions): Dataset;
    wav(source: string | string[], opts?: WavOptions): Dataset;
    text(opts?: TextOptions): Dataset;
    glyphs(chars: string, opts?: { scale?: number }): Glyphs;
    barsAndStripes(opts?: BarsOptions): Dataset;
    /** a dataset of one's own: IDX, NPY, NPZ, CSV, text, WAV, or a folder of PNG/JPEG images (path relative to the workspace) */
    load(path: string, opts?: LoadOptions): Dataset;
  };
  models: {
    vae(cfg?: VaeConfig): Vae;
    cvae(cfg?: Omit<VaeConfig, 'conditional'>): Vae;
    fvsbn(cfg?: FvsbnConfig): Model;
    nade(cfg?: NadeConfig): Model;
    made(cfg?: MadeConfig): Model;
    nice(cfg?: NiceConfig): Model;
    realnvp(cfg?: RealNvpConfig): Model;
    maf(cfg?: MafConfig): Model;
    iaf(cfg?: MafConfig): Model;
    glow(cfg?: GlowConfig): Model;
    pixelcnn(cfg?: PixelCnnConfig): Model;
    wavenet(cfg?: WavenetConfig): Model;
    charlm(cfg?: CharLmConfig): CharLm;
    autoencoder(cfg?: AutoencoderConfig): Autoencoder;
    dae(cfg?: DaeConfig): Dae;
    hopfield: ((cfg: HopfieldConfig) => Hopfield) & { randomPatterns: typeof randomPatterns; corrupt: typeof corrupt; overlap: typeof overlap; capacity: typeof capacity };
    boltzmann(cfg?: BoltzmannConfig): Boltzmann;
    rbm(cfg?: RbmConfig): Rbm;
    dbn(cfg?: DbnConfig): Dbn;
    dbm(cfg?: DbmConfig): Dbm;
  } & typeof adversarialModels & typeof gmmnModels & typeof classicalModels & typeof diffusionModels;
  evaluate(model: Model, split: Split, opts?: EvaluateOptions): Evaluation;
  train(model: Model, data: Dataset, opts?: TrainOptions): Promise<Run>;
  sweep(spec: SweepSpec, fn: (params: SweepParams, index: number) => unknown, opts?: { name?: string }): Promise<SweepResult>;
  show(x: unknown, caption?: string): void;
  /** a Plotly figure as the cell's output */
  plot(data: Record<string, unknown>[], layout?: Record<string, unknown>, caption?: string): void;
  views: Views & LatentViews & ReturnType<typeof createGanViews> & ReturnType<typeof createClassicalViews> & ReturnType<typeof createDiffusionViews> & ReturnType<typeof createSampleViews>;
  backend(): string;
}

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

export interface SweepResult {
  id: string;
  name: string;
  configs: SweepParams[];
  /** every run trained while the sweep ran, in order */
  runs: Run[];
  /** what each call of the function returned */
  results: unknown[];
}

/** The lab object; its builders check their options first (./options). */
export function createLab(ctx: EngineContext): Lab {
  return withOptionChecks(buildLab(ctx));
}

function buildLab(ctx: EngineContext): Lab {
  // the sweep now running (runs trained meanwhile are tagged with it)
  let current: { tag: SweepTag; runs: Run[] } | null = null;
  return {
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
    models: {
      vae: (cfg) => new Vae(cfg),
      cvae: (cfg) => new Vae({ ...cfg, conditional: true }),
      fvsbn: (cfg) => new Fvsbn(cfg),
      nade: (cfg) => new Nade(cfg),
      made: (cfg) => new Made(cfg),
      nice: (cfg) => new Nice(cfg),
      realnvp: (cfg) => new RealNvp(cfg),
      maf: (cfg) => new Maf(cfg),
      iaf: (cfg) => new Iaf(cfg),
      glow: (cfg) => new Glow(cfg),
      pixelcnn: (cfg) => new PixelCnn(cfg),
      wavenet: (cfg) => new Wavenet(cfg),
      charlm: (cfg) => new CharLm(cfg),
      autoencoder: (cfg) => new Autoencoder(cfg),
      dae: (cfg) => new Dae(cfg),
      hopfield: Object.assign((cfg: HopfieldConfig) => new Hopfield(cfg), { randomPatterns, corrupt, overlap, capacity }),
      boltzmann: (cfg) => new Boltzmann(cfg),
      rbm: (cfg) => new Rbm(cfg),
      dbn: (cfg) => new Dbn(cfg),
      dbm: (cfg) => new Dbm(cfg),
      ...adversarialModels,
      ...gmmnModels,
      ...classicalModels,
      ...diffusionModels,
    },
    evaluate: (model, split, opts) => evaluateModel(ctx, model, split, opts),
    async train(model, data, opts) {
      const sweep = current;
      const tag = sweep ? { ...sweep.tag, run: sweep.runs.length } : null;
      const run = await train(ctx, model, data, opts, tag);
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
    views: { ...createViews(ctx), ...createLatentViews(ctx), ...createGanViews(ctx), ...createClassicalViews(ctx), ...createDiffusionViews(ctx), ...createSampleViews(ctx) },
    backend: () => backendName(),
  };
}
