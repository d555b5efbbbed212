// Electron main process: one window, the LabApi over ipcMain, the engine in a
// utility process, artifacts over the lab:// protocol.
import { homedir } from 'node:os';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, ipcMain, Menu, net, protocol, shell } from 'electron';
import { ExportError, exportEnv, renderExport } from '../services/exports';
import { dispatch } from '../../shared/channel';
import { LabService } from '../services/lab-service';
import { appRoot, examplesDir } from '../services/paths';
import { Workspace } from '../services/workspace';
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
  if (process.env.ELECTRON_RENDERER_URL) void win.loadURL(process.env.ELECTRON_RENDERER_URL);
  else void win.loadFile(join(appRoot(), 'out', 'renderer', 'index.html'));
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
      const q = Object.fromEntries(url.searchParams);
      try {
        const e = await renderExport(service.tracker, service.workspace.artifactsDir, url.pathname.replace(/^\/+/, ''), (q.runs ?? '').split(',').filter(Boolean), q, exportEnv());
        return new Response(new Uint8Array(e.body), { headers: { 'content-type': e.contentType, 'content-disposition': `attachment; filename="${e.filename}"` } });
      } catch (err) {
        return new Response((err as Error).message, { status: err instanceof ExportError ? 400 : 500 });
      }
    }
    if (!service || url.host !== 'artifacts') return new Response('not found', { status: 404 });
    const root = resolve(service.workspace.artifactsDir);
    const abs = resolve(root, decodeURIComponent(url.pathname).replace(/^\/+/, ''));
    if (!abs.startsWith(root + sep)) return new Response('forbidden', { status: 403 });
    return net.fetch(pathToFileURL(abs).toString());
  });
  ipcMain.handle('lab:invoke', (e, name: unknown, input: unknown) => {
    // only our own window's top frame may call the api
    if (!win || e.sender !== win.webContents) return { ok: false, error: 'unknown sender' };
    if (!service) return { ok: false, error: 'no workspace is open' };
    return dispatch(service.handlers(), name, input);
  });
  buildMenu();
  createWindow();
  openWorkspace(process.env.LATENTLAB_WORKSPACE || resolve(homedir(), 'LatentLab'));
});

app.on('window-all-closed', () => {
  void service?.close();
  app.quit();
});
