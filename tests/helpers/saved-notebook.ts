// A shipped example notebook saved by Latent Lab with one output of every kind in its
// training cell: for the round-trip test and for Jupyter's validator.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from '../../src/main/services/workspace';
import { notebookFromNb, notebookToNb } from '../../src/renderer/src/notebook/nbformat';
import type { CellOutput } from '../../src/shared/domain';
import { root } from './paths';

export const everyOutput: CellOutput[] = [
  { type: 'text', text: 'hello\n' },
  { type: 'run', runId: 'r-20261123-000000-abcd' },
  { type: 'image', path: 'r-1/images/grid.png', caption: '64 samples' },
  { type: 'error', name: 'TypeError', message: 'x is not a function', line: 3, stack: 'TypeError: x is not a function\n    at cell:c3:3:1' },
  // an animation (GAN Lab's single updates, DDPM's reverse chain): its frames survive a save
  { type: 'plot', data: [{ type: 'scatter', x: [0, 1], y: [1, 0] }], layout: { sliders: [{ steps: [{ label: 'start', method: 'animate', args: [['f0']] }] }] }, frames: [{ name: 'f0', data: [{ x: [0, 1], y: [0, 1] }] }, { name: 'f1', data: [{ x: [1, 0], y: [0, 1] }] }], caption: 'two frames' },
];

/** vae-mnist.ipynb saved into a new folder with `everyOutput` on its lab.train cell; the caller removes `dir` */
export function savedExample(): { file: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-nb-'));
  const ws = new Workspace(dir);
  const src = new Workspace(join(root, 'resources', 'notebooks')).read('vae-mnist.ipynb');
  const model = notebookFromNb(src);
  const code = model.cells.find((c) => c.type === 'code' && c.source.includes('lab.train'))!;
  code.outputs = everyOutput;
  code.executionCount = 2;
  ws.write('saved.ipynb', notebookToNb(model));
  return { file: join(dir, 'saved.ipynb'), dir };
}
