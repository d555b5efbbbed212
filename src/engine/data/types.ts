// What a dataset is inside the engine: flat Float32Arrays per split, so batches are
// cheap row copies and nothing large lives on the tf backend between runs.

export interface Split {
  /** row-major [n, dim] */
  x: Float32Array;
  n: number;
  /** labelled data: the class index of each row (0..classes-1), row for row with x */
  y?: Uint8Array;
  /**
   * the dataset the rows came from ('mnist', 'fashion-mnist', 'moons', ...): lab.evaluate
   * picks its sample metrics by it (the pinned classifier of MNIST / Fashion-MNIST)
   */
  source?: string;
}

export interface Dataset {
  name: string;
  /**
   * image: values in [0,1] (or 0/1 when binary); points: real vectors;
   * sequence: rows of `length` symbols, each an integer in [0, levels) (mu-law audio, text)
   */
  kind: 'image' | 'points' | 'sequence';
  /** per-example shape, e.g. [28, 28], [2] or [length] */
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
  /** sequences: the number of symbols (256 for 8-bit mu-law audio) */
  levels?: number;
  /** text: the character of each symbol index */
  vocab?: string;
  /** audio: samples per second */
  sampleRate?: number;
  /** labelled data (every split has `y`): the number of classes */
  classes?: number;
  /** labelled data: a name for each class index */
  classNames?: string[];
}

/** rows [start, end) of a split as a plain array of points (for JSON artifacts). */
export function rows(split: Split, dim: number, limit = Infinity): number[][] {
  const n = Math.min(split.n, limit);
  const out: number[][] = [];
  for (let i = 0; i < n; i++) out.push(Array.from(split.x.subarray(i * dim, (i + 1) * dim)));
  return out;
}
