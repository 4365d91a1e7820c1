import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { classifyFailure, reasonFrom, runChild, type Say } from './child';
import type { StepFailure } from './electron-binary';

/**
 * better-sqlite3 for Electron. npm builds better-sqlite3 for Node's ABI (the CLI and the web host
 * use it); Electron has its own ABI. Both live in one install: the Node build stays where npm put
 * it (build/Release), the Electron build goes to build-electron/Release, which the app passes to
 * better-sqlite3 as its nativeBinding under Electron (src/main/core/store/db.ts).
 *
 * The Electron build is the project's prebuilt binary for that Electron version (prebuild-install,
 * exactly as better-sqlite3's own install script fetches it; its host follows
 * npm_config_better_sqlite3_binary_host), else a build against Electron's headers (node-gyp).
 * Both work in a staging folder, so a failure never leaves a half-written binary in place.
 */

export const ELECTRON_BUILD = 'build-electron';

export interface ElectronTarget {
  electron: string;
  platform: string;
  arch: string;
}

/** The Electron build's binary, where src/main/core/store/db.ts looks for it. */
export function electronBinding(sqliteDir: string): string {
  return join(sqliteDir, ELECTRON_BUILD, 'Release', 'better_sqlite3.node');
}

interface Stamp extends ElectronTarget {
  betterSqlite3: string;
  source: 'prebuilt' | 'built';
}

function sqliteVersion(sqliteDir: string): string {
  return (JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')) as { version: string }).version;
}

function stampPath(sqliteDir: string): string {
  return join(sqliteDir, ELECTRON_BUILD, 'target.json');
}

/** The Electron build in place is for this Electron, platform, arch and better-sqlite3 version. */
export function sqliteReady(sqliteDir: string, target: ElectronTarget): boolean {
  try {
    const s = JSON.parse(readFileSync(stampPath(sqliteDir), 'utf8')) as Stamp;
    const bin = electronBinding(sqliteDir);
    return (
      s.electron === target.electron &&
      s.platform === target.platform &&
      s.arch === target.arch &&
      s.betterSqlite3 === sqliteVersion(sqliteDir) &&
      existsSync(bin) &&
      statSync(bin).size > 0
    );
  } catch {
    return false;
  }
}

/** A helper's environment without npm's per-package variables (prebuild-install reads some of them). */
function helperEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith('npm_package_') && k !== 'npm_lifecycle_event' && k !== 'npm_lifecycle_script') out[k] = v;
  return out;
}

/** Moves the staged binary into build-electron/Release and writes the stamp. */
function install(sqliteDir: string, staged: string, target: ElectronTarget, source: Stamp['source']): void {
  const bin = electronBinding(sqliteDir);
  mkdirSync(dirname(bin), { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  copyFileSync(staged, tmp);
  renameSync(tmp, bin);
  const stamp: Stamp = { ...target, betterSqlite3: sqliteVersion(sqliteDir), source };
  writeFileSync(stampPath(sqliteDir), JSON.stringify(stamp, null, 2) + '\n');
}

function stagingDir(sqliteDir: string): string {
  const dir = join(sqliteDir, ELECTRON_BUILD, `.staging-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** better-sqlite3's prebuilt binary for this Electron, through prebuild-install. */
export async function fetchPrebuilt(sqliteDir: string, target: ElectronTarget, env: NodeJS.ProcessEnv, say: Say): Promise<true | StepFailure> {
  const version = sqliteVersion(sqliteDir);
  const host = env.npm_config_better_sqlite3_binary_host ?? env.npm_config_better_sqlite3_binary_host_mirror ?? 'https://github.com/WiseLibs/better-sqlite3/releases';
  const what = `better-sqlite3 ${version}'s prebuilt binary for Electron ${target.electron} (${target.platform}-${target.arch}, from ${host})`;
  let bin: string;
  try {
    bin = createRequire(join(sqliteDir, 'package.json')).resolve('prebuild-install/bin.js');
  } catch {
    return { failure: 'other', what: `could not fetch ${what}`, reason: 'prebuild-install (a dependency of better-sqlite3) is not installed; run "npm ci"' };
  }
  const staging = stagingDir(sqliteDir);
  try {
    // prebuild-install reads package.json from its working folder and unpacks build/Release there.
    copyFileSync(join(sqliteDir, 'package.json'), join(staging, 'package.json'));
    const args = [bin, '--runtime=electron', `--target=${target.electron}`, `--arch=${target.arch}`, `--platform=${target.platform}`, '--verbose'];
    const res = await runChild(process.execPath, args, { cwd: staging, env: helperEnv(env), say, what: 'fetching better-sqlite3 for Electron' });
    const staged = join(staging, 'build', 'Release', 'better_sqlite3.node');
    if (res.code === 0 && existsSync(staged) && statSync(staged).size > 0) {
      install(sqliteDir, staged, target, 'prebuilt');
      return true;
    }
    const failure = res.code === 0 ? 'other' : classifyFailure(res.tail);
    const reason = res.code === 0 ? 'the download held no better_sqlite3.node' : reasonFrom(res.tail);
    return { failure, what: `could not fetch ${what}`, reason };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** node-gyp: npm's own copy (npm start sets npm_config_node_gyp), else the one beside this Node's npm. */
export function findNodeGyp(env: NodeJS.ProcessEnv): string | undefined {
  const nodeDir = dirname(process.execPath);
  const candidates = [
    env.npm_config_node_gyp,
    join(nodeDir, '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(nodeDir, 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Where Electron's headers come from (ELECTRON_HEADERS_MIRROR for a mirror). */
export function headersUrl(env: NodeJS.ProcessEnv): string {
  return env.ELECTRON_HEADERS_MIRROR ?? 'https://www.electronjs.org/headers';
}

/**
 * Builds better-sqlite3 against Electron's headers in a copy of its sources (the Node build is not
 * touched). Needs a C++ toolchain and Python, as any native module build does.
 */
export async function buildFromSource(sqliteDir: string, target: ElectronTarget, env: NodeJS.ProcessEnv, say: Say): Promise<true | StepFailure> {
  const what = `build better-sqlite3 against Electron ${target.electron}'s headers (from ${headersUrl(env)})`;
  const gyp = findNodeGyp(env);
  if (!gyp) return { failure: 'other', what: `could not ${what}`, reason: 'node-gyp was not found (it comes with npm)' };
  const staging = stagingDir(sqliteDir);
  try {
    for (const item of ['package.json', 'binding.gyp', 'src', 'deps']) cpSync(join(sqliteDir, item), join(staging, item), { recursive: true });
    const args = [
      gyp,
      'rebuild',
      '--release',
      '--runtime=electron',
      `--target=${target.electron}`,
      `--arch=${target.arch}`,
      `--dist-url=${headersUrl(env)}`,
    ];
    const res = await runChild(process.execPath, args, { cwd: staging, env: helperEnv(env), say, what: 'building better-sqlite3 for Electron (a few minutes)' });
    const staged = join(staging, 'build', 'Release', 'better_sqlite3.node');
    if (res.code === 0 && existsSync(staged)) {
      install(sqliteDir, staged, target, 'built');
      return true;
    }
    return { failure: res.code === 0 ? 'other' : classifyFailure(res.tail), what: `could not ${what}`, reason: reasonFrom(res.tail) };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The prebuilt binary, else a build; offline means neither can work, so no build is tried. */
export async function sqliteForElectron(sqliteDir: string, target: ElectronTarget, env: NodeJS.ProcessEnv, say: Say): Promise<true | StepFailure> {
  const pre = await fetchPrebuilt(sqliteDir, target, env, say);
  if (pre === true) return true;
  if (pre.failure === 'offline') return pre;
  say(`  no prebuilt binary (${pre.reason}); building it against Electron's headers instead`);
  const built = await buildFromSource(sqliteDir, target, env, say);
  if (built === true) return true;
  return { ...built, reason: `${built.reason} (and earlier: ${pre.what}: ${pre.reason})` };
}
