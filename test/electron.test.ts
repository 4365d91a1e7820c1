import { describe, expect, it, vi } from 'vitest';

// Electron itself is not installed on CI machines: the host is tested against a mock of its API.
const created: { options: Record<string, unknown> }[] = [];
vi.mock('electron', () => {
  class BrowserWindow {
    static getAllWindows = () => created;
    options: Record<string, unknown>;
    webContents = { setWindowOpenHandler: vi.fn() };
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
    contextBridge: { exposeInMainWorld: vi.fn() },
  };
});

describe('the Electron host', () => {
  it('opens its window with context isolation, a sandboxed renderer and no Node integration', async () => {
    const { createWindow } = await import('../src/main/electron/index');
    const win = createWindow() as unknown as { options: { webPreferences: Record<string, unknown> }; webContents: { setWindowOpenHandler: ReturnType<typeof vi.fn> } };
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
    expect(String(win.options.webPreferences.preload)).toMatch(/preload[\\/]index\.cjs$/);
    // New windows are denied (links go to the system browser).
    const handler = win.webContents.setWindowOpenHandler.mock.calls[0][0] as (d: { url: string }) => { action: string };
    expect(handler({ url: 'https://example.org' }).action).toBe('deny');
  });
});
