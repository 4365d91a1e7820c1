import { execFile, execFileSync } from 'node:child_process';
import { builtinModules, createRequire } from 'node:module';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FuseV1Options } from '@electron/fuses';
import { dirname, join, relative, resolve } from 'node:path';
import { minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import config, { ELECTRON_ABI_MODULES, ELECTRON_FUSES } from '../electron-builder.config';
import { tempDir } from './helpers';

/** Where @electron/fuses finds the fuse wire in an Electron binary. */
const SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';

/**
 * `npm run dist`'s configuration (electron-builder.config.ts), checked against the build: the
 * native modules are found from what the bundles in out/ import (not listed by hand), then each
 * must be covered by the packaging: an Electron build for ABI-specific ones, unpacked binaries for
 * N-API ones, and every package the bundles import must be a production dependency (the only
 * ones electron-builder packs).
 */

const ROOT = resolve(__dirname, '..');
const BUILT = existsSync(join(ROOT, 'out', 'main', 'index.js'));
const rootRequire = createRequire(join(ROOT, 'package.json'));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };

/** electron-builder's ${platform}/${arch} macros, for this machine. */
const expand = (p: string) => p.replaceAll('${platform}', process.platform).replaceAll('${arch}', process.arch);
const FILES = (config.files as string[]).map(expand);
const UNPACK = (config.asarUnpack as string[]).map(expand);

/**
 * Whether electron-builder's `files` keeps a path: a negated pattern drops it; the app's own files
 * must match a pattern; production dependencies are added by electron-builder itself.
 */
function shipped(path: string): boolean {
  if (FILES.some((p) => p.startsWith('!') && minimatch(path, p.slice(1), { dot: true }))) return false;
  return path.startsWith('node_modules/') || FILES.some((p) => !p.startsWith('!') && minimatch(path, p, { dot: true }));
}
const unpacked = (path: string) => UNPACK.some((p) => minimatch(path, p, { dot: true }));

function walk(dir: string, skipNested = true): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (skipNested && e.name === 'node_modules') continue;
      out.push(...walk(p, skipNested));
    } else out.push(p);
  }
  return out;
}

/** The bare module names the shipped bundles import or require. */
function importedPackages(): Set<string> {
  // The main process, its workers and the preload run Node; the renderer's bundle is browser code.
  const bundles = [...walk(join(ROOT, 'out', 'main')), ...walk(join(ROOT, 'out', 'preload'))].filter((f) => /\.(c?js|mjs)$/.test(f) && shipped(relative(ROOT, f)));
  const names = new Set<string>();
  // `require` or any function named like it (requireCjs: a createRequire made for a lazy load).
  const spec = /(?:^import\s[^;]*?\bfrom\s*|^import\s*|\bimport\s*\(\s*|\b\w*[rR]equire\w*\s*\(\s*)["'](?!\.)((?:@[\w.~-]+\/)?[\w.~-]+(?:\/[^"']*)?)["']/gm;
  for (const f of bundles) {
    for (const m of readFileSync(f, 'utf8').matchAll(spec)) {
      const s = m[1];
      if (s.startsWith('node:') || builtinModules.includes(s.split('/')[0]) || s === 'electron') continue;
      names.add(s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]);
    }
  }
  return names;
}

/** Where Node finds package `name` from folder `from` (node_modules up the tree; exports maps aside). */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

interface Pkg {
  name: string;
  dir: string;
}

/** The packages loaded at run time: the imported ones and everything they depend on (installed). */
function closure(roots: Set<string>): Pkg[] {
  const seen = new Map<string, Pkg>();
  const queue: { name: string; from: string }[] = [...roots].map((name) => ({ name, from: ROOT }));
  while (queue.length > 0) {
    const { name, from } = queue.shift()!;
    const dir = packageDir(name, from);
    if (!dir) continue; // an optional dependency for another platform
    if (seen.has(dir)) continue;
    seen.set(dir, { name, dir });
    const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) queue.push({ name: d, from: dir });
  }
  return [...seen.values()];
}

const NATIVE_FILE = /\.(node|so(\.\d+)*|dylib|dll)$/;

/** Native code in a package: node-gyp sources (built per ABI) and/or binaries it ships. */
function nativeOf(p: Pkg): { gyp: boolean; binaries: string[] } | undefined {
  const gyp = existsSync(join(p.dir, 'binding.gyp'));
  const binaries = walk(p.dir)
    .filter((f) => NATIVE_FILE.test(f) && statSync(f).isFile())
    .map((f) => `node_modules/${p.name}/${relative(p.dir, f).split('\\').join('/')}`);
  return gyp || binaries.length > 0 ? { gyp, binaries } : undefined;
}

describe.skipIf(!BUILT)('npm run dist: the packaging covers what the app loads (from the build in out/)', () => {
  const imported = BUILT ? importedPackages() : new Set<string>();

  it('every package the bundles import is a production dependency (electron-builder packs only those)', () => {
    expect(imported.size).toBeGreaterThan(3);
    const notPacked = [...imported].filter((n) => !(n in pkg.dependencies));
    expect(notPacked, 'imported by out/ but not in "dependencies"').toEqual([]);
  });

  it('every native module loaded at run time is built for Electron or unpacked from the asar archive', () => {
    const natives = closure(imported)
      .map((p) => ({ p, n: nativeOf(p) }))
      .filter((x): x is { p: Pkg; n: NonNullable<ReturnType<typeof nativeOf>> } => x.n !== undefined);
    const names = natives.map((x) => x.p.name);
    // The scan finds the ones we know of (so it is not vacuous); it is what decides, not this list.
    expect(names).toEqual(expect.arrayContaining(['better-sqlite3', 'onnxruntime-node']));
    if (process.platform === 'linux' && process.arch === 'x64') expect(names).toEqual(expect.arrayContaining(['@img/sharp-linux-x64', '@img/sharp-libvips-linux-x64']));

    for (const { p, n } of natives) {
      if (n.gyp) {
        // Built for one ABI: needs its Electron build, made before packing, shipped unpacked.
        expect(Object.keys(ELECTRON_ABI_MODULES), `${p.name} is built with node-gyp: add its Electron build to ELECTRON_ABI_MODULES`).toContain(p.name);
        const electronBuild = `node_modules/${p.name}/build-electron/Release/${p.name.replace(/-/g, '_')}.node`;
        expect(shipped(electronBuild), electronBuild).toBe(true);
        expect(unpacked(electronBuild), electronBuild).toBe(true);
        // Its Node build is not shipped (it would not load in Electron).
        for (const b of n.binaries.filter((b) => !b.includes('/build-electron/'))) expect(shipped(b), `${b} (Node's ABI)`).toBe(false);
      } else {
        // Prebuilt N-API binaries: the ones that ship are unpacked (a shared library cannot load from inside asar).
        const kept = n.binaries.filter(shipped);
        expect(kept.length, `${p.name}: no binary for ${process.platform} would ship`).toBeGreaterThan(0);
        for (const b of kept) expect(unpacked(b), `${b} is packed inside the asar archive`).toBe(true);
      }
    }
  });

  it('ships the model and labels the app comes with, as plain files beside package.json (where the core looks)', () => {
    const models = readdirSync(join(ROOT, 'resources', 'models')).map((f) => `resources/models/${f}`);
    expect(models.some((f) => f.endsWith('.onnx'))).toBe(true);
    expect(models.some((f) => f.endsWith('.labels.txt'))).toBe(true);
    // The ImageNet labels and the self-check's photos (read from disk by the core and by sharp).
    const checks = ['labels', 'check-images'].flatMap((d) => readdirSync(join(ROOT, 'resources', d)).map((f) => `resources/${d}/${f}`));
    expect(checks).toEqual(expect.arrayContaining(['resources/labels/imagenet-1000.txt', 'resources/check-images/photos.json']));
    for (const f of [...models, ...checks]) {
      expect(shipped(f), f).toBe(true);
      expect(unpacked(f), f).toBe(true);
    }
    expect(shipped('package.json')).toBe(true);
    for (const f of ['out/main/index.js', 'out/main/classify-worker.js', 'out/preload/index.cjs', 'out/renderer/index.html']) expect(shipped(f), f).toBe(true);
    expect(shipped('out/main/bench.js')).toBe(false);
  });
});

describe('npm run dist: targets, fuses, rebuild', () => {
  it('makes an AppImage and a .deb on Linux, a .dmg on macOS, an NSIS installer on Windows', () => {
    expect(pkg.scripts.dist).toContain('electron-builder');
    expect(config.linux?.target).toEqual(['AppImage', 'deb']);
    expect(config.mac?.target).toEqual(['dmg']);
    expect(config.win?.target).toEqual(['nsis']);
  });

  it('sets the fuses: RunAsNode off, cookie encryption on, NODE_OPTIONS and --inspect off, asar integrity on', () => {
    expect(config.electronFuses).toBe(ELECTRON_FUSES);
    expect(ELECTRON_FUSES).toMatchObject({
      runAsNode: false,
      enableCookieEncryption: true,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
    });
  });

  it("never rebuilds native modules in place (the CLI's Node build of better-sqlite3 stays)", () => {
    expect(config.npmRebuild).toBe(false);
    expect(config.nodeGypRebuild).toBe(false);
  });

  it('electron-builder accepts the configuration (its own schema)', async () => {
    const { validateConfiguration } = rootRequire('app-builder-lib/out/util/config/config.js') as { validateConfiguration: (c: unknown, log: unknown) => Promise<void> };
    const { DebugLogger } = rootRequire('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
  });
});

/**
 * A real electron-builder run (`--dir`: the unpacked app every installer is made from) on a
 * stand-in Electron: a file carrying Electron's fuse wire as Electron 41 has it, since the real
 * binary cannot be downloaded here. better-sqlite3's Electron build comes from a local mirror.
 */
describe.skipIf(!BUILT || process.platform !== 'linux' || process.arch !== 'x64')('npm run dist, for real, on a stand-in Electron (electron-builder --dir)', () => {
  it('packs the bundles and the model, unpacks every native binary, fetches the Electron build of better-sqlite3 before packing, flips the fuses', { timeout: 300_000 }, async () => {
    const work = tempDir('fool-dist-');
    const electronDist = join(work, 'electron');
    mkdirSync(electronDist);
    // Electron 41's fuse wire: sentinel, version 1, 8 fuses, its defaults (RunAsNode on, ...).
    writeFileSync(join(electronDist, 'electron'), Buffer.concat([Buffer.from('stand-in for Electron '), Buffer.from(SENTINEL), Buffer.from([1, 8]), Buffer.from('10110001')]), { mode: 0o755 });
    writeFileSync(join(electronDist, 'version'), '41.7.1');
    writeFileSync(join(electronDist, 'LICENSE'), 'MIT');

    const sqliteDir = dirname(rootRequire.resolve('better-sqlite3/package.json'));
    const electronBuild = join(sqliteDir, 'build-electron');
    // A developer's own Electron build waits aside: the stand-in must never be left in its place.
    const backup = join(sqliteDir, `build-electron.aside-${process.pid}`);
    if (existsSync(electronBuild)) renameSync(electronBuild, backup);
    const sqliteVersion = (JSON.parse(readFileSync(join(sqliteDir, 'package.json'), 'utf8')) as { version: string }).version;
    const abi = readFileSync(join(dirname(rootRequire.resolve('electron/package.json')), 'abi_version'), 'utf8').trim();
    mkdirSync(join(work, 'tar', 'build', 'Release'), { recursive: true });
    writeFileSync(join(work, 'tar', 'build', 'Release', 'better_sqlite3.node'), 'better-sqlite3 for Electron (stand-in)');
    execFileSync('tar', ['-czf', join(work, 'prebuilt.tar.gz'), 'build'], { cwd: join(work, 'tar') });
    const tarball = readFileSync(join(work, 'prebuilt.tar.gz'));
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(req.url!);
      if (req.url === `/v${sqliteVersion}/better-sqlite3-v${sqliteVersion}-electron-v${abi}-linux-x64.tar.gz`) res.writeHead(200).end(tarball);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const out = join(work, 'dist');
    try {
      const env = {
        ...process.env,
        npm_config_better_sqlite3_binary_host: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        npm_config_cache: join(work, 'npm-cache'),
      };
      const cli = rootRequire.resolve('electron-builder/cli.js');
      const args = [cli, '--config', 'electron-builder.config.ts', '--linux', '--dir', `-c.electronDist=${electronDist}`, `-c.directories.output=${out}`];
      const res = await new Promise<{ code: number; log: string }>((done) =>
        execFile(process.execPath, args, { cwd: ROOT, env, maxBuffer: 64 << 20 }, (e, so, se) => done({ code: e ? 1 : 0, log: so + se })),
      );
      expect(res.code, res.log).toBe(0);
      const app = join(out, 'linux-unpacked');
      const resources = join(app, 'resources');

      // The app's code and the model are in the archive; the model is unpacked as plain files.
      const { listPackage } = rootRequire('@electron/asar') as { listPackage: (p: string, o: { isPack: boolean }) => string[] };
      const inAsar = new Set(listPackage(join(resources, 'app.asar'), { isPack: false }).map((p) => p.split('\\').join('/')));
      for (const f of ['/package.json', '/out/main/index.js', '/out/main/classify-worker.js', '/out/preload/index.cjs', '/out/renderer/index.html', '/node_modules/onnxruntime-common/package.json']) expect(inAsar.has(f), f).toBe(true);
      expect(inAsar.has('/out/main/bench.js')).toBe(false);
      for (const f of readdirSync(join(ROOT, 'resources', 'models'))) expect(existsSync(join(resources, 'app.asar.unpacked', 'resources', 'models', f)), f).toBe(true);

      // Native binaries are unpacked: this platform's only, better-sqlite3's Electron build only.
      const unpackedDir = join(resources, 'app.asar.unpacked', 'node_modules');
      expect(readFileSync(join(unpackedDir, 'better-sqlite3', 'build-electron', 'Release', 'better_sqlite3.node'))).toEqual(readFileSync(join(electronBuild, 'Release', 'better_sqlite3.node')));
      expect(existsSync(join(unpackedDir, 'better-sqlite3', 'build'))).toBe(false);
      expect(requests).toHaveLength(1);
      expect(existsSync(join(unpackedDir, 'onnxruntime-node', 'bin', 'napi-v6', 'linux', 'x64', 'onnxruntime_binding.node'))).toBe(true);
      expect(readdirSync(join(unpackedDir, 'onnxruntime-node', 'bin', 'napi-v6'))).toEqual(['linux']);
      expect(readdirSync(join(unpackedDir, 'onnxruntime-node', 'bin', 'napi-v6', 'linux'))).toEqual(['x64']);
      expect(readdirSync(join(unpackedDir, '@img'))).toEqual(expect.arrayContaining(['sharp-linux-x64', 'sharp-libvips-linux-x64']));
      // The Node build the CLI uses is untouched (no rebuild in place).
      expect(existsSync(join(sqliteDir, 'build', 'Release', 'better_sqlite3.node'))).toBe(true);

      // The fuses, read back from the packaged binary.
      const bin = readFileSync(join(app, 'fooling-lab'));
      const at = bin.indexOf(SENTINEL) + SENTINEL.length;
      const fuse = (i: number) => String.fromCharCode(bin[at + 2 + i]);
      expect(fuse(FuseV1Options.RunAsNode)).toBe('0');
      expect(fuse(FuseV1Options.EnableCookieEncryption)).toBe('1');
      expect(fuse(FuseV1Options.EnableNodeOptionsEnvironmentVariable)).toBe('0');
      expect(fuse(FuseV1Options.EnableNodeCliInspectArguments)).toBe('0');
      expect(fuse(FuseV1Options.EnableEmbeddedAsarIntegrityValidation)).toBe('1');
      expect(fuse(FuseV1Options.OnlyLoadAppFromAsar)).toBe('1');
    } finally {
      await new Promise((ok) => server.close(ok));
      // A stand-in binary must not stay where `npm start` would take it for the real one.
      rmSync(electronBuild, { recursive: true, force: true });
      if (existsSync(backup)) renameSync(backup, electronBuild);
    }
  });
});
