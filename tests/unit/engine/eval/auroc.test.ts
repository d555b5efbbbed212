// AUROC, as the outlier detector view computes it.
import { describe, expect, it } from 'vitest';
import { auroc } from '../../../../src/engine/eval/auroc';

describe('auroc', () => {
  it('is the Mann-Whitney probability, ties counted half', () => {
    expect(auroc([1, 2, 3], [4, 5])).toBe(1);
    expect(auroc([4, 5], [1, 2, 3])).toBe(0);
    expect(auroc([1, 2], [1, 2])).toBe(0.5);
    expect(auroc([0, 2], [1])).toBe(0.5);
    expect(auroc([1], [1, 2])).toBe(0.75);
    expect(() => auroc([], [1])).toThrow('at least one');
  });
});
