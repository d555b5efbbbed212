// The live view reads from the first second (issue 19, item 5), in Chromium against a
// real `latentlab serve`: at step 0 the validation point is a marker and a sample grid is
// there; Stop is a calm "stopped at step N — Resume" whose Resume trains on; a later
// cell's run.samples() and lab.evaluate stay in that cell; compare with the stopped run
// keeps its samples and flags status and steps.
import { expect, test, type Locator, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { makeWorkspace, startServe, useChromium, writeCodeNotebook } from './serve-fixture';

const chrome = useChromium();
const shots = process.env.LL_SHOTS ?? '';

async function shot(page: Page, name: string, target?: Locator): Promise<void> {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  if (target) await target.screenshot({ path: `${shots}/${name}.png` });
  else await page.screenshot({ path: `${shots}/${name}.png`, fullPage: true });
}

const run = (cell: Locator) => cell.locator('[data-testid="cell-run"]').click();

test('live view from step 0, a calm stop with Resume, later cells keep their outputs, compare with the stopped run', async () => {
  test.skip(!chrome.exe, 'Chromium is not installed (apt-get install -y chromium); .ci/run installs it');
  test.setTimeout(300_000);
  const workspace = makeWorkspace();
  writeCodeNotebook(workspace, 'live.ipynb', 'Live from step 0', [
    "const data = lab.data.mnist({ limit: 600 });\nconst model = lab.models.vae({ latentDim: 2, hidden: [32] });",
    // a short run that finishes
    "const run = await lab.train(model, data, { steps: 30, batchSize: 32, evalEvery: 30, sampleEvery: 30, name: 'short' });",
    // later: pictures and an evaluation of it, in a cell of their own
    "lab.show(run.samples(16));\nconst ev = await lab.evaluate(model, data.test);\nev.nll_nats",
    // a long run: only step 0 is evaluated and sampled before it is stopped
    "const long = lab.models.vae({ latentDim: 2, hidden: [32] });\nawait lab.train(long, data, { steps: 100000, batchSize: 32, evalEvery: 100000, sampleEvery: 100000, checkpointEvery: 100000, name: 'long' });",
  ]);
  const server = await startServe(workspace);
  try {
    const page = await chrome.browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(server.url);
    await page.getByText('Live from step 0').first().click();
    const cells = page.locator('[data-testid="cell"][data-cell-type="code"]');
    await expect(cells).toHaveCount(4);

    // --- the long run, seen at step 0 ---
    await run(cells.nth(0));
    await expect(cells.nth(0)).toHaveAttribute('data-status', 'ok', { timeout: 60_000 });
    await run(cells.nth(3));
    const longView = cells.nth(3).locator('[data-testid="run-view"]');
    await expect(longView).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
    // the validation curve has one point (step 0): drawn as a marker, not empty axes
    const val = longView.locator('[data-testid="curve-plot"][data-group="val"]');
    await expect.poll(() => val.locator('.scatterlayer .trace .points path').count(), { timeout: 60_000 }).toBeGreaterThan(0);
    // its step axis spans the run's steps so far (the train curve's), not Plotly's −1…1 around the marker
    await expect
      .poll(() => val.evaluate((el) => (el as unknown as { _fullLayout: { xaxis: { range: number[] } } })._fullLayout.xaxis.range[1]), { timeout: 30_000 })
      .toBeGreaterThan(5);
    // and a sample grid of step 0, in the panel that was kept for it from the start
    const grid = longView.locator('[data-testid="sample-image"]');
    await expect(grid).toHaveAttribute('data-step', '0', { timeout: 60_000 });
    await expect.poll(() => grid.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBeGreaterThan(0);
    await shot(page, 'live-step0', cells.nth(3));

    // --- Stop: calm, with the step and a Resume ---
    await page.locator('[data-testid="stop"]').click();
    await expect(longView).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
    const note = cells.nth(3).locator('[data-testid="cell-stopped"]');
    await expect(note).toContainText(/stopped at step \d+ of 100000/);
    await expect(cells.nth(3).locator('[data-testid="cell-error"]')).toHaveCount(0);
    await expect(cells.nth(3)).not.toContainText('Interrupted');
    // one Resume, beside the note (the run header leaves it to the note)
    await expect(cells.nth(3).locator('[data-testid="stop-resume"]')).toHaveCount(1);
    await expect(cells.nth(3).locator('[data-testid="run-resume"]')).toHaveCount(0);
    const stoppedAt = Number((await note.innerText()).match(/step (\d+)/)![1]);
    expect(stoppedAt).toBeGreaterThan(0);
    await shot(page, 'calm-stop', cells.nth(3));

    // Resume trains on from there: the run is running again, past the step it stopped at
    await cells.nth(3).locator('[data-testid="stop-resume"]').click();
    await expect(longView).toHaveAttribute('data-status', 'running', { timeout: 60_000 });
    await expect(note).toContainText('resumed');
    await expect.poll(async () => Number((await longView.locator('[data-testid="run-steps"]').innerText()).match(/^(\d+)/)![1]), { timeout: 60_000 }).toBeGreaterThan(stoppedAt);
    await page.locator('[data-testid="stop"]').click();
    await expect(longView).toHaveAttribute('data-status', 'stopped', { timeout: 30_000 });
    await expect(note).toContainText(/stopped at step \d+/);
    const longId = (await longView.getAttribute('data-run-id'))!;

    // --- later cells keep their outputs ---
    await run(cells.nth(1));
    await expect(cells.nth(1)).toHaveAttribute('data-status', 'ok', { timeout: 120_000 });
    await run(cells.nth(2));
    await expect(cells.nth(2)).toHaveAttribute('data-status', 'ok', { timeout: 120_000 });
    await expect(cells.nth(2).locator('[data-testid="output-image"]')).toHaveCount(1);
    const shortView = cells.nth(1).locator('[data-testid="run-view"]');
    await expect(shortView).toHaveAttribute('data-status', 'finished');
    // the evaluation's run.metrics event has come by now: give the live view a moment to draw it, if it would
    await page.waitForTimeout(500);
    await expect(shortView.locator('[data-testid="artifact-image"]')).toHaveCount(0);
    await expect(shortView.locator('[data-testid="curve-plot"][data-group="test"]')).toHaveCount(0);
    await expect(shortView.locator('[data-testid="curve-plot"][data-group="train"]')).toHaveCount(1);
    await shot(page, 'later-cells-training', cells.nth(1));
    await shot(page, 'later-cells-own', cells.nth(2));
    const shortId = (await shortView.getAttribute('data-run-id'))!;
    // each metric's colour, as the cell's live view drew it
    const colours = (view: Locator) =>
      view.locator('[data-testid="curve-plot"][data-group="train"]').evaluate((el) =>
        Object.fromEntries(((el as unknown as { data: { name: string; line: { color: string } }[] }).data).map((t) => [t.name, t.line.color])));
    const inCell = await colours(shortView);
    expect(Object.keys(inCell).sort()).toEqual(['kl', 'loss', 'recon']);

    // the run page shows the evaluation, with the sample count never on the metric's axis
    await shortView.locator('.run-name').click();
    const page2 = page.locator('.run-detail [data-testid="run-view"]');
    await expect(page2.locator('[data-testid="curve-plot"][data-group="test"]')).toHaveCount(1, { timeout: 30_000 });
    // every metric has the same colour on the run page as in the cell
    await expect.poll(() => colours(page2)).toEqual(inCell);
    // one evaluation number on the test axis at first (the NLL); bits/dim waits in the legend
    const visibleTest = () => page2.locator('[data-testid="curve-plot"][data-group="test"]').evaluate((el) =>
      ((el as unknown as { data: { name: string; visible: unknown }[] }).data).filter((t) => t.visible === true).map((t) => t.name));
    await expect.poll(visibleTest).toEqual(['nll (bound)']);
    await shot(page, 'run-page');

    // --- compare the finished run with the stopped one ---
    await page.locator(`[data-testid="run-row"][data-run-id="${shortId}"] [data-testid="compare-tick"]`).check();
    await page.locator(`[data-testid="run-row"][data-run-id="${longId}"] [data-testid="compare-tick"]`).check();
    await page.locator('[data-testid="compare-open"]').click();
    await expect(page.locator('[data-testid="compare-page"]')).toBeVisible();
    const grids = page.locator('[data-testid="compare-grid"]');
    await expect(grids).toHaveCount(2);
    // at the last step a grid was logged (30): the finished run's grid there, the stopped run's last one (step 0)
    const byRun = () => grids.evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-run-id'), e.getAttribute('data-step')])));
    await expect.poll(byRun).toEqual({ [shortId]: '30', [longId]: '0' });
    await expect(page.locator('[data-testid="compare-grid-earlier"]')).toContainText('stopped at step');
    // status and steps differ, and say so
    await expect(page.locator('[data-testid="compare-diff"] tr[data-key="status"]')).toHaveAttribute('data-differs', 'true');
    await expect(page.locator('[data-testid="compare-diff"] tr[data-key="steps"]')).toHaveAttribute('data-differs', 'true');
    await expect(page.locator('[data-testid="compare-diff"] tr[data-key="status"]')).toContainText('stopped');
    await shot(page, 'compare-stopped');
    await page.locator('[data-testid="compare-same-toggle"]').click();
    await shot(page, 'compare-diff', page.locator('[data-testid="compare-diff"]'));
    // wipe: a divider and both sides named; flicker: which run shows
    await page.locator('[data-testid="diff-wipe"]').check();
    await expect(page.locator('[data-testid="wipe-divider"]')).toBeVisible();
    await expect(page.locator('[data-testid="wipe-sides"]')).toContainText('short');
    await expect(page.locator('[data-testid="wipe-sides"]')).toContainText('long');
    await shot(page, 'wipe', page.locator('[data-testid="grid-diff"]'));
    await page.locator('[data-testid="diff-flicker"]').check();
    const label = page.locator('[data-testid="flicker-label"]');
    await expect(label).toContainText('showing');
    const showing = page.locator('[data-testid="grid-diff"] img[data-showing]');
    await expect(showing).toHaveAttribute('data-showing', 'b', { timeout: 3000 });
    await expect(label).toContainText('long');
    await shot(page, 'flicker', page.locator('[data-testid="grid-diff"]'));
    // parallel coordinates: lines in the runs' own colours, the colours of the legend
    const legend = await page.locator('.compare-legend > span').evaluateAll((els) => els.map((e) => getComputedStyle(e).color));
    const lines = page.locator('[data-testid="parcoords-line"]');
    if ((await lines.count()) > 0) {
      const strokes = await lines.evaluateAll((els) => els.map((e) => getComputedStyle(e).stroke));
      expect(new Set(strokes)).toEqual(new Set(legend));
      await shot(page, 'parcoords', page.locator('[data-testid="parcoords"]'));
    }
    expect(consoleErrors.filter((e) => !/favicon/.test(e))).toEqual([]);
  } finally {
    await server.stop();
  }
});
