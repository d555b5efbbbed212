// A kernel per notebook in the browser, against a real `latentlab serve` and Chromium:
// two notebooks opened one after the other; the second does not see the first's
// variable; the top bar shows each notebook's kernel; Restart asks in a dialog (Esc
// keeps everything, Enter restarts only this notebook's kernel); a cell's value shows
// only where it helps; a stack trace names the cell's own lines.
import { expect, test } from '@playwright/test';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, useChromium } from './serve-fixture';

const chrome = useChromium();
const shots = process.env.LATENTLAB_SHOTS; // a folder for screenshots, when asked

const notebook = (title: string, cells: string[]) =>
  JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [{ cell_type: 'markdown', id: 'title', metadata: {}, source: `# ${title}` }, ...cells.map((source, i) => ({ cell_type: 'code', id: `c${i + 1}`, metadata: {}, source, execution_count: null, outputs: [] }))],
  });

test('each notebook its own kernel: state in the top bar, a restart that asks and clears only its own variables', async () => {
  test.skip(!chrome.exe, 'Chromium is not installed (apt-get install -y chromium)');
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-kernels-'));
  writeFileSync(join(workspace, 'first.ipynb'), notebook('First notebook', ['const secret = 42;\nconst model = { temperature: 0.5 };', 'secret']));
  writeFileSync(
    join(workspace, 'second.ipynb'),
    notebook('Second notebook', [
      'typeof secret',
      'const frames = Array.from({ length: 500 }, (_, i) => ({ step: i, points: [[i, i / 2], [i / 3, i / 4]] }));\nframes',
      'const model = { temperature: 0.5 };\nmodel.temperature = 1;',
      'function f(x: { deep?: { v: number } }): number {\n  return (x as any).deep.v;\n}\nconst y: number = 1;\nf({})',
    ]),
  );
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('dialog', (d) => void d.accept()); // "discard unsaved changes?" (outputs) when switching notebooks
    await page.goto(server.url);
    const kernel = page.locator('[data-testid="kernel-state"]');
    const cell = (id: string) => page.locator(`[data-testid="cell"][data-cell-id="${id}"]`);

    await page.getByText('First notebook').first().click();
    await expect(kernel).toHaveAttribute('data-status', 'not started');
    await page.locator('[data-testid="run-all"]').click();
    await expect(cell('c2')).toContainText('42', { timeout: 60_000 });
    await expect(kernel).toHaveAttribute('data-status', 'idle');
    await expect(kernel).toContainText('2 variables');
    if (shots) await page.screenshot({ path: join(shots, '1-first-notebook-kernel.png') });

    await page.getByText('Second notebook').first().click();
    await expect(kernel).toHaveAttribute('data-status', 'not started');
    await page.locator('[data-testid="run-all"]').click();
    await expect(cell('c4').locator('[data-testid="cell-error"]')).toBeVisible({ timeout: 60_000 });
    // the first notebook's variable is not here
    await expect(cell('c1')).toContainText('undefined');
    // a large value in short; an assignment shows nothing
    await expect(cell('c2')).toContainText('shown in short');
    await expect(cell('c2')).toContainText('more items');
    await expect(cell('c3').locator('.outputs')).toHaveCount(0);
    // the stack names the cell's own lines and columns
    const err = cell('c4').locator('[data-testid="cell-error"]');
    await err.locator('summary').click();
    await expect(err).toContainText('at f (cell:c4:2:26)');
    await expect(err).toContainText('at cell:c4:5:1');
    await expect(kernel).toContainText('4 variables');
    if (shots) await page.screenshot({ path: join(shots, '2-second-notebook-outputs.png'), fullPage: true });

    // Restart asks: Esc keeps the variables
    await page.locator('[data-testid="restart"]').click();
    const dialog = page.locator('[data-testid="restart-dialog"]');
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText('Restart the kernel of “second”?');
    await expect(dialog).toContainText('Its 4 variables are cleared: frames, model, f, y');
    await expect(dialog).toContainText('Other notebooks keep their variables');
    await expect(page.locator('[data-testid="restart-confirm"]')).toBeFocused();
    if (shots) await page.screenshot({ path: join(shots, '3-restart-confirm.png') });
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await expect(kernel).toContainText('4 variables');
    // Enter restarts this notebook's kernel only
    await page.locator('[data-testid="restart"]').click();
    await expect(page.locator('[data-testid="restart-confirm"]')).toBeFocused();
    await page.keyboard.press('Enter');
    await expect(dialog).toHaveCount(0);
    await expect(kernel).toHaveAttribute('data-status', 'not started');
    if (shots) await page.screenshot({ path: join(shots, '4-second-after-restart.png') });
    // nothing to lose: no question
    await page.locator('[data-testid="restart"]').click();
    await page.waitForTimeout(500);
    await expect(dialog).toHaveCount(0);

    // the first notebook kept its kernel
    await page.getByText('First notebook').first().click();
    await expect(kernel).toHaveAttribute('data-status', 'idle');
    await expect(kernel).toContainText('2 variables');
    await cell('c2').locator('[data-testid="cell-run"]').click();
    await expect(cell('c2')).toContainText('42', { timeout: 30_000 });
    if (shots) await page.screenshot({ path: join(shots, '5-first-kept.png') });
  } finally {
    await server.stop();
  }
});
