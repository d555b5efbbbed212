// `npm start`: the desktop window when Electron's binary and a display are
// there; otherwise one line saying why, and the browser host instead.
const { spawn, spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const { ensureBuilt } = require('./ensure-built.js');
const { sqliteForElectron } = require('./electron-native.js');

const root = join(__dirname, '..');
const electronDir = join(root, 'node_modules', 'electron');

function electronBinary() {
  const pathFile = join(electronDir, 'path.txt');
  if (!existsSync(pathFile)) {
    // electron 45 fetches its binary on first launch; give it one try
    const r = spawnSync(process.execPath, [join(electronDir, 'install.js')], { stdio: 'ignore', timeout: 300_000 });
    if (r.status !== 0 || !existsSync(pathFile)) return { error: 'its download failed (no network to the Electron release host?)' };
  }
  const bin = join(electronDir, 'dist', readFileSync(pathFile, 'utf8').trim());
  if (!existsSync(bin)) return { error: `${bin} is missing` };
  return { bin };
}

function serveInstead(reason) {
  process.stderr.write(`Latent Lab: cannot open the desktop window (${reason}); starting the browser host instead.\n`);
  const child = spawn(process.execPath, [join(root, 'bin', 'latentlab.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
  child.on('exit', (code) => process.exit(code ?? 0));
}

ensureBuilt();
if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  serveInstead('no display: DISPLAY is not set');
} else {
  const e = electronBinary();
  if (e.error) serveInstead(`Electron's binary is not available: ${e.error}`);
  else {
    let binding;
    try {
      binding = sqliteForElectron();
    } catch (err) {
      serveInstead(err.message);
      return;
    }
    const child = spawn(e.bin, [root, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, LATENTLAB_SQLITE_BINDING: binding },
    });
    child.on('exit', (code) => process.exit(code ?? 0));
  }
}
