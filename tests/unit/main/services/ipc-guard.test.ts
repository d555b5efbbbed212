// The desktop's "nobody in": which IPC senders may call the LabApi (a pure
// decision, checked here with plain Node), which permissions a page gets, and,
// as a second line, the settings in the window code and the page's CSP.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkIpcSender, isAppPage, permissionAllowed } from '../../../../src/main/services/ipc-guard';
import { root } from '../../../helpers/paths';

const indexHtml = join(root, 'out', 'renderer', 'index.html');
const built = { indexHtml };
const dev = { devUrl: 'http://localhost:5173/' };
const page = pathToFileURL(indexHtml).href;

describe('IPC sender check', () => {
  it('accepts the app window\'s top frame on the app\'s own page', () => {
    expect(checkIpcSender({ isAppWindow: true, isMainFrame: true, frameUrl: page }, built)).toEqual({ ok: true });
    expect(checkIpcSender({ isAppWindow: true, isMainFrame: true, frameUrl: `${page}#/runs?x=1` }, built)).toEqual({ ok: true });
    expect(checkIpcSender({ isAppWindow: true, isMainFrame: true, frameUrl: 'http://localhost:5173/index.html' }, dev)).toEqual({ ok: true });
  });

  it('refuses another webContents, a subframe, a foreign page, a gone frame', () => {
    const cases: [string, Parameters<typeof checkIpcSender>[0], Parameters<typeof checkIpcSender>[1], RegExp][] = [
      ['foreign webContents', { isAppWindow: false, isMainFrame: true, frameUrl: page }, built, /not the app window/],
      ['a subframe of the app window', { isAppWindow: true, isMainFrame: false, frameUrl: page }, built, /not the top frame/],
      ['a foreign https page', { isAppWindow: true, isMainFrame: true, frameUrl: 'https://evil.example/' }, built, /not the app's own/],
      ['another file on disk', { isAppWindow: true, isMainFrame: true, frameUrl: pathToFileURL(join(root, 'out', 'renderer', 'evil.html')).href }, built, /not the app's own/],
      ['a file elsewhere named index.html', { isAppWindow: true, isMainFrame: true, frameUrl: 'file:///tmp/out/renderer/index.html' }, built, /not the app's own/],
      ['data: URL', { isAppWindow: true, isMainFrame: true, frameUrl: 'data:text/html,<script>1</script>' }, built, /not the app's own/],
      ['about:blank', { isAppWindow: true, isMainFrame: true, frameUrl: 'about:blank' }, built, /not the app's own/],
      ['a frame that is gone', { isAppWindow: true, isMainFrame: true, frameUrl: null }, built, /not the app's own/],
      ['another port than the dev server', { isAppWindow: true, isMainFrame: true, frameUrl: 'http://localhost:5174/' }, dev, /not the app's own/],
      ['a file page when running from the dev server', { isAppWindow: true, isMainFrame: true, frameUrl: page }, dev, /not the app's own/],
      ['the dev origin when running built', { isAppWindow: true, isMainFrame: true, frameUrl: 'http://localhost:5173/' }, built, /not the app's own/],
    ];
    for (const [name, facts, pages, why] of cases) {
      const v = checkIpcSender(facts, pages);
      expect(v.ok, name).toBe(false);
      expect((v as { reason: string }).reason, name).toMatch(why);
    }
    expect(isAppPage('not a url', built)).toBe(false);
  });

  it('grants no permission but writing copied text', () => {
    for (const p of ['media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'hid', 'serial', 'usb', 'unknown']) {
      expect(permissionAllowed(p), p).toBe(false);
    }
    expect(permissionAllowed('clipboard-sanitized-write')).toBe(true);
  });
});

describe('window settings and CSP (second line)', () => {
  it('the window is isolated and sandboxed, and the IPC handler and permission handler use the checks', () => {
    const src = readFileSync(join(root, 'src', 'main', 'electron', 'index.ts'), 'utf8');
    expect(src).toMatch(/contextIsolation: true/);
    expect(src).toMatch(/sandbox: true/);
    expect(src).toMatch(/nodeIntegration: false/);
    expect(src).not.toMatch(/webSecurity: false|allowRunningInsecureContent: true|nodeIntegrationInSubFrames: true/);
    expect(src).toMatch(/checkIpcSender\(/);
    expect(src).toMatch(/setPermissionRequestHandler\(\(_wc, permission, callback\) => callback\(permissionAllowed\(permission\)\)\)/);
    expect(src).toMatch(/setWindowOpenHandler[\s\S]*action: 'deny'/);
    expect(src).toMatch(/'will-navigate', \(e\) => e\.preventDefault\(\)/);
    const preload = readFileSync(join(root, 'src', 'preload', 'index.ts'), 'utf8');
    // the preload hands over two functions and a string: no ipcRenderer itself
    expect(preload).not.toMatch(/exposeInMainWorld\([^)]*ipcRenderer\s*[,)]/);
  });

  it('the page CSP has no unsafe-eval and no inline scripts', () => {
    const html = readFileSync(join(root, 'src', 'renderer', 'index.html'), 'utf8');
    const csp = /Content-Security-Policy"\s+content="([^"]+)"/.exec(html)?.[1] ?? '';
    const script = /script-src ([^;]+)/.exec(csp)?.[1] ?? '';
    expect(script.split(/\s+/)).toEqual(["'self'", "'wasm-unsafe-eval'"]);
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(csp).toMatch(/default-src 'self'/);
  });
});
