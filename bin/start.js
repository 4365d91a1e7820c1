#!/usr/bin/env node
// `npm start`: first-run setup (Electron's binary, better-sqlite3 for Electron), then the window;
// the same app in the browser when that cannot be done here. The logic: src/main/launcher/start.ts.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../out/main/start.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('Fooling Lab is not built yet. Run "npm run build" in the Fooling Lab folder (npm ci does it).\n');
  process.exit(1);
}
const { start } = await import(pathToFileURL(entry).href);
// Ctrl-C reaches the started app (or `fool serve`) too: it stops on its own and its exit code is
// ours. A SIGTERM sent to this process alone is passed on.
const stop = new AbortController();
process.on('SIGINT', () => {});
process.on('SIGTERM', () => stop.abort());
process.exitCode = await start(process.argv.slice(2), { root, signal: stop.signal });
