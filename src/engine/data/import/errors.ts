// Every importer failure is an ImportError whose message names the file and the
// problem ("lab.data.load: data/x.idx: truncated IDX file: ..."), so a user knows
// which of many files is at fault. Size guards run before any allocation.

export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`lab.data.load: ${file}: ${problem}`);
    this.name = 'ImportError';
  }
}

export function fail(file: string, problem: string): never {
  throw new ImportError(file, problem);
}

/** the largest number of values one import may hold (float32: 2 GiB) */
export const MAX_VALUES = 512 * 1024 * 1024;

/** 47040000 → "47,040,000" */
export const num = (n: number): string => n.toLocaleString('en-US');

/**
 * The product of header dims, refusing before any allocation when it is not a whole
 * number, overflows, or exceeds `limit` (what the file can hold).
 */
export function checkedProduct(file: string, dims: number[], what: string, limit = MAX_VALUES): number {
  let p = 1;
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail(file, `${what}: dimension ${String(d)} is not a whole number`);
    p *= d;
    if (p > limit) fail(file, `${what}: dims ${dims.join('×')} promise more values than ${p > MAX_VALUES ? `one import may hold (${num(MAX_VALUES)})` : `the file holds (${num(limit)})`}`);
  }
  return p;
}
