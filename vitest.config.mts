import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // tests/unit: in-process, laid out like src/; tests/integration: tests that start
    // processes (the CLI, `latentlab serve`, the engine, python3, Chromium)
    include: ['tests/unit/**/*.test.ts', 'tests/integration/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two cores: training tests in parallel only slow each other down
    fileParallelism: false,
    // the notebook trust store of the tests' hosts: never the user's own
    env: { LATENTLAB_CONFIG_DIR: process.env.LATENTLAB_CONFIG_DIR ?? mkdtempSync(join(tmpdir(), 'latentlab-config-')) },
  },
});
