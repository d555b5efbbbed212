// Comparing a loaded dataset with the rows it should hold, whatever order its split shuffle chose.
import type { Dataset } from '../../src/engine/data/types';

/** every row of the three splits with its label, sorted, so a shuffle does not matter */
export function allRows(ds: Dataset): string[] {
  const out: string[] = [];
  for (const s of [ds.train, ds.val, ds.test]) {
    for (let i = 0; i < s.n; i++) {
      const row = Array.from(s.x.subarray(i * ds.dim, (i + 1) * ds.dim), (v) => +v.toFixed(5));
      out.push(`${row.join(',')}|${s.y ? s.y[i] : '-'}`);
    }
  }
  return out.sort();
}

/** the rows `allRows` gives for these rows and labels */
export const expectRows = (rows: number[][], labels: number[] | null) =>
  rows.map((r, i) => `${r.map((v) => +v.toFixed(5)).join(',')}|${labels ? labels[i] : '-'}`).sort();
