// What a dataset is inside the engine: flat Float32Arrays per split, so batches are
// cheap row copies and nothing large lives on the tf backend between runs.

export interface Split {
  /** row-major [n, dim] */
  x: Float32Array;
  n: number;
}

export interface Dataset {
  name: string;
  kind: 'image' | 'points';
  /** per-example shape, e.g. [28, 28] or [2] */
  shape: number[];
  /** product of shape */
  dim: number;
  /** true when every value is 0 or 1 (Bernoulli likelihoods make sense) */
  binary: boolean;
  train: Split;
  val: Split;
  test: Split;
  /** sha1 of name + settings + split sizes: two runs compare only on equal fingerprints */
  fingerprint: string;
  /** the settings that produced it (recorded with every run) */
  settings: Record<string, unknown>;
  /** known mode centres (toy mixtures), used by sample metrics */
  modes?: number[][];
  /** std of each mode (toy mixtures) */
  modeStd?: number;
}

/** rows [start, end) of a split as a plain array of points (for JSON artifacts). */
export function rows(split: Split, dim: number, limit = Infinity): number[][] {
  const n = Math.min(split.n, limit);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(split.x.subarray(i * dim, (i + 1) * dim)));
  return out;
}
