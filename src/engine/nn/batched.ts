// Evaluation in batches: a per-example quantity over many rows without holding every
// activation at once, and without depending on how the rows were cut.
import * as tf from '@tensorflow/tfjs';
import { WasmHeapError } from '../backend/wasm-heap';

/**
 * `nll(rows)` over `x` in chunks of `chunk` rows, as one array (evaluation without
 * holding every activation). A chunk that does not fit in the wasm heap is retried
 * in halves (the values do not depend on the chunking); one row that does not fit
 * is the error.
 */
export async function chunkedNll(x: tf.Tensor2D, chunk: number, nll: (rows: tf.Tensor2D) => tf.Tensor1D): Promise<Float32Array> {
  const n = x.shape[0];
  const out = new Float32Array(n);
  let size = Math.max(1, Math.floor(chunk));
  for (let s = 0; s < n; ) {
    const m = Math.min(size, n - s);
    let v: tf.Tensor1D;
    try {
      v = tf.tidy(() => nll(tf.slice(x, [s, 0], [m, -1]) as tf.Tensor2D));
    } catch (e) {
      if (!(e instanceof WasmHeapError) || m === 1) throw e;
      size = Math.ceil(m / 2);
      continue;
    }
    try {
      out.set((await v.data()) as Float32Array, s);
    } finally {
      v.dispose();
    }
    s += m;
  }
  return out;
}
