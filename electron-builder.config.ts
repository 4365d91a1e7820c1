import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type { Configuration } from 'electron-builder';
import type { BeforePackContext } from 'app-builder-lib';
import { sqliteForElectron, sqliteReady, type ElectronTarget } from './src/main/launcher/sqlite-electron';

/**
 * `npm run dist`: the desktop app packaged by electron-builder, for the platform it runs on
 * (Linux: AppImage and .deb; macOS: .dmg; Windows: NSIS installer). Native modules are packaged by
 * what each needs (test/packaging.test.ts lists them from the build and checks each is covered):
 *
 * - better-sqlite3 is built per ABI: the app loads the Electron build from
 *   node_modules/better-sqlite3/build-electron (src/main/core/store/db.ts), which beforePack fetches
 *   for the target's Electron, platform and arch exactly as `npm start` does. electron-builder's own
 *   rebuild is off: it rebuilds in place and would leave the CLI with an Electron-only binary.
 * - onnxruntime-node and sharp are N-API (one binary serves Node and Electron): unpacked from the
 *   asar archive, since a shared library cannot be loaded from inside it.
 *
 * The shipped model and labels (resources/models) are unpacked too, as plain files the core finds
 * beside its package.json (src/main/core/paths.ts). The lab itself is never packaged: it lives in
 * the per-user data folder (env-paths: ~/.local/share/fooling-lab, ~/Library/Application
 * Support/fooling-lab, %LOCALAPPDATA%\fooling-lab\Data).
 */

const require = createRequire(import.meta.url);

/** Packages whose binary is built for one ABI, each with the step that makes its Electron build. */
export const ELECTRON_ABI_MODULES: Record<string, (target: ElectronTarget) => Promise<void>> = {
  'better-sqlite3': async (target) => {
    const dir = dirname(require.resolve('better-sqlite3/package.json'));
    if (sqliteReady(dir, target)) return;
    const got = await sqliteForElectron(dir, target, process.env, (line) => console.log(line));
    if (got !== true) throw new Error(`Fooling Lab packaging: ${got.what}: ${got.reason}`);
  },
};

/** electron-builder's Arch enum, by value. */
const ARCH_NAMES = ['ia32', 'x64', 'armv7l', 'arm64', 'universal'];

async function beforePack(ctx: BeforePackContext): Promise<void> {
  const electron = (JSON.parse(readFileSync(join(dirname(require.resolve('electron/package.json')), 'package.json'), 'utf8')) as { version: string }).version;
  const platform = ctx.electronPlatformName === 'mas' ? 'darwin' : ctx.electronPlatformName;
  const target: ElectronTarget = { electron, platform, arch: ARCH_NAMES[ctx.arch] };
  for (const make of Object.values(ELECTRON_ABI_MODULES)) await make(target);
}

/**
 * Electron fuses: switches compiled into the packaged Electron binary that no environment variable
 * or flag can turn back on. RunAsNode off (ELECTRON_RUN_AS_NODE cannot make the app a plain Node
 * with its privileges; the app never forks itself), NODE_OPTIONS and --inspect off (no code
 * injected through the environment or a debugger port), cookies encrypted at rest, the app loaded
 * only from its asar archive whose integrity is checked (macOS, Windows), file: without extra
 * privileges (the renderer is served from fool://app).
 */
export const ELECTRON_FUSES = {
  runAsNode: false,
  enableCookieEncryption: true,
  enableNodeOptionsEnvironmentVariable: false,
  enableNodeCliInspectArguments: false,
  enableEmbeddedAsarIntegrityValidation: true,
  onlyLoadAppFromAsar: true,
  loadBrowserProcessSpecificV8Snapshot: false,
  grantFileProtocolExtraPrivileges: false,
} satisfies NonNullable<Configuration['electronFuses']>;

const config: Configuration = {
  appId: 'org.foolinglab.desktop',
  productName: 'Fooling Lab',
  copyright: 'MIT License',
  directories: { output: 'dist', buildResources: 'build' },
  // Only what the app runs: the built bundles (no benchmark, no launcher), the shipped model, and
  // the production dependencies electron-builder adds by itself.
  files: [
    'package.json',
    'out/**/*',
    '!out/main/bench.js',
    '!out/main/start.js',
    'resources/models/**/*',
    // The ImageNet class names and the self-check's photos (fool models add, models get).
    'resources/labels/**/*',
    'resources/check-images/**/*',
    // better-sqlite3: the Electron build only (the Node build and the sources are of no use here).
    '!node_modules/better-sqlite3/{build,deps,src}/**/*',
    // onnxruntime-node ships every platform's binaries; keep the target's.
    '!node_modules/onnxruntime-node/bin/napi-v*/!(${platform})/**/*',
    '!node_modules/onnxruntime-node/bin/napi-v*/*/!(${arch})/**/*',
  ],
  asar: true,
  asarUnpack: [
    'resources/models/**/*',
    'resources/labels/**/*',
    'resources/check-images/**/*',
    'node_modules/better-sqlite3/build-electron/**/*',
    'node_modules/onnxruntime-node/bin/**/*',
    // sharp's own advice for electron-builder: the package and its platform binaries.
    'node_modules/sharp/**/*',
    'node_modules/@img/**/*',
  ],
  npmRebuild: false,
  nodeGypRebuild: false,
  buildDependenciesFromSource: false,
  beforePack,
  electronFuses: ELECTRON_FUSES,
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Science',
    executableName: 'fooling-lab',
    maintainer: 'Fooling Lab <fooling-lab@users.noreply.github.com>',
    synopsis: "A laboratory for 'Deep Neural Networks are Easily Fooled'",
  },
  mac: { target: ['dmg'], category: 'public.app-category.education' },
  win: { target: ['nsis'] },
  nsis: { oneClick: false, perMachine: false, allowToChangeInstallationDirectory: true },
};

export default config;
