// The pieces of check:quality's PyTorch twins, for real: `latentlab export data` writes
// the very rows a notebook's lab.data call sees, and scripts/quality_twins.py trains the
// twin of an example notebook's run on them with the run's recorded settings. The FVSBN is
// the check: one convex logistic regression per pixel, so two correct implementations
// trained the same way land on the same exact NLL, and a twin with a wrong mask, loss,
// schedule or data does not.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { imageDataset } from '../../src/engine/data/mnist';
import { parseNpy } from '../../src/engine/data/import/npy';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const bin = join(root, 'bin', 'latentlab.js');
const dir = mkdtempSync(join(tmpdir(), 'latentlab-twins-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000 });
const npy = (file: string) => parseNpy(file, readFileSync(file));

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const noTorch = (): string | null => {
  const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'PyTorch is not installed here (Debian: python3-torch libopenblas0-pthread)';
};

describe('latentlab export data', () => {
  it('writes the splits lab.data gives a notebook, as .npy files with their fingerprint', () => {
    for (const binarize of ['threshold', 'stochastic'] as const) {
      const out = join(dir, `mnist-${binarize}`);
      const r = cli('export', 'data', 'mnist', '--out', out, '--binarize', binarize);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/8000 train, 1000 validation, 1000 test rows/);
      const ds = imageDataset('mnist', { binarize });
      for (const split of ['train', 'val', 'test'] as const) {
        const x = npy(join(out, `${split}_x.npy`));
        expect(x.shape).toEqual([ds[split].n, 784]);
        expect(x.dtype).toBe('f4');
        expect(Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength).equals(Buffer.from(ds[split].x.buffer, ds[split].x.byteOffset, ds[split].x.byteLength))).toBe(true);
        const y = npy(join(out, `${split}_y.npy`));
        expect(y.shape).toEqual([ds[split].n]);
        expect(Array.from(y.data)).toEqual(Array.from(ds[split].y!));
      }
      const info = JSON.parse(readFileSync(join(out, 'data.json'), 'utf8'));
      expect(info.fingerprint).toBe(ds.fingerprint);
      expect(info.settings.binarize).toBe(binarize);
    }
    // the two binarizations are different data
    const a = npy(join(dir, 'mnist-threshold', 'test_x.npy')).data;
    const b = npy(join(dir, 'mnist-stochastic', 'test_x.npy')).data;
    expect(a.some((v, i) => v !== b[i])).toBe(true);
  }, 120_000);

  it('refuses bad input with one line and writes nothing', () => {
    const cases: [string[], RegExp][] = [
      [['export', 'data', 'cifar', '--out', join(dir, 'bad1')], /no dataset 'cifar'; the built-in image datasets are mnist and fashion-mnist/],
      [['export', 'data', 'mnist', '--out', join(dir, 'bad2'), '--binarize', 'maybe'], /--binarize is stochastic, threshold or none \(got maybe\)/],
      [['export', 'data', 'mnist'], /export data needs --out DIR/],
      [['export', 'data', 'mnist', '--out', join(dir, 'bad3'), '--limit', '5'], /--limit takes at least 10 rows/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
    for (const d of ['bad1', 'bad2', 'bad3']) expect(existsSync(join(dir, d))).toBe(false);
  });
});

describe('the PyTorch twin of a notebook run', () => {
  it("lands on the engine's exact NLL for the FVSBN trained with the same settings", (ctx) => {
    skipWhen(ctx, noTorch());
    copyFileSync(join(root, 'resources', 'notebooks', 'fvsbn.ipynb'), join(dir, 'fvsbn.ipynb'));
    const r = cli('run', join(dir, 'fvsbn.ipynb'), '-p', 'steps', '150', '--json');
    expect(r.status, r.stderr).toBe(0);
    const ours = JSON.parse(r.stdout.trim()).runs[0];
    const runs = JSON.parse(cli('runs', '--json', '--workspace', dir).stdout).runs as { id: string; config: Record<string, unknown> }[];
    const config = runs.find((x) => x.id === ours.id)!.config;
    writeFileSync(join(dir, 'fvsbn.config.json'), JSON.stringify(config));
    const data = join(dir, 'mnist-stochastic');
    if (!existsSync(join(data, 'train_x.npy'))) expect(cli('export', 'data', 'mnist', '--out', data).status).toBe(0);
    const t = spawnSync(python, [join(root, 'scripts', 'quality_twins.py'), '--family', 'fvsbn', '--data', data, '--run', join(dir, 'fvsbn.config.json'), '--threads', '1'], { encoding: 'utf8', timeout: 300_000 });
    expect(t.status, t.stderr).toBe(0);
    const twin = JSON.parse(t.stdout.trim());
    expect(twin).toMatchObject({ family: 'fvsbn', kind: 'exact', steps: 150 });
    // 150 steps take the NLL from 543 nats (all pixels at 1/2) to about 120: the two agree to
    // within 1 % (their initializations and batch orders differ)
    expect(ours.eval.nll_nats).toBeLessThan(200);
    expect(Math.abs(twin.nll_nats - ours.eval.nll_nats) / ours.eval.nll_nats).toBeLessThan(0.01);
    // a family without a twin says so
    const none = spawnSync(python, [join(root, 'scripts', 'quality_twins.py'), '--family', 'dbm', '--data', data, '--run', join(dir, 'fvsbn.config.json')], { encoding: 'utf8' });
    expect(JSON.parse(none.stdout.trim())).toEqual({ family: 'dbm', skipped: 'no PyTorch twin of this family yet' });
  }, 300_000);
});
