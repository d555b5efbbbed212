// Bad input to lab.* gets a clear error, in a real engine process: an unknown
// option names the nearest known one and the list, a wrong enum value lists the
// allowed values, a wrong kind of value names the kind wanted; and an error in a
// cell points at the cell's own line (nested functions, awaited promises, a lab
// call with bad options, syntax errors). The option table itself:
// tests/unit/engine/lab/options.test.ts.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CellOutput } from '../../src/shared/domain';
import { nodeEngineLauncher } from '../../src/main/host/node-engine';
import { LabService } from '../../src/main/services/lab-service';
import { engineEntry } from '../../src/main/services/paths';
import { TrustStore } from '../../src/main/services/trust';
import { Workspace } from '../../src/main/services/workspace';

const entry = engineEntry();
let dir: string;
let service: LabService;

beforeAll(async () => {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first (npm test does)`);
  dir = mkdtempSync(join(tmpdir(), 'latentlab-opts-'));
  service = new LabService({ workspace: new Workspace(dir, { trust: new TrustStore(join(dir, 'config')) }), launcher: nodeEngineLauncher(entry) });
  await service.startEngine();
}, 120_000);
afterAll(async () => {
  await service?.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
async function cell(code: string): Promise<{ status: string; error?: Extract<CellOutput, { type: 'error' }>; text: string }> {
  const r = await service.execute('options.ipynb', `c${++n}`, code);
  const error = r.outputs.find((o): o is Extract<CellOutput, { type: 'error' }> => o.type === 'error');
  const text = r.outputs.filter((o): o is Extract<CellOutput, { type: 'text' }> => o.type === 'text').map((o) => o.text).join('');
  return { status: r.status, error, text };
}

async function errorOf(code: string): Promise<string> {
  const r = await cell(code);
  expect(r.status, `${code} should fail`).toBe('error');
  return r.error!.message;
}

describe('lab.* options', () => {
  it('an unknown option names the nearest one and every option', async () => {
    expect(await errorOf('lab.models.vae({ latentDm: 8 })')).toBe(
      "lab.models.vae: unknown option 'latentDm' (did you mean 'latentDim'? options: latentDim, hidden, likelihood, beta, klWarmup, net, objective, k, evalK, conditional)",
    );
    expect(await errorOf('lab.models.gan({ hiden: [32] })')).toMatch(/^lab\.models\.gan: unknown option 'hiden' \(did you mean 'hidden'\? options: .*latentDim/);
    expect(await errorOf("lab.models.ddpm({ timestep: 100 })")).toMatch(/^lab\.models\.ddpm: unknown option 'timestep' \(did you mean 'timesteps'\?/);
    expect(await errorOf('lab.models.fvsbn({ hidden: 3 })')).toBe("lab.models.fvsbn: unknown option 'hidden' (it takes no options)");
    expect(await errorOf('lab.data.mnist({ binarise: true })')).toMatch(/^lab\.data\.mnist: unknown option 'binarise' \(did you mean 'binarize'\? options: binarize, limit, binarizeSeed\)$/);
    expect(await errorOf("lab.data.toy2d('moons', { samples: 10 })")).toBe("lab.data.toy2d: unknown option 'samples' (options: n, noise, seed)");
    const train = await errorOf("const d = lab.data.toy2d('moons');\nawait lab.train(lab.models.gan(), d, { step: 10 })");
    expect(train).toMatch(/^lab\.train: unknown option 'step' \(did you mean 'steps'\? options: steps, batchSize, optimizer, lr, schedule/);
    expect(await errorOf('lab.models.vae(16)')).toBe('lab.models.vae: options must be an object like { latentDim: … } (got 16)');
  }, 60_000);

  it('a wrong enum value lists the allowed values', async () => {
    const d = "const d = lab.data.toy2d('moons', { n: 200 });\n";
    expect(await errorOf(`${d}await lab.train(lab.models.gan(), d, { optimizer: 'adamw' })`)).toBe(
      "lab.train: optimizer must be one of 'sgd', 'momentum', 'rmsprop', 'adagrad', 'adam' (got 'adamw'; did you mean 'adam'?)",
    );
    expect(await errorOf(`${d}await lab.train(lab.models.gan(), d, { schedule: 'linear' })`)).toMatch(
      /^lab\.train: schedule must be an object or one of '(constant|step|cosine|exponential)', .*'exponential'.* \(got 'linear'\)$/,
    );
    expect(await errorOf(`${d}await lab.train(lab.models.gan(), d, { schedule: { type: 'cyclic' } })`)).toMatch(/^lab\.train: schedule\.type must be one of .*'cosine'.* \(got 'cyclic'\)$/);
    expect(await errorOf("lab.models.vae({ likelihood: 'poisson' })")).toBe("lab.models.vae: likelihood must be one of 'bernoulli', 'gaussian' (got 'poisson')");
    expect(await errorOf("lab.models.vae({ net: 'transformer' })")).toBe("lab.models.vae: net must be one of 'mlp', 'conv' (got 'transformer')");
    expect(await errorOf("lab.models.gan({ loss: 'wasserstein' })")).toMatch(/^lab\.models\.gan: loss must be one of 'nonsaturating', 'minimax' \(got 'wasserstein'\)$/);
    expect(await errorOf("lab.models.ddpm({ schedule: 'quadratic' })")).toBe("lab.models.ddpm: schedule must be one of 'linear', 'cosine' (got 'quadratic')");
    expect(await errorOf("lab.models.gmm({ covariance: 'ful' })")).toMatch(/^lab\.models\.gmm: covariance must be one of 'full', 'diag', 'spherical', 'tied' \(got 'ful'; did you mean 'full'\?\)$/);
    expect(await errorOf("lab.data.mnist({ binarize: 'yes' })")).toBe("lab.data.mnist: binarize must be true or false or one of 'stochastic', 'threshold' (got 'yes')");
    // a number or a named value
    expect(await errorOf("lab.models.kde({ bandwidth: 'auto' })")).toBe("lab.models.kde: bandwidth must be a number or one of 'validation' (got 'auto')");
  }, 60_000);

  it('a wrong kind of value names the kind wanted', async () => {
    expect(await errorOf("lab.models.vae({ latentDim: '16' })")).toBe("lab.models.vae: latentDim must be a number (got '16')");
    expect(await errorOf('lab.models.vae({ hidden: 256 })')).toBe('lab.models.vae: hidden must be a list (got 256)');
    expect(await errorOf("lab.models.gan({ spectralNorm: 'yes' })")).toBe("lab.models.gan: spectralNorm must be true or false (got 'yes')");
    expect(await errorOf("lab.data.toy2d('moons', { n: NaN })")).toBe('lab.data.toy2d: n must be a number (got NaN)');
    const d = "const d = lab.data.toy2d('moons', { n: 200 });\n";
    expect(await errorOf(`${d}await lab.train(lab.models.gan(), d, { steps: '10' })`)).toBe("lab.train: steps must be a number (got '10')");
    expect(await errorOf(`${d}await lab.train(lab.models.gan(), d, { onStep: 1 })`)).toBe('lab.train: onStep must be a function (got 1)');
  }, 60_000);

  it('good options still work, and helpers hung on builders are kept', async () => {
    const r = await cell([
      "const d = lab.data.toy2d('moons', { n: 300, seed: 2 });",
      "const m = lab.models.gan({ latentDim: 2, hidden: [16], loss: 'minimax' });",
      "const run = await lab.train(m, d, { steps: 3, batchSize: 32, optimizer: 'adam', schedule: { type: 'cosine', warmup: 1 }, clipNorm: null, sampleEvery: 100 });",
      "const p = lab.models.hopfield.randomPatterns(2, 16, 1);",
      "console.log(run.steps ?? 'ran', typeof lab.models.gmm.select, lab.models.vae.name)",
    ].join('\n'));
    expect(r.error?.message).toBeUndefined();
    expect(r.status).toBe('ok');
    expect(r.text).toMatch(/function vae/);
  }, 120_000);
});

describe('an error in a cell points at its line', () => {
  it('thrown from a nested function: the line of the throw', async () => {
    const r = await cell(['function inner(x: number) {', '  if (x > 1) throw new RangeError(`too big: ${x}`);', '  return x;', '}', 'const outer = (y: number) => inner(y * 2);', 'outer(3);'].join('\n'));
    expect(r.error).toMatchObject({ name: 'RangeError', message: 'too big: 6', line: 2 });
  });

  it('from an awaited promise that rejects', async () => {
    const r = await cell([
      'const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));',
      'async function load() {',
      '  await wait(5);',
      "  throw new Error('no data');",
      '}',
      'await load();',
    ].join('\n'));
    expect(r.error).toMatchObject({ message: 'no data', line: 4 });
  });

  it('from inside a lab.* call with bad options: the line of the call', async () => {
    const r = await cell(["const data = lab.data.toy2d('moons');", '', 'const model = lab.models.vae({', '  latentDm: 8,', '});'].join('\n'));
    expect(r.error?.message).toMatch(/^lab\.models\.vae: unknown option 'latentDm'/);
    expect(r.error?.line).toBe(3);
    const t = await cell(["const d2 = lab.data.toy2d('moons', { n: 100 });", "await lab.train(lab.models.gan(), d2, { optimizer: 'adamw' });"].join('\n'));
    expect(t.error?.line).toBe(2);
  });

  it('raised deep inside a library or a callback the cell gave lab.train: the cell\'s line', async () => {
    // tfjs nests more than V8's default 10 stack frames: the cell's frame must not be cut off
    const deep = await cell(["const d = lab.data.toy2d('moons', { n: 200 });", 'const g = lab.models.gan({ hidden: [8] });', 'await lab.train(g, d, { steps: 1 });', '', 'g.sample(-5);'].join('\n'));
    expect(deep.error?.line).toBe(5);
    const cb = await cell(["const d3 = lab.data.toy2d('moons', { n: 200 });", 'await lab.train(lab.models.gan({ hidden: [8] }), d3, {', '  steps: 2,', "  onStep: () => { throw new Error('from onStep'); },", '});'].join('\n'));
    expect(cb.error).toMatchObject({ message: 'from onStep', line: 4 });
  }, 60_000);

  it('a syntax error: the line of the mistake', async () => {
    const r = await cell(['const a = 1;', 'const b = 2;', 'const c = (a + b;', 'c'].join('\n'));
    expect(r.error).toMatchObject({ name: 'SyntaxError', line: 3 });
  });
});
