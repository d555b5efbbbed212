#!/usr/bin/env node
// npm run gpu-check: packs what a GPU machine needs to run the speed reference set on
// webgpu beside PyTorch, for a machine that has an NVIDIA GPU, its driver (with the
// Vulkan ICD) and PyTorch, but neither Node nor a network:
//
//   .gpu-check/run.sh                      the one command to run there
//   .gpu-check/latentlab-gpu-check.tar.xz  the bench (out/main), the node_modules files it
//                                          loads, this Node binary, dawn.node, and the
//                                          Vulkan loader (libvulkan.so.1 from Debian's
//                                          libvulkan1, where apt-get can fetch it)
//
// On the GPU machine: `sh .gpu-check/run.sh OUT.json [bench options]` unpacks into a
// temporary folder, points the Vulkan loader at the NVIDIA ICD, runs `bench --backends
// webgpu --torch-device auto --no-tracker --json` and writes one JSON file (the bench's rows: samples/s
// on webgpu and on PyTorch CUDA, side by side, with the adapter and the GPU named).
//
//   npm run gpu-check                 pack
//   npm run gpu-check -- --run OUT    pack, then run the check here (any Vulkan: SwiftShader too)
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ensureBuilt } = require('./ensure-built');

const root = path.join(__dirname, '..');
const outDir = path.join(root, '.gpu-check');
const argv = process.argv.slice(2);

/** Every file Node loads for the bench and the webgpu backend (traced, not guessed). */
function tracedModules() {
  const probe = `
    const m = require('node:module');
    const req = m.createRequire(${JSON.stringify(path.join(root, 'out', 'main', 'bench.js'))});
    for (const p of ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'better-sqlite3']) req(p);
    // better-sqlite3 loads its addon on first use
    new (req('better-sqlite3'))(':memory:').close();
    process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;
  const files = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: root, encoding: 'utf8' }));
  return files.filter((f) => f.startsWith(path.join(root, 'node_modules') + path.sep));
}

/** The package.json files above each traced file, up to node_modules (Node reads them to resolve). */
function packageJsons(files) {
  const out = new Set();
  for (const f of files) {
    let dir = path.dirname(f);
    while (dir.startsWith(path.join(root, 'node_modules'))) {
      const pj = path.join(dir, 'package.json');
      if (fs.existsSync(pj)) out.add(pj);
      dir = path.dirname(dir);
    }
  }
  return [...out];
}

function copyInto(stage, abs) {
  const rel = path.relative(root, abs);
  const to = path.join(stage, rel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(abs, to);
}

/** libvulkan.so.1 from Debian's libvulkan1 (apt-get download + dpkg-deb -x), or null with why. */
function vulkanLoader(stage) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'latentlab-vulkan-'));
  try {
    const dl = spawnSync('apt-get', ['download', 'libvulkan1'], { cwd: tmp, encoding: 'utf8' });
    const deb = fs.readdirSync(tmp).find((f) => f.startsWith('libvulkan1_') && f.endsWith('.deb'));
    if (!deb) return `apt-get download libvulkan1 failed: ${(dl.stderr || dl.error?.message || '').trim().split('\n').pop()}`;
    execFileSync('dpkg-deb', ['-x', path.join(tmp, deb), path.join(tmp, 'x')]);
    const lib = path.join(tmp, 'x', 'usr', 'lib', `${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`);
    fs.mkdirSync(path.join(stage, 'lib'), { recursive: true });
    for (const f of fs.readdirSync(lib).filter((n) => n.startsWith('libvulkan.so.1'))) {
      const real = fs.realpathSync(path.join(lib, f));
      fs.copyFileSync(real, path.join(stage, 'lib', 'libvulkan.so.1'));
      break;
    }
    fs.writeFileSync(path.join(stage, 'lib', 'SOURCE'), `${deb} (Debian), extracted with dpkg-deb -x\n`);
    return null;
  } catch (e) {
    return `libvulkan1 not packed: ${e.message.split('\n')[0]}`;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const RUN_SH = `#!/bin/sh
# Latent Lab GPU check: the speed reference set on webgpu beside PyTorch CUDA, one JSON file.
# usage: sh run.sh OUT.json [bench options, e.g. --models mlp-vae,rbm-cd1 --quick]
# Needs: an NVIDIA (or any Vulkan) driver, python3 with torch for the twin; no Node, no network.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=\${1:?usage: sh run.sh OUT.json [bench options]}
shift
work=$(mktemp -d "\${TMPDIR:-/tmp}/latentlab-gpu-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xJf "$here/latentlab-gpu-check.tar.xz" -C "$work"
export LD_LIBRARY_PATH="$work/lib\${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
# the NVIDIA Vulkan driver where the container runtime puts it, unless one is named already
if [ -z "\${VK_DRIVER_FILES:-}" ] && [ -z "\${VK_ICD_FILENAMES:-}" ]; then
  for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$icd" ]; then export VK_DRIVER_FILES="$icd"; break; fi
  done
fi
echo "gpu-check: Vulkan driver \${VK_DRIVER_FILES:-\${VK_ICD_FILENAMES:-the loader's default}}" >&2
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 || true
cd "$work/app"
"$work/node" out/main/bench.js --backends webgpu --torch-device auto --no-tracker --json "$@" > "$out.tmp"
mv "$out.tmp" "$out"
echo "gpu-check: wrote $out" >&2
`;

function pack() {
  ensureBuilt();
  fs.rmSync(outDir, { recursive: true, force: true });
  const stage = path.join(outDir, 'stage');
  const app = path.join(stage, 'app');
  fs.mkdirSync(app, { recursive: true });
  // the bench and its chunks, the PyTorch twin, and package.json (how the bench finds its folder)
  for (const f of fs.readdirSync(path.join(root, 'out', 'main'), { recursive: true })) {
    const abs = path.join(root, 'out', 'main', f);
    if (fs.statSync(abs).isFile() && abs.endsWith('.js')) copyInto(app, abs);
  }
  copyInto(app, path.join(root, 'src', 'bench', 'torch_reference.py'));
  copyInto(app, path.join(root, 'package.json'));
  const modules = tracedModules();
  const { dawnPath } = { dawnPath: () => path.join(path.dirname(require.resolve('webgpu/package.json', { paths: [root] })), 'dist', `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`, 'dawn.node') };
  for (const f of [...modules, ...packageJsons(modules), dawnPath(), require.resolve('webgpu/package.json', { paths: [root] })]) copyInto(app, f);
  fs.copyFileSync(process.execPath, path.join(stage, 'node'));
  fs.chmodSync(path.join(stage, 'node'), 0o755);
  const loader = process.platform === 'linux' ? vulkanLoader(stage) : 'not Linux';
  fs.writeFileSync(path.join(stage, 'MANIFEST'), [
    `Latent Lab GPU check, packed ${new Date().toISOString()}`,
    `node ${process.version} (${process.platform}-${process.arch})`,
    `modules: ${modules.length} files traced from node_modules`,
    `vulkan loader: ${loader ?? 'lib/libvulkan.so.1'}`,
    '',
  ].join('\n'));
  const tarball = path.join(outDir, 'latentlab-gpu-check.tar.xz');
  execFileSync('tar', ['-cf', tarball, '--use-compress-program=xz -T0 -6', '-C', stage, '.'], { stdio: 'inherit' });
  fs.rmSync(stage, { recursive: true, force: true });
  fs.writeFileSync(path.join(outDir, 'run.sh'), RUN_SH, { mode: 0o755 });
  const mb = fs.statSync(tarball).size / 2 ** 20;
  process.stderr.write(`gpu-check: packed ${path.relative(root, tarball)} (${mb.toFixed(1)} MiB; ${modules.length} module files${loader ? `; ${loader}` : ''})\n`);
  process.stderr.write(`gpu-check: on the GPU machine run  sh .gpu-check/run.sh gpu-check.json\n`);
  return mb;
}

if (require.main === module) {
  pack();
  const i = argv.indexOf('--run');
  if (i >= 0) {
    const out = path.resolve(argv[i + 1] ?? 'gpu-check.json');
    const rest = argv.slice(i + 2);
    const r = spawnSync('sh', [path.join(outDir, 'run.sh'), out, ...rest], { stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
}

module.exports = { pack };
