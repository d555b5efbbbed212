import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// The webgpu tests need a Vulkan driver; CI has no GPU, but Debian's chromium ships
// SwiftShader (a CPU Vulkan) and its loader. Set before the test processes fork, so
// they (and the engines they start) find it; a machine's own Vulkan setting wins.
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES && existsSync(SWIFTSHADER)) {
  process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  process.env.LD_LIBRARY_PATH = ['/usr/lib/chromium', process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
}

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
