// Normalizing flows: x = f(z) with f invertible, log p(x) = log p(z) + log |det ∂z/∂x|,
// an exact likelihood. Each model is a stack of small layers (layers.ts, multiscale.ts).
import { Glow } from './glow';
import { Iaf, Maf } from './maf';
import { Nice } from './nice';
import { RealNvp } from './realnvp';

export const flowModels = {
  nice: (cfg?) => new Nice(cfg),
  realnvp: (cfg?) => new RealNvp(cfg),
  maf: (cfg?) => new Maf(cfg),
  iaf: (cfg?) => new Iaf(cfg),
  glow: (cfg?) => new Glow(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'nice' | 'realnvp' | 'maf' | 'iaf' | 'glow'>;

export { flowViews } from './views';
