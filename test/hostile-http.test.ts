import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FOOL, fool, tempDir } from './helpers';

/**
 * Hostile requests to `fool serve`, sent raw (node:http and sockets, so no client tidies the path,
 * Host or Origin): path traversal, a foreign Host (DNS rebinding), a foreign Origin (a page on
 * another site posting to 127.0.0.1), missing and wrong tokens, malformed cookies, oversized and
 * malformed bodies. Every one gets a 4xx with a JSON error or the app's page, none a 500, nothing in
 * the lab changes, and the server keeps answering.
 */

interface Served {
  child: ChildProcess;
  port: number;
}

function serve(db: string, args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [FOOL, 'serve', '--port', '0', '--json', '--db', db, ...args], { env: { ...process.env, FOOL_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) done({ child, port: (JSON.parse(out.split('\n')[0]) as { port: number }).port });
    });
    child.on('exit', (code) => fail(new Error(`fool serve exited (${code}): ${err}`)));
  });
}

interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

/** One raw request: the path, Host and other headers exactly as given. */
function raw(port: number, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; setHost?: boolean }): Promise<Reply> {
  return new Promise((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers, setHost: opts.setHost ?? true }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
    });
    req.on('error', fail);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

/** A request line and headers written to the socket by hand (paths no HTTP client would send). */
function socketRequest(port: number, text: string): Promise<string> {
  return new Promise((done) => {
    const s = connect(port, '127.0.0.1', () => s.write(text));
    let got = '';
    s.on('data', (d) => (got += d.toString()));
    s.on('end', () => done(got));
    s.on('error', () => done(got));
    s.setTimeout(5000, () => s.destroy());
  });
}

const post = (port: number, method: string, body: string | Buffer, headers: Record<string, string> = {}) =>
  raw(port, { method: 'POST', path: `/api/call/${method}`, headers: { 'Content-Type': 'application/json', ...headers }, body });

const dir = tempDir();
const db = join(dir, 'lab.db');
let open: Served;
let locked: Served;
const TOKEN = 'correct-horse-battery-staple';

beforeAll(async () => {
  expect((await fool(['evolve', '--model', 'lenet-mnist', '--encoding', 'cppn', '--generations', '1', '--batch', '20', '--workers', '1', '--db', db])).code).toBe(0);
  [open, locked] = await Promise.all([serve(db), serve(db, ['--token', TOKEN])]);
});
afterAll(() => {
  open?.child.kill('SIGKILL');
  locked?.child.kill('SIGKILL');
});

const runCount = async (port: number, headers: Record<string, string> = {}) => {
  const r = await post(port, 'runs.list', '{}', headers);
  expect(r.status).toBe(200);
  return (JSON.parse(r.body) as { result: unknown[] }).result.length;
};

describe('hostile HTTP requests to fool serve', () => {
  it('path traversal never leaves the app folder', async () => {
    const paths = ['/../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2f..%2f..%2fetc%2fpasswd', '/assets/..%5c..%5c..%5cetc%5cpasswd', '/%2e%2e%2f%2e%2e%2fetc/passwd.txt', '/x%00.js', '/%E0%A4%A', '//etc/passwd'];
    for (const path of paths) {
      const got = await socketRequest(open.port, `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(got, path).not.toMatch(/root:.*:0:0:/);
      expect(got, path).toMatch(/^HTTP\/1\.1 (200|400|404|503)/);
    }
    const img = await raw(open.port, { path: '/api/image/1/..%2f..%2fetc%2fpasswd.png' });
    expect(img.status).toBe(404);
  });

  it('a Host that is not this machine is refused (DNS rebinding)', async () => {
    for (const host of ['evil.example', '127.0.0.1.evil.example', 'localhost.evil.example:5178', '[::2]']) {
      const r = await raw(open.port, { path: '/', headers: { Host: host }, setHost: false });
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/Host/) } });
    }
    // No Host at all: Node's HTTP/1.1 server refuses it before the lab sees it.
    expect((await raw(open.port, { path: '/', setHost: false })).status).toBe(400);
  });

  it('a state-changing call from another site (Origin, Sec-Fetch-Site) is refused and changes nothing', async () => {
    const before = await runCount(open.port);
    const start = JSON.stringify({ model: 'lenet-mnist', encoding: 'direct', generations: 1, batch: 10 });
    const hostile: Record<string, string>[] = [{ Origin: 'http://evil.example' }, { Origin: 'null' }, { Origin: `http://127.0.0.1:${open.port + 1}` }, { 'Sec-Fetch-Site': 'cross-site' }, { 'Sec-Fetch-Site': 'same-site' }];
    for (const headers of hostile) {
      const r = await post(open.port, 'runs.start', start, headers);
      expect(r.status, JSON.stringify(headers)).toBe(403);
      expect(r.body).toMatch(/own page only/);
    }
    expect(await runCount(open.port)).toBe(before);
    // Nor may it upload a file (a model) to the lab.
    const up = await raw(open.port, { method: 'POST', path: '/api/upload?name=x.onnx', headers: { Origin: 'http://evil.example', 'Content-Type': 'application/octet-stream' }, body: 'not a model' });
    expect(up.status).toBe(403);
    // The app's own page (same origin) may.
    const own = await post(open.port, 'runs.list', '{}', { Origin: `http://127.0.0.1:${open.port}`, 'Sec-Fetch-Site': 'same-origin' });
    expect(own.status).toBe(200);
  });

  it('a token-protected lab: no token, a wrong one, or a malformed cookie get 401, never 500', async () => {
    const p = locked.port;
    const cases: Record<string, string>[] = [
      {},
      { Authorization: 'Bearer wrong-token-wrong-token' },
      { Authorization: `Bearer ${TOKEN}x` },
      { Authorization: 'Basic Zm9vOmJhcg==' },
      { Cookie: 'fool_token=%E0%A4%A' },
      { Cookie: 'fool_token=%' },
      { Cookie: `fool_token=${'a'.repeat(6000)}` },
      { Cookie: 'fool_token' },
      { Cookie: ';;;=;fool_token==;' },
    ];
    for (const headers of cases) {
      const r = await post(p, 'runs.list', '{}', headers);
      expect(r.status, JSON.stringify(headers).slice(0, 80)).toBe(401);
      expect(JSON.parse(r.body)).toMatchObject({ ok: false, error: { message: expect.stringMatching(/token/) } });
    }
    const q = await raw(p, { path: '/api/events?token=nope' });
    expect(q.status).toBe(401);
    // The right token, by header and by the cookie the page sets.
    expect((await post(p, 'runs.list', '{}', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    const page = await raw(p, { path: `/?token=${TOKEN}` });
    const cookie = String(page.headers['set-cookie']).split(';')[0];
    expect((await post(p, 'runs.list', '{}', { Cookie: `other=%E0; ${cookie}` })).status).toBe(200);
  });

  it('oversized, malformed and mistyped bodies get a 4xx with a JSON error; the server keeps serving', async () => {
    const p = open.port;
    const before = await runCount(p);
    const cases: [string, () => Promise<Reply>, number, RegExp][] = [
      ['17 MB body', () => post(p, 'runs.list', Buffer.alloc(17 * 1024 * 1024, 0x20)), 413, /over/],
      ['not JSON', () => post(p, 'runs.list', '{"runId": 1,'), 400, /not JSON/],
      ['deeply nested', () => post(p, 'runs.get', '['.repeat(200_000) + ']'.repeat(200_000)), 400, /./],
      ['an array', () => post(p, 'runs.get', '[1]'), 400, /./],
      ['null', () => post(p, 'runs.get', 'null'), 400, /./],
      ['a string id', () => post(p, 'runs.get', '{"runId":"1"}'), 400, /runId/],
      ['prototype keys', () => post(p, 'runs.get', '{"runId":1,"__proto__":{"admin":true}}'), 400, /./],
      ['huge numbers', () => post(p, 'runs.start', '{"model":"lenet-mnist","encoding":"direct","generations":1e300}'), 400, /generations/],
      ['an override the model cannot take', () => post(p, 'runs.start', '{"model":"lenet-mnist","encoding":"direct","generations":1,"overrides":{"width":100000,"height":100000}}'), 400, /width = 100000 does not match model "lenet-mnist".*comes from the model/],
      ['a relative export folder', () => post(p, 'export.run', '{"runId":1,"outDir":"gallery"}'), 400, /outDir.*absolute/],
      ['a form post', () => post(p, 'runs.list', 'a=1', { 'Content-Type': 'application/x-www-form-urlencoded' }), 400, /Content-Type: application\/json/],
      ['a GET call', () => raw(p, { path: '/api/call/runs.list' }), 400, /POST/],
      ['an unknown method', () => post(p, 'system.exec', '{"cmd":"id"}'), 400, /unknown API method/],
      ['an encoded method name', () => post(p, '%E0%A4%A', '{}'), 400, /./],
      ['a bad image size', () => raw(p, { path: '/api/image/1/0.png?size=99999' }), 400, /size/],
    ];
    for (const [what, send, status, message] of cases) {
      const r = await send();
      expect(r.status, `${what}: ${r.body.slice(0, 200)}`).toBe(status);
      expect(JSON.parse(r.body).error.message, what).toMatch(message);
    }
    expect(await runCount(p)).toBe(before);
    // A header block over Node's limit, and garbage instead of HTTP: the connection is dropped, the server lives.
    await socketRequest(p, `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: ${'a'.repeat(40_000)}\r\n\r\n`);
    await socketRequest(p, 'NOT HTTP AT ALL\r\n\r\n');
    expect(await runCount(p)).toBe(before);
  });
});
