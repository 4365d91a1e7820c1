#!/usr/bin/env node
// `npm start`: open the desktop app, or say clearly why it cannot open here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('..', import.meta.url));
let electron;
try {
  electron = require('electron'); // the path of the binary, or a throw when it was never downloaded
} catch {
  electron = undefined;
}
if (typeof electron !== 'string' || !existsSync(electron)) {
  process.stderr.write(
    'Fooling Lab: Electron is not installed here (its binary download is skipped on offline installs),\n' +
      'so the desktop window cannot open. The same app runs in your browser:\n' +
      '\n' +
      '    npx fool serve\n' +
      '\n' +
      'then open the address it prints (http://127.0.0.1:5178/). To get the desktop app instead, run\n' +
      '"node node_modules/electron/install.js" where the network allows, then "npm start" again.\n',
  );
  process.exit(1);
}
if (!existsSync(new URL('../out/main/index.js', import.meta.url))) {
  process.stderr.write('Fooling Lab: not built yet. Run "npm run build" first.\n');
  process.exit(1);
}
spawn(electron, [root], { stdio: 'inherit' }).on('exit', (code) => process.exit(code ?? 0));
