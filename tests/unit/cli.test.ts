// `latentlab run --json` and `latentlab runs` as a user calls them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { injectParameters, parseParameterValue } from '../../src/main/services/notebook-runner';
import { Notebook } from '../../src/shared/domain';

const root = join(__dirname, '..', '..');
const bin = join(root, 'bin', 'latentlab.js');
const dir = mkdtempSync(join(tmpdir(), 'latentlab-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

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

describe('latentlab CLI', () => {
  it('runs the GAN example headlessly and prints one JSON object', () => {
    copyFileSync(join(root, 'resources/notebooks/gan-toy2d.ipynb'), join(dir, 'gan-toy2d.ipynb'));
    const r = cli('run', join(dir, 'gan-toy2d.ipynb'), '-p', 'steps', '40', '--json');
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim());
    expect(out.runs).toHaveLength(1);
    const run = out.runs[0];
    expect(run).toMatchObject({ family: 'gan', status: 'finished', steps: 40 });
    expect(typeof run.id).toBe('string');
    expect(typeof run.backend).toBe('string');
    for (const k of ['first', 'last', 'min']) expect(typeof run.metrics['train/d_loss'][k]).toBe('number');

    const list = cli('runs', '--workspace', dir, '--json');
    expect(list.status).toBe(0);
    expect(JSON.parse(list.stdout).runs.map((x: { id: string }) => x.id)).toEqual([run.id]);
    const table = cli('runs', '--workspace', dir);
    expect(table.stdout).toContain(run.id);
  });

  it('reports sample metrics (kind sample) for models without a likelihood: MMD on 2-D data, FID and the rest on MNIST', () => {
    const code = [
      "const toy = lab.data.toy2d('8gaussians');",
      'const g2 = lab.models.gan({ latentDim: 2, hidden: [32, 32] });',
      'await lab.train(g2, toy, { steps: 12, batchSize: 64 });',
      'lab.evaluate(g2, toy.test);',
      'const digits = lab.data.mnist({ limit: 1000 });',
      'const g = lab.models.gan({ latentDim: 8, hidden: [64] });',
      'await lab.train(g, digits, { steps: 4, batchSize: 32 });',
      'lab.evaluate(g, digits.test, { samples: 100 });',
    ].join('\n');
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: 'a', cell_type: 'code', metadata: {}, source: code, outputs: [], execution_count: null }] };
    writeFileSync(join(dir, 'sample-eval.ipynb'), JSON.stringify(nb));
    const r = cli('run', join(dir, 'sample-eval.ipynb'), '--json');
    expect(r.status, r.stderr + r.stdout).toBe(0);
    const [points, images] = JSON.parse(r.stdout.trim()).runs;
    expect(points.eval).toEqual({ kind: 'sample', mmd: expect.any(Number), n: 1000 });
    expect(images.eval).toEqual({
      kind: 'sample', fid: expect.any(Number), kid: expect.any(Number), kid_std: expect.any(Number), precision: expect.any(Number),
      recall: expect.any(Number), class_coverage: expect.any(Number), n: 100, classifier: 'mnist-mlp-v1',
    });
    expect(images.eval.fid).toBeGreaterThan(0);
  });

  it('fails clearly on a cell error and on bad usage', () => {
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: 'a', cell_type: 'code', metadata: {}, source: 'const x = 1;\nx.nope();', outputs: [], execution_count: null }] };
    writeFileSync(join(dir, 'bad.ipynb'), JSON.stringify(nb));
    const r = cli('run', join(dir, 'bad.ipynb'), '--json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'error', error: { type: 'error', line: 2 } });
    const u = cli('run');
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('run needs a NOTEBOOK');
    expect(cli('run', join(dir, 'missing.ipynb')).stderr).toContain('cannot read notebook');
  });
});
