// Builds the engine's native kernels (native/, a Node-API addon) with the
// node-gyp that ships with npm. Runs at `npm install` (postinstall). A failed
// build is not an error: the engine then uses its wasm kernels, and says so.
const { spawnSync } = require('node:child_process');
const { existsSync, realpathSync } = require('node:fs');
const { dirname, join } = require('node:path');

const root = join(__dirname, '..');
const dir = join(root, 'native');

function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) return process.env.npm_config_node_gyp;
  const npmCli = process.env.npm_execpath || (() => {
    const r = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' });
    return r.status === 0 ? realpathSync(r.stdout.trim()) : '';
  })();
  const guess = npmCli && join(dirname(dirname(npmCli)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  return guess && existsSync(guess) ? guess : null;
}

function build() {
  if (process.env.LATENTLAB_SKIP_NATIVE === '1') return 'skipped (LATENTLAB_SKIP_NATIVE=1)';
  const gyp = nodeGyp();
  if (!gyp) return 'node-gyp not found';
  const args = [gyp, 'rebuild', '--release'];
  // Node's own headers when they are installed beside it (no download needed)
  const prefix = dirname(dirname(process.execPath));
  if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);
  const r = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) return `build failed: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`;
  return null;
}

const problem = build();
if (problem) process.stderr.write(`latentlab: native kernels not built (${problem}); training will use the wasm kernels\n`);
else process.stderr.write('latentlab: native kernels built\n');
