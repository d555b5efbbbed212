// better-sqlite3 built for Electron's ABI, kept apart from the Node build that
// `latentlab serve` and the tests use; the main process loads it through
// better-sqlite3's nativeBinding option (LATENTLAB_SQLITE_BINDING).
const { spawnSync } = require('node:child_process');
const { cpSync, existsSync, mkdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const electronDir = join(root, 'node_modules', 'electron');

/** better-sqlite3 built for Electron's ABI, kept apart from the Node build that serve and the tests use. */
function sqliteForElectron() {
  const version = JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')).version;
  const dir = join(root, '.cache', `electron-${version}`, 'better-sqlite3');
  const binding = join(dir, 'build', 'Release', 'better_sqlite3.node');
  if (existsSync(binding)) return binding;
  process.stderr.write(`Building better-sqlite3 for Electron ${version} (once)…\n`);
  mkdirSync(dir, { recursive: true });
  cpSync(join(root, 'node_modules', 'better-sqlite3'), dir, { recursive: true });
  const r = spawnSync(
    'npx',
    ['--yes', 'node-gyp', 'rebuild', '--release', `--target=${version}`, '--runtime=electron', '--dist-url=https://electronjs.org/headers'],
    { cwd: dir, stdio: 'inherit' },
  );
  if (r.status !== 0 || !existsSync(binding)) throw new Error('could not build better-sqlite3 for Electron');
  return binding;
}

module.exports = { sqliteForElectron };
