import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The Electron host's guards, with `electron` mocked (its binary is not installed on CI machines):
 * the dev server URL only in a development build, external links only to an allow-list, no
 * navigation or redirect away from the app in any web contents, no permissions, exports only to a
 * folder the user picks in the main process's dialog. (The fuses: test/packaging.test.ts.)
 */

const app = { isPackaged: false, whenReady: () => new Promise(() => undefined), on: vi.fn(), quit: vi.fn() };
const shell = { openExternal: vi.fn(async () => undefined) };
vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => [];
    handlers: Record<string, (...a: unknown[]) => void> = {};
    webContents = { setWindowOpenHandler: vi.fn(), on: vi.fn((name: string, fn: (...a: unknown[]) => void) => (this.handlers[name] = fn)), send: vi.fn() };
    once = vi.fn();
    loadURL = vi.fn(async () => undefined);
  }
  return {
    app,
    BrowserWindow,
    shell,
    dialog: { showErrorBox: vi.fn(), showOpenDialog: vi.fn() },
    ipcMain: { handle: vi.fn() },
    protocol: { registerSchemesAsPrivileged: vi.fn(), handle: vi.fn() },
    session: { defaultSession: { webRequest: { onHeadersReceived: vi.fn() }, setPermissionRequestHandler: vi.fn(), setPermissionCheckHandler: vi.fn() } },
  };
});

const APP_FRAME = { senderFrame: { url: 'fool://app/index.html' } } as never;

afterEach(() => {
  app.isPackaged = false;
  delete process.env.ELECTRON_RENDERER_URL;
  shell.openExternal.mockClear();
});

type Win = { handlers: Record<string, (e: { preventDefault(): void }, url: string) => void>; loadURL: ReturnType<typeof vi.fn>; webContents: { setWindowOpenHandler: ReturnType<typeof vi.fn> } };

describe('the Electron host guards', () => {
  it('honours ELECTRON_RENDERER_URL in a development build only, never in a packaged app', async () => {
    const { createWindow, isAppUrl } = await import('../src/main/electron/index');
    process.env.ELECTRON_RENDERER_URL = 'http://localhost:5173';
    const dev = createWindow() as unknown as Win;
    expect(dev.loadURL).toHaveBeenCalledWith('http://localhost:5173');
    expect(isAppUrl('http://localhost:5173/index.html')).toBe(true);

    app.isPackaged = true;
    const packaged = createWindow() as unknown as Win;
    expect(packaged.loadURL).toHaveBeenCalledWith('fool://app/index.html');
    // Nor may such a page call the API, or the window navigate to it.
    expect(isAppUrl('http://localhost:5173/index.html')).toBe(false);
    const stop = vi.fn();
    packaged.handlers['will-navigate']({ preventDefault: stop }, 'http://localhost:5173/');
    expect(stop).toHaveBeenCalled();
    const { handleCall } = await import('../src/main/electron/index');
    const execute = vi.fn();
    const r = await handleCall({ execute } as never, { senderFrame: { url: 'http://localhost:5173/' } } as never, 'runs.list', {});
    expect(r).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(execute).not.toHaveBeenCalled();
  });

  it('opens only allow-listed https links in the browser; everything else stays closed', async () => {
    const { openExternalSafely, createWindow } = await import('../src/main/electron/index');
    expect(openExternalSafely('https://arxiv.org/abs/1412.1897')).toBe(true);
    expect(shell.openExternal).toHaveBeenCalledWith('https://arxiv.org/abs/1412.1897');
    for (const url of ['http://arxiv.org/abs/1412.1897', 'https://evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'smb://host/share', 'https://user:pw@github.com/', 'https://arxiv.org.evil.example/', 'not a url']) {
      expect(openExternalSafely(url), url).toBe(false);
    }
    expect(shell.openExternal).toHaveBeenCalledTimes(1);
    const win = createWindow() as unknown as Win;
    const open = win.webContents.setWindowOpenHandler.mock.calls[0][0] as (d: { url: string }) => { action: string };
    expect(open({ url: 'https://evil.example/' }).action).toBe('deny');
    expect(shell.openExternal).toHaveBeenCalledTimes(1);
  });

  it('every web contents refuses navigation, redirects and <webview> away from the app', async () => {
    const { hardenContents } = await import('../src/main/electron/index');
    const handlers: Record<string, (e: { preventDefault(): void }, url: string) => void> = {};
    const contents = { setWindowOpenHandler: vi.fn(), on: vi.fn((name: string, fn: never) => (handlers[name] = fn)) };
    hardenContents(contents as never);
    expect(Object.keys(handlers).sort()).toEqual(['will-attach-webview', 'will-navigate', 'will-redirect']);
    for (const [event, url, blocked] of [
      ['will-navigate', 'https://evil.example/', true],
      ['will-redirect', 'https://evil.example/', true],
      ['will-redirect', 'fool://app/index.html#/runs', false],
      ['will-attach-webview', 'fool://app/x', true],
    ] as const) {
      const stop = vi.fn();
      handlers[event]({ preventDefault: stop }, url);
      expect(stop.mock.calls.length, `${event} ${url}`).toBe(blocked ? 1 : 0);
    }
  });

  it("export.run writes only to the folder chosen in the main process's dialog", async () => {
    const { handleCall } = await import('../src/main/electron/index');
    const execute = vi.fn(async (_m: string, p: unknown) => ({ ok: true, result: p }));
    const chosen = vi.fn(async () => '/home/me/picked');
    const r = await handleCall({ execute } as never, APP_FRAME, 'export.run', { runId: 1, outDir: '/etc/cron.d' }, chosen);
    expect(chosen).toHaveBeenCalledWith('/etc/cron.d', expect.objectContaining({ kind: 'folder' }));
    expect(execute).toHaveBeenCalledWith('export.run', { runId: 1, outDir: '/home/me/picked' });
    expect(r).toMatchObject({ ok: true });
    // Cancelled: nothing is written.
    execute.mockClear();
    const cancelled = await handleCall({ execute } as never, APP_FRAME, 'export.run', { runId: 1, outDir: '/tmp/x' }, async () => undefined);
    expect(cancelled).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.stringMatching(/cancelled/) } });
    expect(execute).not.toHaveBeenCalled();
    // Reports and datasets too.
    await handleCall({ execute } as never, APP_FRAME, 'experiments.report', { experimentId: 1, outDir: '/etc' }, chosen);
    expect(execute).toHaveBeenCalledWith('experiments.report', { experimentId: 1, outDir: '/home/me/picked' });
  });

  it('the app names no path under Electron: an empty one opens the dialog; a bad request opens none', async () => {
    const { handleCall } = await import('../src/main/electron/index');
    const execute = vi.fn(async (_m: string, p: unknown) => ({ ok: true, result: p }));
    const chosen = vi.fn(async () => '/home/me/picked');
    const r = await handleCall({ execute } as never, APP_FRAME, 'export.start', { runId: 3, outDir: '' }, chosen);
    expect(r).toMatchObject({ ok: true });
    expect(chosen).toHaveBeenCalledWith('', expect.objectContaining({ kind: 'folder', title: expect.stringMatching(/Export/) }));
    expect(execute).toHaveBeenCalledWith('export.start', { runId: 3, outDir: '/home/me/picked' });
    // An invalid request is refused before any dialog opens.
    chosen.mockClear();
    execute.mockClear();
    const bad = await handleCall({ execute } as never, APP_FRAME, 'export.start', { runId: -1, outDir: '' }, chosen);
    expect(bad).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
    expect(chosen).not.toHaveBeenCalled();
    expect(execute).not.toHaveBeenCalled();
    // Files (a trained model, a lab) go through the save dialog.
    const file = vi.fn(async () => '/home/me/lenet.onnx');
    await handleCall({ execute } as never, APP_FRAME, 'train.start', { out: '/etc/passwd' }, file);
    expect(file).toHaveBeenCalledWith('/etc/passwd', expect.objectContaining({ kind: 'file' }));
    expect(execute).toHaveBeenCalledWith('train.start', expect.objectContaining({ out: '/home/me/lenet.onnx' }));
  });
});

describe('the Electron host at start', () => {
  it('refuses every permission check and hardens every web contents created later', async () => {
    const { tempDir } = await import('./helpers');
    const { join } = await import('node:path');
    process.env.FOOL_DB = join(tempDir(), 'lab.db');
    const electron = (await import('electron')) as unknown as {
      session: { defaultSession: { setPermissionCheckHandler: ReturnType<typeof vi.fn>; setPermissionRequestHandler: ReturnType<typeof vi.fn> } };
    };
    const { start } = await import('../src/main/electron/index');
    app.on.mockClear();
    start();
    const check = electron.session.defaultSession.setPermissionCheckHandler.mock.calls[0][0] as (...a: unknown[]) => boolean;
    expect(check(null, 'media', 'fool://app')).toBe(false);
    expect(check(null, 'clipboard-read', 'fool://app')).toBe(false);
    // The IPC handler goes through the folder dialog for writes.
    const handler = (electron as unknown as { ipcMain: { handle: ReturnType<typeof vi.fn> } }).ipcMain.handle.mock.calls[0][1] as (e: unknown, m: string, p: unknown) => Promise<unknown>;
    const dialog = (electron as unknown as { dialog: { showOpenDialog: ReturnType<typeof vi.fn> } }).dialog;
    dialog.showOpenDialog.mockResolvedValue({ canceled: true, filePaths: [] });
    expect(await handler(APP_FRAME, 'export.run', { runId: 1, outDir: '/etc/cron.d' })).toMatchObject({ ok: false, error: { message: expect.stringMatching(/cancelled/) } });
    expect(dialog.showOpenDialog).toHaveBeenCalledWith(expect.objectContaining({ defaultPath: '/etc/cron.d', properties: expect.arrayContaining(['openDirectory']) }));
    const created = app.on.mock.calls.find(([name]) => name === 'web-contents-created')?.[1] as (e: unknown, c: unknown) => void;
    expect(created).toBeTypeOf('function');
    const contents = { setWindowOpenHandler: vi.fn(), on: vi.fn() };
    created({}, contents);
    expect(contents.on.mock.calls.map(([name]) => name).sort()).toEqual(['will-attach-webview', 'will-navigate', 'will-redirect']);
    delete process.env.FOOL_DB;
  });
});
