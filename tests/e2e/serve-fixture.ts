// Starts a real `latentlab serve` on a fresh workspace and finds Debian's Chromium.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, test, type Browser, type Page } from '@playwright/test';
import { chromiumArgs, chromiumPath } from '../helpers/chromium';

export const root = join(__dirname, '..', '..');

export { chromiumArgs, chromiumPath };

/** A temp workspace with the example notebooks, parameters overridden (e.g. fewer steps). */
export function makeWorkspace(overrides: Record<string, Record<string, unknown>> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-e2e-'));
  for (const f of ['vae-mnist.ipynb', 'gan-toy2d.ipynb']) {
    const src = join(root, 'resources', 'notebooks', f);
    copyFileSync(src, join(dir, f));
    const params = overrides[f];
    if (!params) continue;
    const nb = JSON.parse(readFileSync(src, 'utf8'));
    const cell = nb.cells.find((c: { metadata: { tags?: string[] } }) => c.metadata.tags?.includes('parameters'));
    let text: string = cell.source.join('');
    for (const [k, v] of Object.entries(params)) {
      const re = new RegExp(`(const ${k} = )[^;]*;`);
      if (!re.test(text)) throw new Error(`parameter ${k} is not in ${f}`);
      text = text.replace(re, `$1${JSON.stringify(v)};`);
    }
    cell.source = text.split(/(?<=\n)/);
    writeFileSync(join(dir, f), JSON.stringify(nb, null, 1));
  }
  return dir;
}

/** a trust store of the tests' own, not the user's (~/.config/latentlab) */
process.env.LATENTLAB_CONFIG_DIR ??= mkdtempSync(join(tmpdir(), 'latentlab-e2e-config-'));

/** Trusts every notebook in the folder, as a user does with `latentlab trust` (the tests' notebooks are their own). */
export function trustWorkspace(workspace: string): void {
  const notebooks = readdirSync(workspace).filter((f) => f.endsWith('.ipynb')).map((f) => join(workspace, f));
  if (notebooks.length === 0) return;
  const t = spawnSync(process.execPath, [join(root, 'bin', 'latentlab.js'), 'trust', ...notebooks], { cwd: root, encoding: 'utf8' });
  if (t.status !== 0) throw new Error(`latentlab trust failed: ${t.stderr}`);
}

/**
 * Starts `latentlab serve`. The notebooks a test put in the workspace are its own,
 * so they are trusted first (`latentlab trust`), unless `trust: false`.
 */
// serve hosts still running when the test worker exits (a test that timed out skips
// its own stop) are killed then; their engines end themselves when their host is gone
const serving = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of serving) p.kill('SIGKILL');
});

export async function startServe(workspace: string, opts: { trust?: boolean } = {}): Promise<{ url: string; proc: ChildProcess; output: () => string; stop: () => Promise<void> }> {
  if (opts.trust !== false) trustWorkspace(workspace);
  const proc = spawn(process.execPath, [join(root, 'bin', 'latentlab.js'), 'serve', '--workspace', workspace, '--port', '0'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  serving.add(proc);
  proc.on('exit', () => serving.delete(proc));
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not print its URL:\n${out}`)), 120_000);
    const check = () => {
      const m = /Open (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    proc.stdout!.on('data', check);
    proc.on('exit', (code) => reject(new Error(`serve exited with ${code}:\n${out}`)));
  });
  return {
    url,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((r) => {
        if (proc.exitCode !== null) return r();
        proc.on('exit', () => r());
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** A notebook of a title heading and one code cell per source (ids c0, c1, ...), written into the workspace. */
export function writeCodeNotebook(workspace: string, file: string, title: string, sources: string[]): void {
  writeFileSync(join(workspace, file), JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: { latentlab: { title } },
    cells: [
      { cell_type: 'markdown', id: 'title', metadata: {}, source: `# ${title}` },
      ...sources.map((source, i) => ({ cell_type: 'code', id: `c${i}`, metadata: {}, source, outputs: [], execution_count: null })),
    ],
  }));
}

/**
 * One Chromium for a spec file: launched before its tests, closed after. `exe` is
 * null where Chromium is not installed (the tests then skip and say why).
 */
export function useChromium(): { exe: string | null; readonly browser: Browser } {
  const exe = chromiumPath();
  let browser: Browser | null = null;
  test.beforeAll(async () => {
    if (exe) browser = await chromium.launch({ executablePath: exe, args: chromiumArgs });
  });
  test.afterAll(async () => {
    await browser?.close();
  });
  return {
    exe,
    get browser() {
      if (!browser) throw new Error('Chromium was not launched');
      return browser;
    },
  };
}

/** A new page on the served app with the notebook titled `title` open and Run All clicked. */
export async function openAndRunAll(browser: Browser, url: string, title: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(url);
  await page.getByText(title).first().click();
  await page.locator('[data-testid="run-all"]').click();
  return page;
}
