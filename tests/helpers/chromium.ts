// Debian's Chromium (or CHROMIUM_PATH), for the browser tests and the export checks
// that look at a report or GIF the way a browser shows it.
import { existsSync } from 'node:fs';

/** the Chromium to launch, or null where none is installed */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

export const chromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
  '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic',
];

/** why the Chromium checks cannot run here, or null */
export const noChromium = (): string | null =>
  chromiumPath() ? null : 'Chromium not found (CHROMIUM_PATH or /usr/bin/chromium; apt-get install chromium, .ci/run does)';
