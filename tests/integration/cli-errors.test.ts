// `latentlab` as a user calls it, with bad input: it exits non-zero and its last
// line on stderr says why in one line. Real CLI processes, real files, a real engine.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/paths';

const bin = join(root, 'bin', 'latentlab.js');
const dir = mkdtempSync(join(tmpdir(), 'latentlab-clierr-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const env = { ...process.env, LATENTLAB_CONFIG_DIR: join(dir, 'config') };
const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 300_000, env });
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !/^Building Latent Lab/.test(l));
  return { status: r.status, stderr: r.stderr, lines, last: lines[lines.length - 1] ?? '' };
};

const notebook = (cells: string[]) => JSON.stringify({
  nbformat: 4, nbformat_minor: 5, metadata: {},
  cells: cells.map((source, i) => ({ cell_type: 'code', id: `c${i + 1}`, metadata: i === 0 ? { tags: ['parameters'] } : {}, source, outputs: [], execution_count: null })),
});

describe('latentlab exits non-zero with a one-line reason', () => {
  it('an unknown command, an unknown flag, a -p without a value or with a bad name (exit 2, one line)', () => {
    const good = join(dir, 'ok.ipynb');
    writeFileSync(good, notebook(['const steps = 1;']));
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /^latentlab: unknown command 'frobnicate'; the commands are serve, run, runs, export, trust, help \(see latentlab --help\)$/],
      [['run', good, '--fast'], /^latentlab: unknown option --fast \(see latentlab --help\)$/],
      [['run', good, '-p', 'steps'], /^latentlab: -p takes a NAME and a VALUE \(see latentlab --help\)$/],
      [['run', good, '-p', 'a;b', '1'], /^latentlab: -p a;b: a parameter name must be an identifier \(letters, digits, _ or \$\) \(see latentlab --help\)$/],
      [['run'], /^latentlab: run needs a NOTEBOOK \(see latentlab --help\)$/],
      [['serve', '--port', 'many'], /^latentlab: --port takes a number 0\.\.65535 \(see latentlab --help\)$/],
    ];
    for (const [args, want] of cases) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.lines, args.join(' ')).toHaveLength(1);
      expect(r.last, args.join(' ')).toMatch(want);
    }
  });

  it('a missing file and a malformed notebook (exit 1, one line, the file untouched)', () => {
    const missing = cli('run', join(dir, 'nope.ipynb'));
    expect(missing.status).toBe(1);
    expect(missing.lines).toEqual([`latentlab: cannot read notebook ${join(dir, 'nope.ipynb')}: no such file`]);

    const text = notebook(['const steps = 1;', 'console.log(steps)']);
    for (const [name, bytes, want] of [
      ['cut.ipynb', text.slice(0, 60), /is not valid JSON: /],
      ['v3.ipynb', JSON.stringify({ ...JSON.parse(text), nbformat: 3 }), /is not an nbformat 4 notebook: nbformat: /],
      ['garbage.ipynb', '\u0000\u0001\u00ff\u0010binary', /is not valid JSON/],
      ['cells.ipynb', JSON.stringify({ ...JSON.parse(text), cells: 'none' }), /is not an nbformat 4 notebook: cells: /],
    ] as const) {
      const f = join(dir, name);
      writeFileSync(f, bytes);
      const r = cli('run', f);
      expect(r.status, name).toBe(1);
      expect(r.lines, name).toHaveLength(1);
      expect(r.last, name).toMatch(new RegExp(`^latentlab: ${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} ${want.source}`));
      expect(readFileSync(f, 'utf8'), name).toBe(bytes);
    }
  });

  it('a cell that errors: the last line names the cell and its line', () => {
    const f = join(dir, 'fails.ipynb');
    writeFileSync(f, notebook(['const steps = 1;', 'const a = 2;\nconst b = null as any;\nconsole.log(b.missing);', 'console.log("never")']));
    const r = cli('run', f);
    expect(r.status).toBe(1);
    expect(r.last).toBe(`latentlab: ${f} stopped at cell 2 (c2) line 3: TypeError: Cannot read properties of null (reading 'missing')`);
    expect(r.stderr).not.toContain('never');

    const lab = join(dir, 'badopts.ipynb');
    writeFileSync(lab, notebook(['const steps = 1;', 'lab.models.vae({ latentDm: 8 });']));
    const r2 = cli('run', lab, '-p', 'steps', '2');
    expect(r2.status).toBe(1);
    // the injected parameters cell comes second, so the vae cell is the third
    expect(r2.last).toMatch(/stopped at cell 3 \(c2\) line 1: OptionError: lab\.models\.vae: unknown option 'latentDm' \(did you mean 'latentDim'\?/);
  }, 300_000);

  it('running a notebook from elsewhere is the user\'s choice: it runs, with a note; `latentlab trust` trusts it', () => {
    const f = join(dir, 'elsewhere.ipynb');
    writeFileSync(f, notebook(['const steps = 1;', 'console.log("hello " + steps)']));
    const r = cli('run', f);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^note: .*elsewhere\.ipynb is not trusted in the app; it runs because you asked for it here/m);
    const t = cli('trust', f);
    expect(t.status).toBe(0);
    expect(t.lines).toEqual([`trusted ${f}`]);
    const again = cli('run', f);
    expect(again.status).toBe(0);
    expect(again.stderr).not.toMatch(/^note:/m);
    const bad = cli('trust', join(dir, 'cut.ipynb'));
    expect(bad.status).toBe(1);
    expect(bad.lines).toHaveLength(1);
  }, 300_000);
});
