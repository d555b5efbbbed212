// The editor's type errors against a real `latentlab serve` in Chromium: every shipped
// notebook opens with zero error squiggles once its cells are checked (as one program in
// cell order, src/shared/notebook-program.ts); a mistake typed into a cell gets exactly
// one squiggle, under the mistake, in that cell, and its hover is that cell's message; a
// name declared again in a later cell is not a mistake.
import { expect, test, type Page } from '@playwright/test';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, startServe, useChromium } from './serve-fixture';

const chrome = useChromium();
const exe = chrome.exe;
const shots = process.env.LATENTLAB_SHOTS ?? join(root, 'test-results');

const notebooks = readdirSync(join(root, 'resources', 'notebooks')).filter((f) => f.endsWith('.ipynb')).sort();

/** Waits until the open notebook at `path` has been checked at least once after `since`, and returns the new count. */
async function checked(page: Page, path: string, since: number): Promise<number> {
  await expect(page.locator('[data-testid="notebook"]')).toHaveAttribute('data-path', path);
  await expect.poll(async () => Number((await page.locator('html').getAttribute('data-diagnostics-seq')) ?? '0'), { timeout: 60_000 }).toBeGreaterThan(since);
  // markers are drawn on the editors' next frames
  await page.waitForTimeout(300);
  return Number((await page.locator('html').getAttribute('data-diagnostics-seq')) ?? '0');
}

const seq = async (page: Page) => Number((await page.locator('html').getAttribute('data-diagnostics-seq')) ?? '0');

test('every shipped notebook opens with zero error squiggles; a typed mistake gets one, in its cell, with its own hover', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  test.setTimeout(180_000);
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-diagnostics-'));
  for (const f of notebooks) copyFileSync(join(root, 'resources', 'notebooks', f), join(workspace, f));
  expect(notebooks.length).toBeGreaterThanOrEqual(38);
  mkdirSync(shots, { recursive: true });
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    page.on('dialog', (d) => void d.accept());
    await page.goto(server.url);
    const squiggles: Record<string, number> = {};
    for (const f of notebooks) {
      const before = await seq(page);
      await page.locator(`[data-testid="notebook-row"][data-path="${f}"]`).click();
      await checked(page, f, before);
      // every code cell's editor is on the page (none is left out of the count)
      const codeCells = (JSON.parse(readFileSync(join(workspace, f), 'utf8')).cells as { cell_type: string }[]).filter((c) => c.cell_type === 'code').length;
      await expect(page.locator('[data-testid="cell"][data-cell-type="code"] .monaco-editor')).toHaveCount(codeCells);
      squiggles[f] = await page.locator('.squiggly-error').count();
      if (f === 'vae-mnist.ipynb') await page.screenshot({ path: join(shots, 'e2e-diagnostics-vae-mnist.png') });
    }
    const withErrors = Object.entries(squiggles).filter(([, n]) => n > 0);
    expect(withErrors).toEqual([]);

    // a misspelled property in the training cell of VAE on MNIST: one squiggle, under it
    const before = await seq(page);
    await page.locator('[data-testid="notebook-row"][data-path="vae-mnist.ipynb"]').click();
    await checked(page, 'vae-mnist.ipynb', before);
    const cells = page.locator('[data-testid="cell"][data-cell-type="code"]');
    const target = cells.nth(2); // c4: lab.show(await run.samples(64));
    await expect(target).toContainText('run.samples(64)');
    const line = target.locator('.view-line', { hasText: 'run.samples(64)' });
    await line.click();
    await page.keyboard.press('End');
    const s0 = await seq(page);
    // a later cell may declare a name again (here `model`, a GAN now): not an error in a notebook
    await page.keyboard.type('\nconst model = lab.models.gan();\nlab.show(model.criticKind, run.metrcs);');
    await checked(page, 'vae-mnist.ipynb', s0);
    await expect(page.locator('.squiggly-error')).toHaveCount(1, { timeout: 30_000 });
    const squiggle = target.locator('.squiggly-error');
    await expect(squiggle).toHaveCount(1);
    // under `metrcs`: the squiggle's box starts where that word starts on its line
    // the rendered text of the line (the .view-line itself spans the editor's width)
    const word = await target.locator('.view-line', { hasText: 'run.metrcs' }).locator(':scope > span').boundingBox();
    const lineText = 'lab.show(model.criticKind, run.metrcs);';
    const box = await squiggle.boundingBox();
    expect(word && box).toBeTruthy();
    const charWidth = word!.width / lineText.length;
    expect(Math.abs(box!.x - (word!.x + charWidth * lineText.indexOf('metrcs')))).toBeLessThan(charWidth);
    expect(Math.abs(box!.width - charWidth * 'metrcs'.length)).toBeLessThan(charWidth);
    expect(Math.abs(box!.y + box!.height / 2 - (word!.y + word!.height / 2))).toBeLessThan(word!.height);
    // the hover is this cell's message
    await page.mouse.move(box!.x + box!.width / 2, box!.y + box!.height / 2);
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: 'metrcs' });
    await expect(hover).toContainText("Property 'metrcs' does not exist on type 'Run'");
    await page.screenshot({ path: join(shots, 'e2e-diagnostics-hover.png') });
  } finally {
    await server.stop();
  }
});
