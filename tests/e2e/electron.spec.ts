// The desktop app under Playwright's _electron. Electron 45 downloads its binary
// on first launch; where that binary is absent (no network to its release host,
// as on CI) the test is skipped and says why.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { _electron as electron, expect, test } from '@playwright/test';
import { makeWorkspace, root, trustWorkspace } from './serve-fixture';

function electronBinary(): { path: string } | { why: string } {
  const dir = join(root, 'node_modules', 'electron');
  const pathFile = join(dir, 'path.txt');
  if (!existsSync(pathFile)) return { why: `Electron's binary is not installed (${pathFile} is missing; electron downloads it on first launch, which needs network)` };
  const bin = join(dir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(bin)) return { why: `Electron's binary ${bin} is missing` };
  if (process.platform === 'linux' && !process.env.DISPLAY) return { why: 'no display (DISPLAY is not set; run under xvfb-run)' };
  return { path: bin };
}

test('desktop window opens the VAE notebook and trains it', async () => {
  const bin = electronBinary();
  if ('why' in bin) console.log(`[electron e2e] skipped: ${bin.why}`);
  test.skip('why' in bin, 'why' in bin ? bin.why : '');
  if ('why' in bin) return;
  const workspace = makeWorkspace({ 'vae-mnist.ipynb': { steps: 60 } });
  trustWorkspace(workspace); // the test's own notebooks (a changed copy of an example is untrusted otherwise)
  // the main process needs better-sqlite3 built for Electron's ABI (as `npm start` does)
  const { sqliteForElectron } = require(join(root, 'scripts', 'electron-native.js')) as { sqliteForElectron: () => string };
  const app = await electron.launch({
    executablePath: bin.path,
    args: [root],
    env: { ...process.env, LATENTLAB_WORKSPACE: workspace, LATENTLAB_SQLITE_BINDING: sqliteForElectron() },
  });
  try {
    const win = await app.firstWindow();
    await win.getByText('VAE on MNIST').first().click();
    await win.locator('[data-testid="run-all"]').click();
    await expect(win.locator('[data-testid="sample-image"]').first()).toBeVisible({ timeout: 240_000 });
    await expect(win.locator('[data-testid="run-row"]').first()).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
    // the sandboxed renderer sees only the bridge
    expect(await win.evaluate(() => typeof (globalThis as { require?: unknown }).require)).toBe('undefined');
    // File → Export lists the exports of the runs on screen
    const exportItems = await app.evaluate(({ Menu }) =>
      Menu.getApplicationMenu()!.items.find((i) => i.label === 'File')!.submenu!.items.find((i) => i.label === 'Export')!.submenu!.items.map((i) => i.label));
    expect(exportItems).toEqual(['Report (HTML)…', 'Report (PDF)…', 'Sample Grid (PNG)…', 'Grid over Training (GIF)…', 'Metrics (CSV)…']);
    // the PDF of a run's report, printed by Electron itself (printToPDF), through lab://export
    await win.locator('[data-testid="run-row"]').first().click();
    const runId = await win.locator('[data-testid="run-row"]').first().getAttribute('data-run-id');
    const pdfHead = await win.evaluate(async (id) => {
      const r = await fetch(`lab://export/report?runs=${id}&format=pdf`);
      return { status: r.status, type: r.headers.get('content-type'), head: new TextDecoder().decode((await r.arrayBuffer()).slice(0, 5)) };
    }, runId);
    expect(pdfHead).toEqual({ status: 200, type: 'application/pdf', head: '%PDF-' });
  } finally {
    await app.close();
  }
});
