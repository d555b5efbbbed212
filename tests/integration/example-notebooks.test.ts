// Every example notebook of the model families runs headlessly, through `latentlab run`
// and the real engine process (a few steps each), and reports its test NLL as
// "eval" with the kind the family's likelihood has.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root } from '../helpers/paths';

const dir = mkdtempSync(join(tmpdir(), 'latentlab-examples-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs an example notebook headless at 12 steps (`latentlab run --json`), with `extra` parameters; its JSON, once it ended ok. */
function runExample(file: string, extra: string[] = []) {
  copyFileSync(join(root, 'resources', 'notebooks', `${file}.ipynb`), join(dir, `${file}.ipynb`));
  const r = spawnSync(process.execPath, [join(root, 'bin', 'latentlab.js'), 'run', join(dir, `${file}.ipynb`), '-p', 'steps', '12', ...extra, '--json'], { cwd: root, encoding: 'utf8', timeout: 300_000 });
  expect(r.status, r.stderr + r.stdout).toBe(0);
  const out = JSON.parse(r.stdout.trim());
  expect(out.status).toBe('ok');
  return out;
}

// autoregressive, flow and sequence models, all with an exact likelihood: [notebook, family, data]
const exactLikelihood: [string, string, string][] = [
  ['fvsbn', 'fvsbn', 'binary'],
  ['nade', 'nade', 'binary'],
  ['made', 'made', 'binary'],
  ['pixelcnn', 'pixelcnn', 'binary'],
  ['nice', 'nice', 'grey'],
  ['realnvp', 'realnvp', 'grey'],
  ['maf', 'maf', 'grey'],
  ['iaf', 'iaf', 'points'],
  ['glow', 'glow', 'grey'],
  ['wavenet', 'wavenet', 'audio'],
  ['charlm', 'charlm', 'text'],
];

// latent-variable and energy-based models: [notebook, family of the evaluated run, kind, D, runs]
const latentAndEnergy: [string, string, 'bound' | 'estimate' | 'exact' | null, number, number][] = [
  ['vae', 'vae', 'bound', 784, 2],
  ['beta-vae', 'vae', 'bound', 784, 1],
  ['cvae', 'cvae', 'bound', 784, 1],
  ['hvae', 'hvae', 'bound', 784, 2],
  ['autoencoder', 'autoencoder', null, 784, 2],
  ['dae', 'dae', null, 784, 1],
  ['sbn', 'sbn', 'bound', 784, 2],
  ['rbm', 'rbm', 'estimate', 784, 1],
  ['gbrbm', 'gbrbm', 'estimate', 784, 1],
  ['dbn', 'dbn', 'estimate', 784, 1],
  ['dbm', 'dbm', 'estimate', 784, 1],
  ['convrbm', 'convrbm', 'estimate', 784, 1],
  ['boltzmann', 'boltzmann', 'exact', 9, 1],
  ['hopfield', '', null, 0, 0],
];

describe('latent-variable and energy-based notebooks', () => {
  // the AIS notebooks at 200 temperatures (and 800 for their convergence check): at 12 steps the defaults would only cost time
  const aisNotebooks = new Set(['rbm', 'dbn', 'dbm']);
  it.each(latentAndEnergy)('%s.ipynb runs, and its evaluation carries its kind', (file, family, kind, D, runs) => {
    const out = runExample(file, aisNotebooks.has(file) ? ['-p', 'betas', '200'] : []);
    expect(out.runs).toHaveLength(runs);
    if (runs === 0) return;
    const run = out.runs[0];
    expect(run.family).toBe(family);
    expect(run.status).toBe('finished');
    if (kind === null) {
      // no likelihood: no eval, not a made-up one
      expect(run.eval).toBeUndefined();
      return;
    }
    expect(run.eval.kind).toBe(kind);
    expect(run.eval.nll_nats).toBeGreaterThan(0);
    expect(run.eval.bits_per_dim).toBeCloseTo(run.eval.nll_nats / (D * Math.LN2), 6);
    // an AIS estimate comes with its standard error
    if (kind === 'estimate') expect(run.eval.stderr).toBeGreaterThan(0);
    else expect(run.eval.stderr).toBeUndefined();
    // an estimate with a knob says whether it converged: the NLL at the knob and at 4× it
    const knob = family === 'rbm' || family === 'dbn' || family === 'dbm' ? 'betas' : kind === 'bound' ? 'k' : null;
    if (knob) {
      expect(run.eval.convergence.knob).toBe(knob);
      expect(run.eval.convergence.converged).toBe(Math.abs(run.eval.convergence.nll4x - run.eval.convergence.nll) < run.eval.convergence.tolerance);
      expect(run.eval.convergence.note).toMatch(/converged: 4× /);
    }
  }, 300_000);
});

describe('autoregressive, flow and sequence notebooks', () => {
  it.each(exactLikelihood)('%s.ipynb trains, evaluates exactly and samples', (file, family, data) => {
    const out = runExample(file);
    expect(out.runs).toHaveLength(1);
    const run = out.runs[0];
    expect(run.family).toBe(family);
    expect(run.status).toBe('finished');
    expect(run.eval.kind).toBe('exact');
    expect(Number.isFinite(run.eval.nll_nats)).toBe(true);
    const D = data === 'points' ? 2 : data === 'audio' ? 256 : data === 'text' ? 128 : 784;
    expect(run.eval.bits_per_dim).toBeCloseTo(run.eval.nll_nats / (D * Math.LN2), 6);
    // binary log-likelihoods are <= 0, so the NLL is positive; on the 8-bit scale too
    // (after 12 steps a flow is far from trained: ActNorm's first-batch scales stretch
    // pixels that batch never inked, so early test NLLs can be large)
    if (data !== 'points') expect(run.eval.nll_nats).toBeGreaterThan(0);
  }, 300_000);
});

// adversarial, classical and diffusion models: [notebook, family of the evaluated run, kind, D, runs].
// 'sample' means a family without a likelihood, evaluated by its samples: FID & co on
// images, MMD on 2-D data (never a made-up NLL).
const adversarialClassicalDiffusion: [string, string, 'bound' | 'estimate' | 'exact' | 'sample' | null, number, number][] = [
  ['ml-basics', '', null, 0, 0],
  ['gmm', 'gmm', 'exact', 2, 2],
  ['naive-bayes', 'naive-bayes', 'exact', 784, 1],
  ['kde', 'kde', 'estimate', 2, 1],
  ['ngram', 'ngram', 'exact', 128, 8],
  ['pca', 'pca', 'exact', 784, 3],
  ['gmmn', 'gmmn', 'sample', 2, 2],
  ['gan-lab', 'gan', 'sample', 2, 1],
  ['gan-toy2d', 'gan', 'sample', 2, 1],
  ['dcgan', 'dcgan', 'sample', 784, 1],
  ['cgan', 'cgan', 'sample', 784, 1],
  ['wgan', 'wgan', 'sample', 2, 3],
  ['wgan-gp', 'wgan-gp', 'sample', 784, 1],
  ['lsgan', 'lsgan', 'sample', 784, 1],
  ['ebm', 'ebm', 'sample', 784, 1],
  ['gsn', 'gsn', 'sample', 784, 1],
  ['ddpm-toy2d', 'ddpm', 'sample', 2, 1],
  ['ddpm', 'ddpm', null, 784, 1],
  ['flow-matching', 'flowMatching', 'estimate', 2, 1],
  ['score-toy2d', 'score', 'sample', 2, 1],
  ['score', 'score', 'sample', 784, 1],
];

describe('adversarial, classical and diffusion notebooks', () => {
  it.each(adversarialClassicalDiffusion)('%s.ipynb runs, and its evaluation carries its kind', (file, family, kind, D, runs) => {
    const out = runExample(file);
    expect(out.runs).toHaveLength(runs);
    if (runs === 0) return;
    // the evaluated run: the one that carries an eval (notebooks may train a baseline beside it)
    const run = out.runs.find((x: { family: string; eval?: unknown }) => x.family === family && x.eval) ?? out.runs.find((x: { family: string }) => x.family === family);
    expect(run, JSON.stringify(out.runs.map((x: { family: string }) => x.family))).toBeDefined();
    expect(run.status).toBe('finished');
    if (kind === null) {
      expect(run.eval).toBeUndefined();
      return;
    }
    expect(run.eval.kind).toBe(kind);
    if (kind === 'sample') {
      // images: FID & co on the pinned classifier; points: MMD
      if (D === 784) {
        for (const k of ['fid', 'kid', 'precision', 'recall']) expect(Number.isFinite(run.eval[k]), k).toBe(true);
        expect(run.eval.fid).toBeGreaterThan(0);
        expect(typeof run.eval.classifier).toBe('string');
        expect(run.eval.nll_nats).toBeUndefined();
      } else {
        expect(run.eval.mmd).toBeGreaterThanOrEqual(0);
      }
      return;
    }
    expect(Number.isFinite(run.eval.nll_nats)).toBe(true);
    expect(run.eval.bits_per_dim).toBeCloseTo(run.eval.nll_nats / (D * Math.LN2), 6);
  }, 300_000);
});
