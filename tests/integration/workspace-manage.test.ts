// Managing notebooks and runs from the app, through the host's handlers, with a real
// workspace folder, a real SQLite file and a real engine process (a short real run).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventName } from '../../src/shared/api';
import { requests } from '../../src/shared/api';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';

const entry = engineEntry();
let dir: string;
let outside: string;
let service: LabService;
let ws: Workspace;
const events: { event: EventName; payload: unknown }[] = [];
const h = () => service.handlers();

const TRAIN = (steps: number, latentDim = 4) => `
const data = lab.data.mnist({ binarize: true, limit: 300 });
const model = lab.models.vae({ latentDim: ${latentDim}, hidden: [32] });
const run = await lab.train(model, data, { steps: ${steps}, batchSize: 32, sampleEvery: 5, evalEvery: 5, checkpointEvery: 5, seed: 1 });
run.id`;

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-manage-'));
  outside = mkdtempSync(join(tmpdir(), 'latentlab-outside-'));
  ws = new Workspace(dir, { trust: new TrustStore(mkdtempSync(join(tmpdir(), 'latentlab-trust-'))) });
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher(entry), interruptGraceMs: 3000 });
  service.subscribe((event, payload) => events.push({ event, payload }));
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

/** what a bad call says, through the same input schema the transports use */
async function refusal<N extends 'notebook.create' | 'notebook.rename' | 'notebook.delete' | 'notebook.duplicate' | 'runs.delete' | 'runs.rename'>(name: N, input: unknown): Promise<string> {
  try {
    const parsed = requests[name].input.parse(input);
    await (h()[name] as (i: unknown) => Promise<unknown>)(parsed);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${name} ${JSON.stringify(input)} was not refused`);
}

describe('notebooks: new, duplicate, rename, delete', () => {
  it('creates a trusted notebook with a title and an empty code cell, listed under My notebooks', async () => {
    const { path } = await h()['notebook.create']({ name: 'my first', title: 'My first model' });
    expect(path).toBe('my first.ipynb');
    const nb = JSON.parse(readFileSync(join(dir, path), 'utf8'));
    expect(nb.cells.map((c: { cell_type: string }) => c.cell_type)).toEqual(['markdown', 'code']);
    const opened = await h()['notebook.read']({ path });
    expect(opened.trusted).toBe(true);
    const entry = ws.list().find((n) => n.path === path)!;
    expect(entry).toMatchObject({ title: 'My first model', family: 'mine' });
    // its code, once written by the app, runs (the user's own notebook stays trusted)
    nb.cells[1].source = 'const x = 1 + 1;\nx';
    await h()['notebook.write']({ path, notebook: nb });
    expect(ws.mayRun(path, 'const x = 1 + 1;\nx')).toEqual({ ok: true });
    expect(events.some((e) => e.event === 'notebooks.changed')).toBe(true);
  });

  it('refuses bad names and loses nothing', async () => {
    writeFileSync(join(dir, 'keep.ipynb'), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'markdown', source: '# Keep me', metadata: {} }] }));
    const before = readFileSync(join(dir, 'keep.ipynb'), 'utf8');
    expect(await refusal('notebook.create', { name: 'keep' })).toMatch(/exists already/);
    expect(await refusal('notebook.create', { name: 'KEEP.ipynb' })).toMatch(/exists already/);
    expect(await refusal('notebook.create', { name: 'a:b?' })).toMatch(/character a file name cannot hold/);
    expect(await refusal('notebook.create', { name: '../escape' })).toMatch(/inside the workspace|escapes/);
    expect(await refusal('notebook.create', { name: '/etc/x' })).toMatch(/inside the workspace|escapes/);
    expect(await refusal('notebook.create', { name: '.hidden' })).toMatch(/starts with a dot/);
    expect(await refusal('notebook.create', { name: '   ' })).toMatch(/needs a name/);
    // through a symlinked folder that leads outside
    symlinkSync(outside, join(dir, 'out-link'));
    expect(await refusal('notebook.create', { name: 'out-link/x' })).toMatch(/escapes the workspace/);
    expect(readdirSync(outside)).toEqual([]);
    expect(await refusal('notebook.rename', { path: 'my first.ipynb', name: 'keep' })).toMatch(/exists already/);
    expect(await refusal('notebook.rename', { path: 'my first.ipynb', name: '../up' })).toMatch(/inside the workspace|escapes/);
    expect(await refusal('notebook.rename', { path: 'nope.ipynb', name: 'x' })).toMatch(/no notebook nope.ipynb/);
    expect(await refusal('notebook.delete', { path: 'nope.ipynb' })).toMatch(/no notebook/);
    expect(await refusal('notebook.duplicate', { path: 'my first.ipynb', name: 'keep' })).toMatch(/exists already/);
    expect(readFileSync(join(dir, 'keep.ipynb'), 'utf8')).toBe(before);
    expect(existsSync(join(dir, 'my first.ipynb'))).toBe(true);
  });

  it('duplicates beside the original, trusted like it, titled as a copy', async () => {
    const a = await h()['notebook.duplicate']({ path: 'my first.ipynb' });
    const b = await h()['notebook.duplicate']({ path: 'my first.ipynb' });
    expect([a.path, b.path]).toEqual(['my first copy.ipynb', 'my first copy 2.ipynb']);
    expect(ws.list().find((n) => n.path === a.path)?.title).toBe('My first model (copy)');
    expect((await h()['notebook.read']({ path: a.path })).trusted).toBe(true);
    // an untrusted notebook's copy is not trusted
    writeFileSync(join(dir, 'foreign.ipynb'), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', source: 'lab.models.gan()', metadata: {}, outputs: [] }] }));
    const c = await h()['notebook.duplicate']({ path: 'foreign.ipynb' });
    expect((await h()['notebook.read']({ path: c.path })).trusted).toBe(false);
    expect(ws.list().find((n) => n.path === c.path)?.family).toBe('adversarial');
  });

  it('deletes into .latentlab/trash, where the file can be taken back', async () => {
    const text = readFileSync(join(dir, 'my first copy 2.ipynb'), 'utf8');
    const { trash } = await h()['notebook.delete']({ path: 'my first copy 2.ipynb' });
    expect(existsSync(join(dir, 'my first copy 2.ipynb'))).toBe(false);
    expect(trash.startsWith('.latentlab/trash/')).toBe(true);
    expect(readFileSync(join(dir, trash), 'utf8')).toBe(text);
    expect(ws.list().some((n) => n.path.includes('copy 2'))).toBe(false);
  });
});

describe('runs: rename and delete, and a renamed notebook keeps its runs', () => {
  let runId = '';
  it('a notebook renamed after a run keeps its trust and its runs follow it', async () => {
    const nbPath = 'train.ipynb';
    const code = TRAIN(10);
    writeFileSync(join(dir, nbPath), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: 'c1', cell_type: 'code', source: code, metadata: {}, outputs: [] }] }));
    ws.trustNotebook(nbPath);
    const r = await h()['kernel.execute']({ notebook: nbPath, cellId: 'c1', code });
    expect(r.status).toBe('ok');
    runId = (r.outputs.find((o) => o.type === 'run') as { runId: string }).runId;
    const { path, runsMoved } = await h()['notebook.rename']({ path: nbPath, name: 'sub/vae trained' });
    expect(path).toBe('sub/vae trained.ipynb');
    expect(runsMoved).toBe(1);
    expect(service.tracker.getRun(runId)!.notebook).toBe(path);
    expect((await h()['runs.list']({ notebook: path })).runs.map((x) => x.id)).toEqual([runId]);
    expect((await h()['notebook.read']({ path })).trusted).toBe(true);
    expect(ws.mayRun(path, code)).toEqual({ ok: true });
    expect(ws.list().find((n) => n.path === path)?.family).toBe('latent');
  });

  it('renames a run (kept as given) and gives its made name back on an empty name', async () => {
    const { run } = await h()['runs.rename']({ id: runId, name: '  my   best vae ' });
    expect(run).toMatchObject({ name: 'my best vae', renamed: true });
    expect(service.tracker.getRun(runId)).toMatchObject({ name: 'my best vae', renamed: true });
    expect(await refusal('runs.rename', { id: 'r-none', name: 'x' })).toMatch(/no run r-none/);
    const back = await h()['runs.rename']({ id: runId, name: '' });
    expect(back.run.name).toBe('vae-binarized-mnist'.replace('binarized-mnist', back.run.dataName));
    expect(back.run.renamed).toBeUndefined();
  });

  it('deletes a run with its artifacts and checkpoints on disk; a running run is refused', async () => {
    const art = ws.artifactsDir;
    const files = [...service.tracker.artifacts(runId).map((a) => a.path), ...service.tracker.checkpoints(runId).map((c) => c.path)];
    expect(files.length).toBeGreaterThan(2);
    for (const f of files) expect(existsSync(join(art, f))).toBe(true);
    expect(existsSync(join(art, runId))).toBe(true);
    // a running run
    const longCode = TRAIN(100_000, 2);
    writeFileSync(join(dir, 'long.ipynb'), JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ id: 'c1', cell_type: 'code', source: longCode, metadata: {}, outputs: [] }] }));
    ws.trustNotebook('long.ipynb');
    const pending = h()['kernel.execute']({ notebook: 'long.ipynb', cellId: 'c1', code: longCode });
    let live: string | undefined;
    for (let i = 0; i < 600 && !live; i++) {
      await new Promise((r) => setTimeout(r, 100));
      live = service.tracker.listRuns({ notebook: 'long.ipynb' }).find((x) => x.status === 'running')?.id;
    }
    expect(live).toBeDefined();
    expect(await refusal('runs.delete', { id: live })).toMatch(/is running: stop it/);
    expect(await refusal('notebook.rename', { path: 'long.ipynb', name: 'longer' })).toMatch(/running a cell/);
    expect(await refusal('notebook.delete', { path: 'long.ipynb' })).toMatch(/running a cell/);
    await h()['kernel.interrupt']({});
    await pending;
    expect(service.tracker.getRun(live!)!.status).toBe('stopped');
    // now it goes, with its files
    const { removed } = await h()['runs.delete']({ id: runId });
    expect(removed).toBeGreaterThan(0);
    expect(service.tracker.getRun(runId)).toBeNull();
    expect(existsSync(join(art, runId))).toBe(false);
    for (const f of files) expect(existsSync(join(art, f))).toBe(false);
    const leftRows = service.tracker.db.prepare('SELECT (SELECT COUNT(*) FROM metrics WHERE run_id = ?) + (SELECT COUNT(*) FROM artifacts WHERE run_id = ?) + (SELECT COUNT(*) FROM checkpoints WHERE run_id = ?) AS n').get(runId, runId, runId) as { n: number };
    expect(leftRows.n).toBe(0);
    expect(events.some((e) => e.event === 'run.deleted' && (e.payload as { runId: string }).runId === runId)).toBe(true);
    // the other run and its files are untouched
    expect(service.tracker.getRun(live!)).not.toBeNull();
    expect(existsSync(join(art, live!))).toBe(true);
    expect(await refusal('runs.delete', { id: runId })).toMatch(/no run/);

    // the same from a shell: latentlab runs rename / rm
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(__dirname, '..', '..', 'bin', 'latentlab.js'), 'runs', ...args, '--workspace', dir], { encoding: 'utf8', timeout: 120_000 });
    const named = cli('rename', live!, 'from', 'the shell');
    expect(named.status, named.stderr).toBe(0);
    expect(service.tracker.getRun(live!)).toMatchObject({ name: 'from the shell', renamed: true });
    expect(cli('ls').stderr).toMatch(/unknown runs subcommand 'ls'/);
    const rm = cli('rm', live!);
    expect(rm.status, rm.stderr).toBe(0);
    expect(rm.stdout).toContain(`deleted run ${live}`);
    expect(service.tracker.getRun(live!)).toBeNull();
    expect(existsSync(join(art, live!))).toBe(false);
    expect(cli('rm', live!).stderr).toMatch(/no run/);
  }, 120_000);
});
