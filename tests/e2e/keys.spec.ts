// Jupyter's hands, in Chromium against `latentlab serve`: command mode (Esc, A/B, D D, Z,
// M/Y, J/K and the arrows, Enter, Shift/Ctrl+Enter), Esc left to Monaco's suggest box,
// Shift+Enter putting the caret at the start of the next cell, the undo toast, and the
// command palette (Ctrl+Shift+P: filter, arrows, Enter, Esc).
import { mkdirSync } from 'node:fs';
import { expect, test, type Locator, type Page } from '@playwright/test';
import { makeWorkspace, startServe, useChromium, writeCodeNotebook } from './serve-fixture';

const chrome = useChromium();
const SHOTS = process.env.LATENTLAB_SHOTS ?? '';

async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: `${SHOTS}/${name}.png` });
}

/** the text of a code cell's editor, as Monaco shows it */
const editorText = (cell: Locator) => cell.locator('.view-lines').evaluate((el) => (el as HTMLElement).innerText.replace(/\u00a0/g, ' '));

test('command mode keys, Shift+Enter to the start of the next cell, undo of deleted cells, the command palette', async () => {
  test.skip(!chrome.exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = makeWorkspace();
  writeCodeNotebook(workspace, 'keys.ipynb', 'Keys check', ['const a = 1;', 'const b = 2;', 'const c = 3;']);
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1300, height: 900 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`${server.url}&notebook=keys.ipynb`);
    const notebook = page.locator('[data-testid="notebook"]');
    const cells = page.locator('[data-testid="cell"]');
    const cell = (id: string) => page.locator(`[data-testid="cell"][data-cell-id="${id}"]`);
    const ids = () => cells.evaluateAll((els) => els.map((e) => e.getAttribute('data-cell-id')));
    const selectedId = () => page.locator('[data-testid="cell"][data-selected="command"]').getAttribute('data-cell-id');
    const press = async (...keys: string[]) => {
      for (const k of keys) await page.keyboard.press(k);
    };
    await expect(cells).toHaveCount(4);
    await expect(cell('c0').locator('.view-lines')).toContainText('const a = 1;');

    // Esc leaves the editor: the cell is selected in command mode, the keyboard is on the cell
    await cell('c0').locator('.view-lines').click();
    await expect(cell('c0')).toHaveAttribute('data-selected', 'edit');
    await shot(page, 'edit-mode');
    await press('Escape');
    await expect(notebook).toHaveAttribute('data-mode', 'command');
    await expect(cell('c0')).toHaveAttribute('data-selected', 'command');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-cell-id'))).toBe('c0');
    await shot(page, 'command-mode');

    // B inserts a code cell below and selects it; A one above
    await press('b');
    await expect(cells).toHaveCount(5);
    const below = (await ids())[2]!;
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2']);
    expect(await selectedId()).toBe(below);
    await expect(cell(below)).toHaveAttribute('data-cell-type', 'code');
    await press('a');
    await expect(cells).toHaveCount(6);
    const above = (await ids())[2]!;
    expect(await ids()).toEqual(['title', 'c0', above, below, 'c1', 'c2']);
    expect(await selectedId()).toBe(above);

    // one D does nothing; D D deletes, the selection moves to the cell below
    await press('d');
    await page.waitForTimeout(100);
    await expect(cells).toHaveCount(6);
    await press('d');
    await expect(cells).toHaveCount(5);
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2']);
    expect(await selectedId()).toBe(below);
    await expect(page.locator('[data-testid="undo-toast"]')).toBeVisible();

    // J moves down; delete c1, then K up and delete the new cell: two more levels of undo
    await press('j');
    expect(await selectedId()).toBe('c1');
    await press('d', 'd');
    await expect(cells).toHaveCount(4);
    expect(await selectedId()).toBe('c2');
    await press('k');
    expect(await selectedId()).toBe(below);
    await press('d', 'd');
    expect(await ids()).toEqual(['title', 'c0', 'c2']);

    // Z brings them back, newest first, each where it stood and with its source
    await press('z');
    expect(await ids()).toEqual(['title', 'c0', below, 'c2']);
    expect(await selectedId()).toBe(below);
    await press('z');
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2']);
    expect(await selectedId()).toBe('c1');
    await expect(cell('c1').locator('.view-lines')).toContainText('const b = 2;');
    await press('z');
    expect(await ids()).toEqual(['title', 'c0', above, below, 'c1', 'c2']);
    // nothing left to undo: Z changes nothing
    await press('z');
    expect(await ids()).toEqual(['title', 'c0', above, below, 'c1', 'c2']);

    // arrows move the selection too; M makes a Markdown cell (shown rendered), Y code again
    await press('ArrowDown', 'ArrowDown');
    expect(await selectedId()).toBe('c1');
    await press('ArrowUp', 'ArrowDown');
    expect(await selectedId()).toBe('c1');
    await press('m');
    await expect(cell('c1')).toHaveAttribute('data-cell-type', 'markdown');
    await expect(cell('c1').locator('.markdown-body')).toContainText('const b = 2;');
    expect(await selectedId()).toBe('c1');
    await press('y');
    await expect(cell('c1')).toHaveAttribute('data-cell-type', 'code');
    await expect(cell('c1').locator('.view-lines')).toContainText('const b = 2;');

    // Enter edits the selected cell; letters then type text, they are not commands
    await press('k', 'k', 'Enter');
    await expect(cell(above)).toHaveAttribute('data-selected', 'edit');
    await page.keyboard.type('Math.');
    await expect(cells).toHaveCount(6);
    // Esc with Monaco's suggest box open closes the box and stays in the editor; a second Esc leaves
    const suggest = page.locator('.suggest-widget.visible');
    await expect(suggest).toBeVisible({ timeout: 30_000 });
    await press('Escape');
    await expect(suggest).toBeHidden();
    await expect(cell(above)).toHaveAttribute('data-selected', 'edit');
    await press('Escape');
    await expect(cell(above)).toHaveAttribute('data-selected', 'command');
    await press('d', 'd');
    await expect(cells).toHaveCount(5);

    // Shift+Enter runs and puts the caret at line 1, column 1 of the next cell, wherever it was before
    await cell('c1').locator('.view-lines').click();
    await press('End');
    await cell('c0').locator('.view-lines').click();
    await press('Shift+Enter');
    await expect(cell(below)).toHaveAttribute('data-selected', 'edit');
    await page.keyboard.type('const first = 0;');
    expect(await editorText(cell(below))).toBe('const first = 0;');
    await press('Shift+Enter');
    await expect(cell('c1')).toHaveAttribute('data-selected', 'edit');
    await page.keyboard.type('const z = 0; ');
    expect(await editorText(cell('c1'))).toBe('const z = 0; const b = 2;');
    await expect(cell('c0')).toHaveAttribute('data-status', 'ok', { timeout: 120_000 });
    // on the last cell it adds a new code cell and edits it
    await cell('c2').locator('.view-lines').click();
    await press('Shift+Enter');
    await expect(cells).toHaveCount(6);
    const added = (await ids())[5]!;
    await expect(cell(added)).toHaveAttribute('data-selected', 'edit');
    await page.keyboard.type('const d = 4;');
    expect(await editorText(cell(added))).toBe('const d = 4;');
    await expect(cell('c2')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });

    // in command mode Ctrl+Enter runs in place and Shift+Enter runs and moves on
    await press('Escape', 'Control+Enter');
    await expect(cell(added)).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    expect(await selectedId()).toBe(added);
    await press('k', 'k', 'Shift+Enter');
    await expect(cell('c1')).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    expect(await selectedId()).toBe('c2');

    // the palette: Ctrl+Shift+P, filtered by typing, arrows and Enter run a command
    await press('Control+Shift+P');
    const palette = page.locator('[data-testid="command-palette"]');
    const items = palette.locator('[data-testid="palette-item"]');
    await expect(palette).toBeVisible();
    await expect(page.locator('[data-testid="palette-input"]')).toBeFocused();
    expect(await items.count()).toBeGreaterThan(20);
    for (const id of ['cell.runAdvance', 'notebook.runAll', 'kernel.interrupt', 'kernel.restart', 'notebook.save', 'cell.insertAbove', 'cell.delete', 'cell.undoDelete', 'cell.toMarkdown', 'cell.moveUp', 'help.keys']) {
      await expect(palette.locator(`[data-command-id="${id}"]`)).toHaveCount(1);
    }
    await expect(palette.locator('[data-command-id="cell.delete"]')).toContainText('D');
    await page.keyboard.type('insert below');
    await expect(items.first()).toHaveAttribute('data-command-id', 'cell.insertBelow');
    for (const label of await items.allInnerTexts()) expect(label.toLowerCase()).toMatch(/insert[\s\S]*below/);
    await expect(cells).toHaveCount(6); // letters typed into the palette are not commands
    await shot(page, 'palette-filter');
    await press('ArrowDown', 'ArrowUp', 'Enter');
    await expect(palette).toBeHidden();
    await expect(cells).toHaveCount(7);
    const fromPalette = (await ids())[5]!;
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2', fromPalette, added]);
    expect(await selectedId()).toBe(fromPalette);
    // Esc closes it and command mode goes on where it was
    await press('Control+Shift+P');
    await expect(palette).toBeVisible();
    await press('Escape');
    await expect(palette).toBeHidden();
    await press('d', 'd');
    await expect(cells).toHaveCount(6);
    // from an editor too; undo through the palette
    await cell('c0').locator('.view-lines').click();
    await press('Control+Shift+P');
    await page.keyboard.type('undo');
    await expect(items.first()).toHaveAttribute('data-command-id', 'cell.undoDelete');
    await press('Enter');
    await expect(cells).toHaveCount(7);
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2', fromPalette, added]);

    // the ✕ button deletes too, and the toast's Undo brings the cell back
    await cell('c2').hover();
    await cell('c2').locator('[data-testid="cell-delete"]').click();
    const toast = page.locator('[data-testid="undo-toast"]');
    await expect(toast).toContainText('Code cell deleted: const c = 3;');
    await shot(page, 'undo-toast');
    await toast.locator('[data-testid="undo-delete"]').click();
    expect(await ids()).toEqual(['title', 'c0', below, 'c1', 'c2', fromPalette, added]);
    await expect(cell('c2').locator('.view-lines')).toContainText('const c = 3;');
    await expect(toast).toBeHidden();

    // H shows the keys; outside the notebook (the sidebar) letters do nothing
    await cell('c2').locator('.cell-gutter').click();
    await expect(cell('c2')).toHaveAttribute('data-selected', 'command');
    await press('h');
    await expect(page.locator('[data-testid="keys-help"]')).toContainText('Undo cell deletion');
    await shot(page, 'keys-help');
    await press('Escape');
    await expect(page.locator('[data-testid="keys-help"]')).toBeHidden();
    // a Markdown cell: Enter shows its source, Esc renders it in command mode, Shift+Enter moves on
    expect(await selectedId()).toBe('c2');
    for (let i = 0; i < 4; i++) await press('k');
    expect(await selectedId()).toBe('title');
    await press('Enter');
    await expect(cell('title').locator('textarea')).toBeFocused();
    await expect(cell('title')).toHaveAttribute('data-selected', 'edit');
    await press('Escape');
    await expect(cell('title').locator('.markdown-body h1')).toHaveText('Keys check');
    await expect(cell('title')).toHaveAttribute('data-selected', 'command');
    await press('Shift+Enter');
    expect(await selectedId()).toBe('c0');
    await page.locator('[data-testid="save"]').focus();
    await press('b');
    await expect(cells).toHaveCount(7);
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
  } finally {
    await server.stop();
  }
});
