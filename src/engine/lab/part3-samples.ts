// Sample-quality views. The numbers themselves (FID, KID, precision/recall, class
// coverage, MMD) come from lab.evaluate; this file holds what is better seen:
//  - nearestNeighbours: each sample beside its closest training image (pixel L2), with
//    the test images' own closest-training distances as the baseline. A model that
//    memorised its data draws samples much closer to training images than fresh test
//    images are (ratio well below 1).
import type { EngineContext } from '../context';
import type { Dataset } from '../data/types';
import { drawSamples } from '../eval/evaluate';
import { nearestNeighbours as nearest } from '../eval/sample-metrics';
import type { Model } from '../models/types';
import { writeFile } from '../train/trainer';
import { imageGridPng } from '../util/png';
import { built, need, viewName } from './views';

export interface NearestNeighboursResult {
  /** mean pixel-L2 distance of the samples to their closest training image */
  meanDistance: number;
  /** the same for test images (the baseline a model that does not copy should reach) */
  testBaseline: number;
  /** meanDistance / testBaseline: far below 1 = the samples copy training images */
  ratio: number;
  /** the PNG (relative to the artifacts folder): each sample beside its nearest training image */
  path: string;
  /** each sample's distance and the index of its nearest training image */
  distances: number[];
  indices: number[];
}

export interface SampleViews {
  /**
   * Each of `n` samples (default 16) beside its closest training image in pixel L2, as a
   * PNG, and the mean distance against the test images' own (first max(n, 200) of them).
   */
  nearestNeighbours(model: Model, data: Dataset, opts?: { n?: number; seed?: number }): NearestNeighboursResult;
}

export function createSampleViews(ctx: EngineContext): SampleViews {
  return {
    nearestNeighbours(model, data, opts = {}) {
      built(model, 'nearestNeighbours');
      need(data && data.train && data.test && typeof data.dim === 'number', 'lab.views.nearestNeighbours: the second argument must be the dataset the model was trained on (from lab.data)');
      need(data.kind === 'image', `lab.views.nearestNeighbours: shows images side by side; ${data.name} is ${data.kind} data`);
      const n = Math.floor(opts.n ?? 16);
      need(Number.isInteger(n) && n >= 1 && n <= 256, `lab.views.nearestNeighbours: n must be a whole number in 1..256 (got ${opts.n})`);
      const D = data.dim;
      const samples = drawSamples(model, n, D, opts.seed ?? 1234);
      for (let i = 0; i < samples.length; i++) samples[i] = samples[i] < 0 ? 0 : samples[i] > 1 ? 1 : samples[i];
      const nn = nearest(samples, n, data.train.x, data.train.n, D);
      const nTest = Math.min(data.test.n, Math.max(n, 200));
      const base = nearest(data.test.x, nTest, data.train.x, data.train.n, D);
      const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
      const meanDistance = mean(nn.distance);
      const testBaseline = mean(base.distance);
      need(testBaseline > 0, 'lab.views.nearestNeighbours: the test images are copies of training images (baseline distance 0)');
      const ratio = meanDistance / testBaseline;
      // pairs side by side, four pairs a row, a blank tile between pairs
      const pairs = Math.min(n, 4);
      const cols = 3 * pairs - 1;
      const rows = Math.ceil(n / pairs);
      const tiles = new Float32Array(rows * cols * D);
      for (let i = 0; i < n; i++) {
        const r = Math.floor(i / pairs);
        const c = 3 * (i % pairs);
        tiles.set(samples.subarray(i * D, (i + 1) * D), (r * cols + c) * D);
        tiles.set(data.train.x.subarray(nn.index[i] * D, (nn.index[i] + 1) * D), (r * cols + c + 1) * D);
      }
      const [h, w] = data.shape.length >= 2 ? [data.shape[0], data.shape[1]] : [1, D];
      const rel = viewName('nearest-neighbours');
      writeFile(ctx.artifactsDir(), rel, imageGridPng(tiles, rows * cols, h, w, cols).png);
      ctx.exec()?.emit({
        type: 'image',
        path: rel,
        caption: `${model.family}: each sample (left) beside its closest training image (right), pixel L2; mean distance ${meanDistance.toFixed(2)} against ${testBaseline.toFixed(2)} for test images (ratio ${ratio.toFixed(2)}; far below 1 = memorisation)`,
      });
      return { meanDistance, testBaseline, ratio, path: rel, distances: Array.from(nn.distance), indices: Array.from(nn.index) };
    },
  };
}
