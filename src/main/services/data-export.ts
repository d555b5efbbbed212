// `latentlab export data`: a built-in dataset's train / validation / test splits as NumPy
// .npy files, exactly as a notebook's lab.data call sees them (the same shuffle, split and
// binarization), so code outside the app — a PyTorch twin of a notebook's model — trains
// and tests on the same rows. Each split gives X_x.npy (float32 [n, 784]) and X_y.npy
// (uint8 [n], the class), and data.json names the settings and the fingerprint that runs
// record for this data.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { imageDataset } from '../../engine/data/mnist';

export const EXPORTABLE_DATASETS = ['mnist', 'fashion-mnist'] as const;
export type ExportableDataset = (typeof EXPORTABLE_DATASETS)[number];
export type BinarizeChoice = 'stochastic' | 'threshold' | 'none';

/** The bytes of a NumPy format 1.0 file holding `data` as a C-ordered array of `shape`. */
export function npyBytes(data: Float32Array | Uint8Array, shape: number[]): Buffer {
  const descr = data instanceof Float32Array ? '<f4' : '|u1';
  const dims = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${dims}, }`;
  // magic (6) + version (2) + header length (2) + header + '\n', padded with spaces to a multiple of 64
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]);
}

export interface DataExport {
  dir: string;
  sizes: { train: number; val: number; test: number };
  fingerprint: string;
}

/** Writes the dataset's splits into `dir` (made if missing). */
export function exportDataset(name: ExportableDataset, binarize: BinarizeChoice, dir: string, opts: { binarizeSeed?: number; limit?: number } = {}): DataExport {
  const ds = imageDataset(name, { binarize: binarize === 'none' ? false : binarize, binarizeSeed: opts.binarizeSeed, limit: opts.limit });
  mkdirSync(dir, { recursive: true });
  const sizes = { train: ds.train.n, val: ds.val.n, test: ds.test.n };
  for (const split of ['train', 'val', 'test'] as const) {
    const s = ds[split];
    writeFileSync(join(dir, `${split}_x.npy`), npyBytes(s.x, [s.n, ds.dim]));
    if (s.y) writeFileSync(join(dir, `${split}_y.npy`), npyBytes(Uint8Array.from(s.y), [s.n]));
  }
  writeFileSync(join(dir, 'data.json'), JSON.stringify({ name: ds.name, shape: ds.shape, binary: ds.binary, settings: ds.settings, sizes, fingerprint: ds.fingerprint }, null, 2) + '\n');
  return { dir, sizes, fingerprint: ds.fingerprint };
}
