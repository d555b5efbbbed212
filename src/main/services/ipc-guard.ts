// Who may call the LabApi over Electron IPC: only the app's own window, from its
// top frame, showing the app's own page. The electron adapter gathers the facts
// (no electron import here, so a plain Node test covers the decision).
import { pathToFileURL } from 'node:url';

export interface IpcSenderFacts {
  /** the sender is the webContents of the app's window (e.sender === win.webContents) */
  isAppWindow: boolean;
  /** the sending frame is that window's main frame (not an iframe) */
  isMainFrame: boolean;
  /** the URL of the sending frame; null when the frame is gone */
  frameUrl: string | null;
}

export interface AppPages {
  /** the built renderer's index.html (loaded from file://) */
  indexHtml?: string;
  /** the dev server (ELECTRON_RENDERER_URL), if the app runs from it */
  devUrl?: string;
}

export type Verdict = { ok: true } | { ok: false; reason: string };

/** true when `url` is the app's own page: the built index.html, or a page of the dev server's origin */
export function isAppPage(url: string, pages: AppPages): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (pages.indexHtml && u.protocol === 'file:') {
    const want = new URL(pathToFileURL(pages.indexHtml).href);
    return u.host === want.host && decodeURIComponent(u.pathname) === decodeURIComponent(want.pathname);
  }
  if (pages.devUrl && (u.protocol === 'http:' || u.protocol === 'https:')) {
    try {
      return u.origin === new URL(pages.devUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}

export function checkIpcSender(f: IpcSenderFacts, pages: AppPages): Verdict {
  if (!f.isAppWindow) return { ok: false, reason: 'unknown sender: not the app window' };
  if (!f.isMainFrame) return { ok: false, reason: 'unknown sender: not the top frame of the app window' };
  if (!f.frameUrl || !isAppPage(f.frameUrl, pages)) return { ok: false, reason: `unknown sender: the page is not the app's own (${String(f.frameUrl).slice(0, 200)})` };
  return { ok: true };
}

/**
 * Permissions a page in the app window may have: none (no camera, microphone,
 * geolocation, notifications, MIDI …), except writing copied text to the clipboard.
 */
export function permissionAllowed(permission: string): boolean {
  return permission === 'clipboard-sanitized-write';
}

/** Headers for everything the lab:// protocol answers (artifacts, exports): no scripts, no sniffing. */
export const LAB_PROTOCOL_HEADERS: Record<string, string> = {
  'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; media-src 'self'",
  'x-content-type-options': 'nosniff',
};
