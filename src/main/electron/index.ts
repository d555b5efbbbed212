// Electron main process: one window, the LabApi over ipcMain, the engine in a
// utility process, artifacts over the lab:// protocol.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, session, shell } from 'electron';
import { ExportError, exportEnv, renderExport } from '../services/exports';
import { EXPORT_CHOICE_NAMES, EXPORT_CHOICES, ExportRequestError, parseExportQuery } from '../../shared/exports';
import { dispatch } from '../../shared/channel';
import { LabService } from '../services/lab-service';
import { appRoot, examplesDir } from '../services/paths';
import { Workspace } from '../services/workspace';
import { checkIpcSender, LAB_PROTOCOL_HEADERS, permissionAllowed, type AppPages } from '../services/ipc-guard';
import { safeFile } from '../services/safe-path';
import { utilityEngineLauncher } from './utility-engine';

protocol.registerSchemesAsPrivileged([
  { scheme: 'lab', privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let service: LabService | null = null;
let win: BrowserWindow | null = null;

function openWorkspace(dir: string): void {
  const switching = service !== null;
  void service?.close();
  const workspace = new Workspace(dir);
  workspace.init(examplesDir());
  service = new LabService({
    workspace,
    launcher: utilityEngineLauncher(join(__dirname, 'engine.js')),
    backend: process.env.LATENTLAB_BACKEND ?? null,
    trackerNativeBinding: process.env.LATENTLAB_SQLITE_BINDING || undefined,
    log: (m) => console.log(m),
  });
  service.subscribe((event, payload) => {
    if (win && !win.isDestroyed()) win.webContents.send('lab:event', event, payload);
  });
  void service.startEngine().catch((e) => console.error('engine:', (e as Error).message));
  win?.setTitle(`Latent Lab — ${workspace.name}`);
  if (switching) win?.webContents.reload();
}

/** the pages that are the app's own: the built index.html, or the dev server */
function appPages(): AppPages {
  return process.env.ELECTRON_RENDERER_URL
    ? { devUrl: process.env.ELECTRON_RENDERER_URL }
    : { indexHtml: join(appRoot(), 'out', 'renderer', 'index.html') };
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1400,
    height: 900,
    title: 'Latent Lab',
    webPreferences: {
      preload: join(__dirname, '../preload/index.js'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  // links open in the user's browser, never inside the app
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (/^https?:/.test(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  win.webContents.on('will-attach-webview', (e) => e.preventDefault());
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(appRoot(), 'out', 'renderer', 'index.html'));
}

/** An HTML report printed to PDF by a hidden window (no scripts run in it). */
async function printToPdf(html: Buffer): Promise<Buffer> {
  const dir = mkdtempSync(join(tmpdir(), 'latentlab-pdf-'));
  const file = join(dir, 'report.html');
  writeFileSync(file, html);
  const page = new BrowserWindow({ show: false, webPreferences: { sandbox: true, javascript: false, contextIsolation: true } });
  try {
    await page.loadFile(file);
    return await page.webContents.printToPDF({ printBackground: true, pageSize: 'A4' });
  } finally {
    page.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function buildMenu(): void {
  const template: Electron.MenuItemConstructorOptions[] = [
    {
      label: 'File',
      submenu: [
        {
          label: 'Open Workspace…',
          accelerator: 'CmdOrCtrl+O',
          click: async () => {
            const r = await dialog.showOpenDialog({ properties: ['openDirectory', 'createDirectory'] });
            if (!r.canceled && r.filePaths[0]) openWorkspace(r.filePaths[0]);
          },
        },
        { type: 'separator' },
        {
          label: 'Export',
          submenu: EXPORT_CHOICE_NAMES.map((choice) => ({
            label: EXPORT_CHOICES[choice].menu,
            accelerator: EXPORT_CHOICES[choice].accelerator,
            // the renderer knows which runs are on screen; it asks for the export, and the download below asks where to save it
            click: () => win?.webContents.send('lab:event', 'app.export', { choice }),
          })),
        },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    { role: 'editMenu' },
    { role: 'viewMenu' },
    { role: 'windowMenu' },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}

app.whenReady().then(() => {
  // lab://artifacts/<run>/<file> → a file under the workspace's artifacts folder
  // lab://export/<kind>?runs=… → a download (Electron asks where to save it)
  protocol.handle('lab', async (req) => {
    const url = new URL(req.url);
    if (service && url.host === 'export') {
      try {
        const req = parseExportQuery(url.pathname.replace(/^\/+/, ''), url.searchParams);
        if (req.kind === 'report' && req.format === 'pdf') {
          // the desktop prints the HTML report itself (printToPDF), no Chromium needed
          const html = await renderExport(service.tracker, service.workspace.artifactsDir, { ...req, format: 'html' }, exportEnv());
          const pdf = await printToPdf(html.body);
          return new Response(new Uint8Array(pdf), { headers: { 'content-type': 'application/pdf', 'content-disposition': `attachment; filename="${html.filename.replace(/\.html$/, '.pdf')}"` } });
        }
        const e = await renderExport(service.tracker, service.workspace.artifactsDir, req, exportEnv());
        return new Response(new Uint8Array(e.body), { headers: { 'content-type': e.contentType, 'content-disposition': `attachment; filename="${e.filename}"` } });
      } catch (err) {
        return new Response((err as Error).message, { status: err instanceof ExportError || err instanceof ExportRequestError ? 400 : 500 });
      }
    }
    if (!service || url.host !== 'artifacts') return new Response('not found', { status: 404, headers: LAB_PROTOCOL_HEADERS });
    // below the artifacts folder only: no '..', no encoded tricks, no links that lead out
    const abs = safeFile(resolve(service.workspace.artifactsDir), url.pathname.replace(/^\//, ''), service.workspace.dir);
    if (!abs) return new Response('not found', { status: 404, headers: LAB_PROTOCOL_HEADERS });
    const file = await net.fetch(pathToFileURL(abs).toString());
    const headers = new Headers(file.headers);
    for (const [k, v] of Object.entries(LAB_PROTOCOL_HEADERS)) headers.set(k, v);
    return new Response(file.body, { status: file.status, headers });
  });
  ipcMain.handle('lab:invoke', (e, name: unknown, input: unknown) => {
    // only our own window's top frame, showing our own page, may call the api
    const frame = e.senderFrame;
    const verdict = checkIpcSender(
      {
        isAppWindow: !!win && !win.isDestroyed() && e.sender === win.webContents,
        isMainFrame: !!frame && frame === e.sender.mainFrame,
        frameUrl: frame ? frame.url : null,
      },
      appPages(),
    );
    if (!verdict.ok) return { ok: false, error: verdict.reason };
    if (!service) return { ok: false, error: 'no workspace is open' };
    return dispatch(service.handlers(), name, input);
  });
  // no page in the app gets a camera, a microphone, notifications and the like
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback) => callback(permissionAllowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_wc, permission) => permissionAllowed(permission));
  buildMenu();
  createWindow();
  // every export is a download: ask where to save it, starting in Documents
  win!.webContents.session.on('will-download', (_e, item) => {
    item.setSaveDialogOptions({ title: 'Save export', defaultPath: join(app.getPath('documents'), item.getFilename()) });
  });
  openWorkspace(process.env.LATENTLAB_WORKSPACE || resolve(homedir(), 'LatentLab'));
});

app.on('window-all-closed', () => {
  void service?.close();
  app.quit();
});
