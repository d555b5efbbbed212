import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/engine/engine';
import { EngineToHost } from '../../../src/shared/engine-protocol';
import { tempDir } from '../../helpers/engine';

function harness() {
  const workspace = tempDir('latentlab-ws-');
  const artifactsDir = path.join(workspace, '.latentlab', 'artifacts');
  const messages: EngineToHost[] = [];
  const waiters: { pred: (m: EngineToHost) => boolean; resolve: (m: EngineToHost) => void }[] = [];
  const engine = startEngine((m) => {
    // every message the engine sends must satisfy the protocol schema
    const parsed = EngineToHost.parse(m);
    messages.push(parsed);
    for (const w of waiters.splice(0)) {
      if (w.pred(parsed)) w.resolve(parsed);
      else waiters.push(w);
    }
  });
  const waitFor = (pred: (m: EngineToHost) => boolean) =>
    new Promise<EngineToHost>((resolve) => {
      const hit = messages.find(pred);
      if (hit) resolve(hit);
      else waiters.push({ pred, resolve });
    });
  const of = <T extends EngineToHost['type']>(type: T) => messages.filter((m): m is Extract<EngineToHost, { type: T }> => m.type === type);
  return { engine, messages, waitFor, of, workspace, artifactsDir };
}

describe('engine protocol (in-process)', () => {
  it('init → ready, a training cell streams a run, malformed messages are ignored', async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: 'wasm' });
    const ready = h.of('ready')[0];
    expect(ready.backend).toBe('wasm');
    expect(ready.available).toContain('wasm');
    expect(ready.available).toContain('cpu');
    expect(ready.detail).toMatch(/wasm/);

    // malformed messages: logged, ignored, no crash
    await h.engine.handle({ type: 'execute', execId: 42 });
    await h.engine.handle('garbage');
    await h.engine.handle(null);
    expect(h.of('log').filter((l) => l.level === 'warn').length).toBe(3);

    const code = [
      'const data = lab.data.mnist({ binarize: true, limit: 500 });',
      'const model = lab.models.vae({ latentDim: 4, hidden: [32] });',
      'const run = await lab.train(model, data, { steps: 30, batchSize: 32, sampleEvery: 15, evalEvery: 10, checkpointEvery: 20, name: "tiny" });',
      'console.log("finished", run.steps);',
      'lab.show(run.samples(16));',
      'run.metrics["val/elbo"] < 0',
    ].join('\n');
    await h.engine.handle({ type: 'execute', execId: 'e1', notebook: 'nb.ipynb', cellId: 'cell-a', code });
    await h.engine.whenIdle();

    const done = h.of('done').find((d) => d.execId === 'e1');
    expect(done?.status).toBe('ok');
    const start = h.of('run.start')[0];
    expect(start.run).toMatchObject({ name: 'tiny', family: 'vae', cell: 'cell-a', notebook: 'nb.ipynb', code, status: 'running', totalSteps: 30, backend: 'wasm', seed: 1, dataName: 'mnist' });
    const runId = start.run.id;
    expect(runId).toMatch(/^r-\d{8}-\d{6}-[0-9a-f]{4}$/);
    const metricPoints = h.of('run.metrics').flatMap((m) => m.points);
    expect(metricPoints.filter((p) => p.key === 'train/loss')).toHaveLength(30);
    expect(metricPoints.some((p) => p.key === 'val/elbo')).toBe(true);

    const samples = h.of('run.artifact').filter((a) => a.artifact.kind === 'samples');
    // a first grid before any step (the live view shows samples from the start), then every sampleEvery
    expect(samples.map((s) => s.artifact.step)).toEqual([0, 15, 30]);
    expect(samples[1].artifact.path).toBe(`${runId}/samples/step-000015.png`);
    expect(samples[1].artifact.seed).toBe(1234);
    const png = fs.readFileSync(path.join(h.artifactsDir, samples[1].artifact.path));
    expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

    const ckpts = h.of('run.checkpoint').map((c) => c.checkpoint);
    expect(ckpts.some((c) => c.reason === 'periodic' && c.step === 20)).toBe(true);
    expect(ckpts.some((c) => c.reason === 'best' && c.metricKey === 'val/elbo')).toBe(true);
    const final = ckpts.find((c) => c.reason === 'final');
    expect(final?.step).toBe(30);
    expect(fs.existsSync(path.join(h.artifactsDir, final!.path))).toBe(true);

    expect(h.of('run.end')[0]).toMatchObject({ runId, status: 'finished', steps: 30, error: null });

    const outputs = h.of('output').filter((o) => o.execId === 'e1').map((o) => o.output);
    expect(outputs[0]).toEqual({ type: 'run', runId });
    expect(outputs).toContainEqual({ type: 'text', text: 'finished 30\n' });
    const image = outputs.find((o) => o.type === 'image');
    expect(image && image.type === 'image' && fs.existsSync(path.join(h.artifactsDir, image.path))).toBe(true);
    expect(outputs[outputs.length - 1]).toEqual({ type: 'text', text: 'true' });
  });

  it('interrupt stops a long run ("stopped") and the cell ("interrupted"); the next cell still runs', async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: null });
    const code = [
      'const data = lab.data.toy2d("moons", { n: 2000 });',
      'const run = await lab.train(lab.models.vae({ latentDim: 2, hidden: [16] }), data, { steps: 100000, batchSize: 32 });',
      'console.log("after training");',
    ].join('\n');
    await h.engine.handle({ type: 'execute', execId: 'long', notebook: '', cellId: 'c1', code });
    await h.engine.handle({ type: 'execute', execId: 'queued', notebook: '', cellId: 'c2', code: '1' });
    await h.waitFor((m) => m.type === 'run.metrics' && m.steps >= 5);
    await h.engine.handle({ type: 'interrupt' });
    await h.engine.whenIdle();

    const end = h.of('run.end')[0];
    expect(end.status).toBe('stopped');
    expect(end.steps).toBeGreaterThan(0);
    expect(end.steps).toBeLessThan(100000);
    expect(h.of('done').find((d) => d.execId === 'long')?.status).toBe('interrupted');
    expect(h.of('done').find((d) => d.execId === 'queued')?.status).toBe('interrupted');
    const texts = h.of('output').map((o) => o.output).filter((o) => o.type === 'text');
    expect(texts.some((t) => t.type === 'text' && t.text.includes('after training'))).toBe(false);
    const err = h.of('output').map((o) => o.output).find((o) => o.type === 'error');
    expect(err && err.type === 'error' && err.name === 'Interrupted' && err.line === 2).toBe(true);

    await h.engine.handle({ type: 'execute', execId: 'next', notebook: '', cellId: 'c3', code: 'data.train.n' });
    await h.engine.whenIdle();
    expect(h.of('done').find((d) => d.execId === 'next')?.status).toBe('ok');
    expect(h.of('output').find((o) => o.execId === 'next')?.output).toEqual({ type: 'text', text: '1600' });
  });

  it('a diverging run ends diverged with a clear error and the cell reports it', async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: 'wasm' });
    const code = [
      'const d = lab.data.toy2d("8gaussians", { n: 500 });',
      'await lab.train(lab.models.gan({ hidden: [8] }), d, { steps: 50, lr: 1e12, optimizer: "sgd" });',
    ].join('\n');
    await h.engine.handle({ type: 'execute', execId: 'x', notebook: '', cellId: 'c', code });
    await h.engine.whenIdle();
    const end = h.of('run.end')[0];
    expect(end.status).toBe('diverged');
    expect(end.error).toMatch(/training diverged: .+ became (NaN|-?Infinity) at step \d+/);
    expect(h.of('done')[0].status).toBe('error');
    const err = h.of('output').map((o) => o.output).find((o) => o.type === 'error');
    expect(err && err.type === 'error' && err.line).toBe(2);
  });
});
