import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { classifyFailure, reasonFrom, runChild, type Failure, type Say } from './child';

/**
 * Electron's binary. `npm ci` does not download it here (package.json's allowScripts keeps offline
 * installs working), so the first `npm start` runs Electron's own installer
 * (node_modules/electron/install.js, i.e. @electron/get): it honours ELECTRON_MIRROR,
 * electron_config_cache, electron_use_remote_checksums and the checksums shipped in the package.
 */

export interface StepFailure {
  failure: Failure;
  /** What could not be done, for the one message the user reads. */
  what: string;
  reason: string;
}

/** The executable inside dist/, as install.js names it for this platform. */
function platformPath(platform: NodeJS.Platform): string {
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

export function electronVersion(electronDir: string): string {
  return (JSON.parse(readFileSync(join(electronDir, 'package.json'), 'utf8')) as { version: string }).version;
}

/**
 * The installed executable when install.js would call the install complete (same version in
 * dist/version, same path.txt, the file present), else undefined. ELECTRON_OVERRIDE_DIST_PATH
 * (a user's own Electron build) is honoured as the electron package honours it.
 */
export function installedElectron(electronDir: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  if (override) {
    const exe = join(override, platformPath(platform));
    return existsSync(exe) ? exe : undefined;
  }
  try {
    const version = readFileSync(join(electronDir, 'dist', 'version'), 'utf8').trim().replace(/^v/, '');
    const pathTxt = readFileSync(join(electronDir, 'path.txt'), 'utf8');
    if (version !== electronVersion(electronDir) || pathTxt !== platformPath(platform)) return undefined;
    const exe = join(electronDir, 'dist', pathTxt);
    return existsSync(exe) ? exe : undefined;
  } catch {
    return undefined;
  }
}

/** The environment for Electron's installer: the user's, with a proxy switched on when one is set. */
export function installerEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...env };
  // The user asked for the app: a skip left in the environment (e.g. from CI) must not make this a no-op.
  delete out.ELECTRON_SKIP_BINARY_DOWNLOAD;
  // @electron/get uses a proxy only when asked (through global-agent, which reads GLOBAL_AGENT_*).
  const https = env.HTTPS_PROXY ?? env.https_proxy ?? env.npm_config_https_proxy;
  const http = env.HTTP_PROXY ?? env.http_proxy ?? env.npm_config_proxy;
  if ((https || http) && !env.ELECTRON_GET_USE_PROXY) {
    out.ELECTRON_GET_USE_PROXY = '1';
    if (https && !env.GLOBAL_AGENT_HTTPS_PROXY) out.GLOBAL_AGENT_HTTPS_PROXY = https;
    if (http && !env.GLOBAL_AGENT_HTTP_PROXY) out.GLOBAL_AGENT_HTTP_PROXY = http;
    const noProxy = env.NO_PROXY ?? env.no_proxy;
    if (noProxy && !env.GLOBAL_AGENT_NO_PROXY) out.GLOBAL_AGENT_NO_PROXY = noProxy;
  }
  return out;
}

/** Where the download comes from, as the user should see it. */
export function electronSource(env: NodeJS.ProcessEnv): string {
  return env.ELECTRON_MIRROR ?? env.npm_config_electron_mirror ?? 'https://github.com/electron/electron/releases';
}

/**
 * Runs Electron's installer; one retry when the connection dropped mid-download (a truncated
 * archive is never extracted: the installer checks it against its checksum first).
 */
export async function installElectron(electronDir: string, env: NodeJS.ProcessEnv, say: Say): Promise<{ exe: string } | StepFailure> {
  const version = electronVersion(electronDir);
  const what = `Electron ${version} (from ${electronSource(env)})`;
  for (let attempt = 1; ; attempt++) {
    const started = Date.now();
    const res = await runChild(process.execPath, [join(electronDir, 'install.js')], { cwd: electronDir, env: installerEnv(env), say, what: `downloading ${what}` });
    const exe = installedElectron(electronDir, env);
    if (res.code === 0 && exe) {
      say(`  done in ${Math.round((Date.now() - started) / 1000)} s`);
      return { exe };
    }
    const failure = res.code === 0 ? 'other' : classifyFailure(res.tail);
    const reason = res.code === 0 ? 'the installer finished but left no Electron executable in node_modules/electron/dist' : reasonFrom(res.tail);
    if (failure === 'dropped' && attempt === 1) {
      say(`  the connection dropped (${reason}); trying once more`);
      continue;
    }
    return { failure, what: `could not download ${what}`, reason };
  }
}
