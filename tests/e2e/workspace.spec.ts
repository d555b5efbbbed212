// A place of one's own, in Chromium against a real `latentlab serve`: the first launch
// opens the start notebook without a "No notebooks" flash; the sidebar groups the
// notebooks by family and searches them from the keyboard; a notebook is created,
// refused a taken name, renamed and deleted from the app; runs are named by what
// differs between them, and one is renamed and deleted with its files.
import { expect, test, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServe, useChromium, writeCodeNotebook } from './serve-fixture';

const chrome = useChromium();
const exe = chrome.exe;
const shots = process.env.SHOTS_DIR;
const shot = async (page: Page, name: string) => {
  if (shots) await page.screenshot({ path: join(shots, `${name}.png`) });
};

/** records whether the empty-workspace text ever appeared while the page loaded */
const watchEmptyFlash = `
  window.__emptyFlash = false;
  new MutationObserver(() => {
    // nor 'No notebook open' in the main area while the start notebook is read
    if (document.body && /No notebooks in this workspace|No notebook open/.test(document.body.innerText)) window.__emptyFlash = true;
  }).observe(document, { subtree: true, childList: true, characterData: true });
`;

test('first launch, grouped sidebar with search, new / rename / delete a notebook', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium)');
  // an empty folder: serve copies the example notebooks into it
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-ws-'));
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.addInitScript(watchEmptyFlash);
    await page.goto(server.url);
    // the start notebook opens, not the file that sorts first (autoencoder.ipynb)
    await expect(page.locator('[data-testid="notebook-row"].selected')).toHaveAttribute('data-path', 'vae-mnist.ipynb');
    expect(await page.evaluate(() => (window as unknown as { __emptyFlash: boolean }).__emptyFlash)).toBe(false);

    // groups: the families of the models, each notebook in its own
    const families = await page.locator('[data-testid="notebook-group"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-family')));
    expect(families).toEqual(['basics', 'latent', 'autoregressive', 'flows', 'energy', 'adversarial', 'diffusion', 'classical']);
    const inGroup = (family: string) => page.locator(`[data-testid="notebook-group"][data-family="${family}"] [data-testid="notebook-row"]`);
    await expect(inGroup('latent').filter({ hasText: 'VAE on MNIST' })).toHaveCount(1);
    await expect(inGroup('flows').filter({ hasText: 'Glow on MNIST' })).toHaveCount(1);
    await expect(inGroup('basics')).toHaveCount(1);
    // a long title is not cut to one line: its full text is in the row and its tooltip
    const long = page.locator('[data-testid="notebook-row"][data-path="boltzmann.ipynb"]');
    await expect(long).toHaveAttribute('title', /A Boltzmann machine, exact by enumeration/);
    await shot(page, 'sidebar-groups');

    // search from the keyboard: / focuses, typing filters (title or file name), arrows + Enter open, Esc clears
    await page.locator('.notebooks-section .side-title').click(); // out of the cell editor
    await page.keyboard.press('/');
    await expect(page.locator('[data-testid="notebook-search"]')).toBeFocused();
    await page.keyboard.type('mnist gan');
    const rows = page.locator('[data-testid="notebook-row"]');
    await expect(rows).toHaveCount(4); // cgan, dcgan, lsgan, wgan-gp on MNIST
    await shot(page, 'sidebar-search');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    const second = await rows.nth(1).getAttribute('data-path');
    await expect(page.locator('[data-testid="notebook-row"].selected')).toHaveAttribute('data-path', second!);
    // opening moved the focus into the notebook; back in the search, Esc clears it
    await page.locator('[data-testid="notebook-search"]').focus();
    await page.keyboard.press('Escape');
    await expect(page.locator('[data-testid="notebook-search"]')).toHaveValue('');
    // a new workspace holds every shipped example notebook
    await expect(rows).toHaveCount(readdirSync(join(__dirname, '..', '..', 'resources', 'notebooks')).filter((f) => f.endsWith('.ipynb')).length);
    await page.locator('[data-testid="notebook-search"]').fill('ddpm-toy');
    await expect(rows).toHaveCount(1); // by file name too
    await page.keyboard.press('Escape');

    // new notebook: a taken name is refused in the dialog, which stays open with what was typed
    await page.locator('[data-testid="notebook-new"]').click();
    const input = page.locator('[data-testid="ws-dialog-input"]');
    await expect(input).toBeFocused();
    await input.fill('vae-mnist');
    await page.keyboard.press('Enter');
    await expect(page.locator('[data-testid="ws-dialog-error"]')).toContainText('exists already');
    await expect(input).toHaveValue('vae-mnist');
    await shot(page, 'new-notebook-refused');
    await input.fill('my experiment');
    await shot(page, 'new-notebook-dialog');
    await page.keyboard.press('Enter');
    await expect(page.locator('[data-testid="ws-dialog"]')).toHaveCount(0);
    const mine = page.locator('[data-testid="notebook-group"][data-family="mine"] [data-testid="notebook-row"]');
    await expect(mine).toHaveAttribute('data-path', 'my experiment.ipynb');
    await expect(mine).toHaveClass(/selected/);
    // the user's own notebook is trusted: no trust banner
    await expect(page.locator('[data-testid="untrusted-banner"]')).toHaveCount(0);
    await shot(page, 'new-notebook-open');

    // rename it: the open notebook follows
    await mine.hover();
    await shot(page, 'notebook-row-actions');
    await mine.locator('[data-testid="notebook-rename"]').click();
    await input.fill('lab/renamed experiment');
    await page.keyboard.press('Enter');
    await expect(page.locator('[data-testid="notebook-row"][data-path="lab/renamed experiment.ipynb"]')).toHaveClass(/selected/);
    expect(existsSync(join(workspace, 'lab', 'renamed experiment.ipynb'))).toBe(true);
    expect(existsSync(join(workspace, 'my experiment.ipynb'))).toBe(false);

    // delete it: a confirmation (Esc cancels, nothing lost), then it goes to the trash
    const renamed = page.locator('[data-testid="notebook-row"][data-path="lab/renamed experiment.ipynb"]');
    await renamed.hover();
    await renamed.locator('[data-testid="notebook-delete"]').click();
    await expect(page.locator('[data-testid="ws-dialog"]')).toContainText('.latentlab/trash');
    await expect(page.locator('[data-testid="ws-dialog-cancel"]')).toBeFocused();
    await page.keyboard.press('Escape');
    await expect(renamed).toHaveCount(1);
    await renamed.hover();
    await renamed.locator('[data-testid="notebook-delete"]').click();
    await shot(page, 'delete-notebook-confirm');
    await page.keyboard.press('Tab'); // Cancel → Delete
    await page.keyboard.press('Enter');
    await expect(renamed).toHaveCount(0);
    expect(existsSync(join(workspace, 'lab', 'renamed experiment.ipynb'))).toBe(false);
    expect(readdirSync(join(workspace, '.latentlab', 'trash')).some((f) => f.endsWith('renamed experiment.ipynb'))).toBe(true);
    // the start notebook is open again
    await expect(page.locator('[data-testid="notebook-row"].selected')).toHaveAttribute('data-path', 'vae-mnist.ipynb');
  } finally {
    await server.stop();
  }
});

test('runs are named by what differs; a run is renamed and deleted with its files', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium)');
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-runs-'));
  const train = (z: number) => `await lab.train(lab.models.vae({ latentDim: ${z}, hidden: [32] }), data, { steps: 6, batchSize: 32, sampleEvery: 3, evalEvery: 3, checkpointEvery: 3, seed: 1 });`;
  writeCodeNotebook(workspace, 'runs.ipynb', 'Runs to name', ['const data = lab.data.mnist({ binarize: true, limit: 200 });', train(2), train(4), train(4)]);
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(server.url);
    await page.getByText('Runs to name').first().click();
    await page.locator('[data-testid="run-all"]').click();
    const rows = page.locator('[data-testid="runs-panel"] [data-testid="run-row"]');
    await expect(rows).toHaveCount(3, { timeout: 240_000 });
    for (let i = 0; i < 3; i++) await expect(rows.nth(i)).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
    // newest first: the two identical runs carry their place, the other its latent size; no id suffixes
    const names = await rows.locator('[data-testid="run-name"]').allInnerTexts();
    expect(names).toEqual([
      expect.stringMatching(/^vae-\S+ latentDim=4 #3$/),
      expect.stringMatching(/^vae-\S+ latentDim=4 #2$/),
      expect.stringMatching(/^vae-\S+ latentDim=2$/),
    ]);
    await shot(page, 'runs-diff-names');

    // rename the oldest on its page: kept as given
    await rows.nth(2).click();
    await page.locator('[data-testid="run-page-rename"]').click();
    await page.locator('[data-testid="ws-dialog-input"]').fill('small z');
    await page.keyboard.press('Enter');
    await expect(page.locator('[data-testid="run-title"]')).toHaveText('small z');
    await expect(rows.nth(2).locator('[data-testid="run-name"]')).toHaveText('small z');

    // delete the newest from its row, after the confirmation: its files go with it
    const doomed = (await rows.nth(0).getAttribute('data-run-id'))!;
    const art = join(workspace, '.latentlab', 'artifacts', doomed);
    expect(existsSync(art)).toBe(true);
    await rows.nth(0).hover();
    await rows.nth(0).locator('[data-testid="run-delete"]').click();
    await expect(page.locator('[data-testid="ws-dialog"]')).toContainText('cannot be undone');
    await shot(page, 'delete-run-confirm');
    await page.locator('[data-testid="ws-dialog-confirm"]').click();
    await expect(rows).toHaveCount(2);
    await expect(page.locator(`[data-testid="runs-panel"] [data-run-id="${doomed}"]`)).toHaveCount(0);
    // its cell's live view says it was deleted
    await page.locator('[data-testid="run-deleted"]').first().waitFor({ state: 'attached' });
    expect(existsSync(art)).toBe(false);
    // the one left of the pair no longer needs its place to be told apart from the deleted one
    await expect(rows.nth(0).locator('[data-testid="run-name"]')).toHaveText(/^vae-\S+ latentDim=4$/);
    // after a reload the run is still gone, and the name stays
    await page.reload();
    await expect(rows).toHaveCount(2);
    await expect(page.getByText('small z').first()).toBeVisible();
  } finally {
    await server.stop();
  }
});
