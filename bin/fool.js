#!/usr/bin/env node
// The `fool` command runs the built bundle (npm ci builds it through the "prepare" script).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const entry = fileURLToPath(new URL('../out/main/cli.js', import.meta.url));
if (!existsSync(entry)) {
  process.stderr.write('fool: the command-line tool is not built yet. Run "npm run build" in the Fooling Lab folder.\n');
  process.exit(1);
}
await import(pathToFileURL(entry).href);
