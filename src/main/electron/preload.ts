import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { ApiEvent, ApiMethod, ApiParams, ApiResponse } from '../../shared/api';

/**
 * The renderer's only door to the core: the API contract's three functions and the file dialog, nothing of
 * Electron or Node. The main process validates every request again; nothing here is trusted.
 * (Channel names repeat index.ts's: a sandboxed preload bundles no main-process code.)
 */
const api = {
  call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResponse<M>> {
    return ipcRenderer.invoke('api:call', method, params) as Promise<ApiResponse<M>>;
  },
  /** Returns the unsubscribe function. */
  onEvent(cb: (e: ApiEvent) => void): () => void {
    const listener = (_e: IpcRendererEvent, ev: ApiEvent) => cb(ev);
    ipcRenderer.on('api:event', listener);
    return () => void ipcRenderer.removeListener('api:event', listener);
  },
  /** Same origin as the app (fool://app), so the page's CSP 'self' covers it. */
  imageUrl(runId: number, individualId: number, size?: number): string {
    const q = size === undefined ? '' : `?size=${encodeURIComponent(String(size))}`;
    return `fool://app/api/image/${encodeURIComponent(String(runId))}/${encodeURIComponent(String(individualId))}.png${q}`;
  },
  /** The main process's file dialog (adding a model): the chosen path, or null when cancelled. */
  chooseFile(kind: 'onnx' | 'labels'): Promise<string | null> {
    return ipcRenderer.invoke('dialog:chooseFile', kind) as Promise<string | null>;
  },
};

export type FoolingBridge = typeof api;

contextBridge.exposeInMainWorld('fooling', api);
