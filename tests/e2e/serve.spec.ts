// The browser end to end: `latentlab serve` + Debian's Chromium. Opens the VAE
// notebook, runs it, watches the curve grow and a sample grid load, sees the
// run finished in the runs panel, and finds it again after a restart.
import { expect, test, type Browser, type Page } from '@playwright/test';
import { chromium } from '@playwright/test';
import { join } from 'node:path';
import { chromiumArgs, chromiumPath, makeWorkspace, root, startServe } from './serve-fixture';

const exe = chromiumPath();
let browser: Browser;

test.beforeAll(async () => {
  if (!exe) return;
  browser = await chromium.launch({ executablePath: exe, args: chromiumArgs });
});
test.afterAll(async () => {
  await browser?.close();
});

async function curvePoints(page: Page): Promise<number> {
  const values = await page.locator('[data-testid="curve-plot"]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-points') ?? 0)));
  return values.reduce((a, b) => a + b, 0);
}

test('VAE notebook trains live in the browser and its run survives a restart', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = makeWorkspace({ 'vae-mnist.ipynb': { steps: 150 } });
  let server = await startServe(workspace);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(server.url);
    await page.getByText('VAE on MNIST').first().click();
    await expect(page.locator('[data-testid="cell"]').first()).toBeVisible();
    await expect(page.locator('[data-testid="backend-badge"]')).toContainText(/wasm|cpu|tensorflow/);

    await page.locator('[data-testid="run-all"]').click();
    await expect(page.locator('[data-testid="run-view"]').first()).toBeVisible();
    // the curve grows while the run trains
    await expect.poll(() => curvePoints(page), { timeout: 120_000 }).toBeGreaterThan(0);
    const early = await curvePoints(page);
    await expect.poll(() => curvePoints(page), { timeout: 120_000 }).toBeGreaterThan(early);

    const sample = page.locator('[data-testid="sample-image"]').first();
    await expect(sample).toBeVisible({ timeout: 240_000 });
    await expect.poll(() => sample.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: 60_000 }).toBeGreaterThan(0);

    const row = page.locator('[data-testid="runs-panel"] [data-testid="run-row"]').first();
    await expect(row).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
    const runId = await row.getAttribute('data-run-id');
    await page.screenshot({ path: join(root, 'test-results', 'e2e-vae.png'), fullPage: false });
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);

    // close the host, open it again: the run, its curve and its grid are still there
    await page.close();
    await server.stop();
    server = await startServe(workspace);
    const again = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await again.goto(server.url);
    const saved = again.locator(`[data-testid="run-row"][data-run-id="${runId}"]`);
    await expect(saved).toHaveAttribute('data-status', 'finished');
    await saved.click();
    await expect.poll(() => curvePoints(again), { timeout: 60_000 }).toBeGreaterThan(0);
    const img = again.locator('[data-testid="sample-image"]').first();
    await expect.poll(() => img.evaluate((i: HTMLImageElement) => i.complete && i.naturalWidth), { timeout: 60_000 }).toBeGreaterThan(0);
    await again.screenshot({ path: join(root, 'test-results', 'e2e-run-detail.png') });
  } finally {
    await server.stop();
  }
});

test('GAN notebook shows data and generated points together', async () => {
  test.skip(!exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  const workspace = makeWorkspace({ 'gan-toy2d.ipynb': { steps: 300 } });
  const server = await startServe(workspace);
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(server.url);
    await page.getByText('GAN on 8 Gaussians').first().click();
    await page.locator('[data-testid="run-all"]').click();
    const scatter = page.locator('[data-testid="scatter-plot"]').first();
    await expect(scatter).toBeVisible({ timeout: 120_000 });
    // two traces: the data points and the generated points
    await expect.poll(() => scatter.evaluate((el) => el.querySelectorAll('.scatterlayer .trace').length), { timeout: 60_000 }).toBe(2);
    const row = page.locator('[data-testid="runs-panel"] [data-testid="run-row"]').first();
    await expect(row).toHaveAttribute('data-status', 'finished', { timeout: 240_000 });
    await page.screenshot({ path: join(root, 'test-results', 'e2e-gan.png') });
  } finally {
    await server.stop();
  }
});
