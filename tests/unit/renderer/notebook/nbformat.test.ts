// Notebooks saved by Latent Lab reopen with the same cells and outputs (Jupyter's own
// validator checks the saved file in tests/integration/nbformat-validator.test.ts).
import { readFileSync, rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../../../src/main/services/workspace';
import { notebookFromNb } from '../../../../src/renderer/src/notebook/nbformat';
import { everyOutput, savedExample } from '../../../helpers/saved-notebook';

describe('nbformat', () => {
  it('round-trips cells, tags and every kind of output', () => {
    const { file, dir } = savedExample();
    try {
      const again = notebookFromNb(new Workspace(dir).read('saved.ipynb'));
      const code = again.cells.find((c) => c.type === 'code' && c.source.includes('lab.train'))!;
      expect(code.outputs).toEqual(everyOutput);
      expect(code.executionCount).toBe(2);
      expect(again.cells.find((c) => (c.metadata.tags as string[] | undefined)?.includes('parameters'))).toBeDefined();
      expect(JSON.parse(readFileSync(file, 'utf8')).nbformat).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
