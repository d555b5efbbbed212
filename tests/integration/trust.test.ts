// Untrusted notebooks, as in Jupyter: a notebook that came from outside the
// workspace shows its saved outputs but its code does not run until the user
// trusts it. The host refuses, not only the UI. Real files, a real trust store
// file in a temp config folder, a real engine process for the cell that runs.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../src/shared/channel';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry, examplesDir } from '../../src/main/services/paths';
import { configDir, notebookDigest, TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';

let dir: string;
let config: string;
let service: LabService;
const entry = engineEntry();

const outside = (code: string, output = 'saved output\n') => ({
  nbformat: 4, nbformat_minor: 5, metadata: {},
  cells: [
    { cell_type: 'markdown', id: 'm', metadata: {}, source: '# From elsewhere' },
    { cell_type: 'code', id: 'c1', metadata: {}, source: code, execution_count: 1, outputs: [{ output_type: 'stream', name: 'stdout', text: [output] }] },
  ],
});

beforeAll(() => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-trust-'));
  config = join(dir, 'config');
  const ws = new Workspace(join(dir, 'ws'), { trust: new TrustStore(config) });
  ws.init(examplesDir());
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher(entry) });
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const call = (name: string, input: unknown) => dispatch(service.handlers(), name, input);

describe('trust', () => {
  it('the example notebooks a new workspace starts with are trusted; the store lives outside the workspace', async () => {
    for (const nb of ['vae-mnist.ipynb', 'gan-toy2d.ipynb']) {
      expect(await call('notebook.read', { path: nb })).toMatchObject({ ok: true, output: { trusted: true, readOnly: null } });
    }
    const store = JSON.parse(readFileSync(join(config, 'trust.json'), 'utf8'));
    expect(store.version).toBe(1);
    expect(Object.keys(store.digests)).toContain(notebookDigest(JSON.parse(readFileSync(join(examplesDir(), 'vae-mnist.ipynb'), 'utf8'))));
    expect(configDir({ LATENTLAB_CONFIG_DIR: '/x/y' })).toBe('/x/y');
    expect(configDir({ XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/latentlab');
  });

  it('a notebook copied in from outside shows its outputs but is refused by the host until trusted; then it runs', async () => {
    const file = join(service.workspace.dir, 'from-mail.ipynb');
    writeFileSync(file, JSON.stringify(outside("console.log('ran ' + (6 * 7))")));
    const read = await call('notebook.read', { path: 'from-mail.ipynb' });
    expect(read).toMatchObject({ ok: true, output: { trusted: false, readOnly: null } });
    // its saved outputs come along
    const cells = (read as { output: { notebook: { cells: { outputs?: unknown[] }[] } } }).output.notebook.cells;
    expect(cells[1].outputs).toEqual([{ output_type: 'stream', name: 'stdout', text: ['saved output\n'] }]);
    // the host refuses, before any engine starts
    const refused = await call('kernel.execute', { notebook: 'from-mail.ipynb', cellId: 'c1', code: "console.log('ran')" });
    expect(refused).toMatchObject({ ok: false, error: expect.stringMatching(/^from-mail\.ipynb is not trusted: .*until you trust it/) });
    expect(service.engineInfo().status).toBe('stopped');

    expect(await call('notebook.trust', { path: 'from-mail.ipynb' })).toEqual({ ok: true, output: { trusted: true } });
    expect(await call('notebook.read', { path: 'from-mail.ipynb' })).toMatchObject({ ok: true, output: { trusted: true } });
    const ran = await call('kernel.execute', { notebook: 'from-mail.ipynb', cellId: 'c1', code: "console.log('ran ' + (6 * 7))" });
    expect(ran).toMatchObject({ ok: true, output: { status: 'ok', outputs: [{ type: 'text', text: 'ran 42\n' }] } });
  }, 120_000);

  it('edits saved by the app stay trusted; an outside edit of the code makes it untrusted again; outputs are not code', async () => {
    const rel = 'from-mail.ipynb';
    const file = join(service.workspace.dir, rel);
    const nb = JSON.parse(readFileSync(file, 'utf8'));
    nb.cells[1].source = "console.log('edited in the app')";
    expect(await call('notebook.write', { path: rel, notebook: nb })).toEqual({ ok: true, output: { ok: true } });
    expect(await call('notebook.read', { path: rel })).toMatchObject({ output: { trusted: true } });

    // an outside edit of outputs or Markdown only: still trusted
    const a = JSON.parse(readFileSync(file, 'utf8'));
    a.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: ['other'] }];
    a.cells[0].source = '# Renamed';
    writeFileSync(file, JSON.stringify(a));
    expect(await call('notebook.read', { path: rel })).toMatchObject({ output: { trusted: true } });

    // an outside edit of the code: untrusted, refused
    a.cells[1].source = "require('child_process').execSync('touch /tmp/pwned')";
    writeFileSync(file, JSON.stringify(a));
    expect(await call('notebook.read', { path: rel })).toMatchObject({ output: { trusted: false } });
    expect(await call('kernel.execute', { notebook: rel, cellId: 'c1', code: '1' })).toMatchObject({ ok: false, error: expect.stringContaining('is not trusted') });

    // saving an untrusted notebook does not trust it
    a.cells[0].source = '# Saved by the app, still untrusted';
    expect(await call('notebook.write', { path: rel, notebook: a })).toMatchObject({ ok: true });
    expect(await call('notebook.read', { path: rel })).toMatchObject({ output: { trusted: false } });
    expect(await call('kernel.execute', { notebook: rel, cellId: 'c1', code: '1' })).toMatchObject({ ok: false });
  });

  it('trust rests on what runs: code not in the trusted file, a missing notebook, or a trusted example with other code do not run', async () => {
    // a trusted example runs its own cells, not whatever code names it
    const vae = JSON.parse(readFileSync(join(service.workspace.dir, 'vae-mnist.ipynb'), 'utf8'));
    const params = vae.cells.find((c: { metadata: { tags?: string[] } }) => c.metadata.tags?.includes('parameters'));
    const paramsCode = Array.isArray(params.source) ? params.source.join('') : params.source;
    expect(await call('kernel.execute', { notebook: 'vae-mnist.ipynb', cellId: params.id, code: paramsCode })).toMatchObject({ ok: true, output: { status: 'ok' } });
    expect(await call('kernel.execute', { notebook: 'vae-mnist.ipynb', cellId: params.id, code: "require('fs').writeFileSync('/tmp/pwned', '')" }))
      .toMatchObject({ ok: false, error: expect.stringContaining('this code is not a cell of vae-mnist.ipynb as saved') });
    // a notebook that does not exist runs nothing
    expect(await call('kernel.execute', { notebook: 'not-saved-yet.ipynb', cellId: 'c1', code: '2 + 2' }))
      .toMatchObject({ ok: false, error: expect.stringContaining('no notebook not-saved-yet.ipynb in the workspace') });
    expect(await call('kernel.execute', { notebook: '../elsewhere.ipynb', cellId: 'c1', code: '1' })).toMatchObject({ ok: false, error: expect.stringContaining('escapes the workspace') });
  }, 60_000);

  it('a new file written with code gains no trust by the write; a new notebook without code does, and what the app saves into it stays trusted', async () => {
    expect(await call('notebook.write', { path: 'planted.ipynb', notebook: outside("console.log('planted')") })).toMatchObject({ ok: true });
    expect(await call('notebook.read', { path: 'planted.ipynb' })).toMatchObject({ output: { trusted: false } });
    expect(await call('kernel.execute', { notebook: 'planted.ipynb', cellId: 'c1', code: "console.log('planted')" })).toMatchObject({ ok: false, error: expect.stringContaining('is not trusted') });

    // New notebook in the app: no code yet, so nothing to distrust; the user's code saved into it stays trusted
    const empty = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', id: 'm', metadata: {}, source: '# Mine' }] };
    expect(await call('notebook.write', { path: 'mine.ipynb', notebook: empty })).toMatchObject({ ok: true });
    expect(await call('notebook.write', { path: 'mine.ipynb', notebook: outside("console.log('mine')") })).toMatchObject({ ok: true });
    expect(await call('notebook.read', { path: 'mine.ipynb' })).toMatchObject({ output: { trusted: true } });
    expect(await call('kernel.execute', { notebook: 'mine.ipynb', cellId: 'c1', code: "console.log('mine')" })).toMatchObject({ ok: true, output: { status: 'ok' } });

    // a copy of a trusted notebook written to a new path is trusted: the same code
    expect(await call('notebook.write', { path: 'copy-of-mine.ipynb', notebook: outside("console.log('mine')", 'other output') })).toMatchObject({ ok: true });
    expect(await call('notebook.read', { path: 'copy-of-mine.ipynb' })).toMatchObject({ output: { trusted: true } });
  }, 60_000);

  it('the trust store is shared by processes and survives a restart; an unreadable store trusts nothing', () => {
    const other = new TrustStore(config);
    const mine = JSON.parse(readFileSync(join(service.workspace.dir, 'mine.ipynb'), 'utf8'));
    expect(other.isTrusted(mine)).toBe(true);
    const copy = join(dir, 'config2');
    const fresh = new TrustStore(copy);
    expect(fresh.isTrusted(mine)).toBe(false);
    fresh.trust(mine);
    expect(new TrustStore(copy).isTrusted(mine)).toBe(true);
    writeFileSync(join(copy, 'trust.json'), '{ not json');
    expect(new TrustStore(copy).isTrusted(mine)).toBe(false);
    // a notebook without code has nothing to run: trusted
    expect(new TrustStore(join(dir, 'none')).isTrusted({ cells: [{ cell_type: 'markdown', source: '# hi' }] })).toBe(true);
  });

  it('copying an example in by hand keeps it trusted (same code); changing one character does not', () => {
    const ws = service.workspace;
    copyFileSync(join(examplesDir(), 'gan-toy2d.ipynb'), join(ws.dir, 'copy.ipynb'));
    expect(ws.open('copy.ipynb').trusted).toBe(true);
    const nb = JSON.parse(readFileSync(join(ws.dir, 'copy.ipynb'), 'utf8'));
    const code = nb.cells.find((c: { cell_type: string }) => c.cell_type === 'code');
    code.source = [...code.source, ' '];
    writeFileSync(join(ws.dir, 'copy.ipynb'), JSON.stringify(nb));
    expect(ws.open('copy.ipynb').trusted).toBe(false);
  });
});
