// What is generated from the cell API's declaration (api.d.ts) is up to date: the option
// table the engine checks lab.* options against (one entry per model builder) and the API
// reference in docs/; the nearest-name suggestion.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LAB_OPTIONS } from '../../../../src/engine/lab/options-spec';
import { models } from '../../../../src/engine/models';
import { closest } from '../../../../src/engine/lab/options';
import { root } from '../../../helpers/paths';

describe('the option table', () => {
  it('is generated from the declaration (api.d.ts) and up to date', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gen = require(join(root, 'scripts', 'lab-options-spec.js')) as { deriveSpec(): unknown; render(s: unknown): string; OUT: string };
    expect(readFileSync(gen.OUT, 'utf8')).toBe(gen.render(gen.deriveSpec()));
  }, 60_000);

  it('has every builder of lab.models, and finds a near name', () => {
    // the trainer and the models take the declared option types, so the compiler
    // refuses a read of an option the table lacks; here: no builder is left out
    expect(Object.keys(LAB_OPTIONS.models).sort()).toEqual(Object.keys(models).sort());
    expect(closest('lattentDim', ['latentDim', 'hidden'])).toBe('latentDim');
    expect(closest('zzz', ['latentDim', 'hidden'])).toBeNull();
  });
});

describe('the API reference', () => {
  it('docs/lab-api.md is generated from the declaration and up to date', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const gen = require(join(root, 'scripts', 'lab-api-docs.js')) as { render(file: string): string };
    const page = readFileSync(join(root, 'docs', 'lab-api.md'), 'utf8');
    expect(page === gen.render(join(root, 'src', 'engine', 'lab', 'api.d.ts')), 'docs/lab-api.md is out of date: run node scripts/lab-api-docs.js').toBe(true);
    // every builder is documented
    for (const name of Object.keys(models)) expect(page).toContain(`lab.models.${name}`);
  }, 60_000);
});
