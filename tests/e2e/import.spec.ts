// The Import dialog in Chromium against `latentlab serve`: inspect a folder of PNGs
// (class subfolders), see its preview image load with shapes, classes and the
// fingerprint; a truncated IDX file shows its error; insert the cell and run it.
import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeIdx, writePng } from '../helpers/data-import-writers';
import { makeWorkspace, root, startServe, useChromium, writeCodeNotebook } from './serve-fixture';

const chrome = useChromium();
const exe = chrome.exe;

test('Import dialog: inspect a PNG folder (preview, shapes, fingerprint), a malformed file shows its error, insert and run the cell', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = makeWorkspace();
  for (const [ci, c] of ['circle', 'square'].entries()) {
    for (let i = 0; i < 12; i++) {
      const px = Array.from({ length: 100 }, (_, p) => (ci === 0 ? (p * 9 + i * 5) % 256 : 255 - ((p * 3 + i) % 128)));
      mkdirSync(join(workspace, 'shapes', c), { recursive: true });
      writeFileSync(join(workspace, 'shapes', c, `${i}.png`), writePng(10, 10, 0, 8, px, { filter: (y) => y % 5 }));
    }
  }
  // JSON: points (read as data), a settings object (refused, saying what it holds)
  writeFileSync(join(workspace, 'points.json'), JSON.stringify(Array.from({ length: 300 }, (_, i) => [Math.cos(i / 7) * (1 + (i % 3)), Math.sin(i / 7) * (1 + (i % 3))])));
  writeFileSync(join(workspace, 'config.json'), JSON.stringify({ lr: 0.001, layers: [64, 64], name: 'vae' }));
  const header = writeIdx('u1', [60000, 28, 28], []);
  writeFileSync(join(workspace, 'bad.idx'), Buffer.concat([header, Buffer.alloc(1234)]));
  // the same bytes under another folder name (same fingerprint), and one pixel changed (another)
  for (const copy of ['shapes-copy', 'shapes-changed']) {
    for (const [ci, c] of ['circle', 'square'].entries()) {
      for (let i = 0; i < 12; i++) {
        const px = Array.from({ length: 100 }, (_, p) => (ci === 0 ? (p * 9 + i * 5) % 256 : 255 - ((p * 3 + i) % 128)));
        if (copy === 'shapes-changed' && ci === 1 && i === 11) px[50] ^= 1;
        mkdirSync(join(workspace, copy, c), { recursive: true });
        writeFileSync(join(workspace, copy, c, `${i}.png`), writePng(10, 10, 0, 8, px, { filter: (y) => y % 5 }));
      }
    }
  }
  const train = ['shapes', 'shapes-copy', 'shapes-changed']
    .map((d) => `await lab.train(lab.models.vae({ latentDim: 2, hidden: [8], likelihood: 'gaussian' }), lab.data.load('${d}'), { steps: 3, batchSize: 8, seed: 1, name: 'imp-${d}' });`)
    .join('\n');
  writeCodeNotebook(workspace, 'import.ipynb', 'Import test', ['1 + 1', train]);
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1300, height: 950 } });
    await page.goto(server.url);
    // the notebook was written by the test, not by Latent Lab: trust it as a user would
    // (where the host has trust at all) before its cells may run
    await page.evaluate(
      ({ file }) =>
        new Promise<void>((resolve) => {
          const token = new URLSearchParams(location.search).get('token') ?? '';
          const ws = new WebSocket(`${location.origin.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
          ws.onopen = () => ws.send(JSON.stringify({ id: 1, name: 'notebook.trust', input: { path: file } }));
          ws.onmessage = (m) => {
            if ((JSON.parse(String(m.data)) as { id?: number }).id !== 1) return;
            ws.close();
            resolve();
          };
          ws.onerror = () => resolve();
          setTimeout(resolve, 5000);
        }),
      { file: 'import.ipynb' },
    );
    await page.getByText('Import test').first().click();
    await expect(page.locator('[data-testid="cell"][data-cell-type="code"]')).toHaveCount(2);

    await page.locator('[data-testid="import-button"]').click();
    const dialog = page.locator('[data-testid="import-dialog"]');
    await expect(dialog).toBeVisible();
    await page.locator('[data-testid="import-path"]').fill('shapes');
    await page.keyboard.press('Enter');
    await expect(dialog.locator('[data-testid="import-summary"]')).toBeVisible();
    await expect(dialog.locator('[data-testid="import-shape"]')).toContainText('[10, 10]');
    await expect(dialog.locator('[data-testid="import-rows"]')).toHaveText('train 20 · val 2 · test 2');
    await expect(dialog.locator('[data-testid="import-classes"]')).toHaveText('2: circle, square');
    await page.screenshot({ path: join(root, 'test-results', 'e2e-import.png') });
    const fp = (await dialog.locator('[data-testid="import-fingerprint"]').textContent())!;
    expect(fp).toMatch(/^[0-9a-f]{40}$/);
    // the preview is a PNG served from <artifacts>/imports/<fingerprint>/ and it loads
    const img = dialog.locator('[data-testid="import-preview"]');
    await expect(img).toHaveAttribute('src', new RegExp(`/artifacts/imports/${fp}/preview\\.png`));
    await expect.poll(() => img.evaluate((e: HTMLImageElement) => e.complete && e.naturalWidth)).toBeGreaterThan(0);

    // a malformed file: its error, naming the file
    await page.locator('[data-testid="import-path"]').fill('bad.idx');
    await page.keyboard.press('Enter');
    await expect(dialog.locator('[data-testid="import-error"]')).toContainText('lab.data.load: bad.idx: truncated IDX file: the header promises 60000×28×28 = 47,040,000 bytes, the file has 1,234');
    await expect(dialog.locator('[data-testid="import-summary"]')).toHaveCount(0);

    // a JSON file of number pairs: the dialog says it read JSON, what it held and what it became
    await page.locator('[data-testid="import-path"]').fill('points.json');
    await page.keyboard.press('Enter');
    await expect(dialog.locator('[data-testid="import-format"]')).toContainText('JSON · 1 file');
    await expect(dialog.locator('[data-testid="import-shape"]')).toContainText('[2]');
    await expect(dialog.locator('[data-testid="import-notes"]')).toContainText('points.json: a JSON array of 300 arrays of 2 numbers: read as 300 points of shape [2]');
    await page.screenshot({ path: join(root, 'test-results', 'e2e-import-json.png') });
    // JSON that is not numbers: refused, saying what the file holds
    await page.locator('[data-testid="import-path"]').fill('config.json');
    await page.keyboard.press('Enter');
    await expect(dialog.locator('[data-testid="import-error"]')).toContainText('lab.data.load: config.json: a JSON object with keys lr, layers, name, none of them "x" or "data": Latent Lab reads JSON arrays of numbers');
    await page.screenshot({ path: join(root, 'test-results', 'e2e-import-json-refused.png') });

    // Escape closes; open again, inspect, Ctrl+Enter inserts the cell
    await page.keyboard.press('Escape');
    await expect(dialog).toHaveCount(0);
    await page.locator('[data-testid="import-button"]').click();
    await page.locator('[data-testid="import-path"]').fill('shapes');
    await page.keyboard.press('Enter');
    await expect(dialog.locator('[data-testid="import-summary"]')).toBeVisible();
    await page.keyboard.press('Control+Enter');
    await expect(dialog).toHaveCount(0);
    const cells = page.locator('[data-testid="cell"][data-cell-type="code"]');
    await expect(cells).toHaveCount(3);
    await expect(cells.nth(2).locator('.view-lines')).toContainText('lab.data.load("shapes")');
    // run it: the engine loads the same data, with the same fingerprint
    await cells.nth(2).locator('[data-testid="cell-run"]').click();
    await expect(cells.nth(2).locator('.out-text')).toContainText(`shapes: image [10×10], 20/2/2 rows, fingerprint ${fp.slice(0, 12)}`, { timeout: 120_000 });

    // runs on imports: equal bytes compare cleanly, one changed pixel is flagged as other data
    await cells.nth(1).locator('[data-testid="cell-run"]').click();
    await expect(cells.nth(1)).toHaveAttribute('data-status', 'ok', { timeout: 120_000 });
    const row = (name: string) => page.locator('[data-testid="run-row"]').filter({ has: page.locator('.run-row-name', { hasText: new RegExp(`^${name}$`) }) });
    await expect(row('imp-shapes-changed')).toHaveAttribute('data-status', 'finished');
    const compare = async (a: string, b: string) => {
      const ticked = page.locator('[data-testid="compare-tick"]:checked');
      while ((await ticked.count()) > 0) await ticked.first().uncheck();
      await row(a).locator('[data-testid="compare-tick"]').check();
      await row(b).locator('[data-testid="compare-tick"]').check();
      await page.locator('[data-testid="compare-open"]').click();
      await expect(page.locator('[data-testid="compare-page"]')).toBeVisible();
    };
    await compare('imp-shapes', 'imp-shapes-copy');
    await expect(page.locator('[data-testid="compare-eval"]')).toBeVisible();
    await expect(page.locator('[data-testid="compare-data-warning"]')).toHaveCount(0);
    await compare('imp-shapes', 'imp-shapes-changed');
    await expect(page.locator('[data-testid="compare-data-warning"]')).toContainText(`shapes ${fp.slice(0, 8)}`);
    await expect(page.locator('[data-testid="compare-data-warning"]')).toContainText('not comparable');
  } finally {
    await server.stop();
  }
});
