import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Say } from './child';
import { electronSource, electronVersion, installedElectron, installElectron, type StepFailure } from './electron-binary';
import { electronBinding, sqliteForElectron, sqliteReady, type ElectronTarget } from './sqlite-electron';

/**
 * `npm start` (bin/start.js): everything the desktop app needs on first run, then the window.
 *
 *   1. Electron's binary, when missing, with Electron's own installer.
 *   2. better-sqlite3 for the installed Electron's ABI, beside the Node build the CLI uses.
 *   3. The window.
 *
 * Each step says why it runs and is skipped when already done. When a step cannot finish (offline,
 * a refused download), ONE message says what could not be fetched and how to finish later, and
 * the same app opens in the default browser instead (`fool serve --open`), unless --no-fallback.
 *
 * This runs in plain Node before any Electron exists: it imports nothing of the app, it starts it.
 */

export interface StartOptions {
  /** The Fooling Lab folder (bin/fool.js, out/). */
  root: string;
  /** Electron's npm package (default: resolved from root). */
  electronDir?: string;
  /** better-sqlite3's npm package (default: resolved from root). */
  sqliteDir?: string;
  env?: NodeJS.ProcessEnv;
  /** Progress and the message (default: stderr). */
  say?: Say;
  /** The started program's output (default: inherited). */
  stdio?: 'inherit' | 'ignore';
  /** Stops the started program (tests). */
  signal?: AbortSignal;
  /** Extra arguments for the browser fallback's `fool serve` (tests: --port 0). */
  serveArgs?: string[];
}

const USAGE = `Usage: npm start [-- [--no-fallback] [--db PATH] [Electron arguments]]

Opens Fooling Lab's desktop window. On first run it downloads Electron's binary and better-sqlite3
for Electron (ELECTRON_MIRROR, HTTPS_PROXY and npm_config_better_sqlite3_binary_host are honoured).
When that cannot be done here, the same app opens in your browser instead (fool serve --open);
--no-fallback stops there instead.
`;

function resolvePackage(root: string, name: string): string | undefined {
  try {
    return dirname(createRequire(join(root, 'package.json')).resolve(`${name}/package.json`));
  } catch {
    return undefined;
  }
}

/** --db PATH / --db=PATH, kept for the browser fallback too (the same lab either way). */
function dbArgs(argv: string[]): string[] {
  const i = argv.indexOf('--db');
  if (i >= 0 && argv[i + 1]) return ['--db', argv[i + 1]];
  const eq = argv.find((a) => a.startsWith('--db='));
  return eq ? [eq] : [];
}

/** What to do next, by why the step failed. */
function advice(f: StepFailure): string {
  switch (f.failure) {
    case 'offline':
      return (
        'This machine cannot reach the download (offline, or behind a proxy). To finish later, run "npm start"\n' +
        'again where the network is available (behind a proxy: set HTTPS_PROXY; from a mirror: ELECTRON_MIRROR,\n' +
        'npm_config_better_sqlite3_binary_host). Nothing was half-installed.'
      );
    case 'dropped':
      return 'The connection dropped twice. Run "npm start" again to retry; nothing was half-installed.';
    case 'checksum':
      return (
        'The download did not match its published SHA-256 checksum and was refused; nothing was installed.\n' +
        'If you set ELECTRON_MIRROR, check that it serves genuine Electron releases, then run "npm start" again.'
      );
    case 'no-display':
      return 'Run "npm start" in a desktop session, or serve the app to a browser on another machine: npx fool serve --host 0.0.0.0 --token generate.';
    case 'not-found':
      return 'The server has no such file. Check ELECTRON_MIRROR / npm_config_better_sqlite3_binary_host, then run "npm start" again.';
    default:
      return 'Fix the cause above, then run "npm start" again.';
  }
}

function wait(child: ChildProcess, signal?: AbortSignal): Promise<number> {
  return new Promise((done) => {
    const stop = () => child.kill('SIGTERM');
    signal?.addEventListener('abort', stop, { once: true });
    child.on('error', () => done(127));
    child.on('exit', (code, sig) => {
      signal?.removeEventListener('abort', stop);
      done(code ?? (sig ? 128 : 1));
    });
  });
}

/** Runs `npm start`; resolves with the exit code. */
export async function start(argv: string[], opts: StartOptions): Promise<number> {
  const env = opts.env ?? process.env;
  const say = opts.say ?? ((line: string) => process.stderr.write(line + '\n'));
  const stdio = opts.stdio ?? 'inherit';
  if (argv.includes('--help') || argv.includes('-h')) {
    say(USAGE);
    return 0;
  }
  const noFallback = argv.includes('--no-fallback');
  const appArgs = argv.filter((a) => a !== '--no-fallback');
  if (!existsSync(join(opts.root, 'out', 'main', 'index.js'))) {
    say('Fooling Lab is not built yet. Run "npm run build" first (npm ci does it).');
    return 1;
  }

  // A Linux box without a display (ssh, a server) cannot show a window, whatever is installed.
  const headless = process.platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY;
  const result: { exe: string } | StepFailure = headless
    ? { failure: 'no-display', what: 'there is no display here', reason: 'DISPLAY and WAYLAND_DISPLAY are unset (an ssh session or a server)' }
    : await prepare(opts, env, say);
  if ('exe' in result) {
    say('Opening the window.');
    const childEnv = { ...env };
    delete childEnv.ELECTRON_RUN_AS_NODE; // else the binary would start as plain Node
    return wait(spawn(result.exe, [opts.root, ...appArgs], { env: childEnv, stdio }), opts.signal);
  }

  const fallback = noFallback ? 'Nothing else was started (--no-fallback).' : 'Meanwhile the same app opens in your browser (fool serve --open; Ctrl-C stops it).';
  say(`\nFooling Lab cannot open its desktop window yet: ${result.what}:\n  ${result.reason}\n${advice(result)}\n${fallback}\n`);
  if (noFallback) return 1;
  const fool = join(opts.root, 'bin', 'fool.js');
  return wait(spawn(process.execPath, [fool, ...dbArgs(appArgs), 'serve', '--open', ...(opts.serveArgs ?? [])], { env, stdio }), opts.signal);
}

/** Steps 1 and 2: the Electron executable, or why it cannot start yet. */
async function prepare(opts: StartOptions, env: NodeJS.ProcessEnv, say: Say): Promise<{ exe: string } | StepFailure> {
  const electronDir = opts.electronDir ?? resolvePackage(opts.root, 'electron');
  const sqliteDir = opts.sqliteDir ?? resolvePackage(opts.root, 'better-sqlite3');
  if (!electronDir || !sqliteDir) {
    const missing = !electronDir ? 'electron' : 'better-sqlite3';
    return { failure: 'other', what: `the ${missing} package is not installed`, reason: `node_modules/${missing} is missing; run "npm ci" (with the dev dependencies)` };
  }
  const version = electronVersion(electronDir);
  let exe = installedElectron(electronDir, env);
  if (exe) say(`[1/2] Electron ${version}: installed.`);
  else {
    say(`[1/2] Electron ${version}'s binary is missing (npm ci skips its download so that offline installs work):`);
    say(`  downloading it with Electron's installer from ${electronSource(env)} ...`);
    const got = await installElectron(electronDir, env, say);
    if (!('exe' in got)) return got;
    exe = got.exe;
  }

  const target: ElectronTarget = { electron: version, platform: process.platform, arch: env.npm_config_arch ?? process.arch };
  if (sqliteReady(sqliteDir, target)) say(`[2/2] better-sqlite3 for Electron ${version}: installed.`);
  else {
    say(`[2/2] better-sqlite3 is built for Node (the command line keeps that build); the window needs one for Electron ${version}:`);
    say(`  fetching it into ${electronBinding(sqliteDir)} ...`);
    const got = await sqliteForElectron(sqliteDir, target, env, say);
    if (got !== true) return got;
    say('  done');
  }
  return { exe };
}
