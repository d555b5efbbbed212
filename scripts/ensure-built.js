// Builds out/ with electron-vite when it is missing or older than the sources,
// so `npx latentlab` and `npm start` work straight after `npm install`.
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const outputs = ['out/main/cli.js', 'out/main/engine.js', 'out/main/bench.js', 'out/main/bench-compare.js', 'out/main/index.js', 'out/preload/index.js', 'out/renderer/index.html'].map((p) => join(root, p));

function newest(dir) {
  let t = 0;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    t = Math.max(t, st.isDirectory() ? newest(p) : st.mtimeMs);
  }
  return t;
}

function ensureBuilt({ quiet = false } = {}) {
  const missing = outputs.some((p) => !existsSync(p));
  const stale = !missing && newest(join(root, 'src')) > Math.min(...outputs.map((p) => statSync(p).mtimeMs));
  if (!missing && !stale) return;
  if (!quiet) process.stderr.write(`Building Latent Lab (${missing ? 'first run' : 'sources changed'})…\n`);
  execFileSync(process.execPath, [join(root, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], {
    cwd: root,
    stdio: quiet ? 'ignore' : ['ignore', 'ignore', 'inherit'],
  });
}

module.exports = { ensureBuilt };
if (require.main === module) ensureBuilt();
