import type { ApiEvent, ApiMethod, ApiParams, ApiResponse, ApiResults } from '../../../shared/api';
import type { ErrorCode, ErrorPayload } from '../../../shared/errors';

/**
 * The renderer's one typed client of the API contract (src/shared/api.ts). Two transports, chosen
 * once at startup: the Electron preload's bridge when it is there, else HTTP to `fool serve`.
 * Every view calls `api.call(...)`; a failure is an ApiError carrying the host's code and message.
 */

/** What the Electron preload exposes on window.fooling. */
export interface FoolingBridge {
  call(method: string, params: unknown): Promise<ApiResponse<ApiMethod>>;
  onEvent(cb: (e: ApiEvent) => void): () => void;
  imageUrl(runId: number, individualId: number, size: number): string;
  /** The main process's file dialog: the chosen path, or null when cancelled. */
  chooseFile?(kind: 'onnx' | 'labels'): Promise<string | null>;
}

declare global {
  interface Window {
    fooling?: Partial<FoolingBridge> & { version?: string };
  }
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  constructor(p: ErrorPayload) {
    super(p.message);
    this.name = 'ApiError';
    this.code = p.code;
  }
}

interface Transport {
  readonly name: 'electron' | 'http';
  call(method: ApiMethod, params: unknown): Promise<ApiResponse<ApiMethod>>;
  onEvent(cb: (e: ApiEvent) => void): () => void;
  imageUrl(runId: number, individualId: number, size: number): string;
  /** Sends a file to the lab's machine; resolves with its path there (web host only). */
  upload: ((file: File) => Promise<string>) | null;
  /** Lets the user pick a file on this machine in a native dialog (Electron only). */
  chooseFile: ((kind: 'onnx' | 'labels') => Promise<string | null>) | null;
}

function electronTransport(b: FoolingBridge): Transport {
  // Electron reads files where they are: no upload, a path is enough.
  return { name: 'electron', call: (m, p) => b.call(m, p), onEvent: (cb) => b.onEvent(cb), imageUrl: (r, i, s) => b.imageUrl(r, i, s), upload: null, chooseFile: b.chooseFile ? (k) => b.chooseFile!(k) : null };
}

function isErrorPayload(v: unknown): v is ErrorPayload {
  return typeof v === 'object' && v !== null && typeof (v as ErrorPayload).message === 'string' && typeof (v as ErrorPayload).code === 'string';
}

function httpTransport(base: string, token: string | null): Transport {
  const withToken = (url: string) => (token ? `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}` : url);
  // One EventSource for the whole app, opened on the first subscription; it reconnects by itself.
  const listeners = new Set<(e: ApiEvent) => void>();
  let source: EventSource | null = null;
  const open = () => {
    source = new EventSource(withToken(`${base}/api/events`));
    source.onmessage = (m: MessageEvent<string>) => {
      let ev: ApiEvent;
      try {
        ev = JSON.parse(m.data) as ApiEvent;
      } catch {
        return; // a comment or keep-alive that is not an event
      }
      for (const l of listeners) l(ev);
    };
  };
  return {
    name: 'http',
    // The browser uploads the file instead (the lab may run on another machine).
    chooseFile: null,
    async call(method, params) {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (token) headers.Authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await fetch(`${base}/api/call/${method}`, { method: 'POST', headers, body: JSON.stringify(params ?? {}) });
      } catch {
        return { ok: false, error: { code: 'IO', message: 'cannot reach the lab server. Is "fool serve" still running?' } };
      }
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        return { ok: false, error: { code: 'INTERNAL', message: `the server answered ${res.status} ${res.statusText} without a JSON body` } };
      }
      const b = body as { ok?: unknown; result?: unknown; error?: unknown };
      if (b.ok === true) return { ok: true, result: b.result as ApiResults[ApiMethod] };
      if (isErrorPayload(b.error)) return { ok: false, error: b.error };
      return { ok: false, error: { code: 'INTERNAL', message: `the server answered ${res.status} with an unexpected body` } };
    },
    onEvent(cb) {
      listeners.add(cb);
      if (!source) open();
      return () => listeners.delete(cb);
    },
    imageUrl: (runId, id, size) => withToken(`${base}/api/image/${runId}/${id}.png?size=${size}`),
    async upload(file) {
      const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
      if (token) headers.Authorization = `Bearer ${token}`;
      let res: Response;
      try {
        res = await fetch(`${base}/api/upload?name=${encodeURIComponent(file.name)}`, { method: 'POST', headers, body: file });
      } catch {
        throw new ApiError({ code: 'IO', message: 'cannot reach the lab server. Is "fool serve" still running?' });
      }
      const b = (await res.json().catch(() => null)) as { ok?: boolean; result?: { path: string }; error?: unknown } | null;
      if (b?.ok === true && b.result) return b.result.path;
      throw new ApiError(isErrorPayload(b?.error) ? b.error : { code: 'INTERNAL', message: `the upload failed: ${res.status} ${res.statusText}` });
    },
  };
}

function chooseTransport(): Transport {
  const b = typeof window !== 'undefined' ? window.fooling : undefined;
  if (b && typeof b.call === 'function' && typeof b.onEvent === 'function' && typeof b.imageUrl === 'function') {
    return electronTransport(b as FoolingBridge);
  }
  const token = new URLSearchParams(window.location.search).get('token');
  return httpTransport('', token);
}

const transport = chooseTransport();

export const api = {
  transport: transport.name,
  /** Calls one method; resolves with its result or rejects with an ApiError. */
  async call<M extends ApiMethod>(method: M, params: ApiParams<M>): Promise<ApiResults[M]> {
    let r: ApiResponse<ApiMethod>;
    try {
      r = await transport.call(method, params);
    } catch (e) {
      throw new ApiError({ code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) });
    }
    if (!r.ok) throw new ApiError(r.error);
    return r.result as ApiResults[M];
  },
  onEvent: (cb: (e: ApiEvent) => void): (() => void) => transport.onEvent(cb),
  imageUrl: (runId: number, individualId: number, size: number): string => transport.imageUrl(runId, individualId, size),
  /** null in Electron (files are named by path there). */
  upload: transport.upload,
  /** Electron only (null in the browser, which uploads): the main process's file dialog. */
  chooseFile: transport.chooseFile,
  /**
   * Electron: where files are written is chosen by the user in the main process's folder or save
   * dialog when the call is made, so the app shows no path field (FolderField). The browser names
   * a folder on the lab's machine, which may be another machine.
   */
  pathsByDialog: transport.name === 'electron',
};

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
