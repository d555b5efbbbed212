// One kernel per notebook inside one engine (in-process): variables do not cross notebooks,
// a notebook's restart disposes the tensors its cells made and nothing else, and what a
// cell's value shows.
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startEngine } from '../../../src/engine/engine';
import { displayText } from '../../../src/engine/lab/lab';
import { EngineToHost } from '../../../src/shared/engine-protocol';
import type { CellOutput } from '../../../src/shared/domain';
import { tempDir } from '../../helpers/engine';

function harness() {
  const workspace = tempDir('latentlab-ws-');
  const messages: EngineToHost[] = [];
  const engine = startEngine((m) => messages.push(EngineToHost.parse(m)));
  let seq = 0;
  /** runs a cell of `notebook`; its status, outputs, text and the kernel's variables after it */
  const exec = async (notebook: string, code: string) => {
    const execId = `e${++seq}`;
    await engine.handle({ type: 'execute', execId, notebook, cellId: `c${seq}`, code });
    await engine.whenIdle();
    const outputs = messages.filter((m): m is Extract<EngineToHost, { type: 'output' }> => m.type === 'output' && m.execId === execId).map((m) => m.output);
    const done = messages.find((m): m is Extract<EngineToHost, { type: 'done' }> => m.type === 'done' && m.execId === execId)!;
    const text = outputs.filter((o): o is Extract<CellOutput, { type: 'text' }> => o.type === 'text').map((o) => o.text).join('');
    return { status: done.status, variables: done.variables ?? [], outputs, text };
  };
  const reset = async (notebook: string) => {
    const before = messages.length;
    await engine.handle({ type: 'kernel.reset', notebook });
    return messages.slice(before).find((m): m is Extract<EngineToHost, { type: 'kernel.reset' }> => m.type === 'kernel.reset' && m.notebook === notebook)!;
  };
  const numTensors = async (notebook: string) => Number((await exec(notebook, 'tf.memory().numTensors')).text);
  return { engine, exec, reset, numTensors, artifactsDir: path.join(workspace, '.latentlab', 'artifacts'), workspace };
}

const TRAIN = (steps: number) => `
const data = lab.data.toy2d('8gaussians');
const model = lab.models.realnvp({ couplings: 2, hidden: [16] });
const run = await lab.train(model, data, { steps: ${steps}, batchSize: 64, seed: 1, sampleEvery: 0, evalEvery: 0, checkpointEvery: 0 });
run.steps`;

describe('kernels: one per notebook in the engine', () => {
  it("a notebook's variables are not another's; each keeps its own", async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: 'wasm' });
    const a = await h.exec('a.ipynb', 'const secret = 41;\nfunction helper() { return secret + 1 }');
    expect(a.variables.sort()).toEqual(['helper', 'secret']);
    const b = await h.exec('b.ipynb', 'typeof secret + " " + typeof helper');
    expect(b.text).toBe('undefined undefined');
    expect(b.variables).toEqual([]);
    // the same name in two notebooks: two variables
    await h.exec('b.ipynb', 'const secret = "b\'s own";');
    expect((await h.exec('a.ipynb', 'helper()')).text).toBe('42');
    expect((await h.exec('b.ipynb', 'secret')).text).toBe("b's own");
    // each notebook has its own lab: a sweep in one does not nest into another's
    expect((await h.exec('a.ipynb', 'lab === globalThis.lab')).text).toBe('true');
  });

  it("a notebook's restart drops its variables and disposes its tensors, leaving the other notebook's", async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: 'wasm' });
    // notebook b trains first: whatever the engine keeps after a first training exists before the baseline
    const first = await h.exec('b.ipynb', TRAIN(3));
    expect(first.outputs.filter((o) => o.type === 'error')).toEqual([]);
    const mine = await h.exec('b.ipynb', 'const mine = tf.ones([2, 2]);');
    expect(mine.status).toBe('ok');
    const baseline = await h.numTensors('b.ipynb');

    const a = await h.exec('a.ipynb', `${TRAIN(5)}\nconst w = tf.variable(tf.zeros([3])), t = tf.randomNormal([4, 4]);\nconst leaked = [tf.ones([5]), tf.ones([6])];`);
    expect(a.status).toBe('ok');
    const grown = await h.numTensors('b.ipynb');
    expect(grown).toBeGreaterThan(baseline + 4); // the model's weights, w, t and the two leaked

    const r = await h.reset('a.ipynb');
    expect(r.disposedTensors).toBe(grown - baseline);
    expect(r.numTensors).toBe(baseline);
    expect(await h.numTensors('b.ipynb')).toBe(baseline);
    // a's variables are gone; a starts afresh
    expect((await h.exec('a.ipynb', 'typeof model + " " + typeof w')).text).toBe('undefined undefined');
    // b's model and tensors were not touched: b still samples and reads its tensor
    expect((await h.exec('b.ipynb', '(await mine.data())[3]')).text).toBe('1');
    const again = await h.exec('b.ipynb', 'const s = await run.samples(8); typeof s');
    expect(again.status).toBe('ok');
    // and training in a again works (no shared state was disposed with a)
    expect((await h.exec('a.ipynb', TRAIN(3))).status).toBe('ok');
  }, 60_000);
});

describe('what a cell shows for its value', () => {
  it("a view's result is not shown again (the view drew it); a large value is shown in short", async () => {
    const h = harness();
    await h.engine.handle({ type: 'init', workspace: h.workspace, artifactsDir: h.artifactsDir, backend: 'wasm' });
    const view = await h.exec('v.ipynb', 'await lab.views.capacity({ units: 16, counts: [1, 2], flip: 0.1, trials: 1, seed: 1 })');
    expect(view.status).toBe('ok');
    expect(view.outputs.some((o) => o.type === 'plot')).toBe(true);
    expect(view.outputs.filter((o) => o.type === 'text')).toEqual([]);
    // the same result kept and asked for by name is still data: small, so shown in full
    const kept = await h.exec('v.ipynb', 'const cap = await lab.views.capacity({ units: 16, counts: [1, 2], flip: 0.1, trials: 1, seed: 1 });\n({ ...cap })');
    expect(kept.text.length).toBeGreaterThan(0);
    const big = await h.exec('v.ipynb', 'Array.from({ length: 2000 }, (_, i) => ({ step: i, points: [i, i * 2, i * 3] }))');
    const lines = big.text.split('\n');
    expect(lines.length).toBeLessThanOrEqual(32);
    expect(big.text).toMatch(/shown in short/);
    expect(big.text).toMatch(/1992 more items/);
  });

  it('displayText: short values as before, long ones summarized', () => {
    expect(displayText({ a: 1, b: [1, 2] })).toBe(JSON.stringify({ a: 1, b: [1, 2] }, null, 2));
    expect(displayText('x'.repeat(10_000))).toBe('x'.repeat(10_000)); // a string the cell made is its text
    const frames = { labels: Array.from({ length: 9 }, (_, k) => `frame ${k}`), points: Array.from({ length: 9 }, () => Array.from({ length: 512 }, (_, i) => [i / 512, Math.sin(i)])) };
    const t = displayText(frames);
    expect(t.split('\n').length).toBeLessThanOrEqual(32);
    expect(t).toMatch(/labels: \[\s+'frame 0'/);
    expect(t).toMatch(/more item/);
    expect(t).toMatch(/shown in short: [\d,]+ characters in full/);
  });
});
