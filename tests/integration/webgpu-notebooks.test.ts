// The example notebooks with the backend forced to webgpu, through `latentlab run` and a
// real engine process, on whatever adapter Dawn finds (SwiftShader in CI: a CPU Vulkan, so
// a few steps each). Each must run every cell (training, evaluation, samples, views) with
// no synchronous read and record its runs as webgpu's, adapter named. Also: a machine
// without a Vulkan driver falls back to the CPU and says why in one line.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeWebgpu } from '../../src/engine/backend/webgpu';
import { root } from '../helpers/paths';
import { skipWhen } from '../helpers/skip';

const dir = mkdtempSync(join(tmpdir(), 'latentlab-webgpu-nb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let unavailable: string | null = null;
beforeAll(async () => {
  unavailable = (await probeWebgpu()).reason;
});

const cli = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [join(root, 'bin', 'latentlab.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 600_000, env });

/**
 * The notebooks run here, each in seconds to a minute on SwiftShader (a CPU Vulkan): a
 * GAN and a GMMN (adversarial), IAF (a flow with MADE layers), a Boltzmann machine
 * (energy, exact), an autoencoder beside a VAE (latent variables), a GMM and naive Bayes
 * (classical), the ML basics. Left out, because on a software GPU they take many minutes:
 * the autoregressive models and the diffusion notebooks sample with one GPU round trip per
 * position or per denoising step (784 for an image, 1,000 for DDPM); RealNVP, Glow, PCA,
 * DCGAN, WGAN-GP, the RBM/DBN/DBM (AIS) and the VAEs (IWAE-500) evaluate at sizes a CPU
 * Vulkan needs minutes for.
 * Their layers and a training step of the bench's reference models (PixelCNN, conv VAE,
 * DCGAN, RealNVP, RBM) are compared with the cpu backend in webgpu-parity.test.ts.
 */
const NOTEBOOKS: [string, number][] = [
  ['gan-toy2d', 3],
  ['gmmn', 2],
  ['iaf', 2],
  ['boltzmann', 3],
  ['autoencoder', 2],
  ['gmm', 3],
  ['naive-bayes', 3],
  ['ml-basics', 3],
];

describe('example notebooks on webgpu', () => {
  it.for(NOTEBOOKS)('%s.ipynb runs every cell on webgpu', { timeout: 600_000 }, ([name, steps], ctx) => {
    skipWhen(ctx, unavailable ? `no WebGPU adapter: ${unavailable}` : null);
    copyFileSync(join(root, 'resources', 'notebooks', `${name}.ipynb`), join(dir, `${name}.ipynb`));
    const r = cli(['run', join(dir, `${name}.ipynb`), '-p', 'steps', String(steps), '--backend', 'webgpu', '--json']);
    expect(r.status, r.stderr.slice(-3000) + r.stdout.slice(-2000)).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as { status: string; runs: { backend: string; status: string }[] };
    expect(out.status).toBe('ok');
    for (const run of out.runs) {
      expect(run.backend).toMatch(/^webgpu · ./);
      expect(run.status).toBe('finished');
    }
  });
});

describe('without a Vulkan driver', () => {
  it('--backend webgpu falls back to the CPU and says why in one line', () => {
    const nb = join(dir, 'tiny.ipynb');
    writeFileSync(nb, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: 'code', id: 'c1', metadata: {}, source: 'lab.backend()', outputs: [], execution_count: null }] }));
    const env = { ...process.env, VK_ICD_FILENAMES: join(dir, 'no-such-icd.json'), VK_DRIVER_FILES: join(dir, 'no-such-icd.json') };
    const r = cli(['run', nb, '--backend', 'webgpu'], env);
    expect(r.status, r.stderr).toBe(0);
    const line = r.stderr.split('\n').find((l) => l.startsWith('engine backend: '))!;
    expect(line).toMatch(/^engine backend: (wasm|cpu|tensorflow)/);
    // where the loader itself is missing the line says that instead
    expect(line).toMatch(/webgpu: no Vulkan (driver found \(.*no-such-icd\.json does not exist\)|loader)/);
    expect(line).toContain("preferred backend 'webgpu' is not available");
  });
});
