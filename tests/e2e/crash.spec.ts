// Nothing lost, in the browser (issue 8): the engine of a real `latentlab serve` is
// SIGKILLed mid-run (by its pid); the run view shows the run crashed with its reason
// and a Resume button, the runs panel too; Resume continues the run from its
// checkpoint to the end.
import { expect, test } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openAndRunAll, root, startServe, useChromium, writeCodeNotebook } from './serve-fixture';

const chrome = useChromium();
const exe = chrome.exe;

const STEPS = 3000;
const CELL = `const data = lab.data.toy2d('moons');
const model = lab.models.vae({ latentDim: 2, hidden: [16] });
await lab.train(model, data, { steps: ${STEPS}, batchSize: 64, checkpointEvery: 200, sampleEvery: 250, evalEvery: 500, seed: 4 });`;

test('a killed engine: the run shows crashed with Resume, and Resume trains it to the end', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-crash-'));
  writeCodeNotebook(workspace, 'crash.ipynb', 'Crash and resume', [CELL]);
  const server = await startServe(workspace);
  try {
    const page = await openAndRunAll(chrome.browser, server.url, 'Crash and resume');
    const view = page.locator('[data-testid="run-view"]').first();
    await expect(view).toHaveAttribute('data-status', 'running', { timeout: 120_000 });
    // past a checkpoint or two
    await expect.poll(async () => Number(((await view.locator('[data-testid="run-steps"]').textContent()) ?? '0').split(' ')[0]), { timeout: 120_000 }).toBeGreaterThan(500);
    const engines = spawnSync('pgrep', ['-P', String(server.proc.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    expect(engines).toHaveLength(1);
    const killedAt = Date.now();
    process.kill(engines[0], 'SIGKILL');
    await expect(view).toHaveAttribute('data-status', 'crashed', { timeout: 10_000 });
    const shownMs = Date.now() - killedAt;
    await expect(view.locator('[data-testid="status-chip"]')).toHaveText('crashed');
    await expect(view.locator('.run-error')).toContainText('killed (SIGKILL)');
    await expect(page.locator('[data-testid="runs-panel"] [data-testid="run-row"]').first()).toHaveAttribute('data-status', 'crashed');
    await page.screenshot({ path: join(root, 'test-results', 'e2e-crashed.png') });
    await view.locator('[data-testid="run-resume"]').click();
    await expect(view).toHaveAttribute('data-status', 'finished', { timeout: 180_000 });
    await expect(view.locator('[data-testid="run-steps"]')).toHaveText(`${STEPS} / ${STEPS} steps`);
    await expect(view.locator('[data-testid="run-resume"]')).toHaveCount(0);
    console.log(`[crash e2e] the browser showed the run crashed ${shownMs} ms after its engine was killed; Resume trained it to ${STEPS}`);
  } finally {
    await server.stop();
  }
});

test('a run whose recorded code was changed in its database: Resume is refused with the reason, and nothing runs', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-tamper-'));
  const cell = CELL.replace(`steps: ${STEPS}`, 'steps: 300').replace('checkpointEvery: 200', 'checkpointEvery: 100');
  writeCodeNotebook(workspace, 'tamper.ipynb', 'Tampered run', [cell]);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'latentlab.js'), 'run', join(workspace, 'tamper.ipynb')], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  // what a workspace from elsewhere could carry: a crashed run whose code is not what ran
  const marker = join(workspace, 'pwned');
  const db = new Database(join(workspace, '.latentlab', 'tracking.sqlite'));
  db.prepare(`UPDATE runs SET status = 'crashed', error = 'the engine process was killed (SIGKILL)', code = code || ?`).run(`\nrequire('fs').writeFileSync(${JSON.stringify(marker)}, '')`);
  db.close();
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url);
    await page.getByText('Tampered run').first().click();
    await page.locator('[data-testid="runs-panel"] [data-testid="run-row"]').first().click();
    await page.locator('[data-testid="run-resume"]').first().click();
    await expect(page.getByText(/does not resume: its recorded code did not run in Latent Lab on this computer/)).toBeVisible({ timeout: 30_000 });
    await page.screenshot({ path: join(root, 'test-results', 'e2e-resume-refused.png') });
    const view = page.locator('[data-testid="run-view"]').first();
    await expect(view).toHaveAttribute('data-status', 'crashed');
    expect(existsSync(marker)).toBe(false);
  } finally {
    await server.stop();
    rmSync(workspace, { recursive: true, force: true });
  }
});
