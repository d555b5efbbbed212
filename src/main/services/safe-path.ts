// Maps a URL path tail to a file below a root folder, for the artifact routes of
// both hosts (serve's /artifacts/... and the desktop's lab://artifacts/...).
import { realpathSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';

/**
 * A file below root for a URL path tail, or null. The tail is decoded exactly once;
 * `..` segments, backslashes, NUL bytes and absolute paths are refused before any
 * file is touched, and the real path (symlinks followed) must still lie below root.
 * With `container` (the workspace), root's own real path must lie in container's:
 * an artifacts folder that is itself a link to elsewhere serves nothing.
 */
export function safeFile(root: string, tail: string, container?: string): string | null {
  let rel: string;
  try {
    rel = decodeURIComponent(tail);
  } catch {
    return null;
  }
  if (rel === '' || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/') || /^[a-zA-Z]:/.test(rel)) return null;
  const parts = rel.split('/');
  if (parts.some((p) => p === '..' || p === '.' || p === '')) return null;
  const abs = resolve(root, ...parts);
  if (!(abs.startsWith(root + sep))) return null;
  try {
    const realRoot = realpathSync(root);
    if (container !== undefined && !realRoot.startsWith(realpathSync(container) + sep)) return null;
    const real = realpathSync(abs);
    if (!real.startsWith(realRoot + sep) || !statSync(real).isFile()) return null;
    return real;
  } catch {
    return null; // missing, or a broken link
  }
}

