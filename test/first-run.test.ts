import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { start } from '../src/main/launcher/start';
import { electronBinding } from '../src/main/launcher/sqlite-electron';
import { tempDir } from './helpers';

/**
 * `npm start`'s first run against a local HTTP mirror started here (no internet on this machine):
 * a fake Electron archive with its SHASUMS256.txt, a fake prebuilt better-sqlite3 tarball. The
 * real installers run (Electron's install.js with @electron/get, prebuild-install, node-gyp); only
 * the archives' contents are fakes: the "Electron" is a script that records its arguments.
 */

const ROOT = resolve(__dirname, '..');
const real = createRequire(join(ROOT, 'package.json'));
const REAL_ELECTRON = dirname(real.resolve('electron/package.json'));
const REAL_SQLITE = dirname(real.resolve('better-sqlite3/package.json'));
const ELECTRON_VERSION = (JSON.parse(readFileSync(join(REAL_ELECTRON, 'package.json'), 'utf8')) as { version: string }).version;
const SQLITE_VERSION = (JSON.parse(readFileSync(join(REAL_SQLITE, 'package.json'), 'utf8')) as { version: string }).version;
const ABI = readFileSync(join(REAL_ELECTRON, 'abi_version'), 'utf8').trim();
const PLATFORM = `${process.platform}-${process.arch}`;
const ZIP_NAME = `electron-v${ELECTRON_VERSION}-${PLATFORM}.zip`;
const PREBUILT_NAME = `better-sqlite3-v${SQLITE_VERSION}-electron-v${ABI}-${PLATFORM}.tar.gz`;
const FAKE_SQLITE = 'fake better_sqlite3.node built for Electron';
const NODE_BUILD = 'the Node build the CLI uses';

const canRun = process.platform === 'linux' && existsSync('/usr/bin/zip') && existsSync('/usr/bin/tar');

/** The mirror: routes by path; records every request. */
interface Mirror {
  base: string;
  requests: string[];
  routes: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  server: Server;
}

async function startMirror(): Promise<Mirror> {
  const m: Mirror = { base: '', requests: [], routes: new Map(), server: undefined as unknown as Server };
  m.server = createServer((req, res) => {
    // A proxied request names the whole URL; a direct one its path.
    const path = req.url!.startsWith('http') ? new URL(req.url!).pathname : req.url!;
    m.requests.push(req.url!);
    const route = m.routes.get(path);
    if (route) return route(req, res);
    res.writeHead(404).end('not found');
  });
  // As a proxy: CONNECT tunnels (what prebuild-install's tunnel-agent asks for) lead back here.
  m.server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    m.requests.push(`CONNECT ${req.url}`);
    const upstream = connect((m.server.address() as AddressInfo).port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client).on('error', () => undefined);
      client.pipe(upstream).on('error', () => undefined);
    });
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((ok) => m.server.listen(0, '127.0.0.1', ok));
  m.base = `http://127.0.0.1:${(m.server.address() as AddressInfo).port}`;
  return m;
}

const serve = (body: Buffer | string) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'Content-Length': Buffer.byteLength(body) }).end(body);
};

/** Half the bytes, then the socket is destroyed: a connection dropped mid-download. */
const drop = (body: Buffer) => (_req: IncomingMessage, res: ServerResponse) => {
  res.writeHead(200, { 'Content-Length': body.length });
  res.write(body.subarray(0, body.length >> 1), () => res.socket?.destroy());
};

let electronZip: Buffer;
let prebuilt: Buffer;
let mirror: Mirror;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  if (!canRun) return;
  const work = tempDir('fool-first-run-archives-');
  // The "Electron" executable records how it was started, then exits like a closed window.
  mkdirSync(join(work, 'zip'));
  writeFileSync(join(work, 'zip', 'electron'), '#!/bin/sh\nprintf "%s\\n" "$@" > "$FAKE_ELECTRON_LOG"\n');
  chmodSync(join(work, 'zip', 'electron'), 0o755);
  writeFileSync(join(work, 'zip', 'version'), ELECTRON_VERSION);
  execFileSync('zip', ['-q', '-r', join(work, ZIP_NAME), '.'], { cwd: join(work, 'zip') });
  electronZip = readFileSync(join(work, ZIP_NAME));
  mkdirSync(join(work, 'tar', 'build', 'Release'), { recursive: true });
  writeFileSync(join(work, 'tar', 'build', 'Release', 'better_sqlite3.node'), FAKE_SQLITE);
  execFileSync('tar', ['-czf', join(work, 'prebuilt.tar.gz'), 'build'], { cwd: join(work, 'tar') });
  prebuilt = readFileSync(join(work, 'prebuilt.tar.gz'));
  mirror = await startMirror();
});

afterAll(async () => {
  if (mirror) await new Promise((ok) => mirror.server.close(ok));
});

/** The mirror as it should be: the archive, its checksum file, the prebuilt binary. */
function goodMirror(): void {
  mirror.requests.length = 0;
  mirror.routes.clear();
  mirror.routes.set(`/electron/v${ELECTRON_VERSION}/${ZIP_NAME}`, serve(electronZip));
  mirror.routes.set(`/electron/v${ELECTRON_VERSION}/SHASUMS256.txt`, serve(`${sha256(electronZip)} *${ZIP_NAME}\n`));
  mirror.routes.set(`/sqlite/v${SQLITE_VERSION}/${PREBUILT_NAME}`, serve(prebuilt));
}

/**
 * A fresh install as `npm ci` leaves it: the electron package without its binary, better-sqlite3
 * with its Node build. Their installers' own dependencies are the real ones (linked).
 */
function freshInstall() {
  const dir = tempDir('fool-first-run-');
  const electronDir = join(dir, 'node_modules', 'electron');
  mkdirSync(electronDir, { recursive: true });
  for (const f of ['package.json', 'install.js', 'index.js', 'checksums.json']) copyFileSync(join(REAL_ELECTRON, f), join(electronDir, f));
  const fromElectron = createRequire(join(REAL_ELECTRON, 'package.json'));
  for (const dep of ['@electron/get', 'extract-zip']) {
    const target = join(electronDir, 'node_modules', dep);
    mkdirSync(dirname(target), { recursive: true });
    symlinkSync(dirname(fromElectron.resolve(`${dep}/package.json`)), target);
  }
  const sqliteDir = join(dir, 'node_modules', 'better-sqlite3');
  mkdirSync(join(sqliteDir, 'build', 'Release'), { recursive: true });
  for (const f of ['package.json', 'binding.gyp']) copyFileSync(join(REAL_SQLITE, f), join(sqliteDir, f));
  cpSync(join(REAL_SQLITE, 'src'), join(sqliteDir, 'src'), { recursive: true });
  cpSync(join(REAL_SQLITE, 'deps'), join(sqliteDir, 'deps'), { recursive: true });
  writeFileSync(join(sqliteDir, 'build', 'Release', 'better_sqlite3.node'), NODE_BUILD);
  mkdirSync(join(sqliteDir, 'node_modules'));
  symlinkSync(dirname(createRequire(join(REAL_SQLITE, 'package.json')).resolve('prebuild-install/package.json')), join(sqliteDir, 'node_modules', 'prebuild-install'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: join(dir, 'home'),
    ELECTRON_MIRROR: `${mirror.base}/electron/`,
    // The fake archive is checked against the mirror's SHASUMS256.txt, not the package's own list.
    electron_use_remote_checksums: '1',
    electron_config_cache: join(dir, 'electron-cache'),
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_better_sqlite3_binary_host: `${mirror.base}/sqlite`,
    ELECTRON_HEADERS_MIRROR: `${mirror.base}/headers`,
    npm_config_devdir: join(dir, 'node-gyp'),
    FAKE_ELECTRON_LOG: join(dir, 'electron-started-with.txt'),
    FOOL_DB: join(dir, 'lab.db'),
    DISPLAY: ':0',
  };
  const lines: string[] = [];
  const opts = { root: ROOT, electronDir, sqliteDir, env, say: (l: string) => lines.push(l), stdio: 'ignore' as const };
  return { dir, electronDir, sqliteDir, env, lines, opts };
}

const exe = (electronDir: string) => join(electronDir, 'dist', 'electron');

describe.skipIf(!canRun)('npm start: first run against a local mirror', () => {
  it('downloads Electron (checksum checked), fetches better-sqlite3 for its ABI beside the Node build, opens the window; a second start skips both', async () => {
    goodMirror();
    const f = freshInstall();
    expect(await start(['--db', join(f.dir, 'mine.db')], f.opts)).toBe(0);

    // The window was opened: Electron started on the app's folder with the user's arguments.
    expect(readFileSync(f.env.FAKE_ELECTRON_LOG!, 'utf8').trim().split('\n')).toEqual([ROOT, '--db', join(f.dir, 'mine.db')]);
    expect(mirror.requests).toEqual(
      expect.arrayContaining([`/electron/v${ELECTRON_VERSION}/${ZIP_NAME}`, `/electron/v${ELECTRON_VERSION}/SHASUMS256.txt`, `/sqlite/v${SQLITE_VERSION}/${PREBUILT_NAME}`]),
    );
    // The Electron build sits beside the Node build, which is untouched.
    expect(readFileSync(electronBinding(f.sqliteDir), 'utf8')).toBe(FAKE_SQLITE);
    expect(readFileSync(join(f.sqliteDir, 'build', 'Release', 'better_sqlite3.node'), 'utf8')).toBe(NODE_BUILD);
    const log = f.lines.join('\n');
    expect(log).toMatch(/\[1\/2\] Electron .* binary is missing \(npm ci skips its download/);
    expect(log).toContain(`from ${mirror.base}/electron/`);
    expect(log).toMatch(/\[2\/2\] better-sqlite3 is built for Node .* needs one for Electron/);
    expect(log).toContain('Opening the window.');

    // Second start: nothing fetched, each step says it is done.
    mirror.requests.length = 0;
    f.lines.length = 0;
    expect(await start([], f.opts)).toBe(0);
    expect(mirror.requests).toEqual([]);
    expect(f.lines.join('\n')).toMatch(/\[1\/2\] Electron .*: installed\.\n\[2\/2\] better-sqlite3 for Electron .*: installed\./);
  });

  it('refuses an archive that does not match its checksum: nothing installed, one message', async () => {
    goodMirror();
    mirror.routes.set(`/electron/v${ELECTRON_VERSION}/SHASUMS256.txt`, serve(`${'0'.repeat(64)} *${ZIP_NAME}\n`));
    const f = freshInstall();
    expect(await start(['--no-fallback'], f.opts)).toBe(1);
    expect(existsSync(exe(f.electronDir))).toBe(false);
    expect(existsSync(f.env.FAKE_ELECTRON_LOG!)).toBe(false);
    const log = f.lines.join('\n');
    expect(log.match(/cannot open its desktop window yet/g)).toHaveLength(1);
    expect(log).toMatch(/could not download Electron .*\n\s+.*checksum/i);
    expect(log).toContain('did not match its published SHA-256 checksum and was refused');
    expect(log).toContain('Nothing else was started (--no-fallback).');
    // better-sqlite3 was not touched either: the window could not have opened anyway.
    expect(existsSync(electronBinding(f.sqliteDir))).toBe(false);
  });

  it('retries once when the connection drops mid-download; twice is one clear message', async () => {
    goodMirror();
    const zipPath = `/electron/v${ELECTRON_VERSION}/${ZIP_NAME}`;
    let served = 0;
    mirror.routes.set(zipPath, (req, res) => (served++ === 0 ? drop(electronZip) : serve(electronZip))(req, res));
    const f = freshInstall();
    expect(await start([], f.opts)).toBe(0);
    expect(served).toBe(2);
    expect(f.lines.join('\n')).toContain('the connection dropped');
    expect(existsSync(f.env.FAKE_ELECTRON_LOG!)).toBe(true);

    mirror.routes.set(zipPath, drop(electronZip));
    const g = freshInstall();
    expect(await start(['--no-fallback'], g.opts)).toBe(1);
    expect(existsSync(exe(g.electronDir))).toBe(false);
    expect(g.lines.join('\n')).toContain('The connection dropped twice. Run "npm start" again');
  });

  it('goes through the proxy in HTTP_PROXY for both downloads', { timeout: 30_000 }, async () => {
    goodMirror();
    const f = freshInstall();
    // A host that does not resolve: only the proxy (the mirror) can answer for it.
    f.env.ELECTRON_MIRROR = 'http://electron-mirror.invalid/electron/';
    f.env.HTTP_PROXY = mirror.base;
    f.env.npm_config_better_sqlite3_binary_host = 'http://sqlite-mirror.invalid/sqlite';
    expect(await start([], f.opts)).toBe(0);
    expect(readFileSync(electronBinding(f.sqliteDir), 'utf8')).toBe(FAKE_SQLITE);
    expect(mirror.requests).toEqual(
      expect.arrayContaining([
        `http://electron-mirror.invalid/electron/v${ELECTRON_VERSION}/${ZIP_NAME}`,
        'CONNECT sqlite-mirror.invalid:80',
        `/sqlite/v${SQLITE_VERSION}/${PREBUILT_NAME}`,
      ]),
    );
  });

  it("with no prebuilt binary for this Electron, builds better-sqlite3 against Electron's headers (and says why it could not)", async () => {
    goodMirror();
    mirror.routes.delete(`/sqlite/v${SQLITE_VERSION}/${PREBUILT_NAME}`);
    const f = freshInstall();
    expect(await start(['--no-fallback'], f.opts)).toBe(1);
    // node-gyp asked the headers mirror for this Electron's headers (the mirror has none here).
    expect(mirror.requests.some((r) => r.startsWith(`/headers/v${ELECTRON_VERSION}/`))).toBe(true);
    const log = f.lines.join('\n');
    expect(log).toContain("building it against Electron's headers instead");
    expect(log).toMatch(/could not build better-sqlite3 against Electron .* headers/);
    expect(existsSync(electronBinding(f.sqliteDir))).toBe(false);
    expect(readFileSync(join(f.sqliteDir, 'build', 'Release', 'better_sqlite3.node'), 'utf8')).toBe(NODE_BUILD);
  });

  it('without a display (Linux over ssh), says so and fetches nothing', async () => {
    goodMirror();
    const f = freshInstall();
    delete f.env.DISPLAY;
    expect(await start(['--no-fallback'], f.opts)).toBe(1);
    expect(mirror.requests).toEqual([]);
    const log = f.lines.join('\n');
    expect(log).toContain('cannot open its desktop window yet: there is no display here');
    expect(log).toContain('npx fool serve --host 0.0.0.0 --token generate');
  });

  it('offline: one message saying what could not be fetched and how to finish later, then the same app in the browser (fool serve --open)', async () => {
    const f = freshInstall();
    // Nothing listens there: the connection is refused, as offline.
    f.env.ELECTRON_MIRROR = 'http://127.0.0.1:9/electron/';
    const opened = join(f.dir, 'browser-opened.txt');
    const browser = join(f.dir, 'browser.sh');
    writeFileSync(browser, `#!/bin/sh\nprintf "%s" "$1" > "${opened}"\n`);
    chmodSync(browser, 0o755);
    f.env.BROWSER = browser;
    const stop = new AbortController();
    const ended = start([], { ...f.opts, signal: stop.signal, serveArgs: ['--port', '0'] });
    try {
      let url = '';
      for (let i = 0; i < 600 && !url; i++) {
        if (existsSync(opened)) url = readFileSync(opened, 'utf8');
        else await new Promise((ok) => setTimeout(ok, 100));
      }
      expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Fooling Lab</title>');
      // The browser app talks to the same lab (FOOL_DB) through the API.
      const models = await fetch(new URL('/api/call/models.list', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' });
      expect(models.status).toBe(200);
      expect(JSON.stringify(await models.json())).toContain('lenet-mnist');
    } finally {
      stop.abort();
    }
    expect(await ended).toBeTypeOf('number');
    const log = f.lines.join('\n');
    expect(log.match(/cannot open its desktop window yet/g)).toHaveLength(1);
    expect(log).toContain(`could not download Electron ${ELECTRON_VERSION} (from http://127.0.0.1:9/electron/)`);
    expect(log).toContain('To finish later, run "npm start"');
    expect(log).toContain('Meanwhile the same app opens in your browser (fool serve --open');
    expect(existsSync(f.env.FAKE_ELECTRON_LOG!)).toBe(false);
  });
});
