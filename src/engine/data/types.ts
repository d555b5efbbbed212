// What a dataset is inside the engine: flat Float32Arrays per split, so batches are
// cheap row copies and nothing large lives on the tf backend between runs.

export type Split = LatentLab.Split;

export type Dataset = LatentLab.Dataset;

/** rows [start, end) of a split as a plain array of points (for JSON artifacts). */
export function rows(split: Split, dim: number, limit = Infinity): number[][] {
  const n = Math.min(split.n, limit);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(split.x.subarray(i * dim, (i + 1) * dim)));
  return out;
}
