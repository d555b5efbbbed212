// A `require` the bundler does not see, so optional packages (tfjs-node, ...) stay
// runtime look-ups, and data packages resolve from node_modules in every setting
// (electron-vite CJS bundle, vitest, plain node).
import { createRequire } from 'node:module';
import * as path from 'node:path';

let cached: NodeRequire | null = null;

export function nodeRequire(): NodeRequire {
  if (cached) return cached;
  const base = typeof __filename === 'string' && path.isAbsolute(__filename) ? __filename : path.join(process.cwd(), 'index.js');
  cached = createRequire(base);
  return cached;
}
