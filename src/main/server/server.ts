import { createWriteStream, rmSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseRequest } from '../../shared/api';
import { FoolError, toErrorPayload, type ErrorPayload } from '../../shared/errors';
import { authorize, isLoopback, sameOrigin, securityHeaders } from '../host-common/security';
import { sendFile, staticFile } from '../host-common/static';
import type { RunningWebHost, WebHostOptions } from '../host-common/web-host';

/**
 * `fool serve`: the renderer and the API over HTTP for a browser (the transport is described in
 * src/shared/api.ts). node:http is enough for four routes. Every request is validated against the
 * contract's schema before it reaches the core; no request can crash the server.
 */

export type ServeOptions = WebHostOptions;

export interface RunningServer extends RunningWebHost {
  server: Server;
}

/** Bodies are small JSON documents (the largest: an ablation mask, one byte per pixel in base64). */
const MAX_BODY = 16 * 1024 * 1024;

const STATUS: Partial<Record<ErrorPayload['code'], number>> = { NOT_FOUND: 404, BUSY: 409, INTERNAL: 500 };

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, error: ErrorPayload): void {
  sendJson(res, STATUS[error.code] ?? 400, { ok: false, error });
}

/** A body over MAX_BODY: answered 413 once it has been read past (a reset would hide the answer). */
class TooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
      else chunks.length = 0; // keep reading (and dropping) so the client gets the answer
    });
    req.on('end', () => (size > MAX_BODY ? fail(new TooLarge()) : done(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', fail);
  });
}

const TOO_LARGE = { ok: false, error: { code: 'BAD_INPUT', message: `the request body is over ${MAX_BODY} bytes; API calls are small JSON documents` } };

/** Models are large (MobileNet v2: 14 MB; VGG: 550 MB): uploads are streamed, up to this. */
const MAX_UPLOAD = 2 * 1024 ** 3;

function saveUpload(req: IncomingMessage, file: string): Promise<void> {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, next) {
      size += chunk.length;
      if (size > MAX_UPLOAD) next(new FoolError('BAD_INPUT', `the upload is over ${MAX_UPLOAD} bytes`, 'Register a file this large from the command line: fool models add FILE'));
      else next(null, chunk);
    },
  });
  return pipeline(req, limit, createWriteStream(file)).catch((e: unknown) => {
    rmSync(file, { force: true });
    throw e;
  });
}

export function startServer(opts: ServeOptions): Promise<RunningServer> {
  const { api, token } = opts;
  if (!isLoopback(opts.host) && !token) {
    return Promise.reject(
      new FoolError('BAD_INPUT', `serving on ${opts.host} would open the lab to the network without a token`, 'Pass --token SECRET (or --token generate), or leave --host at 127.0.0.1'),
    );
  }
  const streams = new Set<ServerResponse>();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (!authorize(req, url, res, token)) {
      const message = token ? 'this lab needs its token: open the URL printed by "fool serve" (with ?token=...)' : 'requests must name this machine as Host (127.0.0.1 or localhost)';
      return sendJson(res, token ? 401 : 403, { ok: false, error: { code: 'BAD_INPUT', message } });
    }
    const path = url.pathname;

    if (path.startsWith('/api/call/')) {
      if (req.method !== 'POST') return sendError(res, { code: 'BAD_INPUT', message: 'API calls are POST requests with a JSON body' });
      if (!sameOrigin(req)) {
        return sendJson(res, 403, { ok: false, error: { code: 'BAD_INPUT', message: `API calls are accepted from this lab's own page only, not from ${req.headers.origin ?? 'another site'}` } });
      }
      // JSON only: a cross-site form cannot send it without a CORS preflight, which is never granted.
      if (!/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
        return sendError(res, { code: 'BAD_INPUT', message: 'API calls need Content-Type: application/json' });
      }
      let method: string;
      try {
        method = decodeURIComponent(path.slice('/api/call/'.length));
      } catch {
        return sendError(res, { code: 'BAD_INPUT', message: 'the API method name is not valid percent-encoding' });
      }
      if (Number(req.headers['content-length']) > MAX_BODY) {
        res.setHeader('Connection', 'close');
        return sendJson(res, 413, TOO_LARGE);
      }
      let params: unknown;
      try {
        const text = await readBody(req);
        params = text.trim() === '' ? {} : JSON.parse(text);
      } catch (e) {
        if (e instanceof TooLarge) return sendJson(res, 413, TOO_LARGE);
        return sendError(res, e instanceof SyntaxError || e instanceof RangeError ? { code: 'BAD_INPUT', message: `the request body is not JSON: ${e.message}` } : toErrorPayload(e));
      }
      const parsed = parseRequest(method, params);
      if (!parsed.ok) return sendError(res, parsed.error);
      const r = await api.execute(parsed.method, parsed.params);
      return r.ok ? sendJson(res, 200, r) : sendError(res, r.error);
    }

    if (path === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
      res.write(': fooling lab events\n\n');
      const off = api.onEvent((e) => res.write(`data: ${JSON.stringify(e)}\n\n`));
      // A comment now and then keeps proxies and idle timers from closing the stream.
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      streams.add(res);
      // A write racing a closing connection must not become an unhandled 'error' event.
      res.on('error', () => undefined);
      req.on('close', () => {
        clearInterval(ping);
        off();
        streams.delete(res);
      });
      return;
    }

    if (path === '/api/upload') {
      // A file from the browser (a model, its labels): raw bytes, streamed to the lab's uploads
      // folder; the answer is its path for models.add. Not a form post: octet-stream needs a CORS
      // preflight, which is never granted, so other sites cannot upload.
      if (req.method !== 'POST') return sendError(res, { code: 'BAD_INPUT', message: 'uploads are POST requests' });
      if (!sameOrigin(req)) {
        return sendJson(res, 403, { ok: false, error: { code: 'BAD_INPUT', message: `uploads are accepted from this lab's own page only, not from ${req.headers.origin ?? 'another site'}` } });
      }
      if (!/^application\/octet-stream\b/i.test(req.headers['content-type'] ?? '')) {
        return sendError(res, { code: 'BAD_INPUT', message: 'uploads need Content-Type: application/octet-stream' });
      }
      const file = api.uploadPath(url.searchParams.get('name') ?? '');
      await saveUpload(req, file);
      return sendJson(res, 200, { ok: true, result: { path: file } });
    }

    const img = /^\/api\/image\/(\d+)\/(\d+)\.png$/.exec(path);
    if (img) {
      const size = url.searchParams.get('size');
      const png = await api.image(Number(img[1]), Number(img[2]), size === null ? undefined : Number(size));
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': png.length, 'Cache-Control': 'private, max-age=86400' });
      return void res.end(png);
    }
    if (path.startsWith('/api/')) return sendError(res, { code: 'NOT_FOUND', message: `no API route ${path}` });

    if (req.method !== 'GET' && req.method !== 'HEAD') return sendError(res, { code: 'BAD_INPUT', message: `${req.method} is not served here` });
    const file = staticFile(opts.staticDir, path);
    if (!file) {
      if (path === '/' || path === '/index.html') {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8' });
        return void res.end(`Fooling Lab: the app is not built (${opts.staticDir} is missing). Run "npm run build". The API is up at /api/.\n`);
      }
      return sendError(res, { code: 'NOT_FOUND', message: `no file ${path}` });
    }
    sendFile(res, file, req.method === 'HEAD');
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      // Whatever happens in one request stays in that request.
      if (!res.headersSent) sendError(res, toErrorPayload(e));
      else res.destroy();
    });
  });
  server.on('clientError', (_e, socket) => socket.destroy());

  return new Promise((done, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(new FoolError('IO', `cannot listen on ${opts.host}:${opts.port}: ${e.code ?? e.message}`, e.code === 'EADDRINUSE' ? 'Choose another --port (0 picks a free one)' : 'Check --host and --port')),
    );
    server.listen(opts.port, opts.host, () => {
      const port = (server.address() as AddressInfo).port;
      const shown = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
      let closing: Promise<void> | undefined;
      done({
        url: `http://${shown}:${port}/`,
        port,
        server,
        close: () =>
          (closing ??= (async () => {
            const stopped = new Promise<void>((ok) => server.close(() => ok()));
            for (const s of streams) s.end();
            server.closeIdleConnections();
            await api.close();
            await stopped;
          })()),
      });
    });
  });
}
