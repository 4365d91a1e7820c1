import { existsSync } from 'node:fs';
import { flipFuses, FuseV1Options, FuseVersion, type FuseConfig } from '@electron/fuses';

/**
 * Electron fuses for the packaged app: switches compiled into the Electron binary that no
 * environment variable or command-line flag can turn back on. The packaging step (issue 17) calls
 * `applyFuses(pathToTheAppsElectronBinary)` after copying the app in and before signing.
 *
 * - RunAsNode off: ELECTRON_RUN_AS_NODE cannot turn the app into a plain Node with our privileges.
 * - NODE_OPTIONS and --inspect off: no code injected into the main process through the environment
 *   or a debugger port.
 * - Cookies encrypted at rest (the app keeps none today; the fuse costs nothing).
 * - The app only from its asar archive, with the archive's integrity checked (macOS and Windows):
 *   a modified app.asar or loose files beside it are not loaded.
 * - file: gets no extra privileges: the renderer is served from fool://app, never file://.
 */
export const FUSES: FuseConfig = {
  version: FuseVersion.V1,
  [FuseV1Options.RunAsNode]: false,
  [FuseV1Options.EnableCookieEncryption]: true,
  [FuseV1Options.EnableNodeOptionsEnvironmentVariable]: false,
  [FuseV1Options.EnableNodeCliInspectArguments]: false,
  [FuseV1Options.EnableEmbeddedAsarIntegrityValidation]: true,
  [FuseV1Options.OnlyLoadAppFromAsar]: true,
  [FuseV1Options.LoadBrowserProcessSpecificV8Snapshot]: false,
  [FuseV1Options.GrantFileProtocolExtraPrivileges]: false,
};

/**
 * Flips FUSES in the Electron binary at `electronPath` (the app's executable, or the .app bundle on
 * macOS). `flip` is @electron/fuses's flipFuses, replaceable in tests.
 */
export async function applyFuses(electronPath: string, flip: typeof flipFuses = flipFuses): Promise<void> {
  if (!existsSync(electronPath)) throw new Error(`applyFuses: no Electron binary at ${electronPath} (package the app first)`);
  // Reset the ad-hoc signature on macOS arm64: flipping fuses invalidates it and the app would not start.
  await flip(electronPath, { ...FUSES, resetAdHocDarwinSignature: process.platform === 'darwin' && process.arch === 'arm64' });
}
