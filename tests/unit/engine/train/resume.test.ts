// Resume in the trainer itself (issue 8): a run resumed from its checkpoint continues
// exactly where it was — same weights, same optimizer state (Adam's moments and
// step count), same batch order — so a deterministic model's curve after the
// checkpoint is the curve of the run that never stopped. Both optimizers: the
// fused wasm Adam and tf.train's (cpu backend).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../../../src/engine/backend/select';
import { toy2d } from '../../../../src/engine/data/toy2d';
import { Autoencoder } from '../../../../src/engine/models/latent/autoencoder';
import { DivergedError, train } from '../../../../src/engine/train/trainer';
import type { EngineToHost } from '../../../../src/shared/engine-protocol';
import { collectingContext, tempDir } from '../../../helpers/engine';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function lossOf(messages: EngineToHost[], runId: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const msg of messages) {
    if (msg.type === 'run.metrics' && msg.runId === runId) for (const p of msg.points) if (p.key === 'train/loss') m.set(p.step, p.value);
  }
  return m;
}

const opts = { batchSize: 32, seed: 7, evalEvery: 1000, sampleEvery: 1000, checkpointEvery: 1000, lr: 3e-3 };
const model = () => new Autoencoder({ latentDim: 2, hidden: [16] });

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`resume on ${backend}`, () => {
    it('continues the curve of the run that never stopped, step for step; without the optimizer state it would not', async () => {
      await selectBackend(backend);
      const data = toy2d('moons');
      const dir = tempDir('latentlab-resume-');
      dirs.push(dir);
      const { ctx, messages } = collectingContext(dir);
      // A: 60 steps straight
      const a = await train(ctx, model(), data, { ...opts, steps: 60 });
      // B: the same run, ended at step 30 (its final checkpoint, with the optimizer state beside it)
      const b = await train(ctx, model(), data, { ...opts, steps: 30 });
      expect(fs.existsSync(path.join(dir, b.id, 'checkpoints', 'step-000030.optimizer.json'))).toBe(true);
      // C: B resumed to 60
      const c = await train(ctx, model(), data, { ...opts, steps: 60, resume: b.id });
      expect(c.id).toBe(b.id);
      expect(messages.some((m) => m.type === 'run.resume' && m.runId === b.id && m.step === 30)).toBe(true);
      const la = lossOf(messages, a.id);
      const lb = lossOf(messages, b.id); // B's 1..30 and C's 31..60 (one run id)
      expect([...lb.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
      for (let s = 1; s <= 60; s++) expect(lb.get(s)!, `step ${s}`).toBeCloseTo(la.get(s)!, 5);

      // D: the same, but its optimizer state is lost: the first resumed step already differs
      const d = await train(ctx, model(), data, { ...opts, steps: 30 });
      for (const f of fs.readdirSync(path.join(dir, d.id, 'checkpoints'))) if (f.includes('.optimizer.')) fs.rmSync(path.join(dir, d.id, 'checkpoints', f));
      await train(ctx, model(), data, { ...opts, steps: 60, resume: d.id });
      const ld = lossOf(messages, d.id);
      expect(Math.abs(ld.get(32)! - la.get(32)!)).toBeGreaterThan(1e-4);
    }, 60_000);
  });
}

describe('divergence in the trainer', () => {
  it('a run whose loss becomes NaN ends diverged, names the metric and the step, and writes no checkpoint after it', async () => {
    await selectBackend('cpu');
    const dir = tempDir('latentlab-diverge-');
    dirs.push(dir);
    const { ctx, messages } = collectingContext(dir);
    const data = toy2d('moons');
    const err = await train(ctx, model(), data, { ...opts, steps: 200, checkpointEvery: 5, optimizer: 'sgd', lr: 5 }).catch((e) => e);
    expect(err).toBeInstanceOf(DivergedError);
    const end = messages.find((m) => m.type === 'run.end')!;
    expect(end).toMatchObject({ type: 'run.end', status: 'diverged' });
    const step = (err as DivergedError).step;
    expect((end as { error: string }).error).toContain(`at step ${step}`);
    const ckpts = messages.filter((m) => m.type === 'run.checkpoint').map((m) => (m as { checkpoint: { step: number } }).checkpoint.step);
    expect(ckpts.every((s) => s < step)).toBe(true);
    if (ckpts.length > 0) expect((end as { error: string }).error).toContain(`last good checkpoint is step ${Math.max(...ckpts)}`);
  }, 60_000);
});
