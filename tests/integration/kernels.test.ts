// One kernel per notebook, through the host and a real engine process (out/main/engine.js):
// a notebook's variables are not visible in another's; a notebook's restart clears only
// its own variables (and disposes its tensors); the engine's restart clears every one.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellOutput, KernelState } from '../../src/shared/domain';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { Workspace } from '../../src/main/services/workspace';

const entry = engineEntry();
let dir: string;
let service: LabService;
const states: KernelState[] = [];

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-kernels-'));
  service = new LabService({ workspace: new Workspace(dir), launcher: nodeEngineLauncher(entry), interruptGraceMs: 3000 });
  service.subscribe((event, payload) => {
    if (event === 'kernel.state') states.push(payload as KernelState);
  });
  await service.startEngine();
});
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

const text = (r: { outputs: CellOutput[] }) => r.outputs.map((o) => (o.type === 'text' ? o.text : o.type === 'error' ? `!${o.message}` : '')).join('');
const run = async (nb: string, cellId: string, code: string) => {
  const r = await service.execute(nb, cellId, code);
  return { status: r.status, text: text(r) };
};
const numTensors = async (nb: string) => Number((await run(nb, 'mem', 'tf.memory().numTensors')).text);

const TRAIN = `const data = lab.data.toy2d('8gaussians');
const model = lab.models.realnvp({ couplings: 2, hidden: [16] });
const run = await lab.train(model, data, { steps: 5, batchSize: 64, seed: 1, sampleEvery: 0, evalEvery: 0, checkpointEvery: 0 });
run.steps`;

describe('a kernel per notebook (real engine process)', () => {
  it("a variable defined by one notebook's cell is not visible in another notebook's cell, and is in its own", async () => {
    expect(service.kernelState('vae.ipynb')).toMatchObject({ status: 'not started', executionCount: 0, variables: [] });
    expect((await run('vae.ipynb', 'c1', 'const latentDim = 8;\nconst secret = { model: "vae" };')).status).toBe('ok');
    const other = await run('gan-lab.ipynb', 'c1', 'typeof latentDim + "/" + typeof secret');
    expect(other).toEqual({ status: 'ok', text: 'undefined/undefined' });
    const read = await run('gan-lab.ipynb', 'c2', 'secret.model');
    expect(read.status).toBe('error');
    expect(read.text).toMatch(/secret is not defined/);
    expect(await run('vae.ipynb', 'c2', 'secret.model + " " + latentDim')).toEqual({ status: 'ok', text: 'vae 8' });
    // each kernel's state: its own count and variables
    expect(service.kernelState('vae.ipynb')).toMatchObject({ status: 'idle', executionCount: 2, variables: ['latentDim', 'secret'] });
    expect(service.kernelState('gan-lab.ipynb')).toMatchObject({ status: 'idle', executionCount: 2, variables: [] });
    expect(states.some((s) => s.notebook === 'vae.ipynb' && s.status === 'busy')).toBe(true);
  });

  it("a notebook's restart clears its variables and disposes its tensors; the other notebook keeps its own", async () => {
    expect((await run('gan-lab.ipynb', 't', TRAIN)).status).toBe('ok');
    expect((await run('gan-lab.ipynb', 'keep', 'const kept = tf.ones([3]);')).status).toBe('ok');
    const baseline = await numTensors('gan-lab.ipynb');
    expect((await run('vae.ipynb', 't', `${TRAIN}\nconst w = tf.variable(tf.zeros([4]));`)).status).toBe('ok');
    expect(await numTensors('gan-lab.ipynb')).toBeGreaterThan(baseline);

    const r = await service.restartNotebook('vae.ipynb');
    expect(r?.numTensors).toBe(baseline); // no tensor of vae's is left behind
    expect(r?.disposedTensors).toBeGreaterThan(2);
    expect(service.kernelState('vae.ipynb')).toMatchObject({ status: 'not started', executionCount: 0, variables: [] });
    expect(await run('vae.ipynb', 'c3', 'typeof secret + "/" + typeof model')).toEqual({ status: 'ok', text: 'undefined/undefined' });
    // gan-lab's variables and tensors are as they were
    expect(await run('gan-lab.ipynb', 'c3', '(await kept.data()).join(",") + " " + run.steps')).toEqual({ status: 'ok', text: '1,1,1 5' });
    expect(service.kernelState('gan-lab.ipynb').variables).toEqual(expect.arrayContaining(['data', 'model', 'run', 'kept']));
  }, 60_000);

  it("the engine's restart clears every notebook's variables", async () => {
    expect((await run('vae.ipynb', 'c4', 'const again = 1;')).status).toBe('ok');
    await service.restart();
    expect(service.kernelStates()).toEqual([]);
    expect(await run('gan-lab.ipynb', 'c4', 'typeof kept')).toEqual({ status: 'ok', text: 'undefined' });
    expect(await run('vae.ipynb', 'c5', 'typeof again')).toEqual({ status: 'ok', text: 'undefined' });
  });

  it("Stop in one notebook does not stop another notebook's cell; restarting a busy notebook stops its cell first", async () => {
    const busy = service.execute('gan-lab.ipynb', 'loop', 'const t0 = Date.now();\nwhile (Date.now() - t0 < 1500) await new Promise((r) => setTimeout(r, 20));\n"done"');
    await new Promise((r) => setTimeout(r, 300));
    expect(service.kernelState('gan-lab.ipynb').status).toBe('busy');
    const queued = service.execute('vae.ipynb', 'q', '"vae ran"');
    await new Promise((r) => setTimeout(r, 50));
    expect(service.kernelState('vae.ipynb').status).toBe('queued');
    await service.interrupt('vae.ipynb'); // vae's waiting cell does not run; gan-lab's goes on
    expect((await queued).status).toBe('interrupted');
    expect(await busy).toMatchObject({ status: 'ok' });
    const forever = service.execute('gan-lab.ipynb', 'loop2', 'const q = 1;\nawait new Promise((r) => setTimeout(r, 60_000));');
    await new Promise((r) => setTimeout(r, 300));
    await service.restartNotebook('gan-lab.ipynb');
    expect((await forever).status).toBe('interrupted');
    expect(service.kernelState('gan-lab.ipynb')).toMatchObject({ status: 'not started', variables: [] });
    expect(await run('gan-lab.ipynb', 'c6', 'typeof q')).toEqual({ status: 'ok', text: 'undefined' });
  }, 30_000);

  it("a renamed notebook keeps its kernel under the new name; a deleted notebook's kernel is dropped with its tensors", async () => {
    const h = service.handlers();
    const { path: a } = await h['notebook.create']({ name: 'mine.ipynb' });
    expect((await run(a, 'c1', 'const kept = tf.ones([4]);\nconst n = 7;')).status).toBe('ok');
    const { path: b } = await h['notebook.rename']({ path: a, name: 'renamed.ipynb' });
    expect(b).toBe('renamed.ipynb');
    expect(service.kernelState(a)).toMatchObject({ status: 'not started', variables: [] });
    expect(service.kernelState(b).variables).toEqual(expect.arrayContaining(['kept', 'n']));
    expect(await run(b, 'c2', 'n + (await kept.data()).length')).toEqual({ status: 'ok', text: '11' });
    const before = await numTensors(b);
    await h['notebook.delete']({ path: b });
    expect(service.kernelState(b)).toMatchObject({ status: 'not started', variables: [] });
    // the deleted notebook's tensor is gone; another notebook's count shows it
    expect(await numTensors('vae.ipynb')).toBe(before - 1);
  }, 30_000);
});
