import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LabApi } from '../src/main/core/api';
import { Lab } from '../src/main/core/lab';
import { tempDir } from './helpers';

// Electron itself is not installed on CI machines: the host is tested against a mock of its API.
const created: { options: Record<string, unknown> }[] = [];
const exposed: Record<string, unknown> = {};
const ipcRenderer = { invoke: vi.fn(async () => ({ ok: true, result: [] })), on: vi.fn(), removeListener: vi.fn() };
const privileged: unknown[] = [];
const showOpenDialog = vi.fn(async (..._a: unknown[]): Promise<{ canceled: boolean; filePaths: string[] }> => ({ canceled: true, filePaths: [] }));
vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => created;
    options: Record<string, unknown>;
    handlers: Record<string, (...a: unknown[]) => void> = {};
    webContents = { setWindowOpenHandler: vi.fn(), on: vi.fn((name: string, fn: (...a: unknown[]) => void) => (this.handlers[name] = fn)), send: vi.fn() };
    constructor(options: Record<string, unknown>) {
      this.options = options;
      created.push(this);
    }
    once = vi.fn();
    loadFile = vi.fn(async () => undefined);
    loadURL = vi.fn(async () => undefined);
  }
  return {
    app: { whenReady: () => new Promise(() => undefined), on: vi.fn(), quit: vi.fn() },
    BrowserWindow,
    shell: { openExternal: vi.fn() },
    dialog: { showErrorBox: vi.fn(), showOpenDialog },
    ipcMain: { handle: vi.fn() },
    protocol: { registerSchemesAsPrivileged: (s: unknown[]) => privileged.push(...s), handle: vi.fn() },
    session: { defaultSession: { webRequest: { onHeadersReceived: vi.fn() }, setPermissionRequestHandler: vi.fn() } },
    contextBridge: { exposeInMainWorld: vi.fn((key: string, value: unknown) => (exposed[key] = value)) },
    ipcRenderer,
  };
});

const APP_FRAME = { senderFrame: { url: 'fool://app/index.html' } } as never;

describe('the Electron host', () => {
  it('opens its window with context isolation, a sandboxed renderer and no Node integration', async () => {
    const { createWindow } = await import('../src/main/electron/index');
    type Win = {
      options: { webPreferences: Record<string, unknown> };
      webContents: { setWindowOpenHandler: ReturnType<typeof vi.fn> };
      handlers: Record<string, (e: { preventDefault(): void }, url: string) => void>;
      loadURL: ReturnType<typeof vi.fn>;
    };
    const win = createWindow() as unknown as Win;
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false, allowRunningInsecureContent: false });
    expect(String(win.options.webPreferences.preload)).toMatch(/preload[\\/]index\.cjs$/);
    // New windows are denied (links go to the system browser).
    const handler = win.webContents.setWindowOpenHandler.mock.calls[0][0] as (d: { url: string }) => { action: string };
    expect(handler({ url: 'https://example.org' }).action).toBe('deny');
    // The app is served from its own privileged scheme, and the window never navigates elsewhere.
    expect(win.loadURL).toHaveBeenCalledWith('fool://app/index.html');
    expect(privileged).toEqual([expect.objectContaining({ scheme: 'fool', privileges: expect.objectContaining({ standard: true, secure: true }) })]);
    const stop = vi.fn();
    win.handlers['will-navigate']({ preventDefault: stop }, 'https://evil.example/');
    expect(stop).toHaveBeenCalled();
  });

  it('the preload exposes exactly the API (call, onEvent, imageUrl) and the file dialog', async () => {
    await import('../src/main/electron/preload');
    expect(Object.keys(exposed)).toEqual(['fooling']);
    const bridge = exposed.fooling as Record<string, (...a: unknown[]) => unknown>;
    expect(Object.keys(bridge).sort()).toEqual(['call', 'chooseFile', 'imageUrl', 'onEvent']);
    await bridge.chooseFile('onnx');
    expect(ipcRenderer.invoke).toHaveBeenCalledWith('dialog:chooseFile', 'onnx');
    await bridge.call('runs.list', {});
    expect(ipcRenderer.invoke).toHaveBeenCalledWith('api:call', 'runs.list', {});
    expect(bridge.imageUrl(3, 17, 128)).toBe('fool://app/api/image/3/17.png?size=128');
    const cb = vi.fn();
    const off = bridge.onEvent(cb) as () => void;
    const [channel, listener] = ipcRenderer.on.mock.calls[0] as unknown as [string, (e: unknown, ev: unknown) => void];
    expect(channel).toBe('api:event');
    listener({ sender: 'not passed on' }, { type: 'run.status', runId: 1, status: 'running' });
    expect(cb).toHaveBeenCalledWith({ type: 'run.status', runId: 1, status: 'running' });
    off();
    expect(ipcRenderer.removeListener).toHaveBeenCalledWith('api:event', listener);
  });

  describe('api:call', () => {
    const dir = tempDir();
    const api = new LabApi(new Lab(join(dir, 'lab.db')));
    afterAll(() => api.close());

    it('rejects a malformed request by the schema before it reaches the core', async () => {
      const { handleCall } = await import('../src/main/electron/index');
      const execute = vi.spyOn(api, 'execute');
      const getRun = vi.spyOn(api.lab.runs, 'get');
      for (const [method, params, message] of [
        ['runs.get', { runId: 'one' }, /runId/],
        ['runs.get', { runId: 1, extra: true }, /unrecognized|extra/i],
        ['runs.start', { model: 'lenet-mnist', encoding: 'pixels' }, /encoding/],
        ['export.run', { runId: 1 }, /outDir/],
        ['ablation.apply', { runId: 1, individualId: 0, class: 0, mask: 'AA==', fill: 'purple' }, /fill/],
        ['system.exec', { cmd: 'rm -rf /' }, /unknown API method/],
        [42, null, /unknown API method/],
      ] as const) {
        const r = await handleCall(api, APP_FRAME, method, params);
        expect(r.ok).toBe(false);
        if (!r.ok) {
          expect(r.error.code).toBe('BAD_INPUT');
          expect(r.error.message).toMatch(message);
        }
      }
      expect(execute).not.toHaveBeenCalled();
      expect(getRun).not.toHaveBeenCalled();

      // A well-formed request goes through; a run that does not exist is a clear error, and the host keeps working.
      const missing = await handleCall(api, APP_FRAME, 'runs.get', { runId: 99 });
      expect(missing).toEqual({ ok: false, error: { code: 'NOT_FOUND', message: expect.stringMatching(/no run 99/) } });
      expect(execute).toHaveBeenCalledTimes(1);
      const list = await handleCall(api, APP_FRAME, 'runs.list', {});
      expect(list).toEqual({ ok: true, result: [] });
    });

    it('refuses calls from frames that are not the app', async () => {
      const { handleCall } = await import('../src/main/electron/index');
      const execute = vi.spyOn(api, 'execute');
      execute.mockClear();
      const r = await handleCall(api, { senderFrame: { url: 'https://evil.example/' } } as never, 'runs.list', {});
      expect(r).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      expect(execute).not.toHaveBeenCalled();
    });

    it("adds a model picked in the main process's file dialog (Models page, Electron)", async () => {
      const { chooseFile, handleCall } = await import('../src/main/electron/index');
      const onnx = join(__dirname, '../resources/models/lenet-mnist.onnx');
      showOpenDialog.mockClear();
      // Cancelled: no path, nothing added.
      expect(await chooseFile(APP_FRAME, 'onnx')).toBeNull();
      const opts = showOpenDialog.mock.calls[0].at(-1) as { properties: string[]; filters: { extensions: string[] }[] };
      expect(opts.properties).toEqual(['openFile']);
      expect(opts.filters[0].extensions).toEqual(['onnx']);
      // Picked: the path goes to models.add as any path would.
      showOpenDialog.mockResolvedValueOnce({ canceled: false, filePaths: [onnx] });
      const file = await chooseFile(APP_FRAME, 'onnx');
      expect(file).toBe(onnx);
      const added = await handleCall(api, APP_FRAME, 'models.add', { file, name: 'picked-lenet', preset: 'mnist' });
      expect(added).toMatchObject({ ok: true, result: { model: { name: 'picked-lenet', classes: 10 } } });
      // Other frames and other kinds get no dialog.
      showOpenDialog.mockClear();
      expect(await chooseFile({ senderFrame: { url: 'https://evil.example/' } } as never, 'onnx')).toBeNull();
      expect(await chooseFile(APP_FRAME, '/etc/passwd')).toBeNull();
      expect(showOpenDialog).not.toHaveBeenCalled();
    });

    it('serves the renderer with a strict CSP and images through the fool: scheme', async () => {
      const { handleProtocol } = await import('../src/main/electron/index');
      const renderer = join(dir, 'renderer');
      mkdirSync(renderer);
      writeFileSync(join(renderer, 'index.html'), '<!doctype html><title>x</title>');
      const page = await handleProtocol(api, renderer, new Request('fool://app/index.html'));
      expect(page.status).toBe(200);
      expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
      expect(page.headers.get('content-security-policy')).toMatch(/object-src 'none'/);
      // No way out of the renderer's folder (an unknown path without an extension gets the app's page).
      const escape = await handleProtocol(api, renderer, new Request('fool://app/..%2F..%2F..%2F..%2Fetc%2Fhosts'));
      expect(await escape.text()).toBe('<!doctype html><title>x</title>');
      expect((await handleProtocol(api, renderer, new Request('fool://app/..%2F..%2F..%2F..%2Fetc%2Fhosts.txt'))).status).toBe(404);
      const noRun = await handleProtocol(api, renderer, new Request('fool://app/api/image/5/0.png?size=64'));
      expect(noRun.status).toBe(404);
      expect(await noRun.text()).toMatch(/no run 5/);
    });
  });
});
