// What the binary readers (IDX, NPY, NPZ) produce: an n-d array as float32 values
// in C order, with the dtype it was stored in.

export interface NdArray {
  shape: number[];
  /** row-major values */
  data: Float32Array;
  /** the stored dtype, e.g. 'u1', 'f4' */
  dtype: string;
  /** true for integer and boolean dtypes */
  integer: boolean;
}
