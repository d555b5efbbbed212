// MNIST and Fashion-MNIST as lab.data gives them: deterministic, binarized, split
// 80/10/10, every row with its own class label through the shuffle and the limit.
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { imageDataset } from '../../../../src/engine/data/mnist';

beforeAll(async () => {
  await selectBackend('wasm');
});

describe('mnist data', () => {
  it('is deterministic, binarized, split 80/10/10', () => {
    const a = imageDataset('mnist', { limit: 2500 });
    expect(a.train.n).toBe(2000);
    expect(a.val.n).toBe(250);
    expect(a.test.n).toBe(250);
    expect(a.binary).toBe(true);
    expect(a.train.x.every((v) => v === 0 || v === 1)).toBe(true);
    const full = imageDataset('mnist', { binarize: 'threshold' });
    expect(full.train.n + full.val.n + full.test.n).toBeGreaterThanOrEqual(9000);
    const gray = imageDataset('mnist', { binarize: false, limit: 2500 });
    expect(gray.fingerprint).not.toBe(a.fingerprint);
    // same pixels after thresholding the same rows: the split does not depend on binarization
    const thr = imageDataset('mnist', { binarize: 'threshold', limit: 2500 });
    expect(Array.from(thr.train.x.subarray(0, 784))).toEqual(Array.from(gray.train.x.subarray(0, 784)).map((v) => (v > 0.5 ? 1 : 0)));
  });
});

describe('mnist labels', () => {
  // nearest class-mean classification of a split with the train split's class means:
  // ~80% when every row keeps its own label, ~10% if labels and images were shuffled apart
  const classMeanAccuracy = (ds: ReturnType<typeof imageDataset>, split: 'val' | 'test') => {
    const D = ds.dim;
    const means = Array.from({ length: 10 }, () => new Float64Array(D));
    const counts = new Array(10).fill(0);
    for (let i = 0; i < ds.train.n; i++) {
      const c = ds.train.y![i];
      counts[c]++;
      for (let j = 0; j < D; j++) means[c][j] += ds.train.x[i * D + j];
    }
    means.forEach((m, c) => m.forEach((_, j) => (m[j] /= counts[c])));
    const s = ds[split];
    let ok = 0;
    for (let i = 0; i < s.n; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let c = 0; c < 10; c++) {
        let d = 0;
        for (let j = 0; j < D; j++) d += (s.x[i * D + j] - means[c][j]) ** 2;
        if (d < bestD) [best, bestD] = [c, d];
      }
      if (best === s.y![i]) ok++;
    }
    return ok / s.n;
  };

  it('every split carries its rows’ class labels, aligned through the shuffle and the limit; fingerprints are unchanged', () => {
    for (const which of ['mnist', 'fashion-mnist'] as const) {
      const full = imageDataset(which, { binarize: false });
      const small = imageDataset(which, { binarize: false, limit: 2500 });
      expect(full.classes).toBe(10);
      expect(full.classNames).toHaveLength(10);
      for (const ds of [full, small]) {
        for (const s of [ds.train, ds.val, ds.test]) {
          expect(s.y).toBeInstanceOf(Uint8Array);
          expect(s.y!.length).toBe(s.n);
          expect(s.y!.every((c) => c < 10)).toBe(true);
        }
      }
      // a limited dataset takes the first rows of each split, labels included
      expect(Array.from(small.train.y!)).toEqual(Array.from(full.train.y!.subarray(0, small.train.n)));
      expect(Array.from(small.test.y!)).toEqual(Array.from(full.test.y!.subarray(0, small.test.n)));
      // every class appears in a full split
      expect(new Set(full.test.y).size).toBe(10);
      const acc = classMeanAccuracy(small, 'val');
      console.log(`${which}: nearest class-mean accuracy on val ${acc.toFixed(3)}`);
      expect(acc).toBeGreaterThan(0.6);
    }
    expect(imageDataset('fashion-mnist').classNames![9]).toBe('Ankle boot');
    expect(imageDataset('mnist').classNames![3]).toBe('3');
    // labels leave the fingerprints as they were before datasets carried them
    expect(imageDataset('mnist').fingerprint).toBe('ffc0376762192209b1b4a08e653aeb83b62d15e8');
    expect(imageDataset('mnist', { limit: 2500 }).fingerprint).toBe('3003e867533315715890406e03c8cf0c4e58b23e');
    // Fashion-MNIST changed on purpose (issue 7): the package's two empty entries are skipped, so its
    // corpus has 69,998 images, the shuffle differs, and old Fashion runs do not compare with new ones
    expect(imageDataset('fashion-mnist', { binarize: false, limit: 600 }).fingerprint).toBe('6de2dcef852b364578005c68846369d41b79171d');
  });
});
