import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { app, BrowserWindow, ipcMain, protocol, session, shell, dialog, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { parseRequest, type ApiResponse, type ApiMethod } from '../../shared/api';
import { toErrorPayload } from '../../shared/errors';
import { LabApi } from '../core/api';
import { Lab } from '../core/lab';
import { resolveDbPath } from '../core/paths';
import { CSP } from '../host-common/security';
import { staticFile } from '../host-common/static';

/**
 * The Electron host: one window on the shared renderer with secure defaults (context isolation, a
 * sandboxed renderer, no Node integration, a strict CSP). The core runs in this process; the
 * renderer reaches it only through the preload's three functions, and every request is validated
 * against the contract's schema here, before the core sees it.
 *
 * The renderer is served from the privileged `fool://app/` scheme rather than file:// so that its
 * responses carry the CSP header and images at fool://app/api/image/... are same-origin ('self').
 */

export const CALL_CHANNEL = 'api:call';
export const EVENT_CHANNEL = 'api:event';
export const APP_ORIGIN = 'fool://app';
export const CHOOSE_FILE_CHANNEL = 'dialog:chooseFile';

/** What the app may ask the user to pick in the main process's file dialog (a model to add, its labels). */
const FILE_KINDS: Record<'onnx' | 'labels', { title: string; filters: { name: string; extensions: string[] }[] }> = {
  onnx: { title: 'Add a model: choose its ONNX file', filters: [{ name: 'ONNX models', extensions: ['onnx'] }] },
  labels: { title: "Choose the model's labels (one a line, or JSON)", filters: [{ name: 'Labels', extensions: ['txt', 'json'] }] },
};

/**
 * The main process's open-file dialog, for the Models page's "add a model" (the browser uploads
 * instead). Resolves with the chosen path, or null when cancelled. Only the app's own pages may ask,
 * and only for the kinds above: the renderer names no path, the user picks it.
 */
export async function chooseFile(event: Pick<IpcMainInvokeEvent, 'senderFrame'> | null, kind: unknown): Promise<string | null> {
  if (!isAppUrl(event?.senderFrame?.url ?? '')) return null;
  if (kind !== 'onnx' && kind !== 'labels') return null;
  const k = FILE_KINDS[kind];
  const win = BrowserWindow.getFocusedWindow?.();
  const opts = { title: k.title, filters: k.filters, properties: ['openFile' as const] };
  const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
  return r.canceled || r.filePaths.length === 0 ? null : r.filePaths[0];
}

// Must run before the app is ready: `fool:` behaves like https (origin, fetch, secure context).
protocol?.registerSchemesAsPrivileged?.([{ scheme: 'fool', privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

export function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 860,
    show: false,
    title: 'Fooling Lab',
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  hardenContents(win.webContents);
  void win.loadURL(devUrl() ?? `${APP_ORIGIN}/index.html`);
  return win;
}

/**
 * The dev server's URL (electron-vite sets ELECTRON_RENDERER_URL), honoured only in a development
 * build: in a packaged app the variable would let anyone who can set the environment load their
 * page with the full API.
 */
export function devUrl(): string | undefined {
  return app?.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL || undefined;
}

export function isAppUrl(url: string): boolean {
  const dev = devUrl();
  return url.startsWith(`${APP_ORIGIN}/`) || (!!dev && url.startsWith(dev));
}

/** The only sites the app opens in the user's browser: the paper and the project's sources. */
export const EXTERNAL_HOSTS = ['arxiv.org', 'openaccess.thecvf.com', 'www.evolvingai.org', 'github.com'];

/** Opens `url` in the system browser when it is https on an allowed host; says whether it did. */
export function openExternalSafely(url: string): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.protocol !== 'https:' || !EXTERNAL_HOSTS.includes(u.hostname) || u.username || u.password) return false;
  void shell.openExternal(u.href);
  return true;
}

type Contents = Pick<WebContents, 'setWindowOpenHandler' | 'on'>;

/**
 * Every web contents (the window's, and any created later) stays on the app: no new windows (allowed
 * links go to the browser), no navigation or redirect elsewhere, no <webview>.
 */
export function hardenContents(contents: Contents): void {
  contents.setWindowOpenHandler(({ url }) => {
    openExternalSafely(url);
    return { action: 'deny' };
  });
  const stayHome = (e: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url)) e.preventDefault();
  };
  contents.on('will-navigate', stayHome);
  contents.on('will-redirect', stayHome);
  contents.on('will-attach-webview', (e: { preventDefault(): void }) => e.preventDefault());
}

/** Where a method writes: the parameter that names it, a folder or a file, and the dialog's title. */
export interface WriteTarget {
  key: 'outDir' | 'out';
  kind: 'folder' | 'file';
  title: string;
}

/** Methods that write where the caller names: the user names it instead, in the main process's dialog. */
const WRITES_TO: Partial<Record<ApiMethod, WriteTarget>> = {
  'export.run': { key: 'outDir', kind: 'folder', title: 'Export the run into a folder' },
  'export.start': { key: 'outDir', kind: 'folder', title: 'Export the run into a folder' },
  'dataset.export': { key: 'outDir', kind: 'folder', title: 'Export the fooling images as a dataset into a folder' },
  'experiments.report': { key: 'outDir', kind: 'folder', title: "Write the experiment's report into a folder" },
  'runs.writeReport': { key: 'outDir', kind: 'folder', title: "Write the run's report into a folder" },
  'runs.exportLab': { key: 'out', kind: 'file', title: 'Save the run as a lab file' },
  'train.start': { key: 'out', kind: 'file', title: 'Save the trained model as' },
};

/**
 * The `api:call` handler: only the app's own pages may call; the request is validated against the
 * schema in src/shared BEFORE the core is reached; failures come back as { ok: false, error }.
 * With `choosePath` (the app passes its dialogs), a method that writes files writes where the user
 * picked in the main process's folder or save dialog, never where the renderer said: the renderer's
 * path (which may be empty: the app shows no path field under Electron) only seeds the dialog, and
 * the dialog opens only for an otherwise valid request.
 */
export async function handleCall(
  api: Pick<LabApi, 'execute'>,
  event: Pick<IpcMainInvokeEvent, 'senderFrame'> | null,
  method: unknown,
  params: unknown,
  choosePath?: (suggested: string, target: WriteTarget) => Promise<string | undefined>,
): Promise<ApiResponse<ApiMethod>> {
  const from = event?.senderFrame?.url ?? '';
  if (!isAppUrl(from)) return { ok: false, error: { code: 'BAD_INPUT', message: `API calls are accepted from the app's own pages only, not ${from || 'an unknown frame'}` } };
  const name = typeof method === 'string' ? method : String(method);
  const target = Object.hasOwn(WRITES_TO, name) ? WRITES_TO[name as ApiMethod] : undefined;
  try {
    if (target && choosePath && typeof params === 'object' && params !== null) {
      const p = params as Record<string, unknown>;
      const placeholder = parseRequest(name, { ...p, [target.key]: '/' });
      if (!placeholder.ok) return { ok: false, error: placeholder.error };
      const chosen = await choosePath(typeof p[target.key] === 'string' ? (p[target.key] as string) : '', target);
      if (!chosen) {
        return { ok: false, error: { code: 'BAD_INPUT', message: `cancelled: no ${target.kind} was chosen. Choose one in the dialog to write there` } };
      }
      params = { ...p, [target.key]: chosen };
    }
    const req = parseRequest(name, params);
    if (!req.ok) return { ok: false, error: req.error };
    return await api.execute(req.method, req.params);
  } catch (e) {
    return { ok: false, error: toErrorPayload(e) };
  }
}

/** The main process's folder dialog or save dialog, for whatever the app writes. */
async function chooseWritePath(suggested: string, target: WriteTarget): Promise<string | undefined> {
  const win = BrowserWindow.getFocusedWindow?.();
  if (target.kind === 'file') {
    const opts = { title: target.title, defaultPath: suggested || undefined };
    const r = win ? await dialog.showSaveDialog(win, opts) : await dialog.showSaveDialog(opts);
    return r.canceled ? undefined : r.filePath;
  }
  const opts = { title: target.title, defaultPath: suggested || undefined, properties: ['openDirectory' as const, 'createDirectory' as const] };
  const r = win ? await dialog.showOpenDialog(win, opts) : await dialog.showOpenDialog(opts);
  return r.canceled ? undefined : r.filePaths[0];
}

/** fool://app/...: the built renderer with the CSP header, and the API's images. */
export async function handleProtocol(api: Pick<LabApi, 'image'>, rendererDir: string, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const headers = { 'Content-Security-Policy': CSP, 'X-Content-Type-Options': 'nosniff' };
  try {
    // Images: fool://app/api/image/<run>/<id>.png (same origin) and, as the contract first named it, fool://image/<run>/<id>.png.
    const img = (url.host === 'image' ? /^\/(\d+)\/(\d+)\.png$/ : /^\/api\/image\/(\d+)\/(\d+)\.png$/).exec(url.pathname);
    if (img && (url.host === 'image' || url.host === 'app')) {
      const size = url.searchParams.get('size');
      const png = await api.image(Number(img[1]), Number(img[2]), size === null ? undefined : Number(size));
      return new Response(new Uint8Array(png), { headers: { ...headers, 'Content-Type': 'image/png' } });
    }
    if (url.host !== 'app') return new Response('not found', { status: 404, headers });
    const file = staticFile(rendererDir, url.pathname);
    if (!file) return new Response('not found', { status: 404, headers });
    const type = file.endsWith('.html') ? 'text/html' : file.endsWith('.js') ? 'text/javascript' : file.endsWith('.css') ? 'text/css' : file.endsWith('.svg') ? 'image/svg+xml' : 'application/octet-stream';
    return new Response(new Uint8Array(await readFile(file)), { headers: { ...headers, 'Content-Type': type } });
  } catch (e) {
    const p = toErrorPayload(e);
    return new Response(p.message, { status: p.code === 'NOT_FOUND' ? 404 : 400, headers });
  }
}

/** --db PATH or --db=PATH on Electron's command line, else FOOL_DB, else the per-user lab. */
function dbFlag(argv: string[]): string | undefined {
  const i = argv.indexOf('--db');
  if (i >= 0) return argv[i + 1];
  return argv.find((a) => a.startsWith('--db='))?.slice(5);
}

export function start(): void {
  let api: LabApi;
  try {
    api = new LabApi(new Lab(resolveDbPath(dbFlag(process.argv))));
  } catch (e) {
    dialog.showErrorBox('Fooling Lab cannot open its lab', toErrorPayload(e).message);
    app.quit();
    return;
  }
  // CSP on everything the session loads too (the dev server's pages included).
  session.defaultSession.webRequest.onHeadersReceived((details, done) => {
    done({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [CSP] } });
  });
  // The app asks for no permissions (camera, notifications, ...): refuse them all.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, done) => done(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  // Any web contents created later (a devtools page, a future dialog) gets the same guards.
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  protocol.handle('fool', (req) => handleProtocol(api, join(__dirname, '../renderer'), req));
  ipcMain.handle(CALL_CHANNEL, (event, method: unknown, params: unknown) => handleCall(api, event, method, params, chooseWritePath));
  ipcMain.handle(CHOOSE_FILE_CHANNEL, (event, kind: unknown) => chooseFile(event, kind));
  api.onEvent((e) => {
    for (const w of BrowserWindow.getAllWindows()) if (!w.isDestroyed()) w.webContents.send(EVENT_CHANNEL, e);
  });
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
  // Quit waits for live runs to commit their generation and for the database to close.
  let closed = false;
  app.on('before-quit', (e) => {
    if (closed) return;
    e.preventDefault();
    void api.close().finally(() => {
      closed = true;
      app.quit();
    });
  });
}

if (app) {
  void app.whenReady().then(start);
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}
