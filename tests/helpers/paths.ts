// The repository's root, for tests that read its files (resources/, scripts/, the
// build in out/) or start bin/latentlab.js: one place, whatever the test's depth.
import { join } from 'node:path';

export const root = join(__dirname, '..', '..');
