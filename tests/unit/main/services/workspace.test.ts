import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { examplesDir } from '../../../../src/main/services/paths';
import { Workspace } from '../../../../src/main/services/workspace';

const dirs: string[] = [];
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), 'latentlab-ws-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('workspace', () => {
  it('starts a new workspace with the example notebooks, listed by their titles', () => {
    const ws = new Workspace(temp());
    ws.init(examplesDir());
    expect(existsSync(ws.artifactsDir)).toBe(true);
    const list = ws.list();
    expect(list).toEqual(
      expect.arrayContaining([
        { path: 'vae-mnist.ipynb', title: 'VAE on MNIST', family: 'latent' },
        { path: 'gan-toy2d.ipynb', title: 'GAN on 8 Gaussians', family: 'adversarial' },
      ]),
    );
  });

  it('every example opens as nbformat 4 with a parameters cell and a steps parameter', () => {
    const ws = new Workspace(examplesDir());
    for (const { path } of ws.list()) {
      const nb = ws.read(path);
      expect(nb.nbformat).toBe(4);
      expect(nb.cells[0].cell_type).toBe('markdown');
      expect([nb.cells[0].source].flat().join('')).toMatch(/\$\$[\s\S]+\$\$/); // the objective as an equation
      const params = nb.cells.find((c) => (c.metadata as { tags?: string[] }).tags?.includes('parameters'));
      expect([params?.source].flat().join('')).toMatch(/const steps = \d+;/);
    }
  });

  it('writes atomically, round-trips, and never leaves the folder', () => {
    const ws = new Workspace(temp());
    ws.init();
    const nb = { nbformat: 4 as const, nbformat_minor: 5, metadata: {}, cells: [{ id: 'a', cell_type: 'code' as const, source: 'x', metadata: {}, outputs: [], execution_count: null }] };
    ws.write('sub.ipynb', nb);
    expect(ws.read('sub.ipynb')).toEqual(nb);
    expect(readdirSync(ws.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(() => ws.write('../evil.ipynb', nb)).toThrow(/escapes the workspace/);
    expect(() => ws.read('/etc/passwd')).toThrow(/escapes the workspace/);
    expect(() => ws.write('notes.txt', nb)).toThrow(/\.ipynb/);
    writeFileSync(join(ws.dir, 'broken.ipynb'), '{"nbformat": 3}');
    expect(() => ws.read('broken.ipynb')).toThrow(/not an nbformat 4 notebook/);
    expect(readFileSync(join(ws.dir, 'broken.ipynb'), 'utf8')).toBe('{"nbformat": 3}'); // nothing lost
  });
});
