// Autoregressive models: p(x) = Π_i p(x_i | x_<i), an exact likelihood by the chain rule.
import { CharLm } from './charlm';
import { Fvsbn } from './fvsbn';
import { Made } from './made';
import { Nade } from './nade';
import { PixelCnn } from './pixelcnn';
import { Wavenet } from './wavenet';

export const autoregressiveModels = {
  fvsbn: (cfg?) => new Fvsbn(cfg),
  nade: (cfg?) => new Nade(cfg),
  made: (cfg?) => new Made(cfg),
  pixelcnn: (cfg?) => new PixelCnn(cfg),
  wavenet: (cfg?) => new Wavenet(cfg),
  charlm: (cfg?) => new CharLm(cfg),
} satisfies Pick<LatentLab.ModelsApi, 'fvsbn' | 'nade' | 'made' | 'pixelcnn' | 'wavenet' | 'charlm'>;

export { autoregressiveViews } from './views';
