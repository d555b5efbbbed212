import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository / app root: the nearest folder up from here with our package.json. */
export function appRoot(from = __dirname): string {
  let dir = from;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'latentlab') return dir;
      } catch {
        /* keep looking */
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the Latent Lab folder above ${from}`);
    dir = up;
  }
}

export const examplesDir = (root = appRoot()) => join(root, 'resources', 'notebooks');
export const rendererDir = (root = appRoot()) => join(root, 'out', 'renderer');
export const engineEntry = (root = appRoot()) => join(root, 'out', 'main', 'engine.js');
