// What the closed-form classical fits share: their training rows as values, and a count
// of one pass over them (more epochs leave a fit from counts as it is).
import * as tf from '@tensorflow/tfjs';

/**
 * A row-major Float32Array of rows of D values, with n. A tensor is refused: its values
 * can only be read back asynchronously (readRows), and these methods answer at once.
 */
export function rowsOf(x: Float32Array, D: number, what: string): { v: Float32Array; n: number } {
  if ((x as unknown) instanceof tf.Tensor) throw new TypeError(`${what}: give the rows as a Float32Array (e.g. data.test.x), not a tensor`);
  if (!(x instanceof Float32Array) || x.length % D !== 0) throw new Error(`${what}: a Float32Array of rows of ${D} values expected`);
  return { v: x, n: x.length / D };
}

/** the values of a [n, D] tensor (read back) or of a row-major array, as a Float32Array, with n */
export async function readRows(x: tf.Tensor2D | Float32Array, D: number, what: string): Promise<{ v: Float32Array; n: number }> {
  if (x instanceof tf.Tensor) {
    if (x.rank !== 2 || x.shape[1] !== D) throw new Error(`${what}: rows of ${D} values expected, got a tensor of shape [${x.shape}]`);
    return { v: (await x.data()) as Float32Array, n: x.shape[0] };
  }
  return rowsOf(x, D, what);
}

/**
 * Counts one pass over the training rows. The trainer cuts each epoch of a fresh
 * permutation into whole batches (a last partial batch waits for the next epoch), so
 * a batch is counted while it still fits in the first epoch: `seen + B <= trainRows`.
 * Every counted row is then a distinct training row, and later epochs change nothing.
 * With a batch size that divides the training set (or equals it), every row is counted
 * once; otherwise the last `trainRows mod B` rows of the first permutation are left
 * out. Without `trainRows` (direct use) every batch counts.
 */
export class OnePass {
  seen = 0;
  constructor(readonly trainRows: number | undefined) {}
  /** whether a batch of `B` rows is counted (and if so, it is now seen) */
  take(B: number): boolean {
    if (this.trainRows !== undefined && this.seen + B > this.trainRows) return false;
    this.seen += B;
    return true;
  }
  /** whether one pass is complete (no further batch can count) */
  done(B: number): boolean {
    return this.trainRows !== undefined && this.seen + B > this.trainRows;
  }
}
