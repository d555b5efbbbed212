import { defineConfig } from '@playwright/test';

// Browser tests run against `latentlab serve` in Debian's Chromium (no browser
// download); the Electron test runs where Electron's binary exists.
export default defineConfig({
  testDir: 'tests/e2e',
  timeout: 300_000,
  expect: { timeout: 60_000 },
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  outputDir: 'test-results/playwright',
  use: { screenshot: 'only-on-failure', trace: 'off' },
});
