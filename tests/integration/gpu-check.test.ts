// npm run gpu-check: the pack runs on a machine without Node. Here it is packed, then run
// with a PATH that holds no node (only the shell tools run.sh uses) on the Vulkan driver the
// tests use (SwiftShader in CI), for one reference model; its JSON names the adapter.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeWebgpu } from '../../src/engine/backend/webgpu';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const dir = mkdtempSync(join(tmpdir(), 'latentlab-gpu-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let unavailable: string | null = null;
beforeAll(async () => {
  unavailable = (await probeWebgpu()).reason;
});

/** a PATH with the shell tools run.sh needs and nothing else (no node, no python) */
function bareBin(): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const tool of ['sh', 'tar', 'xz', 'mktemp', 'dirname', 'rm', 'mv', 'cat']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    if (found) symlinkSync(found, join(bin, tool));
  }
  return bin;
}

describe('npm run gpu-check', () => {
  it('packs the bench with Node, dawn.node and the Vulkan loader, and runs where there is no Node', (ctx) => {
    skipWhen(ctx, unavailable ? `no WebGPU adapter: ${unavailable}` : null);
    const pack = spawnSync(process.execPath, [join(root, 'scripts', 'gpu-check.js')], { cwd: root, encoding: 'utf8', timeout: 600_000 });
    expect(pack.status, pack.stderr).toBe(0);
    const tarball = join(root, '.gpu-check', 'latentlab-gpu-check.tar.xz');
    // what travels to a GPU machine must fit in 64 MiB
    expect(statSync(tarball).size).toBeLessThan(64 * 2 ** 20);
    const list = spawnSync('tar', ['-tJf', tarball], { encoding: 'utf8', maxBuffer: 1 << 24 }).stdout;
    expect(list).toMatch(/^\.\/node$/m);
    expect(list).toMatch(/dawn\.node$/m);
    expect(list).toMatch(/app\/out\/main\/bench\.js$/m);

    const out = join(dir, 'gpu-check.json');
    const env: NodeJS.ProcessEnv = { PATH: bareBin(), HOME: dir, TMPDIR: dir };
    // the Vulkan driver the tests found (run.sh would pick NVIDIA's where it is installed)
    for (const k of ['VK_DRIVER_FILES', 'VK_ICD_FILENAMES', 'LD_LIBRARY_PATH'] as const) if (process.env[k]) env[k] = process.env[k];
    const run = spawnSync('sh', [join(root, '.gpu-check', 'run.sh'), out, '--models', 'rbm-cd1', '--quick'], { env, encoding: 'utf8', timeout: 600_000 });
    expect(run.status, run.stderr.slice(-3000)).toBe(0);
    expect(existsSync(out)).toBe(true);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { rows: { model: string; backend: string; samples_per_s: number | null }[]; webgpu: { label: string } | string };
    expect(result.rows).toHaveLength(1);
    expect(result.rows[0].model).toBe('rbm-cd1');
    expect(result.rows[0].backend).toMatch(/^webgpu · ./);
    expect(result.rows[0].samples_per_s).toBeGreaterThan(0);
    expect(typeof result.webgpu === 'object' && result.webgpu.label.length > 0).toBe(true);
  }, 900_000);
});
