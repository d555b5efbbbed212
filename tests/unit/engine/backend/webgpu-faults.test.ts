// What a GPU brings besides speed: allocations it refuses and a device that goes away.
// On the adapter Dawn finds (SwiftShader in CI); skipped, with the reason, where none.
// The last test destroys the device: it stays last, in a file of its own.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { gpuFault, probeWebgpu } from '../../../../src/engine/backend/webgpu';
import type { EngineContext } from '../../../../src/engine/context';
import { createLab } from '../../../../src/engine/lab/lab';
import type { EngineToHost } from '../../../../src/shared/engine-protocol';
import { skipWhen } from '../../../helpers/skip';

let unavailable: string | null = null;
const dir = mkdtempSync(join(tmpdir(), 'latentlab-gpu-faults-'));

beforeAll(async () => {
  unavailable = (await probeWebgpu()).reason;
  if (!unavailable) {
    const sel = await selectBackend('webgpu');
    expect(sel.backend).toBe('webgpu');
    expect(sel.label).toMatch(/^webgpu · /);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const need = (ctx: TestContext) => skipWhen(ctx, unavailable ? `no WebGPU adapter: ${unavailable}` : null);

describe('webgpu faults', () => {
  it('a tensor over the device\'s buffer limit fails where it is made, with its size, and the backend goes on', async (ctx) => {
    need(ctx);
    // 2^30 floats = 4 GiB: over any device's limit per buffer (SwiftShader: 1 GiB)
    expect(() => tf.fill([1 << 30], 1)).toThrow(/out of GPU memory: a 4\.00 GiB buffer is over this device's .* limit per buffer/);
    const ok = tf.add(tf.ones([1000]), 1);
    expect(Array.from((await ok.data()).slice(0, 3))).toEqual([2, 2, 2]);
    ok.dispose();
    expect(gpuFault()).toBeNull();
  });

  it('a device lost mid-run crashes the run with the reason; its last checkpoint stays', async (ctx) => {
    need(ctx);
    const sent: EngineToHost[] = [];
    const ectx: EngineContext = { send: (m) => sent.push(m), artifactsDir: () => dir, exec: () => null };
    const lab = createLab(ectx);
    const data = lab.data.toy2d('8gaussians', { n: 512 });
    const model = lab.models.gan({ latentDim: 2, hidden: [16] });
    const device = (tf.backend() as unknown as { device: { destroy(): void } }).device;
    const failure = await lab
      .train(model, data, {
        steps: 12,
        batchSize: 64,
        checkpointEvery: 4,
        sampleEvery: 1000,
        evalEvery: 1000,
        // a driver reset, as the engine sees one: the device is gone after step 6
        onStep: (step) => {
          if (step === 6) device.destroy();
        },
      })
      .then(() => null, (e: unknown) => e as Error);
    expect(failure?.message).toMatch(/^GPU device lost/);
    const end = sent.find((m) => m.type === 'run.end') as Extract<EngineToHost, { type: 'run.end' }>;
    expect(end.status).toBe('crashed');
    expect(end.error).toMatch(/GPU device lost/);
    // step 4's checkpoint was written before the loss; no later one
    const ckpts = sent.filter((m) => m.type === 'run.checkpoint').map((m) => (m as Extract<EngineToHost, { type: 'run.checkpoint' }>).checkpoint.step);
    expect(ckpts).toEqual([4]);
    const runDir = join(dir, end.runId, 'checkpoints');
    expect(readdirSync(runDir).filter((f) => f.endsWith('.json') && !f.includes('optimizer'))).toEqual(['step-000004.json']);
  });
});
