// Notebooks saved by Latent Lab are valid nbformat 4 (checked with Jupyter's own
// validator, Debian's python3-nbformat) and reopen with the same cells and outputs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Workspace } from '../../src/main/services/workspace';
import { notebookFromNb, notebookToNb } from '../../src/renderer/src/notebook/nbformat';
import type { CellOutput } from '../../src/shared/domain';

const root = join(__dirname, '..', '..');
const PY = '/usr/bin/python3';
const hasNbformat = spawnSync(PY, ['-c', 'import nbformat'], { encoding: 'utf8' }).status === 0;
if (!hasNbformat) console.log('[nbformat] Jupyter validation skipped: /usr/bin/python3 has no nbformat (apt-get install python3-nbformat; .ci/run does)');

const outputs: CellOutput[] = [
  { type: 'text', text: 'hello\n' },
  { type: 'run', runId: 'r-20261123-000000-abcd' },
  { type: 'image', path: 'r-1/images/grid.png', caption: '64 samples' },
  { type: 'error', name: 'TypeError', message: 'x is not a function', line: 3, stack: 'TypeError: x is not a function\n    at cell:c3:3:1' },
  // an animation (GAN Lab's single updates, DDPM's reverse chain): its frames survive a save
  { type: 'plot', data: [{ type: 'scatter', x: [0, 1], y: [1, 0] }], layout: { sliders: [{ steps: [{ label: 'start', method: 'animate', args: [['f0']] }] }] }, frames: [{ name: 'f0', data: [{ x: [0, 1], y: [0, 1] }] }, { name: 'f1', data: [{ x: [1, 0], y: [0, 1] }] }], caption: 'two frames' },
];

function savedExample(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-nb-'));
  const ws = new Workspace(dir);
  const src = new Workspace(join(root, 'resources', 'notebooks')).read('vae-mnist.ipynb');
  const model = notebookFromNb(src);
  const code = model.cells.find((c) => c.type === 'code' && c.source.includes('lab.train'))!;
  code.outputs = outputs;
  code.executionCount = 2;
  ws.write('saved.ipynb', notebookToNb(model));
  return { file: join(dir, 'saved.ipynb'), dir };
}

describe('nbformat', () => {
  it('round-trips cells, tags and every kind of output', () => {
    const { file, dir } = savedExample();
    try {
      const again = notebookFromNb(new Workspace(dir).read('saved.ipynb'));
      const code = again.cells.find((c) => c.type === 'code' && c.source.includes('lab.train'))!;
      expect(code.outputs).toEqual(outputs);
      expect(code.executionCount).toBe(2);
      expect(again.cells.find((c) => (c.metadata.tags as string[] | undefined)?.includes('parameters'))).toBeDefined();
      expect(JSON.parse(readFileSync(file, 'utf8')).nbformat).toBe(4);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.skipIf(!hasNbformat)('a saved notebook passes Jupyter\'s nbformat validator', () => {
    const { file, dir } = savedExample();
    try {
      const r = spawnSync(PY, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4)); print("valid")', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.stdout.trim()).toBe('valid');
      // and the examples we ship
      for (const f of readdirSync(join(root, 'resources', 'notebooks')).filter((n) => n.endsWith('.ipynb'))) {
        const e = spawnSync(PY, ['-c', 'import sys, nbformat; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))', join(root, 'resources', 'notebooks', f)], { encoding: 'utf8' });
        expect(e.status, e.stderr).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
