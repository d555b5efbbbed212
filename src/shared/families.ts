// The families of the sidebar: the same kinds as the models (src/engine/models/<kind>),
// and which family a notebook belongs to, read from its code (the lab.models.<builder>
// it calls) or from its metadata (`latentlab.family`) when that names one.

/** the families in the order the sidebar shows them */
export const FAMILIES = [
  { id: 'mine', label: 'My notebooks' },
  { id: 'basics', label: 'Basics' },
  { id: 'latent', label: 'Latent variables' },
  { id: 'autoregressive', label: 'Autoregressive' },
  { id: 'flows', label: 'Flows' },
  { id: 'energy', label: 'Energy-based' },
  { id: 'adversarial', label: 'Adversarial' },
  { id: 'diffusion', label: 'Diffusion' },
  { id: 'classical', label: 'Classical' },
] as const;
export type FamilyId = (typeof FAMILIES)[number]['id'];

/** lab.models builder → its kind (a unit test checks this against the engine's model lists) */
export const BUILDER_FAMILY: Readonly<Record<string, FamilyId>> = {
  fvsbn: 'autoregressive', nade: 'autoregressive', made: 'autoregressive', pixelcnn: 'autoregressive', wavenet: 'autoregressive', charlm: 'autoregressive',
  nice: 'flows', realnvp: 'flows', maf: 'flows', iaf: 'flows', glow: 'flows',
  vae: 'latent', cvae: 'latent', autoencoder: 'latent', dae: 'latent', sbn: 'latent', hvae: 'latent', gsn: 'latent',
  hopfield: 'energy', boltzmann: 'energy', rbm: 'energy', gbrbm: 'energy', convrbm: 'energy', dbn: 'energy', dbm: 'energy', ebm: 'energy',
  gan: 'adversarial', dcgan: 'adversarial', wgan: 'adversarial', wganGp: 'adversarial', lsgan: 'adversarial', cgan: 'adversarial', gmmn: 'adversarial',
  ddpm: 'diffusion', score: 'diffusion', flowMatching: 'diffusion',
  gmm: 'classical', naiveBayes: 'classical', kde: 'classical', ngram: 'classical', pca: 'classical',
};

const isFamily = (v: unknown): v is FamilyId => typeof v === 'string' && FAMILIES.some((f) => f.id === v);

/** code without its comments (a commented-out model does not place a notebook) */
const stripComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, ' ').replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');

/**
 * A notebook's family: `metadata.latentlab.family` when it names one; else the kind of
 * the first lab.models builder its code calls; else 'basics' for a notebook shipped
 * with the app (`shipped`) and 'mine' for the user's own.
 */
export function notebookFamily(code: readonly string[], metadata: Record<string, unknown> = {}, shipped = false): FamilyId {
  const meta = (metadata.latentlab as { family?: unknown } | undefined)?.family;
  if (isFamily(meta)) return meta;
  const re = /\blab\s*\.\s*models\s*\.\s*([A-Za-z_$][\w$]*)/g;
  for (const cell of code) {
    for (const m of stripComments(cell).matchAll(re)) {
      const f = BUILDER_FAMILY[m[1]];
      if (f) return f;
    }
  }
  return shipped ? 'basics' : 'mine';
}
