import { builtinModules, createRequire } from 'node:module';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { minimatch } from 'minimatch';
import { describe, expect, it } from 'vitest';
import config, { ELECTRON_ABI_MODULES, ELECTRON_FUSES } from '../electron-builder.config';

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
  const spec = /(?:^import\s[^;]*?\bfrom\s*|^import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["'](?!\.)((?:@[\w.~-]+\/)?[\w.~-]+(?:\/[^"']*)?)["']/gm;
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
    for (const f of models) {
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
