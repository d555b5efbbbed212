// `latentlab run -p NAME VALUE`: parameters injected after the cell tagged
// parameters (papermill's convention), values parsed as JSON where they are JSON.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { injectParameters, parseParameterValue } from '../../../../src/main/services/parameters';
import { Notebook } from '../../../../src/shared/domain';
import { root } from '../../../helpers/paths';

describe('parameters (papermill convention)', () => {
  it('injects -p values right after the cell tagged parameters', () => {
    const nb = Notebook.parse(JSON.parse(readFileSync(join(root, 'resources/notebooks/vae-mnist.ipynb'), 'utf8')));
    const out = injectParameters(nb, { steps: 5, name: 'x' });
    const i = out.cells.findIndex((c) => (c.metadata as { tags?: string[] }).tags?.includes('parameters'));
    expect(i).toBeGreaterThanOrEqual(0);
    expect(out.cells[i + 1].source).toBe('// Parameters injected by latentlab run\nsteps = 5;\nname = "x";');
    expect(() => injectParameters(nb, { 'a;b': 1 })).toThrow(/identifier/);
    expect(parseParameterValue('30')).toBe(30);
    expect(parseParameterValue('[1,2]')).toEqual([1, 2]);
    expect(parseParameterValue('hello')).toBe('hello');
  });
});
