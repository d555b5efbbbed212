// `latentlab run --json` and `latentlab runs` as a user calls them, each its own
// process; `latentlab runs` shows a dead host's run as crashed.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/paths';
import { Tracker } from '../../src/main/services/tracker';
import { Workspace } from '../../src/main/services/workspace';

const bin = join(root, 'bin', 'latentlab.js');
const dir = mkdtempSync(join(tmpdir(), 'latentlab-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });

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

describe('`latentlab runs` checks that a run is alive', () => {
  it('a run left running by a dead host lists as crashed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'latentlab-runs-live-'));
    try {
      const w = new Workspace(dir);
      w.init();
      const t = new Tracker(w.trackerFile);
      const now = Date.now();
      t.insertRun({
        id: 'r-dead', notebook: 'a.ipynb', cell: 'c1', name: 'dead host', family: 'vae', config: {}, code: 'lab.train()',
        dataFingerprint: 'f', dataName: 'toy', seed: 1, backend: 'cpu', status: 'running', steps: 10, totalSteps: 100,
        startedAt: now, endedAt: null, heartbeat: now, error: null, finalMetrics: {},
      });
      // a process of this machine that is gone: the owner of the run
      const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
      t.db.prepare('UPDATE runs SET owner = ? WHERE id = ?').run(`${hostname()}:${gone.stdout}`, 'r-dead');
      t.close();
      const out = spawnSync(process.execPath, [join(root, 'bin', 'latentlab.js'), 'runs', '--workspace', dir, '--json'], { encoding: 'utf8' });
      expect(out.status, out.stderr).toBe(0);
      const runs = JSON.parse(out.stdout).runs as { id: string; status: string; error: string | null }[];
      expect(runs.find((r) => r.id === 'r-dead')).toMatchObject({ status: 'crashed', error: expect.stringContaining('host process stopped') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
