import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILDER_FAMILY, FAMILIES, notebookFamily } from '../../../src/shared/families';
import { models } from '../../../src/engine/models';

const root = join(__dirname, '..', '..', '..');

describe('notebook families', () => {
  it('knows every lab.models builder, by the folder its kind lives in', () => {
    expect(Object.keys(BUILDER_FAMILY).sort()).toEqual(Object.keys(models).sort());
    const folders = new Set(readdirSync(join(root, 'src', 'engine', 'models'), { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name));
    for (const f of new Set(Object.values(BUILDER_FAMILY))) expect(folders.has(f)).toBe(true);
  });

  it('reads the family from the code, skipping comments; metadata wins; no model → basics (shipped) or mine', () => {
    expect(notebookFamily(['const m = lab.models.wganGp({});'])).toBe('adversarial');
    expect(notebookFamily(['// lab.models.gan()\nconst m = lab.models . realnvp();'])).toBe('flows');
    expect(notebookFamily(['/* lab.models.ddpm */ 1'])).toBe('mine');
    expect(notebookFamily(['1'], {}, true)).toBe('basics');
    expect(notebookFamily(['lab.models.vae()'], { latentlab: { family: 'diffusion' } })).toBe('diffusion');
    expect(notebookFamily(['lab.models.vae()'], { latentlab: { family: 'nonsense' } })).toBe('latent');
  });

  it('places every shipped notebook in a model family, ml-basics in basics', () => {
    const dir = join(root, 'resources', 'notebooks');
    const seen = new Set<string>();
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.ipynb'))) {
      const nb = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { cells: { cell_type: string; source: string | string[] }[]; metadata: Record<string, unknown> };
      const code = nb.cells.filter((c) => c.cell_type === 'code').map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source));
      const fam = notebookFamily(code, nb.metadata, true);
      seen.add(fam);
      if (f === 'ml-basics.ipynb') expect(fam).toBe('basics');
      else expect(fam, f).not.toBe('basics');
    }
    // every model family has a notebook
    for (const f of FAMILIES) if (f.id !== 'mine') expect(seen.has(f.id), f.id).toBe(true);
  });
});
