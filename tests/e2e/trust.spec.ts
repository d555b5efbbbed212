// Untrusted and unreadable notebooks in the browser, against a real `latentlab
// serve` and Chromium: a notebook from elsewhere shows its saved outputs, its
// Run buttons are off and a banner offers Trust; after Trust the cell runs. A
// broken file is listed (marked), opens read-only with its parse error, and is
// never saved over. The page itself loads with the token cookie rules.
import { expect, test } from '@playwright/test';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, startServe, useChromium } from './serve-fixture';

const chrome = useChromium();
const exe = chrome.exe;

test('an untrusted notebook: banner, run blocked, Trust, the cell runs; a broken one opens read-only and is not saved over', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = mkdtempSync(join(tmpdir(), 'latentlab-e2e-trust-'));
  writeFileSync(join(workspace, 'outside.ipynb'), JSON.stringify({
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [
      { cell_type: 'markdown', id: 'title', metadata: {}, source: '# Notebook from elsewhere' },
      { cell_type: 'code', id: 'c1', metadata: {}, source: "console.log('hello from ' + 'the cell')", execution_count: 3, outputs: [{ output_type: 'stream', name: 'stdout', text: ['saved output from before\n'] }] },
    ],
  }));
  const broken = '{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code", "source": "lab.';
  writeFileSync(join(workspace, 'broken.ipynb'), broken);
  const server = await startServe(workspace, { trust: false });
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 900 } });
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });
    page.on('dialog', (d) => void d.accept()); // "discard unsaved changes?" when switching notebooks
    await page.goto(server.url);
    await page.getByText('Notebook from elsewhere').first().click();
    const nb = page.locator('[data-testid="notebook"]');
    await expect(nb).toHaveAttribute('data-trusted', 'false');
    await expect(page.locator('[data-testid="untrusted-banner"]')).toContainText('This notebook is not trusted');
    // the saved output shows; the code does not run
    await expect(page.getByText('saved output from before')).toBeVisible();
    const code = page.locator('[data-testid="cell"][data-cell-type="code"]').first();
    await expect(code.locator('[data-testid="cell-run"]')).toBeDisabled();
    await expect(page.locator('[data-testid="run-all"]')).toBeDisabled();
    await page.screenshot({ path: join(root, 'test-results', 'e2e-untrusted.png') });
    // Shift+Enter in the editor does not run it either
    await code.locator('.monaco-editor').first().click();
    await page.keyboard.press('Shift+Enter');
    await page.waitForTimeout(1000);
    await expect(page.getByText('hello from the cell')).toHaveCount(0);

    await page.locator('[data-testid="trust-notebook"]').click();
    await expect(nb).toHaveAttribute('data-trusted', 'true');
    await expect(page.locator('[data-testid="untrusted-banner"]')).toHaveCount(0);
    await code.locator('[data-testid="cell-run"]').click();
    await expect(page.getByText('hello from the cell')).toBeVisible({ timeout: 120_000 });

    // the broken file: listed and marked, opens read-only with the parse error, Save is off
    const row = page.locator('[data-testid="notebook-row"][data-path="broken.ipynb"]');
    await expect(row.locator('[data-testid="notebook-problem"]')).toBeVisible();
    await row.click();
    await expect(nb).toHaveAttribute('data-readonly', 'true');
    await expect(page.locator('[data-testid="readonly-banner"]')).toContainText('broken.ipynb is not valid JSON');
    await expect(page.locator('[data-testid="save"]')).toBeDisabled();
    await page.screenshot({ path: join(root, 'test-results', 'e2e-readonly.png') });
    await page.keyboard.press('Control+s');
    await page.waitForTimeout(500);
    expect(readFileSync(join(workspace, 'broken.ipynb'), 'utf8')).toBe(broken);
    // every request of the page (scripts, styles, fonts, the socket) passed the token rules
    expect(failed).toEqual([]);
  } finally {
    await server.stop();
  }
});
