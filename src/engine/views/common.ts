// What every lab.views function shares: a name under artifacts/views for what it
// writes, the checks on its arguments, and the two ways it shows something under the
// running cell (a Plotly figure, or a PNG written under the artifacts folder).
import * as tf from '@tensorflow/tfjs';
import type { EngineContext } from '../context';
import type { Dataset, Split } from '../data/types';
import type { Model } from '../models/types';
import { writeFile } from '../util/files';

export type Trace = Record<string, unknown>;

let viewCounter = 0;
/** a name unique in this engine process (a view's file, a live output's key) */
export const uniqueViewKey = (what: string) => `${Date.now().toString(36)}-${++viewCounter}-${what}`;
export const viewName = (what: string, ext = 'png') => `views/${uniqueViewKey(what)}.${ext}`;

export function need(cond: unknown, msg: string): asserts cond {
  if (!cond) throw new Error(msg);
}

/** throws unless `model` is a model of lab.models that has been trained (built) */
export function built(model: LatentLab.Model, view: string): asserts model is Model {
  need(model && typeof (model as Model).trainStep === 'function', `lab.views.${view}: the first argument must be a model from lab.models`);
  need(model.built, `lab.views.${view}: train the ${model.family} first (lab.train builds it on its data)`);
}

export function isSplit(s: unknown): s is Split {
  return !!s && (s as Split).x instanceof Float32Array && (s as Split).n > 0;
}

/** the picture shape of D values: square when D is a square, else one row */
export function pictureShape(D: number): [number, number] {
  const s = Math.round(Math.sqrt(D));
  return s * s === D ? [s, s] : [1, D];
}

/** the first `n` rows of a split as a tensor */
export function head(split: Split, n: number): { x: tf.Tensor2D; D: number; n: number } {
  const D = split.x.length / split.n;
  const k = Math.max(1, Math.min(split.n, n));
  return { x: tf.tensor2d(split.x.subarray(0, k * D), [k, D]), D, n: k };
}

/** How a view shows its result under the running cell; `key` replaces an earlier output with the same key. */
export function viewOutputs(ctx: EngineContext) {
  return {
    emitPlot(data: Trace[], layout: Record<string, unknown>, caption?: string, key?: string): void {
      ctx.exec()?.emit({ type: 'plot', data, layout, ...(caption ? { caption } : {}), ...(key ? { key } : {}) });
    },
    emitImage(rel: string, png: Buffer, caption: string, key?: string): void {
      writeFile(ctx.artifactsDir(), rel, png);
      ctx.exec()?.emit({ type: 'image', path: rel, caption, ...(key ? { key } : {}) });
    },
  };
}

export function isDataset(d: unknown): d is Dataset {
  return !!d && typeof d === 'object' && typeof (d as Dataset).dim === 'number' && !!(d as Dataset).val && (d as Dataset).val.x instanceof Float32Array;
}

/** a model that samples by Gibbs steps (rbm, dbn, dbm, boltzmann) */
export type GibbsModel = Model & { gibbs(opts: { n: number; steps: number; every?: number; seed: number; init?: Float32Array; clamp?: Uint8Array }): Promise<Float32Array[] | { frames: Float32Array[] }> };
/** the frames of a chain, whichever way the family returns them */
export const framesOf = (r: Float32Array[] | { frames: Float32Array[] }): Float32Array[] => (Array.isArray(r) ? r : r.frames);

/** data range of a 2-D split with a margin: [lo, hi] per axis */
export function range2d(split: Split, margin = 0.15): [number, number][] {
  const r: [number, number][] = [[Infinity, -Infinity], [Infinity, -Infinity]];
  for (let i = 0; i < split.n; i++) {
    for (let a = 0; a < 2; a++) {
      const v = split.x[2 * i + a];
      r[a][0] = Math.min(r[a][0], v);
      r[a][1] = Math.max(r[a][1], v);
    }
  }
  return r.map(([lo, hi]) => {
    const m = (hi - lo) * margin || 1;
    return [lo - m, hi + m] as [number, number];
  });
}
