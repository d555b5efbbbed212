// The `lab` object notebook cells see. Typings for the editor live in lab.d.ts:
// keep the two in step.
import { inspect } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { backendName } from '../backend/select';
import type { EngineContext } from '../context';
import { imageDataset, type ImageDataOptions } from '../data/mnist';
import { toy2d, TOY2D_NAMES, type Toy2dOptions } from '../data/toy2d';
import type { Dataset } from '../data/types';
import { Gan, type GanConfig } from '../models/gan';
import type { Model } from '../models/types';
import { Vae, type VaeConfig } from '../models/vae';
import { isImageHandle, Run, train, type TrainOptions } from '../train/trainer';

export interface Lab {
  data: {
    mnist(opts?: ImageDataOptions): Dataset;
    fashionMnist(opts?: ImageDataOptions): Dataset;
    toy2d(name: string, opts?: Toy2dOptions): Dataset;
    readonly toy2dNames: readonly string[];
  };
  models: {
    vae(cfg?: VaeConfig): Model;
    gan(cfg?: GanConfig): Model;
  };
  train(model: Model, data: Dataset, opts?: TrainOptions): Promise<Run>;
  show(x: unknown, caption?: string): void;
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

export function createLab(ctx: EngineContext): Lab {
  return {
    data: {
      mnist: (opts) => imageDataset('mnist', opts),
      fashionMnist: (opts) => imageDataset('fashion-mnist', opts),
      toy2d: (name, opts) => toy2d(name, opts),
      toy2dNames: TOY2D_NAMES,
    },
    models: {
      vae: (cfg) => new Vae(cfg),
      gan: (cfg) => new Gan(cfg),
    },
    train: (model, data, opts) => train(ctx, model, data, opts),
    show(x, caption) {
      const exec = ctx.exec();
      if (!exec) return;
      if (isImageHandle(x)) exec.emit({ type: 'image', path: x.path, caption: caption ?? x.caption });
      else if (x instanceof Run) exec.emit({ type: 'run', runId: x.id });
      else exec.emit({ type: 'text', text: (caption ? `${caption}\n` : '') + formatValue(x) + '\n' });
    },
    backend: () => backendName(),
  };
}
