// Class labels as one-hot rows, for conditional models (cVAE, cGAN).
import * as tf from '@tensorflow/tfjs';

/** a class index, one per row, or one-hot rows already */
export type Labels = tf.Tensor2D | number | ArrayLike<number>;

/**
 * [n, classes] one-hot rows of `labels`: a class for every row, a class per row, or a
 * one-hot tensor (checked and copied). `who` names the model in errors.
 */
export function oneHotRows(labels: Labels, n: number, classes: number, who: string): tf.Tensor2D {
  const C = classes;
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 2 || labels.shape[0] !== n || labels.shape[1] !== C) throw new Error(`${who}: labels must be one-hot [${n}, ${C}], not [${labels.shape}]`);
    return labels.clone();
  }
  const buf = new Float32Array(n * C);
  for (let i = 0; i < n; i++) {
    const c = typeof labels === 'number' ? labels : labels[i];
    if (!(Number.isInteger(c) && c >= 0 && c < C)) throw new Error(`${who}: class ${c} is not one of 0..${C - 1}`);
    buf[i * C + c] = 1;
  }
  return tf.tensor2d(buf, [n, C]);
}

/**
 * The number of classes a conditional model gets from its data (0 for an unconditional
 * one); data without at least two classes is an error that says what to do instead.
 */
export function classesOf(data: { classes?: number }, conditional: boolean, who: string, otherwise: string): number {
  if (!conditional) return 0;
  if (!(Number.isInteger(data.classes) && data.classes! >= 2)) {
    throw new Error(`${who} needs class labels and this dataset has none: train it on a labelled dataset (lab.data.mnist(), lab.data.fashionMnist(): their splits carry y), or ${otherwise}`);
  }
  return data.classes!;
}
