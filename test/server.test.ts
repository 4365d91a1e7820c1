import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fool, tempDir } from './helpers';

/** `fool serve` as a user runs it: the built CLI on a random port, driven with fetch. */
const FOOL = resolve(__dirname, '../bin/fool.js');
const HAS_MODEL = existsSync(join(__dirname, '../resources/models/lenet-mnist.json'));

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<number | null>;
}

function serve(args: string[]): Promise<Served> {
  const child = spawn(process.execPath, [FOOL, 'serve', '--port', '0', '--json', ...args], { env: { ...process.env, FOOL_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) done({ child, url: (JSON.parse(line) as { url: string }).url, exited });
    });
    void exited.then((code) => fail(new Error(`fool serve exited (${code}): ${err}`)));
  });
}

const call = (url: string, method: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${url}api/call/${method}`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** Reads server-sent events until `until` says stop. */
async function readEvents(url: string, until: (e: Record<string, unknown>) => boolean, init: RequestInit = {}): Promise<Record<string, unknown>[]> {
  const res = await fetch(`${url}api/events`, init);
  expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
  const reader = res.body!.getReader();
  const events: Record<string, unknown>[] = [];
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += new TextDecoder().decode(value);
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const chunk = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = chunk.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const e = JSON.parse(data.slice(6)) as Record<string, unknown>;
      events.push(e);
      if (until(e)) {
        await reader.cancel();
        return events;
      }
    }
  }
  return events;
}

describe.skipIf(!HAS_MODEL)('fool serve', () => {
  const dir = tempDir('fool-serve-');
  const db = join(dir, 'lab.db');
  let s: Served;
  beforeAll(async () => {
    s = await serve(['--db', db, '--workers', '1']);
  });
  afterAll(async () => {
    if (s && s.child.exitCode === null) {
      s.child.kill('SIGTERM');
      await s.exited;
    }
  });

  it('binds 127.0.0.1 and serves the app with a strict CSP', async () => {
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const res = await fetch(s.url);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toMatch(/default-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-eval/);
    if (existsSync(join(__dirname, '../out/renderer/index.html'))) {
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/<div id="app">/);
    }
    expect((await fetch(`${s.url}..%2F..%2Fpackage.json`)).status).toBe(404);
  });

  it('answers API calls; progress of a run arrives as server-sent events', async () => {
    const models = (await (await call(s.url, 'models.list', {})).json()) as { ok: boolean; result: { name: string }[] };
    expect(models.ok).toBe(true);
    expect(models.result.map((m) => m.name)).toContain('lenet-mnist');
    let runId = 0;
    const events = readEvents(s.url, (e) => e.type === 'run.status' && e.runId === runId && e.status !== 'running');
    await new Promise((r) => setTimeout(r, 200)); // the stream is open before the run starts
    const started = (await (await call(s.url, 'runs.start', { model: 'lenet-mnist', encoding: 'cppn', generations: 3, batch: 12, seed: 1 })).json()) as { ok: boolean; result: { runId: number } };
    expect(started.ok).toBe(true);
    runId = started.result.runId;
    const got = await events;
    const progress = got.filter((e) => e.type === 'run.progress' && e.runId === runId);
    expect(progress.map((e) => e.generation)).toEqual([0, 1, 2, 3]);
    expect(progress[0]).toMatchObject({ generations: 3, etaSeconds: expect.any(Number), evaluationsPerSecond: expect.any(Number) });
    expect(got.at(-1)).toMatchObject({ type: 'run.status', runId, status: 'finished' });

    const champs = (await (await call(s.url, 'runs.champions', { runId })).json()) as { result: { individualId: number }[] };
    const img = await fetch(`${s.url}api/image/${runId}/${champs.result[0].individualId}.png?size=56`);
    expect(img.status).toBe(200);
    expect(img.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await img.arrayBuffer()).subarray(1, 4).toString()).toBe('PNG');
  });

  it('takes a model upload (raw bytes) and registers it; refuses uploads that are not models or not octet-stream', async () => {
    const onnx = readFileSync(join(__dirname, '../resources/models/lenet-mnist.onnx'));
    const up = await fetch(`${s.url}api/upload?name=${encodeURIComponent('my lenet.onnx')}`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: onnx });
    expect(up.status).toBe(200);
    const { result } = (await up.json()) as { result: { path: string } };
    expect(readFileSync(result.path).equals(onnx)).toBe(true);
    const added = (await (await call(s.url, 'models.add', { file: result.path, name: 'uploaded', preset: 'mnist' })).json()) as { ok: boolean; result: { model: { classes: number } } };
    expect(added).toMatchObject({ ok: true, result: { model: { classes: 10 } } });
    // Not a model file; not raw bytes (a cross-site form could send that without a preflight).
    const exe = await fetch(`${s.url}api/upload?name=x.exe`, { method: 'POST', headers: { 'Content-Type': 'application/octet-stream' }, body: 'x' });
    expect(exe.status).toBe(400);
    expect(((await exe.json()) as { error: { message: string } }).error.message).toMatch(/only \.onnx models/);
    const form = await fetch(`${s.url}api/upload?name=x.onnx`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'x' });
    expect(form.status).toBe(400);
  });

  it('answers bad requests with 400 and a message, and keeps working', async () => {
    const cases: [string, string | object, RegExp, number][] = [
      ['runs.get', '{not json', /not JSON/, 400],
      ['runs.get', { runId: 'x' }, /runId/, 400],
      ['runs.start', { model: 'lenet-mnist', encoding: 'cppn', generations: -3 }, /generations/, 400],
      ['no.such', {}, /unknown API method/, 400],
      ['runs.get', { runId: 12345 }, /no run 12345/, 404],
      ['export.run', { runId: 1, outDir: '/dev/null/sub' }, /cannot write/, 400],
    ];
    for (const [method, body, message, status] of cases) {
      const res = await call(s.url, method, body);
      expect(res.status).toBe(status);
      const j = (await res.json()) as { ok: boolean; error: { code: string; message: string } };
      expect(j.ok).toBe(false);
      expect(j.error.message).toMatch(message);
    }
    // Not JSON content: refused (a cross-site form cannot call the API).
    const form = await fetch(`${s.url}api/call/runs.list`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: '{}' });
    expect(form.status).toBe(400);
    expect((await fetch(`${s.url}api/image/999/1.png`)).status).toBe(404);
    expect((await fetch(`${s.url}api/image/1/1.png?size=huge`)).status).toBe(400);
    // A page elsewhere that rebinds its name to 127.0.0.1 is refused by the Host check.
    const rebound = await new Promise<number>((done) => {
      const u = new URL(s.url);
      request({ host: u.hostname, port: u.port, path: '/api/call/runs.list', method: 'POST', headers: { Host: 'evil.example', 'Content-Type': 'application/json' } }, (r) => done(r.statusCode ?? 0)).end('{}');
    });
    expect(rebound).toBe(403);
    const list = (await (await call(s.url, 'runs.list', {})).json()) as { ok: boolean; result: unknown[] };
    expect(list.ok).toBe(true);
    expect(list.result).toHaveLength(1);
    expect(s.child.exitCode).toBeNull();
  });

  it('stops live runs after their generation on SIGTERM and closes cleanly', async () => {
    const started = (await (await call(s.url, 'runs.start', { model: 'lenet-mnist', encoding: 'direct', generations: 100_000, batch: 10 })).json()) as { result: { runId: number } };
    await readEvents(s.url, (e) => e.type === 'run.progress' && e.runId === started.result.runId && (e.generation as number) >= 1);
    s.child.kill('SIGTERM');
    expect(await s.exited).toBe(0);
    const d = new Database(db, { readonly: true });
    try {
      expect(d.prepare('SELECT status FROM runs WHERE id = ?').get(started.result.runId)).toEqual({ status: 'stopped' });
    } finally {
      d.close();
    }
  });
});

describe('fool serve on another address', () => {
  it('refuses to bind beyond loopback without a token', async () => {
    const r = await fool(['serve', '--host', '0.0.0.0', '--port', '0', '--db', join(tempDir(), 'lab.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/without a token.*--token/);
  });

  it('enforces the token: header, query or the cookie it sets', async () => {
    const token = 'test-token-0123456789';
    const t = await serve(['--host', '0.0.0.0', '--token', token, '--db', join(tempDir(), 'lab.db')]);
    try {
      const url = t.url.replace('0.0.0.0', '127.0.0.1');
      const none = await call(url, 'runs.list', {});
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/token/);
      expect((await call(url, 'runs.list', {}, { Authorization: 'Bearer wrong-token-0000000' })).status).toBe(401);
      expect((await call(url, 'runs.list', {}, { Authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await fetch(`${url}api/events`)).status).toBe(401);
      const page = await fetch(`${url}?token=${token}`);
      expect(page.status).not.toBe(401);
      const cookie = page.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      expect((await call(url, 'runs.list', {}, { Cookie: cookie.split(';')[0] })).status).toBe(200);
    } finally {
      t.child.kill('SIGTERM');
      await t.exited;
    }
  });
});
