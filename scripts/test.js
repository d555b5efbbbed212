// `npm test`: unit tests (vitest), then browser end-to-end tests (Playwright in
// Chromium against `latentlab serve`, and Electron where its binary exists).
// Ends with one line "tests: N passed, N failed, N skipped".
const { spawnSync } = require('node:child_process');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });
const only = process.argv[2]; // 'unit' | 'e2e' | undefined

function run(args, env = {}) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

let passed = 0;
let failed = 0;
let skipped = 0;
let exit = 0;

// strict TypeScript over every process's code: a type error fails the run
if (!only) {
  // the cell API's declaration on its own, without skipLibCheck: an unknown name in it
  // would otherwise silently become `any` for the engine and the editor
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const code = run([tsc, '--noEmit', '-p', 'tsconfig.json']) || run([tsc, '-p', 'tsconfig.api.json']);
  if (code !== 0) {
    console.error('typecheck failed');
    exit = 1;
    failed += 1;
  }
}

if (only !== 'e2e') {
  const out = join(results, 'vitest.json');
  const code = run([join(root, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile=${out}`]);
  if (code !== 0) exit = 1;
  if (existsSync(out)) {
    const j = JSON.parse(readFileSync(out, 'utf8'));
    passed += j.numPassedTests;
    failed += j.numFailedTests;
    skipped += j.numPendingTests + (j.numTodoTests ?? 0);
  } else failed += 1;
}

// Engine processes the unit tests left running would take the cores the browser
// tests measure the renderer on: name them (a leak to fix) and stop them.
function strayEngines() {
  if (process.platform !== 'linux') return [];
  const { readdirSync } = require('node:fs');
  const stray = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (cmd.some((a) => a.startsWith(root) && a.endsWith(join('out', 'main', 'engine.js')))) stray.push(Number(pid));
    } catch {
      // gone already
    }
  }
  return stray;
}

if (only !== 'unit') {
  const stray = strayEngines();
  if (stray.length > 0) {
    console.log(`[test] engine processes still running after the unit tests (a leak): ${stray.join(' ')}; stopping them`);
    for (const pid of stray) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  const out = join(results, 'playwright.json');
  const code = run([join(root, 'node_modules', '@playwright', 'test', 'cli.js'), 'test'], {
  });
  if (code !== 0) exit = 1;
  if (existsSync(out)) {
    const s = JSON.parse(readFileSync(out, 'utf8')).stats;
    passed += s.expected;
    failed += s.unexpected + s.flaky;
    skipped += s.skipped;
  } else failed += 1;
}

console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(exit || (failed > 0 ? 1 : 0));
