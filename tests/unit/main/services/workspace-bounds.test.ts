// The workspace keeps to itself (issue 16): notebook.read, notebook.write and the
// notebooks list never follow a symbolic link out of the workspace; a symlinked
// artifacts folder is not served (a real serve on a real port); listing a workspace
// with a 16 MB notebook parses it once, not on every call, and a flood of list
// requests leaves the host's event loop free.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatch } from '../../../../src/shared/channel';
import { nodeEngineLauncher } from '../../../../src/main/host/node-engine';
import { serve, type RunningServer } from '../../../../src/main/host/server';
import { LabService } from '../../../../src/main/services/lab-service';
import { rendererDir } from '../../../../src/main/services/paths';
import { TrustStore } from '../../../../src/main/services/trust';
import { Workspace } from '../../../../src/main/services/workspace';

let top: string;
let ws: Workspace;
let service: LabService;
const SECRET = `outside-${Date.now()}`;

const nb = (title: string, code = '1 + 1') => ({
  nbformat: 4, nbformat_minor: 5, metadata: {},
  cells: [
    { cell_type: 'markdown', id: 'm', metadata: {}, source: `# ${title}` },
    { cell_type: 'code', id: 'c1', metadata: {}, source: code, outputs: [], execution_count: null },
  ],
});

beforeAll(() => {
  top = mkdtempSync(join(tmpdir(), 'latentlab-bounds-'));
  mkdirSync(join(top, 'ws'));
  mkdirSync(join(top, 'outside'));
  writeFileSync(join(top, 'outside', 'secret.ipynb'), JSON.stringify(nb(SECRET)));
  writeFileSync(join(top, 'outside', 'env.txt'), SECRET);
  ws = new Workspace(join(top, 'ws'), { trust: new TrustStore(join(top, 'config')) });
  ws.init();
  writeFileSync(join(ws.dir, 'mine.ipynb'), JSON.stringify(nb('Mine')));
  // links that lead out: a notebook, a folder, a system file, a dangling link
  symlinkSync(join(top, 'outside', 'secret.ipynb'), join(ws.dir, 'linked.ipynb'));
  symlinkSync(join(top, 'outside'), join(ws.dir, 'linked-folder'));
  symlinkSync('/proc/self/environ', join(ws.dir, 'environ.ipynb'));
  symlinkSync(join(top, 'outside', 'not-there.ipynb'), join(ws.dir, 'dangling.ipynb'));
  // a link that stays inside is fine
  mkdirSync(join(ws.dir, 'sub'));
  writeFileSync(join(ws.dir, 'sub', 'inner.ipynb'), JSON.stringify(nb('Inner')));
  symlinkSync(join(ws.dir, 'sub'), join(ws.dir, 'alias'));
  service = new LabService({ workspace: ws, launcher: nodeEngineLauncher() });
});
afterAll(async () => {
  await service?.close();
  rmSync(top, { recursive: true, force: true });
});

const call = (name: string, input: unknown) => dispatch(service.handlers(), name, input) as Promise<{ ok: boolean; output?: unknown; error?: string }>;

describe('paths stay in the workspace', () => {
  it('notebook.read refuses a link that leads out (a notebook, /proc/self/environ, a linked folder, a dangling link)', async () => {
    for (const path of ['linked.ipynb', 'environ.ipynb', 'linked-folder/secret.ipynb', 'dangling.ipynb']) {
      const r = await call('notebook.read', { path });
      expect(r, path).toMatchObject({ ok: false, error: expect.stringContaining('escapes the workspace') });
      expect(JSON.stringify(r)).not.toContain(SECRET);
      expect(JSON.stringify(r)).not.toContain('PATH=');
    }
    // a link inside the workspace reads
    expect(await call('notebook.read', { path: 'alias/inner.ipynb' })).toMatchObject({ ok: true });
  });

  it('notebook.write into a linked folder or over a link writes nothing outside', async () => {
    const before = readFileSync(join(top, 'outside', 'secret.ipynb'), 'utf8');
    for (const path of ['linked-folder/planted.ipynb', 'linked.ipynb', 'dangling.ipynb', 'linked-folder/deeper/x.ipynb']) {
      const r = await call('notebook.write', { path, notebook: nb('planted') });
      expect(r, path).toMatchObject({ ok: false, error: expect.stringContaining('escapes the workspace') });
    }
    expect(existsSync(join(top, 'outside', 'planted.ipynb'))).toBe(false);
    expect(existsSync(join(top, 'outside', 'not-there.ipynb'))).toBe(false);
    expect(existsSync(join(top, 'outside', 'deeper'))).toBe(false);
    expect(readFileSync(join(top, 'outside', 'secret.ipynb'), 'utf8')).toBe(before);
    // a new folder inside the workspace is fine
    mkdirSync(join(ws.dir, 'new'));
    expect(await call('notebook.write', { path: 'new/fresh.ipynb', notebook: nb('Fresh') })).toMatchObject({ ok: true });
  });

  it('the notebooks list leaves out what links lead to outside', async () => {
    const r = (await call('notebooks.list', {})) as { output: { notebooks: { path: string; title: string }[] } };
    const paths = r.output.notebooks.map((n) => n.path);
    expect(paths).toContain('mine.ipynb');
    expect(paths).toContain('alias/inner.ipynb');
    expect(paths).not.toContain('linked.ipynb');
    expect(paths).not.toContain('environ.ipynb');
    expect(paths.some((p) => p.startsWith('linked-folder/'))).toBe(false);
    expect(JSON.stringify(r)).not.toContain(SECRET);
  });

  it('a symlinked .latentlab/artifacts is not served', async () => {
    const top2 = mkdtempSync(join(tmpdir(), 'latentlab-linked-artifacts-'));
    let server: RunningServer | null = null;
    let svc: LabService | null = null;
    try {
      mkdirSync(join(top2, 'elsewhere', 'r1'), { recursive: true });
      writeFileSync(join(top2, 'elsewhere', 'r1', 'grid.png'), SECRET);
      mkdirSync(join(top2, 'ws', '.latentlab'), { recursive: true });
      symlinkSync(join(top2, 'elsewhere'), join(top2, 'ws', '.latentlab', 'artifacts'));
      svc = new LabService({ workspace: new Workspace(join(top2, 'ws'), { trust: new TrustStore(join(top2, 'config')) }), launcher: nodeEngineLauncher() });
      server = await serve({ service: svc, rendererDir: rendererDir(), port: 0 });
      const res = await fetch(`http://127.0.0.1:${server.port}/artifacts/r1/grid.png?token=${server.token}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain(SECRET);
    } finally {
      await server?.close();
      await svc?.close();
      rmSync(top2, { recursive: true, force: true });
    }
  });
});

describe('listing is cheap', () => {
  it('a 16 MB notebook is parsed once across 200 list calls, again when it changes; the event loop stays free', async () => {
    const big = nb('Big one');
    (big.cells[1] as { outputs: unknown[] }).outputs = [{ output_type: 'stream', name: 'stdout', text: ['x'.repeat(16 * 1024 * 1024)] }];
    writeFileSync(join(ws.dir, 'big.ipynb'), JSON.stringify(big));
    await call('notebooks.list', {});
    const parsesBefore = ws.titleParses;
    // a flood of list calls, one after another as a socket delivers them, while a timer measures the stall
    let worst = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 2);
    const t0 = performance.now();
    const all: { ok: boolean; output?: unknown }[] = [];
    let slowest = 0;
    for (let i = 0; i < 200; i++) {
      const c0 = performance.now();
      all.push(await call('notebooks.list', {}));
      slowest = Math.max(slowest, performance.now() - c0);
      await new Promise((r) => setImmediate(r));
    }
    const floodMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 20));
    clearInterval(timer);
    expect(all.every((r) => r.ok)).toBe(true);
    expect((all[0] as { output: { notebooks: { title: string }[] } }).output.notebooks.map((n) => n.title)).toContain('Big one');
    expect(ws.titleParses - parsesBefore).toBe(0);
    console.log(`[workspace-bounds] 200 notebooks.list calls with a 16 MB notebook: ${floodMs.toFixed(0)} ms in all, slowest call ${slowest.toFixed(1)} ms, longest event-loop stall ${worst.toFixed(1)} ms, 0 parses`);

    // a changed file is read again (its mtime and size changed)
    big.cells[0].source = '# Big one, renamed';
    writeFileSync(join(ws.dir, 'big.ipynb'), JSON.stringify(big));
    utimesSync(join(ws.dir, 'big.ipynb'), new Date(), new Date(Date.now() + 5000));
    const r = (await call('notebooks.list', {})) as { output: { notebooks: { title: string }[] } };
    expect(r.output.notebooks.map((n) => n.title)).toContain('Big one, renamed');
    expect(ws.titleParses - parsesBefore).toBe(1);
    // a file renamed away leaves the list and the cache
    renameSync(join(ws.dir, 'big.ipynb'), join(ws.dir, 'big.txt'));
    const after = (await call('notebooks.list', {})) as { output: { notebooks: { path: string }[] } };
    expect(after.output.notebooks.map((n) => n.path)).not.toContain('big.ipynb');
  }, 60_000);
});
