// Notebooks saved by Latent Lab, and the examples we ship, pass Jupyter's own nbformat
// validator (Debian's python3-nbformat, run by /usr/bin/python3).
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers/paths';
import { savedExample } from '../helpers/saved-notebook';
import { skipWhen } from '../helpers/skip';

const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', 'import nbformat'], { encoding: 'utf8' });
const noNbformat = probe.status === 0 ? null : `${PY} cannot import nbformat (apt-get install python3-nbformat; .ci/run does)`;

describe('nbformat', () => {
  it('a saved notebook passes Jupyter\'s nbformat validator', (ctx) => {
    skipWhen(ctx, noNbformat);
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
