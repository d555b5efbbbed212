// No synchronous tensor read on a path the webgpu backend runs: under Node, tfjs-webgpu's
// dataSync() needs OffscreenCanvas and throws, so one such read in a model, the trainer,
// an evaluation or a view would break that family on the GPU. The engine and the example
// notebooks read with await (t.data(), t.array()); this test fails if a synchronous read
// comes back. (The notebooks at a few steps on webgpu, tests/integration/webgpu-notebooks,
// catch what a text search cannot.)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../../../helpers/paths';

const SYNC_READ = /\.(dataSync|arraySync|bufferSync)\s*\(|\breadSync\s*\(/;

/**
 * Files allowed a synchronous read, each with why it is safe there. Keep this short.
 * - nn/params.ts: weightOf() reads the tensors a checkpoint was loaded into (made from
 *   host values; tfjs-webgpu keeps those values and answers from them, no GPU read).
 */
const ALLOWED: Record<string, string> = {
  'src/engine/nn/params.ts': 'weightOf reads checkpoint tensors made from host values',
};

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.tsx?$/.test(name)) out.push(p);
  }
  return out;
}

describe('no synchronous tensor reads', () => {
  it('in the engine (models, trainer, evaluation, views, lab)', () => {
    const offenders: string[] = [];
    for (const file of walk(join(root, 'src', 'engine'))) {
      const rel = relative(root, file).split('\\').join('/');
      if (ALLOWED[rel]) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.replace(/\/\/.*$/, '');
          if (SYNC_READ.test(code)) offenders.push(`${rel}:${i + 1}: ${line.trim()}`);
        });
    }
    expect(offenders, 'read with await t.data() / t.array() instead').toEqual([]);
  });

  it('in the example notebooks', () => {
    const dir = join(root, 'resources', 'notebooks');
    const offenders: string[] = [];
    for (const name of readdirSync(dir).filter((n) => n.endsWith('.ipynb'))) {
      const nb = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[] };
      nb.cells.forEach((c, k) => {
        if (c.cell_type !== 'code') return;
        const src = Array.isArray(c.source) ? c.source.join('') : c.source;
        src.split('\n').forEach((line) => {
          if (SYNC_READ.test(line.replace(/\/\/.*$/, ''))) offenders.push(`${name} cell ${k}: ${line.trim()}`);
        });
      });
    }
    expect(offenders).toEqual([]);
  });

  it('the allowed files still need their exception (a stale entry hides nothing)', () => {
    for (const rel of Object.keys(ALLOWED)) expect(readFileSync(join(root, rel), 'utf8')).toMatch(SYNC_READ);
  });
});
